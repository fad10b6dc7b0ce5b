package cloudwatch

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// Metric math: the subset of CloudWatch's expression language that alarms
// on rates and ratios need.
//
//	expr    = or
//	or      = and { ("||" | "OR") and }
//	and     = cmp { ("&&" | "AND") cmp }
//	cmp     = sum [ ("==" | "!=" | "<" | "<=" | ">" | ">=") sum ]
//	sum     = product { ("+" | "-") product }
//	product = unary { ("*" | "/") unary }
//	unary   = "-" unary | primary
//	primary = number | id | string | func "(" [ expr { "," expr } ] ")" | "(" expr ")"
//
// Functions: METRICS([filter]), SUM, AVG, MIN, MAX, ABS, IF, FILL (value,
// REPEAT or LINEAR), RATE, DIFF. Comparisons give 1 or 0.

// node is a parsed expression.
type node interface{}

type (
	numNode float64
	strNode string
	idNode  string
	kwNode  string // REPEAT, LINEAR
	negNode struct{ x node }
	binNode struct {
		op   string
		l, r node
	}
	callNode struct {
		fn   string
		args []node
	}
)

// exprFuncs are the functions hydrant evaluates, with their argument
// counts.
var exprFuncs = map[string][2]int{
	"METRICS": {0, 1}, "SUM": {1, 1}, "AVG": {1, 1}, "MIN": {1, 1}, "MAX": {1, 1}, "ABS": {1, 1},
	"IF": {2, 3}, "FILL": {2, 2}, "RATE": {1, 1}, "DIFF": {1, 1},
}

// parseExpr parses a metric math expression.
func parseExpr(src string) (node, error) {
	p := &parser{src: src}
	p.next()
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.tok != "" {
		return nil, fmt.Errorf("unexpected %q at position %d", p.tok, p.pos)
	}
	return n, nil
}

type parser struct {
	src  string
	i    int
	tok  string // "" at the end
	kind byte   // 'n' number, 'i' identifier, 's' string, 'o' operator
	pos  int
}

func (p *parser) next() {
	for p.i < len(p.src) && unicode.IsSpace(rune(p.src[p.i])) {
		p.i++
	}
	p.pos = p.i
	if p.i >= len(p.src) {
		p.tok, p.kind = "", 0
		return
	}
	c := p.src[p.i]
	switch {
	case c >= '0' && c <= '9' || c == '.':
		j := p.i
		for j < len(p.src) && (p.src[j] >= '0' && p.src[j] <= '9' || p.src[j] == '.' || p.src[j] == 'e' || p.src[j] == 'E' ||
			(j > p.i && (p.src[j] == '-' || p.src[j] == '+') && (p.src[j-1] == 'e' || p.src[j-1] == 'E'))) {
			j++
		}
		p.tok, p.kind, p.i = p.src[p.i:j], 'n', j
	case c == '_' || unicode.IsLetter(rune(c)):
		j := p.i
		for j < len(p.src) && (p.src[j] == '_' || p.src[j] < 128 && (unicode.IsLetter(rune(p.src[j])) || unicode.IsDigit(rune(p.src[j])))) {
			j++
		}
		p.tok, p.kind, p.i = p.src[p.i:j], 'i', j
	case c == '"' || c == '\'':
		j := p.i + 1
		for j < len(p.src) && p.src[j] != c {
			j++
		}
		if j >= len(p.src) {
			p.tok, p.kind, p.i = p.src[p.i:], 'x', len(p.src)
			return
		}
		p.tok, p.kind, p.i = p.src[p.i+1:j], 's', j+1
	default:
		for _, op := range []string{"&&", "||", "==", "!=", "<=", ">="} {
			if strings.HasPrefix(p.src[p.i:], op) {
				p.tok, p.kind, p.i = op, 'o', p.i+2
				return
			}
		}
		p.tok, p.kind, p.i = string(c), 'o', p.i+1
	}
}

func (p *parser) isOp(ops ...string) string {
	for _, o := range ops {
		if p.tok == o && (p.kind == 'o' || p.kind == 'i') {
			return o
		}
	}
	return ""
}

