package logs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The condition language JSON and space-delimited patterns share:
//
//	expr := and { "||" and }
//	and  := unary { "&&" unary }
//	unary := "(" expr ")" | operand test
//	test := op value | "IS" ("NULL" | "TRUE" | "FALSE") | "NOT" "EXISTS"
//	op   := "=" | "!=" | "<" | ">" | "<=" | ">="
//	value := "quoted string" | %regex% | number | word
//
// An operand is a JSON selector ($.a[0].b) or a field name.

type tokKind int

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tAnd
	tOr
	tOp
	tString
	tRegex
	tWord
)

type token struct {
	kind tokKind
	text string
}

// lex splits a condition expression into tokens.
func lex(s string) ([]token, error) {
	var out []token
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			out = append(out, token{tLParen, "("})
			i++
		case c == ')':
			out = append(out, token{tRParen, ")"})
			i++
		case strings.HasPrefix(s[i:], "&&"):
			out = append(out, token{tAnd, "&&"})
			i += 2
		case strings.HasPrefix(s[i:], "||"):
			out = append(out, token{tOr, "||"})
			i += 2
		case strings.HasPrefix(s[i:], "!=") || strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">="):
			out = append(out, token{tOp, s[i : i+2]})
			i += 2
		case c == '=' || c == '<' || c == '>':
			out = append(out, token{tOp, s[i : i+1]})
			i++
		case c == '"':
			text, n, err := quoted(s[i:])
			if err != nil {
				return nil, err
			}
			out = append(out, token{tString, text})
			i += n
		case c == '%':
			j := strings.IndexByte(s[i+1:], '%')
			if j < 0 {
				return nil, fmt.Errorf("unterminated %%regex%%")
			}
			out = append(out, token{tRegex, s[i+1 : i+1+j]})
			i += j + 2
		case c == '&' || c == '|' || c == '!':
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n()&|=!<>\"", rune(s[j])) {
				j++
			}
			out = append(out, token{tWord, s[i:j]})
			i = j
		}
	}
	return append(out, token{kind: tEOF}), nil
}

// value is what a condition tests: a JSON value or a delimited field.
type value struct {
	kind valueKind
	s    string // text of strings, numbers (as written) and booleans
	n    float64
	num  bool // s is a number
	b    bool
}

type valueKind int

const (
	vMissing valueKind = iota
	vNull
	vBool
	vNumber
	vString
	vContainer // an object or array: no condition applies to it
)

// cond is one test of an operand's value.
type cond struct {
	op  string // = != < > <= >= or IS NULL, IS TRUE, IS FALSE, NOT EXISTS
	re  *regexp.Regexp
	num bool // the literal is a number
	n   float64
	raw string
	w   wildcard
}

