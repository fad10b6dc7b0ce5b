package query

import (
	"strconv"
	"strings"
)

// Partition predicates evaluated in Go. The WHERE conjuncts that involve
// only partition keys are usually comparisons of keys with literals
// (year = '2026' AND hour IN ('10', '11'), hour BETWEEN 10 AND 12):
// deciding those here spares each query a round trip to DuckDB. Only a
// small, exact subset is compiled: comparisons (= <> != < <= > >=), IN and
// NOT IN lists, BETWEEN, IS [NOT] NULL, NOT, AND, OR and parentheses, over
// keys and string, integer and NULL literals of the key's own type
// (string keys with strings, integer keys with integers). Anything else
// (a function, a cast, a string compared with an integer, a parameter)
// leaves the whole predicate to DuckDB (prune_eval.go), so there is one
// set of semantics, which TestPruneGoMatchesDuckDB holds the two to.

// truth is SQL's three-valued logic.
type truth int8

const (
	isFalse truth = iota
	isTrue
	isNull
)

func (a truth) and(b truth) truth {
	switch {
	case a == isFalse || b == isFalse:
		return isFalse
	case a == isNull || b == isNull:
		return isNull
	}
	return isTrue
}

func (a truth) or(b truth) truth {
	switch {
	case a == isTrue || b == isTrue:
		return isTrue
	case a == isNull || b == isNull:
		return isNull
	}
	return isFalse
}

func (a truth) not() truth {
	switch a {
	case isTrue:
		return isFalse
	case isFalse:
		return isTrue
	}
	return isNull
}

// kind of a compiled operand.
const (
	kStr = iota + 1
	kInt
	kNull // the NULL literal: compares with anything, to NULL
)

// pval is a partition key's value (or a literal) in the key's type.
type pval struct {
	null bool
	s    string
	i    int64
}

// operand is a key (its index) or a literal.
type operand struct {
	kind int
	key  int // -1 for a literal
	lit  pval
}

func (o operand) value(vals []pval) pval {
	if o.key >= 0 {
		return vals[o.key]
	}
	return o.lit
}

// gopred is a compiled predicate over a partition's typed key values.
type gopred func(vals []pval) truth

// intRange is the range of DuckDB's integer types.
var intRange = map[string][2]int64{
	"TINYINT": {-1 << 7, 1<<7 - 1}, "SMALLINT": {-1 << 15, 1<<15 - 1},
	"INTEGER": {-1 << 31, 1<<31 - 1}, "BIGINT": {-1 << 63, 1<<63 - 1},
}

// keyKind is how Go compares a key of a DuckDB type (0: not at all).
func keyKind(typ string) int {
	if typ == "VARCHAR" {
		return kStr
	}
	if _, ok := intRange[typ]; ok {
		return kInt
	}
	return 0
}

// typedValues converts a partition's values to the keys' types as
// TRY_CAST would; ok is false for a value whose cast Go does not mirror
// exactly (anything but plain decimal digits for an integer key).
func typedValues(keys []column, values []string, out []pval) bool {
	for k, c := range keys {
		if k >= len(values) {
			out[k] = pval{null: true}
			continue
		}
		v := values[k]
		switch keyKind(c.typ) {
		case kStr:
			out[k] = pval{s: v}
		case kInt:
			n, ok := plainInt(v)
			if !ok {
				return false
			}
			r := intRange[c.typ]
			if n < r[0] || n > r[1] {
				return false
			}
			out[k] = pval{i: n}
		default:
			out[k] = pval{null: true} // not compared: no compiled predicate names it
		}
	}
	return true
}

