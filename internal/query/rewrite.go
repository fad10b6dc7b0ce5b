package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/catalog"
)

// UnsupportedError is a construct hydrant's engine refuses, named in Msg.
// Athena reports these as NOT_SUPPORTED (or FUNCTION_NOT_FOUND, ...; Code).
type UnsupportedError struct {
	Code      string // Trino's error code: NOT_SUPPORTED, FUNCTION_NOT_FOUND, PERMISSION_DENIED
	Line, Col int
	Msg       string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s: line %d:%d: %s", e.Code, e.Line, e.Col, e.Msg)
}

func unsupported(t token, format string, args ...any) error {
	return &UnsupportedError{Code: "NOT_SUPPORTED", Line: t.line, Col: t.col, Msg: fmt.Sprintf(format, args...)}
}

// NotFoundError is a table or schema a query names that the catalog lacks.
type NotFoundError struct {
	Code      string // TABLE_NOT_FOUND or SCHEMA_NOT_FOUND
	Line, Col int
	Msg       string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s: line %d:%d: %s", e.Code, e.Line, e.Col, e.Msg)
}

// tableRef is one reference to a catalog table in a query.
type tableRef struct {
	table *catalog.Table
	tok   token
	alias string // lower-case alias, or the table's name
	// filters are the WHERE conjuncts of the reference's SELECT that
	// involve only its partition keys, in DuckDB SQL with unqualified
	// column names; pruned says they may be used to skip partitions.
	filters []string
	pruned  bool
	// conjuncts are the filters' tokens, for the Go evaluation.
	conjuncts [][]token
}

// resolver finds a catalog table for a reference; db is "" when the query
// did not name one.
type resolver func(t token, catalogName, db, name string) (*catalog.Table, error)

// rewriter turns one Trino query into DuckDB SQL.
type rewriter struct {
	toks    []token
	resolve resolver
	params  []string
	nparam  int
	// refs are the catalog table references, in order; views names each
	// table's view (keyed by database.table).
	refs  []*tableRef
	views map[string]string
	// ctes are the WITH names in scope (a stack of scopes).
	ctes []map[string]bool
	// labelled is set once the top-level select list has its _colN labels.
	labelled bool
	// viewPrefix starts the names of tables in the rewritten SQL
	// (default __hydrant_t).
	viewPrefix string
	// strip is a table alias whose "alias." qualifiers are dropped (for a
	// conjunct evaluated over partition values alone).
	strip string
}

// viewName is the name of the view of a table in the rewritten SQL.
func (r *rewriter) viewName(t *catalog.Table) string {
	key := t.DatabaseName + "." + t.Name
	if v, ok := r.views[key]; ok {
		return v
	}
	p := r.viewPrefix
	if p == "" {
		p = "__hydrant_t"
	}
	v := fmt.Sprintf("%s%d", p, len(r.views)+1)
	r.views[key] = v
	return v
}

// matching returns the index of the token closing the group opened at i.
func matching(toks []token, i int) (int, error) {
	open := toks[i].text
	close := map[string]string{"(": ")", "[": "]"}[open]
	depth := 0
	for j := i; j < len(toks); j++ {
		if toks[j].kind != tOp {
			continue
		}
		switch toks[j].text {
		case "(", "[":
			depth++
		case ")", "]":
			depth--
			if depth == 0 {
				if toks[j].text != close {
					return 0, syntaxErr(toks[j], "mismatched input '%s'", toks[j].text)
				}
				return j, nil
			}
		}
	}
	return 0, syntaxErr(toks[i], "unmatched '%s'", open)
}

// startsQuery reports whether the tokens [i, end) begin a query.
func startsQuery(toks []token, i, end int) bool {
	for i < end && toks[i].is("(") {
		i++
	}
	return i < end && (toks[i].is("SELECT") || toks[i].is("WITH") || toks[i].is("VALUES") || toks[i].is("TABLE"))
}