var numberRE = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$`)

func (c *cond) eval(v value) bool {
	switch c.op {
	case "NOT EXISTS":
		return v.kind == vMissing
	case "IS NULL":
		return v.kind == vNull
	case "IS TRUE":
		return v.kind == vBool && v.b
	case "IS FALSE":
		return v.kind == vBool && !v.b
	}
	if v.kind == vMissing || v.kind == vNull || v.kind == vContainer {
		return false
	}
	if c.re != nil {
		m := c.re.MatchString(v.s)
		return m == (c.op == "=")
	}
	if c.num && v.num {
		switch c.op {
		case "=":
			return v.n == c.n
		case "!=":
			return v.n != c.n
		case "<":
			return v.n < c.n
		case ">":
			return v.n > c.n
		case "<=":
			return v.n <= c.n
		case ">=":
			return v.n >= c.n
		}
	}
	switch c.op {
	case "=":
		return c.w.match(v.s)
	case "!=":
		return !c.w.match(v.s)
	}
	return false // an order comparison of something that is not a number
}

// node is a condition expression.
type node interface {
	eval(env func(operand string) value) bool
}

type andNode []node
type orNode []node

// leaf is one operand and its test.
type leaf struct {
	operand string
	c       cond
}

func (n andNode) eval(env func(string) value) bool {
	for _, c := range n {
		if !c.eval(env) {
			return false
		}
	}
	return true
}

func (n orNode) eval(env func(string) value) bool {
	for _, c := range n {
		if c.eval(env) {
			return true
		}
	}
	return false
}

func (l *leaf) eval(env func(string) value) bool { return l.c.eval(env(l.operand)) }

// exprParser parses the condition language; operand checks an operand.
type exprParser struct {
	toks    []token
	i       int
	operand func(string) error
	regexes int
	leaves  []*leaf
}

func (p *exprParser) peek() token { return p.toks[p.i] }
func (p *exprParser) take() token { t := p.toks[p.i]; p.i++; return t }

func parseExpr(s string, operand func(string) error) (node, []*leaf, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, nil, err
	}
	p := &exprParser{toks: toks, operand: operand}
	n, err := p.or()
	if err != nil {
		return nil, nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, nil, fmt.Errorf("unexpected %q", t.text)
	}
	return n, p.leaves, nil
}

func (p *exprParser) or() (node, error) {
	var out orNode
	for {
		n, err := p.and()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if p.peek().kind != tOr {
			break
		}
		p.take()
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *exprParser) and() (node, error) {
	var out andNode
	for {
		n, err := p.unary()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
		if p.peek().kind != tAnd {
			break
		}
		p.take()
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func (p *exprParser) unary() (node, error) {
	t := p.take()
	switch t.kind {
	case tLParen:
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.take().kind != tRParen {
			return nil, fmt.Errorf("missing ')'")
		}
		return n, nil
	case tWord:
	case tEOF:
		return nil, fmt.Errorf("a condition is missing")
	default:
		return nil, fmt.Errorf("unexpected %q", t.text)
	}
	if err := p.operand(t.text); err != nil {
		return nil, err
	}
	l := &leaf{operand: t.text}
	op := p.take()
	switch {
	case op.kind == tWord && op.text == "IS":
		w := p.take()
		switch w.text {
		case "NULL", "TRUE", "FALSE":
			l.c.op = "IS " + w.text
		default:
			return nil, fmt.Errorf("IS must be followed by NULL, TRUE or FALSE, not %q", w.text)
		}
	case op.kind == tWord && op.text == "NOT":
		if w := p.take(); w.kind != tWord || w.text != "EXISTS" {
			return nil, fmt.Errorf("NOT must be followed by EXISTS")
		}
		l.c.op = "NOT EXISTS"
	case op.kind == tOp:
		l.c.op = op.text
		v := p.take()
		switch v.kind {
		case tRegex:
			if op.text != "=" && op.text != "!=" {
				return nil, fmt.Errorf("a %%regex%% can only be compared with = or !=")
			}
			p.regexes++
			if p.regexes > maxRegexes {
				return nil, fmt.Errorf("a pattern may hold at most %d regular expressions", maxRegexes)
			}
			re, err := compileRegex(v.text)
			if err != nil {
				return nil, err
			}
			l.c.re = re
		case tString, tWord:
			l.c.raw = v.text
			if v.kind == tWord && numberRE.MatchString(v.text) {
				n, err := strconv.ParseFloat(v.text, 64)
				if err != nil {
					return nil, fmt.Errorf("number %q: %w", v.text, err)
				}
				l.c.num, l.c.n = true, n
			} else if op.text != "=" && op.text != "!=" {
				return nil, fmt.Errorf("%s needs a number, not %q", op.text, v.text)
			}
			l.c.w = newWildcard(v.text)
		default:
			return nil, fmt.Errorf("a value is missing after %s", op.text)
		}
	default:
		return nil, fmt.Errorf("an operator is missing after %s", t.text)
	}
	p.leaves = append(p.leaves, l)
	return l, nil
}

// textValue is a delimited field (or any bare text) as a value: a number
// when it reads as one.
func textValue(s string) value {
	v := value{kind: vString, s: s}
	if numberRE.MatchString(s) {
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			v.num, v.n = true, n
		}
	}
	return v
}
