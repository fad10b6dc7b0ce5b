// Package query is hydrant's SQL engine: Athena's dialect (Trino SQL) over
// the Glue tables in internal/catalog, run by an embedded DuckDB over the
// objects in the local bucket store. A query is tokenized and rewritten
// into DuckDB's SQL (functions mapped one by one from a table, everything
// else refused by name), its tables become subqueries over read_parquet,
// read_json or read_csv of exactly the files of the partitions its WHERE
// clause can match, and DuckDB runs it with file access confined to the
// bucket store. Athena DDL (CREATE EXTERNAL TABLE, SHOW, DESCRIBE, MSCK
// REPAIR TABLE, ALTER TABLE ... PARTITION) is served from the catalog.
//
// There is no well-kept Go parser of Trino's grammar (the Go SQL parsers
// follow MySQL or PostgreSQL, and ANTLR's Trino grammar needs a Java
// generator), and DuckDB's grammar is already close to Trino's: so this is
// a tokenizer-based rewriter. It parses only the structure it must change
// (statements, FROM clauses, select lists, function calls, casts, WHERE
// conjuncts) and leaves the rest to DuckDB's own parser, whose errors are
// reported as Athena's.
package query

import (
	"fmt"
	"strings"
)

// tokKind is a token's kind.
type tokKind int

const (
	tIdent  tokKind = iota // unquoted identifier or keyword
	tQIdent                // "quoted identifier"
	tBIdent                // `backquoted identifier` (Hive DDL)
	tString                // 'string literal'
	tNumber
	tOp    // operator or punctuation
	tParam // ?
)

// token is one lexeme with its position (1-based line and column).
type token struct {
	kind tokKind
	text string // as written for idents, numbers and operators; the value for strings and quoted identifiers
	line int
	col  int
}

// lower is an identifier's lower-case text ("" for other kinds).
func (t token) lower() string {
	if t.kind != tIdent {
		return ""
	}
	return strings.ToLower(t.text)
}

// is reports whether t is the keyword or operator w (keywords
// case-insensitively).
func (t token) is(w string) bool {
	switch t.kind {
	case tIdent:
		return strings.EqualFold(t.text, w)
	case tOp:
		return t.text == w
	}
	return false
}

// sql renders the token as DuckDB reads it.
func (t token) sql() string {
	switch t.kind {
	case tIdent:
		return strings.ToLower(t.text)
	case tQIdent, tBIdent:
		return quoteIdent(t.text)
	case tString:
		return quoteString(t.text)
	}
	return t.text
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func quoteString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// SyntaxError is a query that cannot be tokenized or has a structure the
// rewriter rejects; Line and Col point at the problem.
type SyntaxError struct {
	Line, Col int
	Msg       string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d:%d: %s", e.Line, e.Col, e.Msg) }

func syntaxErr(t token, format string, args ...any) error {
	return &SyntaxError{Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

// multiOps are the operators of more than one character, longest first.
var multiOps = []string{"<=>", "<>", "!=", "<=", ">=", "||", "->", "=>", "::"}

// lex splits SQL into tokens, dropping whitespace and comments.
func lex(sql string) ([]token, error) {
	var out []token
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n && i < len(sql); k++ {
			if sql[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(sql) {
		c := sql[i]
		start := token{line: line, col: col}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			adv(1)
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' {
				adv(1)
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				return nil, &SyntaxError{start.line, start.col, "unterminated comment"}
			}
			adv(end + 4)
		case c == '\'' || c == '"' || c == '`':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(sql) {
					what := map[byte]string{'\'': "string literal", '"': "quoted identifier", '`': "backquoted identifier"}[c]
					return nil, &SyntaxError{start.line, start.col, "unterminated " + what}
				}
				if sql[j] == c {
					if j+1 < len(sql) && sql[j+1] == c {
						b.WriteByte(c)
						j += 2
						continue
					}
					break
				}
				b.WriteByte(sql[j])
				j++
			}
			start.kind = map[byte]tokKind{'\'': tString, '"': tQIdent, '`': tBIdent}[c]
			start.text = b.String()
			if start.kind != tString && start.text == "" {
				return nil, &SyntaxError{start.line, start.col, "zero-length delimited identifier not allowed"}
			}
			adv(j + 1 - i)
			out = append(out, start)
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9':
			j := i
			for j < len(sql) && (sql[j] >= '0' && sql[j] <= '9' || sql[j] == '.') {
				j++
			}
			if j < len(sql) && (sql[j] == 'e' || sql[j] == 'E') {
				k := j + 1
				if k < len(sql) && (sql[k] == '+' || sql[k] == '-') {
					k++
				}
				if k < len(sql) && sql[k] >= '0' && sql[k] <= '9' {
					for k < len(sql) && sql[k] >= '0' && sql[k] <= '9' {
						k++
					}
					j = k
				}
			}
			start.kind, start.text = tNumber, sql[i:j]
			adv(j - i)
			out = append(out, start)
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			j := i
			for j < len(sql) && (sql[j] == '_' || sql[j] == '$' || sql[j] >= 'a' && sql[j] <= 'z' || sql[j] >= 'A' && sql[j] <= 'Z' ||
				sql[j] >= '0' && sql[j] <= '9' || sql[j] >= 0x80) {
				j++
			}
			start.kind, start.text = tIdent, sql[i:j]
			adv(j - i)
			out = append(out, start)
		case c == '?':
			start.kind, start.text = tParam, "?"
			adv(1)
			out = append(out, start)
		default:
			op := string(c)
			for _, m := range multiOps {
				if strings.HasPrefix(sql[i:], m) {
					op = m
					break
				}
			}
			if !strings.Contains("(),.;+-*/%<>=[]|:!&^~{}", op[:1]) {
				return nil, &SyntaxError{start.line, start.col, fmt.Sprintf("token recognition error at: '%s'", op)}
			}
			start.kind, start.text = tOp, op
			adv(len(op))
			out = append(out, start)
		}
	}
	return out, nil
}