func (p *parser) or() (node, error) {
	l, err := p.and()
	for err == nil {
		op := p.isOp("||", "OR")
		if op == "" {
			break
		}
		p.next()
		var r node
		if r, err = p.and(); err == nil {
			l = binNode{"||", l, r}
		}
	}
	return l, err
}

func (p *parser) and() (node, error) {
	l, err := p.cmp()
	for err == nil {
		op := p.isOp("&&", "AND")
		if op == "" {
			break
		}
		p.next()
		var r node
		if r, err = p.cmp(); err == nil {
			l = binNode{"&&", l, r}
		}
	}
	return l, err
}

func (p *parser) cmp() (node, error) {
	l, err := p.sum()
	if err != nil {
		return nil, err
	}
	if op := p.isOp("==", "!=", "<=", ">=", "<", ">"); op != "" {
		p.next()
		r, err := p.sum()
		if err != nil {
			return nil, err
		}
		return binNode{op, l, r}, nil
	}
	return l, nil
}

func (p *parser) sum() (node, error) {
	l, err := p.product()
	for err == nil {
		op := p.isOp("+", "-")
		if op == "" {
			break
		}
		p.next()
		var r node
		if r, err = p.product(); err == nil {
			l = binNode{op, l, r}
		}
	}
	return l, err
}

func (p *parser) product() (node, error) {
	l, err := p.unary()
	for err == nil {
		op := p.isOp("*", "/")
		if op == "" {
			break
		}
		p.next()
		var r node
		if r, err = p.unary(); err == nil {
			l = binNode{op, l, r}
		}
	}
	return l, err
}

func (p *parser) unary() (node, error) {
	if p.isOp("-") != "" {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return negNode{x}, nil
	}
	return p.primary()
}

func (p *parser) primary() (node, error) {
	tok, kind, pos := p.tok, p.kind, p.pos
	switch kind {
	case 0:
		return nil, fmt.Errorf("unexpected end of expression")
	case 'n':
		f, err := strconv.ParseFloat(tok, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid number %q at position %d", tok, pos)
		}
		p.next()
		return numNode(f), nil
	case 's':
		p.next()
		return strNode(tok), nil
	case 'x':
		return nil, fmt.Errorf("unterminated string at position %d", pos)
	case 'i':
		p.next()
		if p.tok == "(" && p.kind == 'o' {
			fn := strings.ToUpper(tok)
			arity, ok := exprFuncs[fn]
			if !ok {
				return nil, fmt.Errorf("the function %s is not supported (hydrant evaluates %s)", tok, funcNames())
			}
			p.next()
			var args []node
			for !(p.tok == ")" && p.kind == 'o') {
				if len(args) > 0 {
					if p.tok != "," {
						return nil, fmt.Errorf("expected , or ) at position %d", p.pos)
					}
					p.next()
				}
				a, err := p.or()
				if err != nil {
					return nil, err
				}
				args = append(args, a)
			}
			p.next()
			if len(args) < arity[0] || len(args) > arity[1] {
				return nil, fmt.Errorf("%s takes %s, got %d", fn, arityText(arity), len(args))
			}
			return callNode{fn, args}, nil
		}
		switch strings.ToUpper(tok) {
		case "REPEAT", "LINEAR":
			return kwNode(strings.ToUpper(tok)), nil
		}
		return idNode(tok), nil
	}
	if tok == "(" {
		p.next()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok != ")" {
			return nil, fmt.Errorf("expected ) at position %d", p.pos)
		}
		p.next()
		return n, nil
	}
	return nil, fmt.Errorf("unexpected %q at position %d", tok, pos)
}

