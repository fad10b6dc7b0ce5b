package logs

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Filter patterns, as CloudWatch Logs documents them ("Filter pattern
// syntax for metric filters, subscription filters, filter log events, and
// Live Tail"). A pattern is one of:
//
//   - empty: every event;
//   - terms: words or "quoted phrases", all of which must occur in the
//     message (case-sensitive substrings); a term after '-' must not
//     occur; terms after '?' match when any of them occurs (when the
//     pattern also has plain terms, those decide and the '?' terms are
//     ignored, as CloudWatch Logs does); "" and " " match every event;
//   - %regex%: a regular expression found anywhere in the message, in the
//     documented subset (letters, digits, _ # = @ / ; , - : and the
//     operators ^ $ ? [ ] { } | \ * + . ; no parentheses);
//   - { JSON conditions }: selectors ($.a.b[0]) compared with = != < > <=
//     >= to strings (with a leading or trailing * wildcard), numbers or
//     %regex%, or tested with IS NULL, IS TRUE, IS FALSE, NOT EXISTS;
//     joined by && and || with parentheses (&& binds tighter);
//   - [ space-delimited fields ]: names for the message's fields (split at
//     spaces; "..." and [...] are one field), "..." for any number of
//     fields, and conditions on named fields joined by && and ||.

// Pattern is a compiled filter pattern.
type Pattern struct {
	src   string
	match func(msg []byte) bool
}

// PatternError is a filter pattern that does not parse.
type PatternError struct {
	Pattern string
	Reason  string
}

func (e *PatternError) Error() string {
	return "Invalid filter pattern '" + e.Pattern + "': " + e.Reason
}

// maxRegexes is how many %regex% one JSON or space-delimited pattern may
// hold.
const maxRegexes = 2

// ParsePattern compiles a filter pattern.
func ParsePattern(src string) (*Pattern, error) {
	s := strings.TrimSpace(src)
	fail := func(format string, args ...any) (*Pattern, error) {
		return nil, &PatternError{Pattern: src, Reason: fmt.Sprintf(format, args...)}
	}
	var m func([]byte) bool
	var err error
	switch {
	case s == "":
		m = func([]byte) bool { return true }
	case s[0] == '{':
		if !strings.HasSuffix(s, "}") {
			return fail("a JSON pattern must end with '}'")
		}
		m, err = parseJSONPattern(s[1 : len(s)-1])
	case s[0] == '[':
		if !strings.HasSuffix(s, "]") {
			return fail("a space-delimited pattern must end with ']'")
		}
		m, err = parseDelimitedPattern(s[1 : len(s)-1])
	case len(s) >= 2 && s[0] == '%' && s[len(s)-1] == '%':
		var re *regexp.Regexp
		if re, err = compileRegex(s[1 : len(s)-1]); err == nil {
			m = re.Match
		}
	default:
		m, err = parseTerms(s)
	}
	if err != nil {
		return fail("%s", err.Error())
	}
	return &Pattern{src: src, match: m}, nil
}

// Match reports whether an event's message matches.
func (p *Pattern) Match(msg []byte) bool { return p.match(msg) }

// compileRegex checks a %regex% body against the documented subset and
// compiles it.
func compileRegex(body string) (*regexp.Regexp, error) {
	if body == "" {
		return nil, fmt.Errorf("empty regular expression")
	}
	for _, r := range body {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("_#=@/;,-:^$?[]{}|\\*+. ", r):
		case r == '(' || r == ')':
			return nil, fmt.Errorf("parentheses are not supported in regular expressions")
		case r >= utf8.RuneSelf:
			return nil, fmt.Errorf("multi-byte characters are not supported in regular expressions")
		default:
			return nil, fmt.Errorf("character %q is not supported in regular expressions", r)
		}
	}
	re, err := regexp.Compile(body)
	if err != nil {
		return nil, fmt.Errorf("regular expression %%%s%%: %w", body, err)
	}
	return re, nil
}

// term is one word or phrase of a terms pattern.
type term struct {
	text []byte
	all  bool // "" or a blank phrase: matches every event
}

func (t term) in(msg []byte) bool { return t.all || bytes.Contains(msg, t.text) }

// parseTerms compiles a terms pattern.
func parseTerms(s string) (func([]byte) bool, error) {
	var must, not, any []term
	i := 0
	for i < len(s) {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		kind := byte(0)
		if c == '-' || c == '?' {
			kind = c
			i++
			for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
				i++
			}
			if i == len(s) {
				return nil, fmt.Errorf("%q must be followed by a term", string(kind))
			}
		}
		var t term
		if s[i] == '"' {
			text, n, err := quoted(s[i:])
			if err != nil {
				return nil, err
			}
			i += n
			t = term{text: []byte(text), all: strings.TrimSpace(text) == ""}
		} else {
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '"' && s[j] != '\n' && s[j] != '\r' {
				j++
			}
			t = term{text: []byte(s[i:j])}
			i = j
		}
		switch kind {
		case '-':
			if !t.all {
				not = append(not, t)
			}
		case '?':
			any = append(any, t)
		default:
			must = append(must, t)
		}
	}
	if len(must) > 0 {
		any = nil
	}
	return func(msg []byte) bool {
		for _, t := range must {
			if !t.in(msg) {
				return false
			}
		}
		for _, t := range not {
			if t.in(msg) {
				return false
			}
		}
		if len(any) == 0 {
			return true
		}
		for _, t := range any {
			if t.in(msg) {
				return true
			}
		}
		return false
	}, nil
}

// quoted reads a double-quoted string at the start of s (\" and \\ are
// escapes) and returns its text and the bytes it took.
func quoted(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
				b.WriteByte(s[i+1])
				i++
				continue
			}
			b.WriteByte('\\')
		case '"':
			return b.String(), i + 1, nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", 0, fmt.Errorf("unterminated quoted string")
}

// wildcard is a string a value is compared with: a leading or trailing
// '*' matches any text there ("*Event", "Event*", "*html*", "*"); a '*'
// inside is a literal.
type wildcard struct {
	text       string
	start, end bool // the text must start / end the value
}

func newWildcard(s string) wildcard {
	w := wildcard{text: s, start: true, end: true}
	if strings.HasSuffix(w.text, "*") {
		w.text, w.end = w.text[:len(w.text)-1], false
	}
	if strings.HasPrefix(w.text, "*") {
		w.text, w.start = w.text[1:], false
	}
	return w
}

func (w wildcard) match(v string) bool {
	switch {
	case w.start && w.end:
		return v == w.text
	case w.start:
		return strings.HasPrefix(v, w.text)
	case w.end:
		return strings.HasSuffix(v, w.text)
	}
	return strings.Contains(v, w.text)
}