// duckOnlyKeywords are words DuckDB reserves (its "reserved" and
// "type_function" keywords: duckdb_keywords()) that Trino's grammar lets
// name a column or table, and that hydrant's dialect never uses as
// keywords: unquoted, DuckDB's parser refuses them (a column named "at").
// Trino's own keywords (ANY, SOME, LIMIT, ...) are not here: where they
// are names, they must be quoted in Trino too.
var duckOnlyKeywords = map[string]bool{
	"analyse": true, "anti": true, "asof": true, "asymmetric": true, "at": true, "authorization": true,
	"binary": true, "check": true, "collate": true, "collation": true, "column": true, "columns": true,
	"concurrently": true, "deferrable": true, "do": true, "foreign": true, "freeze": true,
	"generated": true, "glob": true, "ilike": true, "initially": true, "isnull": true, "lambda": true,
	"map": true, "notnull": true, "overlaps": true, "pivot": true, "pivot_longer": true,
	"pivot_wider": true, "placing": true, "positional": true, "primary": true,
	"references": true, "returning": true, "semi": true, "similar": true, "struct": true,
	"summarize": true, "symmetric": true, "unique": true, "unpack": true, "unpivot": true,
	"variadic": true, "verbose": true,
}

// clauseEnd are the keywords that end a FROM or WHERE clause.
var clauseEnd = map[string]bool{
	"where": true, "group": true, "having": true, "order": true, "limit": true, "offset": true, "fetch": true,
	"union": true, "except": true, "intersect": true, "window": true, "qualify": true,
}

// notAlias are keywords that cannot be a table alias.
var notAlias = map[string]bool{
	"where": true, "join": true, "on": true, "using": true, "left": true, "right": true, "full": true, "inner": true,
	"cross": true, "natural": true, "group": true, "order": true, "limit": true, "having": true, "union": true,
	"except": true, "intersect": true, "window": true, "offset": true, "fetch": true, "tablesample": true,
	"for": true, "qualify": true, "as": true, "outer": true, "with": true, "lateral": true,
}

// exprKeywords are words that may stand before "(" without being a call.
var exprKeywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "exists": true, "as": true, "on": true, "using": true,
	"when": true, "then": true, "else": true, "case": true, "select": true, "from": true, "where": true, "by": true,
	"having": true, "join": true, "values": true, "over": true, "filter": true, "within": true, "lateral": true,
	"any": true, "all": true, "some": true, "distinct": true, "like": true, "between": true, "is": true, "union": true,
	"except": true, "intersect": true, "with": true, "recursive": true, "limit": true, "order": true, "group": true,
	"partition": true, "rows": true, "range": true, "groups": true, "set": true, "into": true, "return": true,
	"cube": true, "rollup": true, "sets": true, "escape": true, "offset": true, "fetch": true,
}

// block is one SELECT's FROM: the references it brings into scope.
type block struct {
	refs   []*tableRef
	outer  bool // a LEFT join: only the first table may be pruned
	unsafe bool // a RIGHT or FULL join: no table may be pruned
}

// emitter collects output SQL.
type emitter struct{ b strings.Builder }

func (e *emitter) w(s string) {
	if e.b.Len() > 0 && s != "" {
		last := e.b.String()[e.b.Len()-1]
		if !(last == '(' || last == '[' || last == '.' || s == ")" || s == "]" || s == "," || s == "." || s[0] == '(' && last != ' ' && isWordEnd(last)) {
			e.b.WriteByte(' ')
		}
	}
	e.b.WriteString(s)
}

func isWordEnd(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '"'
}

// query rewrites the tokens [i, end) as a query (or any expression list:
// walk handles clauses as it meets them).
func (r *rewriter) query(e *emitter, i, end int, top bool) error {
	r.ctes = append(r.ctes, map[string]bool{})
	defer func() { r.ctes = r.ctes[:len(r.ctes)-1] }()
	return r.walk(e, i, end, top, false)
}

// isCTE reports whether name is a WITH name in scope.
func (r *rewriter) isCTE(name string) bool {
	for _, s := range r.ctes {
		if s[name] {
			return true
		}
	}
	return false
}