func funcNames() string {
	names := make([]string, 0, len(exprFuncs))
	for k := range exprFuncs {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func arityText(a [2]int) string {
	if a[0] == a[1] {
		if a[0] == 1 {
			return "1 argument"
		}
		return fmt.Sprintf("%d arguments", a[0])
	}
	return fmt.Sprintf("%d to %d arguments", a[0], a[1])
}

// refs lists the ids an expression reads, and whether it calls METRICS().
func refs(n node) (ids []string, metrics bool) {
	var walk func(node)
	walk = func(n node) {
		switch x := n.(type) {
		case idNode:
			ids = append(ids, string(x))
		case negNode:
			walk(x.x)
		case binNode:
			walk(x.l)
			walk(x.r)
		case callNode:
			if x.fn == "METRICS" {
				metrics = true
			}
			for _, a := range x.args {
				walk(a)
			}
		}
	}
	walk(n)
	return ids, metrics
}

// series is one time series on a grid: ts are period starts (Unix
// seconds), ascending, with a value for each.
type series struct {
	label  string
	period int64
	ts     []int64
	v      []float64
}

// value is what an expression evaluates to: a scalar, a series, or an
// array of series (METRICS()).
type value struct {
	scalar *float64
	one    *series
	many   []*series
}

// evalEnv resolves ids and METRICS() and knows the query's grid.
type evalEnv struct {
	start, end int64 // [start, end)
	lookup     func(id string) (value, error)
	metrics    func(filter string) []*series
}

func (e *evalEnv) eval(n node) (value, error) {
	switch x := n.(type) {
	case numNode:
		f := float64(x)
		return value{scalar: &f}, nil
	case strNode:
		return value{}, fmt.Errorf("a string (%q) can only be the argument of METRICS", string(x))
	case kwNode:
		return value{}, fmt.Errorf("%s can only be the second argument of FILL", string(x))
	case idNode:
		return e.lookup(string(x))
	case negNode:
		v, err := e.eval(x.x)
		if err != nil {
			return value{}, err
		}
		return mapValue(v, func(f float64) float64 { return -f }), nil
	case binNode:
		l, err := e.eval(x.l)
		if err != nil {
			return value{}, err
		}
		r, err := e.eval(x.r)
		if err != nil {
			return value{}, err
		}
		return binary(x.op, l, r)
	case callNode:
		return e.call(x)
	}
	return value{}, fmt.Errorf("unknown expression node %T", n)
}

func mapValue(v value, f func(float64) float64) value {
	switch {
	case v.scalar != nil:
		r := f(*v.scalar)
		return value{scalar: &r}
	case v.one != nil:
		return value{one: mapSeries(v.one, f)}
	}
	out := make([]*series, len(v.many))
	for i, s := range v.many {
		out[i] = mapSeries(s, f)
	}
	return value{many: out}
}

func mapSeries(s *series, f func(float64) float64) *series {
	o := &series{label: s.label, period: s.period, ts: s.ts, v: make([]float64, len(s.v))}
	for i, x := range s.v {
		o.v[i] = f(x)
	}
	return o
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func arith(op string, a, b float64) float64 {
	switch op {
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	case "/":
		return a / b
	case "==":
		return b2f(a == b)
	case "!=":
		return b2f(a != b)
	case "<":
		return b2f(a < b)
	case "<=":
		return b2f(a <= b)
	case ">":
		return b2f(a > b)
	case ">=":
		return b2f(a >= b)
	case "&&":
		return b2f(a != 0 && b != 0)
	case "||":
		return b2f(a != 0 || b != 0)
	}
	return math.NaN()
}

// binary applies op to two values: scalars to every point, two series at
// the timestamps both have, arrays member by member.
func binary(op string, l, r value) (value, error) {
	switch {
	case l.scalar != nil && r.scalar != nil:
		f := arith(op, *l.scalar, *r.scalar)
		return value{scalar: &f}, nil
	case l.scalar != nil:
		a := *l.scalar
		return mapValue(r, func(b float64) float64 { return arith(op, a, b) }), nil
	case r.scalar != nil:
		b := *r.scalar
		return mapValue(l, func(a float64) float64 { return arith(op, a, b) }), nil
	case l.one != nil && r.one != nil:
		return value{one: join(op, l.one, r.one)}, nil
	case l.one != nil:
		out := make([]*series, len(r.many))
		for i, s := range r.many {
			out[i] = join(op, l.one, s)
			out[i].label = s.label
		}
		return value{many: out}, nil
	case r.one != nil:
		out := make([]*series, len(l.many))
		for i, s := range l.many {
			out[i] = join(op, s, r.one)
		}
		return value{many: out}, nil
	}
	return value{}, fmt.Errorf("the operator %s cannot combine two arrays of time series", op)
}

// join combines two series at their common timestamps.
func join(op string, a, b *series) *series {
	o := &series{label: a.label, period: a.period}
	i, j := 0, 0
	for i < len(a.ts) && j < len(b.ts) {
		switch {
		case a.ts[i] < b.ts[j]:
			i++
		case a.ts[i] > b.ts[j]:
			j++
		default:
			o.ts = append(o.ts, a.ts[i])
			o.v = append(o.v, arith(op, a.v[i], b.v[j]))
			i++
			j++
		}
	}
	return o
}

func (e *evalEnv) call(c callNode) (value, error) {
	if c.fn == "METRICS" {
		filter := ""
		if len(c.args) == 1 {
			s, ok := c.args[0].(strNode)
			if !ok {
				return value{}, fmt.Errorf("METRICS takes a string")
			}
			filter = string(s)
		}
		return value{many: e.metrics(filter)}, nil
	}
	if c.fn == "FILL" {
		v, err := e.eval(c.args[0])
		if err != nil {
			return value{}, err
		}
		var with func(s *series) *series
		switch a := c.args[1].(type) {
		case kwNode:
			mode := string(a)
			with = func(s *series) *series { return e.fill(s, mode, 0) }
		default:
			fv, err := e.eval(a)
			if err != nil {
				return value{}, err
			}
			if fv.scalar == nil {
				return value{}, fmt.Errorf("FILL's second argument must be a number, REPEAT or LINEAR")
			}
			f := *fv.scalar
			with = func(s *series) *series { return e.fill(s, "", f) }
		}
		return eachSeries(v, "FILL", with)
	}
	args := make([]value, len(c.args))
	for i, a := range c.args {
		v, err := e.eval(a)
		if err != nil {
			return value{}, err
		}
		args[i] = v
	}
	switch c.fn {
	case "SUM", "AVG", "MIN", "MAX":
		return reduce(c.fn, args[0])
	case "ABS":
		return mapValue(args[0], math.Abs), nil
	case "RATE", "DIFF":
		rate := c.fn == "RATE"
		return eachSeries(args[0], c.fn, func(s *series) *series {
			o := &series{label: s.label, period: s.period}
			for i := 1; i < len(s.ts); i++ {
				d := s.v[i] - s.v[i-1]
				if rate {
					d /= float64(s.ts[i] - s.ts[i-1])
				}
				o.ts = append(o.ts, s.ts[i])
				o.v = append(o.v, d)
			}
			return o
		})
	case "IF":
		return ifValue(args)
	}
	return value{}, fmt.Errorf("the function %s is not supported", c.fn)
}

func eachSeries(v value, fn string, f func(*series) *series) (value, error) {
	switch {
	case v.one != nil:
		return value{one: f(v.one)}, nil
	case v.many != nil:
		out := make([]*series, len(v.many))
		for i, s := range v.many {
			out[i] = f(s)
		}
		return value{many: out}, nil
	}
	return value{}, fmt.Errorf("%s takes a time series or an array of time series", fn)
}

// fill gives s a value at every period of the query's grid: f, the
// previous value (REPEAT), or a straight line between neighbours (LINEAR).
func (e *evalEnv) fill(s *series, mode string, f float64) *series {
	p := s.period
	if p <= 0 {
		p = 60
	}
	o := &series{label: s.label, period: p}
	j := 0
	for t := e.start; t < e.end; t += p {
		for j < len(s.ts) && s.ts[j] < t {
			j++
		}
		if j < len(s.ts) && s.ts[j] == t {
			o.ts = append(o.ts, t)
			o.v = append(o.v, s.v[j])
			continue
		}
		switch mode {
		case "":
			o.ts, o.v = append(o.ts, t), append(o.v, f)
		case "REPEAT":
			if j > 0 {
				o.ts, o.v = append(o.ts, t), append(o.v, s.v[j-1])
			}
		case "LINEAR":
			if j > 0 && j < len(s.ts) {
				t0, t1 := s.ts[j-1], s.ts[j]
				v := s.v[j-1] + (s.v[j]-s.v[j-1])*float64(t-t0)/float64(t1-t0)
				o.ts, o.v = append(o.ts, t), append(o.v, v)
			}
		}
	}
	return o
}

// reduce is SUM/AVG/MIN/MAX: of an array, point by point across its
// series; of one series, a scalar over its points.
func reduce(fn string, v value) (value, error) {
	agg := func(xs []float64) float64 {
		r := xs[0]
		switch fn {
		case "SUM", "AVG":
			r = 0
			for _, x := range xs {
				r += x
			}
			if fn == "AVG" {
				r /= float64(len(xs))
			}
		case "MIN":
			for _, x := range xs {
				r = math.Min(r, x)
			}
		case "MAX":
			for _, x := range xs {
				r = math.Max(r, x)
			}
		}
		return r
	}
	switch {
	case v.scalar != nil:
		return v, nil
	case v.one != nil:
		if len(v.one.v) == 0 {
			f := math.NaN()
			return value{scalar: &f}, nil
		}
		f := agg(v.one.v)
		return value{scalar: &f}, nil
	}
	// Every timestamp of any member, in order; then each timestamp's
	// values across the members (a k-way merge over sorted series).
	var period int64
	var all, tmp []int64
	for _, s := range v.many {
		period = s.period
		if slices.Equal(all, s.ts) {
			continue // the common case: members on the same grid
		}
		tmp = unionSorted(tmp[:0], all, s.ts)
		all, tmp = tmp, all
	}
	all = slices.Clone(all)
	o := &series{label: fn, period: period, ts: all, v: make([]float64, len(all))}
	pos := make([]int, len(v.many))
	xs := make([]float64, 0, len(v.many))
	for i, t := range all {
		xs = xs[:0]
		for k, s := range v.many {
			if p := pos[k]; p < len(s.ts) && s.ts[p] == t {
				xs = append(xs, s.v[p])
				pos[k]++
			}
		}
		o.v[i] = agg(xs)
	}
	return value{one: o}, nil
}

// unionSorted appends to dst the sorted union of two sorted lists.
func unionSorted(dst, a, b []int64) []int64 {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || i < len(a) && a[i] < b[j]:
			dst = append(dst, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			dst = append(dst, b[j])
			j++
		default:
			dst = append(dst, a[i])
			i++
			j++
		}
	}
	return dst
}

// ifValue is IF(condition, trueValue[, falseValue]): at each timestamp of
// the condition, trueValue where it is non-zero, falseValue otherwise (no
// point when falseValue is left out).
func ifValue(args []value) (value, error) {
	cond := args[0]
	at := func(v value, t int64) (float64, bool) {
		if v.scalar != nil {
			return *v.scalar, true
		}
		if v.one != nil {
			i := sort.Search(len(v.one.ts), func(i int) bool { return v.one.ts[i] >= t })
			if i < len(v.one.ts) && v.one.ts[i] == t {
				return v.one.v[i], true
			}
		}
		return 0, false
	}
	for _, a := range args[1:] {
		if a.many != nil {
			return value{}, fmt.Errorf("IF's values must be time series or numbers")
		}
	}
	one := func(c *series) *series {
		o := &series{label: c.label, period: c.period}
		for i, t := range c.ts {
			var v float64
			var ok bool
			if c.v[i] != 0 && !math.IsNaN(c.v[i]) {
				v, ok = at(args[1], t)
			} else if len(args) == 3 {
				v, ok = at(args[2], t)
			}
			if ok {
				o.ts = append(o.ts, t)
				o.v = append(o.v, v)
			}
		}
		return o
	}
	switch {
	case cond.one != nil:
		return value{one: one(cond.one)}, nil
	case cond.many != nil:
		out := make([]*series, len(cond.many))
		for i, s := range cond.many {
			out[i] = one(s)
		}
		return value{many: out}, nil
	}
	if cond.scalar == nil {
		return value{many: []*series{}}, nil // METRICS() matched nothing
	}
	if *cond.scalar != 0 {
		return args[1], nil
	}
	if len(args) == 3 {
		return args[2], nil
	}
	return value{}, fmt.Errorf("IF with a constant false condition and no false value has no value")
}
