package format

import (
	"encoding/binary"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON from one record without building a document: the
// converter pulls exactly the tokens the table's columns need and skips
// the rest. Errors are *parseError (not JSON) values.
type scanner struct {
	b []byte
	i int
}

// parseError means the record is not well-formed JSON.
type parseError struct{ msg string }

func (e *parseError) Error() string { return e.msg }

var (
	errEOF        = &parseError{"unexpected end of JSON input"}
	errTooDeep    = &parseError{"JSON nested too deeply"}
	errBadLiteral = &parseError{"invalid JSON literal"}
	errBadString  = &parseError{"invalid JSON string"}
	errBadNumber  = &parseError{"invalid JSON number"}
)

func syntaxErr(s *scanner, what string) error {
	if s.i >= len(s.b) {
		return errEOF
	}
	return &parseError{"invalid character " + quoteByte(s.b[s.i]) + " " + what}
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	const hex = "0123456789abcdef"
	return "'\\x" + string(hex[c>>4]) + string(hex[c&15]) + "'"
}

// specialIn reports whether any of the eight bytes in x is a quote, a
// backslash, a control character or not ASCII (SWAR: each test sets the
// high bit of the bytes it matches).
func specialIn(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) &^ v & highs }
	return (zero(x^(ones*'"')) | zero(x^(ones*'\\')) | ((x - ones*0x20) &^ x & highs) | x&highs) != 0
}

// plainByte marks the bytes a JSON string holds as they are: printable
// ASCII other than the quote and the backslash.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// maxSkipDepth bounds the nesting of values that are skipped.
const maxSkipDepth = 1000

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next returns the next non-space byte without consuming it (0 at end).
func (s *scanner) next() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

// literal consumes true, false or null.
func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return errBadLiteral
	}
	s.i += len(word)
	return nil
}

// str consumes a string. raw is its content between the quotes; esc says
// whether it holds escapes or bytes that need fixing (see appendString).
func (s *scanner) str() (raw []byte, esc bool, err error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, syntaxErr(s, "looking for beginning of string")
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		// Plain ASCII needs no decision beyond the table; eight bytes at a
		// time while none of them is special.
		for s.i+8 <= len(s.b) && !specialIn(binary.LittleEndian.Uint64(s.b[s.i:])) {
			s.i += 8
		}
		for s.i < len(s.b) && plainByte[s.b[s.i]] {
			s.i++
		}
		if s.i >= len(s.b) {
			break
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, esc, nil
		case c == '\\':
			esc = true
			s.i += 2
		case c < 0x20:
			return nil, false, errBadString
		case c >= 0x80:
			// Invalid UTF-8 is replaced by U+FFFD, as a Java reader does,
			// so that the Parquet STRING column stays valid UTF-8.
			r, size := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && size == 1 {
				esc = true
			}
			s.i += size
		default:
			s.i++
		}
	}
	return nil, false, errEOF
}

// appendString appends the decoded content of a raw string (from str) to
// dst: escapes resolved, lone surrogates and invalid UTF-8 as U+FFFD.
func appendString(dst, raw []byte) ([]byte, error) {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c >= 0x80 {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, raw[i:i+size]...)
			}
			i += size
			continue
		}
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return dst, errBadString
		}
		i++
		switch raw[i] {
		case '"', '\\', '/':
			dst = append(dst, raw[i])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(raw[i+1:])
			if !ok {
				return dst, errBadString
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2, _ = hex4(raw[i+3:])
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, errBadString
		}
		i++
	}
	return dst, nil
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number consumes a JSON number and returns its text. isInt says it has no
// fraction or exponent.
func (s *scanner) number() (text []byte, isInt bool, err error) {
	start := s.i
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return nil, false, errBadNumber
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false, errBadNumber
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false, errBadNumber
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false, errBadNumber
		}
	}
	s.i = i
	return b[start:i], isInt, nil
}

// skip consumes one value of any kind.
func (s *scanner) skip(depth int) error {
	if depth > maxSkipDepth {
		return errTooDeep
	}
	switch s.next() {
	case '{':
		s.i++
		if s.next() == '}' {
			s.i++
			return nil
		}
		for {
			s.ws()
			if _, _, err := s.str(); err != nil {
				return err
			}
			if s.next() != ':' {
				return syntaxErr(s, "after object key")
			}
			s.i++
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.next() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return syntaxErr(s, "after object key:value pair")
			}
		}
	case '[':
		s.i++
		if s.next() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.next() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return syntaxErr(s, "after array element")
			}
		}
	case '"':
		_, _, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	case 0:
		return errEOF
	default:
		_, _, err := s.number()
		if err != nil {
			return syntaxErr(s, "looking for beginning of value")
		}
		return nil
	}
}

// isParseError reports whether err means "not JSON".
func isParseError(err error) bool {
	var pe *parseError
	return errors.As(err, &pe)
}
