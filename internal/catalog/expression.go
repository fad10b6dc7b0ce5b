package catalog

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"unicode"
)

// PartitionFilter is a parsed GetPartitions Expression: a predicate over a
// table's partition keys in Glue's SQL-like syntax, e.g.
// "year = '2026' AND month BETWEEN '01' AND '03' OR hour IN ('10', '11')".
// Comparisons are numeric for numeric partition keys and by string
// otherwise (dates in ISO form compare correctly as strings).
type PartitionFilter struct {
	root exprNode
	keys map[string]string // lower-case key name -> Hive type
}

// ParsePartitionFilter parses expr for a table with the given partition
// keys. Unknown keys and syntax errors are reported with the offending
// text.
func ParsePartitionFilter(expr string, keys []Column) (*PartitionFilter, error) {
	toks, err := lexFilter(expr)
	if err != nil {
		return nil, err
	}
	f := &PartitionFilter{keys: map[string]string{}}
	for _, k := range keys {
		f.keys[strings.ToLower(k.Name)] = strings.ToLower(k.Type)
	}
	p := &filterParser{toks: toks, f: f}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q in expression", p.toks[p.pos].text)
	}
	f.root = n
	return f, nil
}

// Match reports whether a partition with values (in key order) satisfies
// the filter.
func (f *PartitionFilter) Match(keys []Column, values []string) bool {
	row := make(map[string]string, len(keys))
	for i, k := range keys {
		if i < len(values) {
			row[strings.ToLower(k.Name)] = values[i]
		}
	}
	return f.root.eval(f, row)
}

type filterToken struct {
	kind byte // 'i' identifier, 's' string, 'n' number, 'o' operator or punctuation
	text string
}

func lexFilter(s string) ([]filterToken, error) {
	var out []filterToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string in expression")
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			out = append(out, filterToken{'s', b.String()})
			i = j + 1
		case c == '`' || c == '"':
			j := strings.IndexByte(s[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated identifier in expression")
			}
			out = append(out, filterToken{'i', s[i+1 : i+1+j]})
			i += j + 2
		case c >= '0' && c <= '9' || c == '-' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			out = append(out, filterToken{'n', s[i:j]})
			i = j
		case c == '_' || unicode.IsLetter(rune(c)):
			j := i
			for j < len(s) && (s[j] == '_' || s[j] >= '0' && s[j] <= '9' || unicode.IsLetter(rune(s[j]))) {
				j++
			}
			out = append(out, filterToken{'i', s[i:j]})
			i = j
		default:
			for _, op := range []string{"<>", "!=", ">=", "<=", "=", "<", ">", "(", ")", ","} {
				if strings.HasPrefix(s[i:], op) {
					out = append(out, filterToken{'o', op})
					i += len(op)
					goto next
				}
			}
			return nil, fmt.Errorf("unexpected character %q in expression", c)
		next:
		}
	}
	return out, nil
}

type filterParser struct {
	toks []filterToken
	pos  int
	f    *PartitionFilter
}

func (p *filterParser) peekWord(w string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == 'i' && strings.EqualFold(p.toks[p.pos].text, w)
}

func (p *filterParser) peekOp(op string) bool {
	return p.pos < len(p.toks) && p.toks[p.pos].kind == 'o' && p.toks[p.pos].text == op
}