// walk rewrites tokens [i, end). exprOnly means a function's arguments: FROM
// is EXTRACT's or SUBSTRING's, not a clause.
func (r *rewriter) walk(e *emitter, i, end int, top, exprOnly bool) error {
	toks := r.toks
	var blk *block
	inFrom, expectTable := false, false
	for i < end {
		t := toks[i]
		if expectTable {
			expectTable = false
			n, err := r.tableFactor(e, i, end, blk)
			if err != nil {
				return err
			}
			i = n
			continue
		}
		lw := t.lower()
		switch {
		case t.kind == tIdent && lw == "with" && !exprOnly && i+1 < end && !toks[i+1].is("("):
			n, err := r.with(e, i, end)
			if err != nil {
				return err
			}
			i = n
			continue
		case t.kind == tIdent && lw == "select" && !exprOnly:
			blk = &block{}
			inFrom = false
			e.w("SELECT")
			i++
			if top && !r.labelled {
				r.labelled = true
				n, err := r.selectList(e, i, end)
				if err != nil {
					return err
				}
				i = n
			}
			continue
		case t.kind == tIdent && lw == "values" && !exprOnly:
			n, err := r.values(e, i+1, end)
			if err != nil {
				return err
			}
			i = n
			continue
		case t.kind == tIdent && lw == "from" && !exprOnly && !(i > 0 && toks[i-1].is("distinct")):
			e.w("FROM")
			inFrom, expectTable = true, true
			if blk == nil {
				blk = &block{}
			}
			i++
			continue
		case t.kind == tIdent && lw == "join" && inFrom:
			e.w("JOIN")
			expectTable = true
			i++
			continue
		case t.kind == tIdent && (lw == "left" || lw == "right" || lw == "full") && inFrom:
			if lw == "left" {
				blk.outer = true
			} else {
				blk.unsafe = true
			}
		case t.is(",") && inFrom:
			e.w(",")
			expectTable = true
			i++
			continue
		case t.kind == tIdent && clauseEnd[lw] && !exprOnly:
			inFrom = false
			if lw == "where" && blk != nil {
				r.analyzeWhere(blk, i+1, end)
			}
		case t.kind == tIdent && lw == "tablesample":
			return unsupported(t, "TABLESAMPLE is not supported")
		case t.kind == tOp && (t.text == "(" || t.text == "["):
			j, err := matching(toks, i)
			if err != nil {
				return err
			}
			if j > end {
				return syntaxErr(t, "unmatched '%s'", t.text)
			}
			if t.text == "(" && startsQuery(toks, i+1, j) {
				e.w("(")
				if err := r.query(e, i+1, j, false); err != nil {
					return err
				}
				e.w(")")
			} else {
				e.w(t.text)
				if err := r.walk(e, i+1, j, false, !(t.text == "(" && inFrom)); err != nil {
					return err
				}
				e.w(toks[j].text)
			}
			i = j + 1
			continue
		case t.kind == tIdent && i+1 < end && toks[i+1].is("(") && !exprKeywords[lw] && (i == 0 || !toks[i-1].is(".")):
			n, err := r.call(e, i, end)
			if err != nil {
				return err
			}
			i = n
			continue
		case t.kind == tIdent && i+1 < end && toks[i+1].kind == tString && typedLiteral[lw] != "" && (i == 0 || !toks[i-1].is(".")):
			s, err := r.literal(t, toks[i+1])
			if err != nil {
				return err
			}
			e.w(s)
			i += 2
			continue
		case t.kind == tIdent && lw == "interval":
			n, err := r.interval(e, i, end)
			if err != nil {
				return err
			}
			i = n
			continue
		case t.kind == tIdent && lw == "at" && i+1 < end && toks[i+1].is("time"):
			return unsupported(t, "AT TIME ZONE is not supported")
		case t.kind == tIdent && duckOnlyKeywords[lw]:
			// A name to Trino, a keyword to DuckDB: quoted, as Trino
			// would read it.
			e.w(`"` + t.text + `"`)
			i++
			continue
		case r.strip != "" && (t.kind == tIdent || t.kind == tQIdent) && identName(t) == r.strip && i+1 < end && toks[i+1].is("."):
			i += 2
			continue
		case t.kind == tIdent && strings.HasPrefix(lw, "__hydrant"):
			return unsupported(t, "identifier '%s' is reserved", t.text)
		case t.kind == tBIdent:
			return syntaxErr(t, "backquoted identifiers are not supported; use double quotes to quote identifiers")
		case t.kind == tParam:
			if r.nparam >= len(r.params) {
				return &SyntaxError{t.line, t.col, "Incorrect number of parameters: expected at least " + strconv.Itoa(r.nparam+1) + " but found " + strconv.Itoa(len(r.params))}
			}
			e.w(r.params[r.nparam])
			r.nparam++
			i++
			continue
		case t.is(";"):
			return syntaxErr(t, "mismatched input ';'")
		case t.is("::"):
			return syntaxErr(t, "mismatched input '::'")
		}
		e.w(t.sql())
		i++
	}
	return nil
}