// plainInt parses an optional minus and 1 to 18 decimal digits.
func plainInt(s string) (int64, bool) {
	d := strings.TrimPrefix(s, "-")
	if d == "" || len(d) > 18 {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// predCompiler compiles the tokens of one conjunct over one reference's
// partition keys.
type predCompiler struct {
	toks  []token
	i     int
	alias string
	keys  []column
}

// compilePred compiles tokens as a predicate; ok is false when they are
// not in the subset (the caller then asks DuckDB).
func compilePred(toks []token, alias string, keys []column) (gopred, bool) {
	c := &predCompiler{toks: toks, alias: alias, keys: keys}
	p, ok := c.or()
	if !ok || c.i != len(toks) {
		return nil, false
	}
	return p, true
}

func (c *predCompiler) peek(w string) bool { return c.i < len(c.toks) && c.toks[c.i].is(w) }

func (c *predCompiler) or() (gopred, bool) {
	p, ok := c.and()
	for ok && c.peek("or") {
		c.i++
		var q gopred
		if q, ok = c.and(); ok {
			a := p
			p = func(v []pval) truth { return a(v).or(q(v)) }
		}
	}
	return p, ok
}

func (c *predCompiler) and() (gopred, bool) {
	p, ok := c.not()
	for ok && c.peek("and") {
		c.i++
		var q gopred
		if q, ok = c.not(); ok {
			a := p
			p = func(v []pval) truth { return a(v).and(q(v)) }
		}
	}
	return p, ok
}

func (c *predCompiler) not() (gopred, bool) {
	if c.peek("not") {
		c.i++
		p, ok := c.not()
		if !ok {
			return nil, false
		}
		return func(v []pval) truth { return p(v).not() }, true
	}
	return c.primary()
}

// primary is a parenthesized predicate or a comparison.
func (c *predCompiler) primary() (gopred, bool) {
	if c.peek("(") {
		// A parenthesized predicate; a parenthesized operand is not
		// compiled.
		c.i++
		p, ok := c.or()
		if !ok || !c.peek(")") {
			return nil, false
		}
		c.i++
		return p, true
	}
	a, ok := c.operand()
	if !ok {
		return nil, false
	}
	neg := false
	if c.peek("not") {
		neg, c.i = true, c.i+1
	}
	var p gopred
	switch {
	case c.peek("is") && !neg:
		c.i++
		not := c.peek("not")
		if not {
			c.i++
		}
		if !c.peek("null") {
			return nil, false
		}
		c.i++
		return func(v []pval) truth {
			if a.value(v).null != not {
				return isTrue
			}
			return isFalse
		}, true
	case c.peek("in"):
		c.i++
		if !c.peek("(") {
			return nil, false
		}
		c.i++
		var list []operand
		for {
			b, ok := c.operand()
			if !ok || !comparable(a, b) {
				return nil, false
			}
			list = append(list, b)
			if c.peek(",") {
				c.i++
				continue
			}
			if !c.peek(")") {
				return nil, false
			}
			c.i++
			break
		}
		p = func(v []pval) truth {
			t := isFalse
			for _, b := range list {
				t = t.or(compare(a, "=", b, v))
			}
			return t
		}
	case c.peek("between"):
		c.i++
		lo, ok := c.operand()
		if !ok || !c.peek("and") {
			return nil, false
		}
		c.i++
		hi, ok2 := c.operand()
		if !ok2 || !comparable(a, lo) || !comparable(a, hi) {
			return nil, false
		}
		p = func(v []pval) truth { return compare(a, ">=", lo, v).and(compare(a, "<=", hi, v)) }
	case neg:
		return nil, false
	default:
		if c.i >= len(c.toks) || c.toks[c.i].kind != tOp {
			return nil, false
		}
		op := c.toks[c.i].text
		switch op {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
		default:
			return nil, false
		}
		c.i++
		b, ok := c.operand()
		if !ok || !comparable(a, b) {
			return nil, false
		}
		return func(v []pval) truth { return compare(a, op, b, v) }, true
	}
	if neg {
		q := p
		p = func(v []pval) truth { return q(v).not() }
	}
	return p, true
}

// operand is a partition key (name or alias.name), a string, an integer
// (with an optional minus) or NULL.
func (c *predCompiler) operand() (operand, bool) {
	if c.i >= len(c.toks) {
		return operand{}, false
	}
	t := c.toks[c.i]
	switch {
	case t.kind == tString:
		c.i++
		return operand{kind: kStr, key: -1, lit: pval{s: t.text}}, true
	case t.kind == tNumber || t.is("-") && c.i+1 < len(c.toks) && c.toks[c.i+1].kind == tNumber:
		text := t.text
		if t.is("-") {
			c.i++
			text = "-" + c.toks[c.i].text
		}
		n, ok := plainInt(text)
		if !ok {
			return operand{}, false
		}
		c.i++
		return operand{kind: kInt, key: -1, lit: pval{i: n}}, true
	case t.is("null"):
		c.i++
		return operand{kind: kNull, key: -1, lit: pval{null: true}}, true
	case t.kind == tIdent && !keyword(t) || t.kind == tQIdent:
		name := identName(t)
		if c.i+2 < len(c.toks) && c.toks[c.i+1].is(".") {
			if name != c.alias {
				return operand{}, false
			}
			c.i += 2
			if t = c.toks[c.i]; t.kind != tIdent && t.kind != tQIdent {
				return operand{}, false
			}
			name = identName(t)
		}
		if c.i+1 < len(c.toks) && (c.toks[c.i+1].is("(") || c.toks[c.i+1].is(".")) {
			return operand{}, false // a function or a field
		}
		for k, key := range c.keys {
			if strings.EqualFold(key.name, name) {
				kind := keyKind(key.typ)
				if kind == 0 {
					return operand{}, false
				}
				c.i++
				return operand{kind: kind, key: k}, true
			}
		}
	}
	return operand{}, false
}

// comparable reports whether Go compares a and b as DuckDB would: the same
// type, or NULL.
func comparable(a, b operand) bool {
	return a.kind == b.kind || a.kind == kNull || b.kind == kNull
}

func compare(a operand, op string, b operand, vals []pval) truth {
	x, y := a.value(vals), b.value(vals)
	if x.null || y.null {
		return isNull
	}
	var c int
	if a.kind == kStr {
		c = strings.Compare(x.s, y.s)
	} else {
		switch {
		case x.i < y.i:
			c = -1
		case x.i > y.i:
			c = 1
		}
	}
	var r bool
	switch op {
	case "=":
		r = c == 0
	case "<>", "!=":
		r = c != 0
	case "<":
		r = c < 0
	case "<=":
		r = c <= 0
	case ">":
		r = c > 0
	case ">=":
		r = c >= 0
	}
	if r {
		return isTrue
	}
	return isFalse
}

// pruneGo decides which partitions every reference's conjuncts keep, or
// reports !ok when a conjunct or a value is outside what Go decides.
func pruneGo(refs []*tableRef, keys []column, parts []partition) ([]bool, bool) {
	type refPreds struct{ preds []gopred }
	compiled := make([]refPreds, len(refs))
	for n, r := range refs {
		if len(r.conjuncts) != len(r.filters) {
			return nil, false
		}
		for _, toks := range r.conjuncts {
			p, ok := compilePred(toks, r.alias, keys)
			if !ok {
				return nil, false
			}
			compiled[n].preds = append(compiled[n].preds, p)
		}
	}
	keep := make([]bool, len(parts))
	vals := make([]pval, len(keys))
	for i, part := range parts {
		if !typedValues(keys, part.values, vals) {
			return nil, false
		}
		for _, rp := range compiled {
			t := isTrue
			for _, p := range rp.preds {
				if t = t.and(p(vals)); t != isTrue {
					break
				}
			}
			if t == isTrue {
				keep[i] = true
				break
			}
		}
	}
	return keep, true
}