func (p *filterParser) or() (exprNode, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peekWord("OR") {
		p.pos++
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *filterParser) and() (exprNode, error) {
	l, err := p.not()
	if err != nil {
		return nil, err
	}
	for p.peekWord("AND") {
		p.pos++
		r, err := p.not()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *filterParser) not() (exprNode, error) {
	if p.peekWord("NOT") {
		p.pos++
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	return p.predicate()
}

func (p *filterParser) value() (string, error) {
	if p.pos >= len(p.toks) {
		return "", fmt.Errorf("expression ends where a value is expected")
	}
	t := p.toks[p.pos]
	if t.kind != 's' && t.kind != 'n' {
		return "", fmt.Errorf("expected a value, got %q", t.text)
	}
	p.pos++
	return t.text, nil
}

func (p *filterParser) predicate() (exprNode, error) {
	if p.peekOp("(") {
		p.pos++
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if !p.peekOp(")") {
			return nil, fmt.Errorf("missing ) in expression")
		}
		p.pos++
		return n, nil
	}
	if p.pos >= len(p.toks) || p.toks[p.pos].kind != 'i' {
		if p.pos >= len(p.toks) {
			return nil, fmt.Errorf("expression ends where a partition key is expected")
		}
		return nil, fmt.Errorf("expected a partition key, got %q", p.toks[p.pos].text)
	}
	key := strings.ToLower(p.toks[p.pos].text)
	if _, ok := p.f.keys[key]; !ok {
		return nil, fmt.Errorf("unknown partition key %q", p.toks[p.pos].text)
	}
	p.pos++
	negate := false
	if p.peekWord("NOT") {
		negate = true
		p.pos++
	}
	var n exprNode
	switch {
	case p.peekWord("BETWEEN"):
		p.pos++
		lo, err := p.value()
		if err != nil {
			return nil, err
		}
		if !p.peekWord("AND") {
			return nil, fmt.Errorf("BETWEEN needs AND")
		}
		p.pos++
		hi, err := p.value()
		if err != nil {
			return nil, err
		}
		n = andNode{cmpNode{key, ">=", lo}, cmpNode{key, "<=", hi}}
	case p.peekWord("IN"):
		p.pos++
		if !p.peekOp("(") {
			return nil, fmt.Errorf("IN needs a list in parentheses")
		}
		p.pos++
		var vals []string
		for {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
			if p.peekOp(",") {
				p.pos++
				continue
			}
			if p.peekOp(")") {
				p.pos++
				break
			}
			return nil, fmt.Errorf("IN list needs , or )")
		}
		n = inNode{key, vals}
	case p.peekWord("LIKE"):
		p.pos++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n = likeNode{key, likeRegexp(v)}
	case p.peekWord("IS"):
		p.pos++
		not := false
		if p.peekWord("NOT") {
			not = true
			p.pos++
		}
		if !p.peekWord("NULL") {
			return nil, fmt.Errorf("IS needs NULL")
		}
		p.pos++
		// Partition values are never null.
		n = constNode(not)
	default:
		if negate {
			return nil, fmt.Errorf("NOT must be followed by BETWEEN, IN or LIKE")
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].kind != 'o' || strings.Contains("(),", p.toks[p.pos].text) {
			return nil, fmt.Errorf("expected a comparison after %q", key)
		}
		op := p.toks[p.pos].text
		p.pos++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		n = cmpNode{key, op, v}
	}
	if negate {
		n = notNode{n}
	}
	return n, nil
}

// likeRegexp turns a SQL LIKE pattern into an anchored regular expression.
func likeRegexp(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^(?s:")
	for _, r := range pat {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(")$")
	return regexp.MustCompile(b.String())
}

type exprNode interface {
	eval(f *PartitionFilter, row map[string]string) bool
}

type andNode struct{ l, r exprNode }
type orNode struct{ l, r exprNode }
type notNode struct{ n exprNode }
type constNode bool
type cmpNode struct{ key, op, val string }
type inNode struct {
	key  string
	vals []string
}
type likeNode struct {
	key string
	re  *regexp.Regexp
}

func (n andNode) eval(f *PartitionFilter, row map[string]string) bool {
	return n.l.eval(f, row) && n.r.eval(f, row)
}
func (n orNode) eval(f *PartitionFilter, row map[string]string) bool {
	return n.l.eval(f, row) || n.r.eval(f, row)
}
func (n notNode) eval(f *PartitionFilter, row map[string]string) bool { return !n.n.eval(f, row) }
func (n constNode) eval(*PartitionFilter, map[string]string) bool     { return bool(n) }
func (n likeNode) eval(_ *PartitionFilter, row map[string]string) bool {
	return n.re.MatchString(row[n.key])
}
func (n inNode) eval(f *PartitionFilter, row map[string]string) bool {
	for _, v := range n.vals {
		if f.compare(n.key, row[n.key], v) == 0 {
			return true
		}
	}
	return false
}
func (n cmpNode) eval(f *PartitionFilter, row map[string]string) bool {
	c := f.compare(n.key, row[n.key], n.val)
	switch n.op {
	case "=":
		return c == 0
	case "<>", "!=":
		return c != 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	}
	return false
}

// compare orders a partition value against a literal by the key's type:
// numerically for numeric types (when both parse), else as strings.
func (f *PartitionFilter) compare(key, a, b string) int {
	switch t := f.keys[key]; {
	case t == "int" || t == "integer" || t == "bigint" || t == "smallint" || t == "tinyint" || t == "long" ||
		t == "float" || t == "double" || strings.HasPrefix(t, "decimal"):
		x, okx := new(big.Rat).SetString(a)
		y, oky := new(big.Rat).SetString(b)
		if okx && oky {
			return x.Cmp(y)
		}
	}
	return strings.Compare(a, b)
}
