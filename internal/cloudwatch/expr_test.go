package cloudwatch

import (
	"math"
	"strings"
	"testing"
)

func TestExpressions(t *testing.T) {
	// Two series on a 60 s grid over [0, 300): a has every period, b misses 120.
	a := &series{label: "a", period: 60, ts: []int64{0, 60, 120, 180, 240}, v: []float64{1, 2, 3, 4, 5}}
	b := &series{label: "b", period: 60, ts: []int64{0, 60, 180, 240}, v: []float64{10, 0, 30, 40}}
	env := &evalEnv{start: 0, end: 300}
	env.lookup = func(id string) (value, error) {
		switch id {
		case "a":
			return value{one: a}, nil
		case "b":
			return value{one: b}, nil
		}
		return value{}, nil
	}
	env.metrics = func(filter string) []*series {
		var out []*series
		for _, s := range []*series{a, b} {
			if strings.Contains(s.label, filter) {
				out = append(out, s)
			}
		}
		return out
	}
	nan := math.NaN()
	cases := []struct {
		expr   string
		ts     []int64
		want   []float64
		scalar *float64
		many   int
	}{
		{expr: "a + b", ts: []int64{0, 60, 180, 240}, want: []float64{11, 2, 34, 45}},
		{expr: "a * 2 - 1", ts: []int64{0, 60, 120, 180, 240}, want: []float64{1, 3, 5, 7, 9}},
		{expr: "100 * b / a", ts: []int64{0, 60, 180, 240}, want: []float64{1000, 0, 750, 800}},
		{expr: "-a + (2 * 3)", ts: []int64{0, 60, 120, 180, 240}, want: []float64{5, 4, 3, 2, 1}},
		{expr: "b / 0", ts: []int64{0, 60, 180, 240}, want: []float64{math.Inf(1), nan, math.Inf(1), math.Inf(1)}},
		{expr: "SUM(METRICS())", ts: []int64{0, 60, 120, 180, 240}, want: []float64{11, 2, 3, 34, 45}},
		{expr: "AVG(METRICS())", ts: []int64{0, 60, 120, 180, 240}, want: []float64{5.5, 1, 3, 17, 22.5}},
		{expr: "SUM(a)", scalar: ptr(15.0)},
		{expr: "AVG(b)", scalar: ptr(20.0)},
		{expr: "MAX(METRICS(\"b\"))", ts: []int64{0, 60, 180, 240}, want: []float64{10, 0, 30, 40}},
		{expr: "METRICS()", many: 2},
		{expr: "FILL(b, 0)", ts: []int64{0, 60, 120, 180, 240}, want: []float64{10, 0, 0, 30, 40}},
		{expr: "FILL(b, REPEAT)", ts: []int64{0, 60, 120, 180, 240}, want: []float64{10, 0, 0, 30, 40}},
		{expr: "FILL(b, LINEAR)", ts: []int64{0, 60, 120, 180, 240}, want: []float64{10, 0, 15, 30, 40}},
		{expr: "RATE(a)", ts: []int64{60, 120, 180, 240}, want: []float64{1.0 / 60, 1.0 / 60, 1.0 / 60, 1.0 / 60}},
		{expr: "DIFF(b)", ts: []int64{60, 180, 240}, want: []float64{-10, 30, 10}},
		{expr: "IF(b > 5, 1, 0)", ts: []int64{0, 60, 180, 240}, want: []float64{1, 0, 1, 1}},
		{expr: "IF(b > 5, a)", ts: []int64{0, 180, 240}, want: []float64{1, 4, 5}},
		{expr: "IF(a >= 3 && b != 40, 7, 9)", ts: []int64{0, 60, 180, 240}, want: []float64{9, 9, 7, 9}},
		{expr: "IF(a < 2 || a == 5, a)", ts: []int64{0, 240}, want: []float64{1, 5}},
		{expr: "100 * (1 - b / FILL(a, 1))", ts: []int64{0, 60, 180, 240}, want: []float64{-900, 100, -650, -700}},
		{expr: "2 + 3 * 4", scalar: ptr(14.0)},
		{expr: "abs(-2)", scalar: ptr(2.0)},
	}
	for _, c := range cases {
		n, err := parseExpr(c.expr)
		if err != nil {
			t.Errorf("%s: parse: %v", c.expr, err)
			continue
		}
		v, err := env.eval(n)
		if err != nil {
			t.Errorf("%s: eval: %v", c.expr, err)
			continue
		}
		switch {
		case c.scalar != nil:
			if v.scalar == nil || *v.scalar != *c.scalar {
				t.Errorf("%s = %+v, want scalar %v", c.expr, v, *c.scalar)
			}
		case c.many > 0:
			if len(v.many) != c.many {
				t.Errorf("%s = %+v, want %d series", c.expr, v, c.many)
			}
		default:
			if v.one == nil || !equalTS(v.one.ts, c.ts) || !equalVals(v.one.v, c.want) {
				t.Errorf("%s = %+v, want %v %v", c.expr, v.one, c.ts, c.want)
			}
		}
	}
}

func equalTS(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalVals(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.IsNaN(a[i]) && math.IsNaN(b[i]) {
			continue
		}
		if math.Abs(a[i]-b[i]) > 1e-9 && a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestExpressionErrors(t *testing.T) {
	for expr, want := range map[string]string{
		"a +":           "unexpected end",
		"(a":            "expected )",
		"FOO(a)":        "the function FOO is not supported",
		"SUM(a, b)":     "SUM takes 1 argument",
		"IF(a)":         "IF takes 2 to 3 arguments",
		"a b":           "unexpected \"b\"",
		"METRICS(\"x)":  "unterminated string",
		"1..2":          "invalid number",
		"FILL(a, 1, 2)": "FILL takes 2 arguments",
	} {
		_, err := parseExpr(expr)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", expr, err, want)
		}
	}
}
