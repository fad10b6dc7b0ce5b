package cloudwatch

import "testing"

// FuzzExpressions: any expression a client sends parses or is refused,
// and evaluates or is refused, without a panic.
func FuzzExpressions(f *testing.F) {
	for _, s := range []string{"a + b", "SUM(METRICS())", "IF(a > 1 && b < 2, a, 0)", "FILL(b, LINEAR)", "RATE(a) * 60",
		"METRICS(\"x\")", "-(-a)", "((((a))))", "1e308 * 1e308", "a / 0", "FILL(METRICS(), REPEAT)", "AVG(a)", "IF(METRICS(\"z\"), 1)", "SUM(METRICS(\"z\"))"} {
		f.Add(s)
	}
	a := &series{label: "a", period: 60, ts: []int64{0, 60, 120}, v: []float64{1, 2, 3}}
	b := &series{label: "b", period: 60, ts: []int64{60, 180}, v: []float64{5, 6}}
	f.Fuzz(func(t *testing.T, src string) {
		n, err := parseExpr(src)
		if err != nil {
			return
		}
		env := &evalEnv{start: 0, end: 240}
		env.lookup = func(id string) (value, error) {
			if id == "b" {
				return value{one: b}, nil
			}
			return value{one: a}, nil
		}
		env.metrics = func(filter string) []*series {
			if filter != "" {
				return nil // matches nothing
			}
			return []*series{a, b}
		}
		_, _ = env.eval(n)
	})
}
