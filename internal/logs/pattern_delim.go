package logs

import (
	"fmt"
	"strings"
)

// slot is one comma-separated part of a space-delimited pattern: a named
// field (with conditions, possibly on other fields) or "..." (any number
// of fields).
type slot struct {
	ellipsis bool
	name     string
	cond     node // nil: no condition
}

// parseDelimitedPattern compiles the inside of [ ... ].
func parseDelimitedPattern(s string) (func([]byte) bool, error) {
	parts, err := splitSlots(s)
	if err != nil {
		return nil, err
	}
	var slots []slot
	names := map[string]bool{}
	regexes := 0
	for i, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			if i == len(parts)-1 && i > 0 {
				continue // a trailing comma
			}
			return nil, fmt.Errorf("empty field")
		}
		if part == "..." || part == "…" {
			if len(slots) == 0 || !slots[len(slots)-1].ellipsis {
				slots = append(slots, slot{ellipsis: true})
			}
			continue
		}
		first := ""
		n, leaves, err := parseExpr(part, func(op string) error {
			if first == "" {
				first = op
			}
			return nil
		})
		if err != nil {
			// A bare name is not an expression.
			toks, lerr := lex(part)
			if lerr != nil || len(toks) != 2 || toks[0].kind != tWord {
				return nil, err
			}
			first, n, leaves = toks[0].text, nil, nil
		}
		if names[first] {
			return nil, fmt.Errorf("field %q is named twice", first)
		}
		names[first] = true
		for _, l := range leaves {
			if l.c.re != nil {
				regexes++
			}
		}
		if regexes > maxRegexes {
			return nil, fmt.Errorf("a pattern may hold at most %d regular expressions", maxRegexes)
		}
		slots = append(slots, slot{name: first, cond: n})
	}
	if len(slots) == 0 {
		return nil, fmt.Errorf("no fields")
	}
	return func(msg []byte) bool {
		m := &slotMatch{all: slots, bound: map[string]string{}, budget: maxSlotSteps}
		return m.match(slots, splitFields(string(msg)))
	}, nil
}

// splitSlots splits at commas outside quotes.
func splitSlots(s string) ([]string, error) {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if inQuote {
				i++
			}
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quoted string")
	}
	return append(out, s[start:]), nil
}

// splitFields splits a message at spaces; text between double quotes or
// square brackets is one field (without them).
func splitFields(msg string) []string {
	var out []string
	i := 0
	for i < len(msg) {
		switch msg[i] {
		case ' ', '\t', '\r', '\n':
			i++
			continue
		case '"', '[':
			end := byte('"')
			if msg[i] == '[' {
				end = ']'
			}
			j := strings.IndexByte(msg[i+1:], end)
			if j < 0 {
				out = append(out, msg[i+1:])
				return out
			}
			out = append(out, msg[i+1:i+1+j])
			i += j + 2
			continue
		}
		j := i
		for j < len(msg) && msg[j] != ' ' && msg[j] != '\t' && msg[j] != '\r' && msg[j] != '\n' {
			j++
		}
		out = append(out, msg[i:j])
		i = j
	}
	return out
}

// maxSlotSteps bounds the work of placing fields when a pattern has
// several ellipses (each tries every split): a message that needs more
// does not match.
const maxSlotSteps = 100_000

// slotMatch places a message's fields in a pattern's slots.
type slotMatch struct {
	all    []slot
	bound  map[string]string
	budget int
}

// match assigns fields to slots (an ellipsis takes any number) and, once
// every field is placed, evaluates every slot's conditions.
func (m *slotMatch) match(rest []slot, fields []string) bool {
	if m.budget--; m.budget < 0 {
		return false
	}
	if len(rest) == 0 {
		if len(fields) != 0 {
			return false
		}
		env := func(name string) value {
			v, ok := m.bound[name]
			if !ok {
				return value{}
			}
			return textValue(v)
		}
		for _, s := range m.all {
			if s.cond != nil && !s.cond.eval(env) {
				return false
			}
		}
		return true
	}
	s := rest[0]
	if s.ellipsis {
		if len(rest) == 1 {
			return m.match(nil, nil)
		}
		for k := 0; k <= len(fields); k++ {
			if m.match(rest[1:], fields[k:]) {
				return true
			}
		}
		return false
	}
	if len(fields) == 0 {
		return false
	}
	m.bound[s.name] = fields[0]
	ok := m.match(rest[1:], fields[1:])
	if !ok {
		delete(m.bound, s.name)
	}
	return ok
}