// values rewrites a VALUES list: Trino's rows may be bare expressions
// (VALUES 1, 2), DuckDB's are parenthesized.
func (r *rewriter) values(e *emitter, i, end int) (int, error) {
	toks := r.toks
	e.w("VALUES")
	stop := i
	for stop < end {
		t := toks[stop]
		if t.is("(") || t.is("[") {
			j, err := matching(toks, stop)
			if err != nil {
				return 0, err
			}
			stop = j + 1
			continue
		}
		if t.kind == tIdent && (clauseEnd[t.lower()] || t.lower() == "as") || t.is(")") {
			break
		}
		stop++
	}
	start := i
	for k := i; k <= stop; k++ {
		if k < stop && (toks[k].is("(") || toks[k].is("[")) {
			j, _ := matching(toks, k)
			k = j
			continue
		}
		if k < stop && !toks[k].is(",") {
			continue
		}
		if start > i {
			e.w(",")
		}
		if start < k && toks[start].is("(") {
			if j, _ := matching(toks, start); j == k-1 {
				if err := r.walk(e, start, k, false, true); err != nil {
					return 0, err
				}
				start = k + 1
				continue
			}
		}
		e.w("(")
		if err := r.walk(e, start, k, false, true); err != nil {
			return 0, err
		}
		e.w(")")
		start = k + 1
	}
	return stop, nil
}

// with rewrites a WITH clause up to its main query, registering the names.
func (r *rewriter) with(e *emitter, i, end int) (int, error) {
	toks := r.toks
	e.w("WITH")
	i++
	if i < end && toks[i].is("recursive") {
		e.w("RECURSIVE")
		i++
	}
	scope := r.ctes[len(r.ctes)-1]
	for {
		if i >= end || (toks[i].kind != tIdent && toks[i].kind != tQIdent) {
			return 0, syntaxErr(toks[min(i, len(toks)-1)], "expected a WITH query name")
		}
		name := toks[i]
		e.w(name.sql())
		i++
		if i < end && toks[i].is("(") {
			j, err := matching(toks, i)
			if err != nil {
				return 0, err
			}
			e.w("(")
			if err := r.walk(e, i+1, j, false, true); err != nil {
				return 0, err
			}
			e.w(")")
			i = j + 1
		}
		if i >= end || !toks[i].is("as") {
			return 0, syntaxErr(toks[min(i, len(toks)-1)], "expected AS in WITH query %s", name.text)
		}
		e.w("AS")
		i++
		if i >= end || !toks[i].is("(") {
			return 0, syntaxErr(toks[min(i, len(toks)-1)], "expected ( after AS")
		}
		j, err := matching(toks, i)
		if err != nil {
			return 0, err
		}
		scope[identName(name)] = true // visible in later queries (and itself, if recursive)
		e.w("(")
		if err := r.query(e, i+1, j, false); err != nil {
			return 0, err
		}
		e.w(")")
		i = j + 1
		if i < end && toks[i].is(",") {
			e.w(",")
			i++
			continue
		}
		return i, nil
	}
}

// identName is an identifier's name as the catalog keeps it.
func identName(t token) string {
	if t.kind == tIdent {
		return strings.ToLower(t.text)
	}
	return strings.ToLower(t.text)
}

