package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// step is one step of a JSON selector: a member name or an array index.
type step struct {
	key   string
	index int // -1 for a member
}

// parseSelector reads $.a.b[0][1].c.
func parseSelector(s string) ([]step, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("a JSON selector must start with '$', not %q", s)
	}
	var out []step
	rest := s[1:]
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			j := strings.IndexAny(rest, ".[")
			if j < 0 {
				j = len(rest)
			}
			if j == 0 {
				return nil, fmt.Errorf("selector %q: empty member name", s)
			}
			out = append(out, step{key: rest[:j], index: -1})
			rest = rest[j:]
		case '[':
			j := strings.IndexByte(rest, ']')
			if j < 0 {
				return nil, fmt.Errorf("selector %q: missing ']'", s)
			}
			n, err := strconv.Atoi(rest[1:j])
			if err != nil || n < 0 {
				return nil, fmt.Errorf("selector %q: array index %q is not a number", s, rest[1:j])
			}
			out = append(out, step{index: n})
			rest = rest[j+1:]
		default:
			return nil, fmt.Errorf("selector %q: unexpected %q", s, rest[0])
		}
	}
	return out, nil
}

// parseJSONPattern compiles the inside of { ... }.
func parseJSONPattern(s string) (func([]byte) bool, error) {
	sels := map[string][]step{}
	n, _, err := parseExpr(s, func(op string) error {
		sel, err := parseSelector(op)
		if err == nil {
			sels[op] = sel
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return func(msg []byte) bool {
		t := bytes.TrimSpace(msg)
		if len(t) == 0 || t[0] != '{' && t[0] != '[' {
			return false
		}
		dec := json.NewDecoder(bytes.NewReader(t))
		dec.UseNumber()
		var doc any
		if dec.Decode(&doc) != nil {
			return false
		}
		return n.eval(func(op string) value { return lookup(doc, sels[op]) })
	}, nil
}

// lookup follows a selector into a decoded document.
func lookup(doc any, sel []step) value {
	cur := doc
	for _, st := range sel {
		switch c := cur.(type) {
		case map[string]any:
			if st.index >= 0 {
				return value{}
			}
			v, ok := c[st.key]
			if !ok {
				return value{}
			}
			cur = v
		case []any:
			if st.index < 0 || st.index >= len(c) {
				return value{}
			}
			cur = c[st.index]
		default:
			return value{}
		}
	}
	switch v := cur.(type) {
	case nil:
		return value{kind: vNull}
	case bool:
		return value{kind: vBool, b: v, s: strconv.FormatBool(v)}
	case json.Number:
		f, err := v.Float64()
		return value{kind: vNumber, s: v.String(), n: f, num: err == nil}
	case string:
		return value{kind: vString, s: v}
	}
	return value{kind: vContainer}
}