// tableFactor rewrites one FROM item starting at i and returns where it
// ends (before a join keyword, comma or clause end).
func (r *rewriter) tableFactor(e *emitter, i, end int, blk *block) (int, error) {
	toks := r.toks
	t := toks[i]
	switch {
	case t.is("lateral"):
		e.w("LATERAL")
		i++
		if i >= end || !toks[i].is("(") {
			return 0, syntaxErr(t, "expected ( after LATERAL")
		}
		t = toks[i]
	}
	var ref *tableRef
	switch {
	case t.is("("):
		j, err := matching(toks, i)
		if err != nil {
			return 0, err
		}
		e.w("(")
		if startsQuery(toks, i+1, j) {
			err = r.query(e, i+1, j, false)
		} else {
			err = r.walk(e, i+1, j, false, false)
		}
		if err != nil {
			return 0, err
		}
		e.w(")")
		i = j + 1
	case t.is("unnest"):
		if i+1 >= end || !toks[i+1].is("(") {
			return 0, syntaxErr(t, "expected ( after UNNEST")
		}
		j, err := matching(toks, i+1)
		if err != nil {
			return 0, err
		}
		args, err := r.args(i+2, j)
		if err != nil {
			return 0, err
		}
		if len(args) != 1 {
			return 0, unsupported(t, "UNNEST of more than one array is not supported")
		}
		e.w("unnest(" + args[0].sql + ")")
		i = j + 1
		if i+1 < end && toks[i].is("with") && toks[i+1].is("ordinality") {
			e.w("WITH ORDINALITY")
			i += 2
		}
	case t.kind == tString:
		return 0, &UnsupportedError{Code: "PERMISSION_DENIED", Line: t.line, Col: t.col, Msg: "a file path in FROM is not allowed: queries read the catalog's tables"}
	case t.kind == tIdent || t.kind == tQIdent:
		parts := []token{t}
		j := i + 1
		for j+1 < end && toks[j].is(".") && (toks[j+1].kind == tIdent || toks[j+1].kind == tQIdent) {
			parts = append(parts, toks[j+1])
			j += 2
		}
		if j < end && toks[j].is("(") {
			name := strings.ToLower(t.text)
			if deniedFunctions[name] {
				return 0, &UnsupportedError{Code: "PERMISSION_DENIED", Line: t.line, Col: t.col, Msg: fmt.Sprintf("Table function '%s' is not allowed: queries read only the catalog's tables", name)}
			}
			return 0, unsupported(t, "Table function '%s' is not supported", name)
		}
		if len(parts) == 1 && r.isCTE(identName(t)) {
			e.w(t.sql())
			i = j
			break
		}
		var cat, db string
		switch len(parts) {
		case 3:
			cat, db = identName(parts[0]), identName(parts[1])
		case 2:
			db = identName(parts[0])
		case 1:
		default:
			return 0, syntaxErr(t, "too many dots in table name")
		}
		tbl, err := r.resolve(t, cat, db, identName(parts[len(parts)-1]))
		if err != nil {
			return 0, err
		}
		ref = &tableRef{table: tbl, tok: t, alias: tbl.Name}
		r.refs = append(r.refs, ref)
		if blk != nil {
			blk.refs = append(blk.refs, ref)
		}
		// Keep the table's own name visible for qualified columns.
		e.w(quoteIdent(r.viewName(tbl)))
		i = j
		if !(i < end && (toks[i].is("as") || (toks[i].kind == tIdent || toks[i].kind == tQIdent) && !notAlias[toks[i].lower()])) {
			e.w("AS " + quoteIdent(tbl.Name))
		}
	default:
		return 0, syntaxErr(t, "mismatched input '%s'", t.text)
	}
	// An alias, with or without AS, and column aliases.
	if i < end && toks[i].is("as") {
		e.w("AS")
		i++
		if i >= end || (toks[i].kind != tIdent && toks[i].kind != tQIdent) {
			return 0, syntaxErr(toks[min(i, len(toks)-1)], "expected an alias after AS")
		}
	}
	if i < end && (toks[i].kind == tIdent || toks[i].kind == tQIdent) && !notAlias[toks[i].lower()] {
		if ref != nil {
			ref.alias = identName(toks[i])
		}
		e.w(toks[i].sql())
		i++
		if i < end && toks[i].is("(") {
			j, err := matching(toks, i)
			if err != nil {
				return 0, err
			}
			e.w("(")
			if err := r.walk(e, i+1, j, false, true); err != nil {
				return 0, err
			}
			e.w(")")
			i = j + 1
		}
	}
	if i < end && toks[i].is("tablesample") {
		return 0, unsupported(toks[i], "TABLESAMPLE is not supported")
	}
	return i, nil
}

// arg is one rewritten function argument.
type arg struct {
	sql  string
	toks []token
}

// literal reports the argument's value when it is one string literal.
func (a arg) literal() (string, bool) {
	if len(a.toks) == 1 && a.toks[0].kind == tString {
		return a.toks[0].text, true
	}
	return "", false
}

// args rewrites the comma-separated expressions [i, end).
func (r *rewriter) args(i, end int) ([]arg, error) {
	var out []arg
	if i >= end {
		return nil, nil
	}
	start := i
	for k := i; k <= end; k++ {
		if k < end && (r.toks[k].is("(") || r.toks[k].is("[")) {
			j, err := matching(r.toks, k)
			if err != nil {
				return nil, err
			}
			k = j
			continue
		}
		if k == end || r.toks[k].is(",") {
			var e emitter
			if err := r.walk(&e, start, k, false, true); err != nil {
				return nil, err
			}
			out = append(out, arg{sql: e.b.String(), toks: r.toks[start:k]})
			start = k + 1
		}
	}
	return out, nil
}

// selectList rewrites the top-level select list from i, naming unnamed
// expressions _col0, _col1, ... by position as Trino does, and returns
// where it ends.
func (r *rewriter) selectList(e *emitter, i, end int) (int, error) {
	toks := r.toks
	if i < end && (toks[i].is("distinct") || toks[i].is("all")) {
		e.w(strings.ToUpper(toks[i].text))
		i++
	}
	// Find the end of the list: FROM or a clause keyword at this level.
	stop := i
	for stop < end {
		t := toks[stop]
		if t.is("(") || t.is("[") {
			j, err := matching(toks, stop)
			if err != nil {
				return 0, err
			}
			stop = j + 1
			continue
		}
		if t.is("from") && !(stop > 0 && toks[stop-1].is("distinct")) || t.kind == tIdent && clauseEnd[t.lower()] {
			break
		}
		stop++
	}
	n := 0
	start := i
	for k := i; k <= stop; k++ {
		if k < stop && (toks[k].is("(") || toks[k].is("[")) {
			j, _ := matching(toks, k)
			k = j
			continue
		}
		if k < stop && !toks[k].is(",") {
			continue
		}
		if n > 0 {
			e.w(",")
		}
		item := toks[start:k]
		if err := r.walk(e, start, k, false, true); err != nil {
			return 0, err
		}
		if needsLabel(item) {
			e.w(fmt.Sprintf(`AS "_col%d"`, n))
		}
		n++
		start = k + 1
	}
	return stop, nil
}

// needsLabel reports whether a select item has no name of its own: it is
// not *, x.*, a column reference or an aliased expression.
func needsLabel(item []token) bool {
	if len(item) == 0 {
		return false
	}
	last := item[len(item)-1]
	if last.is("*") {
		return false
	}
	// a, a.b, a.b.c
	col := len(item)%2 == 1
	for k, t := range item {
		if k%2 == 0 && t.kind != tIdent && t.kind != tQIdent || k%2 == 1 && !t.is(".") {
			col = false
		}
	}
	if col {
		return false
	}
	// ... AS x, or ... x (an implicit alias after an expression)
	if len(item) >= 2 && (last.kind == tQIdent || last.kind == tIdent && !keyword(last)) {
		prev := item[len(item)-2]
		switch {
		case prev.is("as"), prev.is(")"), prev.is("]"), prev.kind == tString, prev.kind == tNumber, prev.kind == tQIdent:
			return false
		case prev.kind == tIdent && !keyword(prev):
			return false
		}
	}
	return true
}

// keyword reports whether an identifier token is a word of SQL's
// expression syntax rather than a name.
func keyword(t token) bool {
	switch l := t.lower(); l {
	case "null", "true", "false", "end", "is", "not", "and", "or", "in", "like", "between", "case", "when",
		"then", "else", "distinct", "escape", "current_date", "current_timestamp", "current_time", "localtimestamp", "localtime":
		return true
	default:
		return exprKeywords[l]
	}
}
