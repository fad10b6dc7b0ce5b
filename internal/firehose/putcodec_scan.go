package firehose

// The JSON scanning primitives of the Put codec (see putcodec.go). They
// accept the JSON syntax encoding/json accepts (RFC 8259, with invalid UTF-8
// tolerated inside strings) and report the byte offset of the first thing
// that is not.

import (
	"bytes"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// root parses the top-level value: an object whose members are handed to
// member with d.i at the start of the value (member must consume it), or
// null, or nothing at all (an empty body is an empty input in awsJson).
func (d *pcDecoder) root(member func(key []byte, keyOff int) *awsproto.Error) *awsproto.Error {
	d.ws()
	if d.i == len(d.buf) {
		return nil
	}
	var err *awsproto.Error
	if d.buf[d.i] == 'n' {
		err = d.literal("null")
	} else {
		err = d.object(member)
	}
	if err != nil {
		return err
	}
	d.ws()
	if d.i != len(d.buf) {
		return pcSyntax(d.i, "unexpected data after the top-level value")
	}
	return nil
}

// object parses the object at d.i, calling member for each key.
func (d *pcDecoder) object(member func(key []byte, keyOff int) *awsproto.Error) *awsproto.Error {
	if d.buf[d.i] != '{' {
		return pcSyntax(d.i, "expected '{'")
	}
	d.i++
	d.ws()
	if d.i < len(d.buf) && d.buf[d.i] == '}' {
		d.i++
		return nil
	}
	for {
		keyOff := d.i
		key, _, err := d.str(true)
		if err != nil {
			return err
		}
		if err := d.colon(); err != nil {
			return err
		}
		if err := member(key, keyOff); err != nil {
			return err
		}
		d.ws()
		if d.i >= len(d.buf) {
			return pcEOF(d.i)
		}
		switch d.buf[d.i] {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return nil
		default:
			return pcSyntax(d.i, "expected ',' or '}'")
		}
	}
}

// ws skips JSON whitespace.
func (d *pcDecoder) ws() {
	for d.i < len(d.buf) {
		switch d.buf[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// colon consumes the ':' after an object key and the whitespace around it.
func (d *pcDecoder) colon() *awsproto.Error {
	d.ws()
	if d.i >= len(d.buf) {
		return pcEOF(d.i)
	}
	if d.buf[d.i] != ':' {
		return pcSyntax(d.i, "expected ':' after object key")
	}
	d.i++
	d.ws()
	if d.i >= len(d.buf) {
		return pcEOF(d.i)
	}
	return nil
}

// literal consumes lit (true, false or null) at d.i.
func (d *pcDecoder) literal(lit string) *awsproto.Error {
	if !bytes.HasPrefix(d.buf[d.i:], []byte(lit)) {
		if len(d.buf)-d.i < len(lit) && bytes.HasPrefix([]byte(lit), d.buf[d.i:]) {
			return pcEOF(len(d.buf))
		}
		return pcSyntax(d.i, "invalid literal")
	}
	d.i += len(lit)
	return nil
}

// str parses the string at d.i. If unescape is set it returns the string's
// content: a slice of the body when there are no escapes (escaped false),
// else of d.scratch, valid until the next call. Without unescape it only
// validates and returns nil.
func (d *pcDecoder) str(unescape bool) (s []byte, escaped bool, err *awsproto.Error) {
	buf := d.buf
	if d.i >= len(buf) {
		return nil, false, pcEOF(d.i)
	}
	if buf[d.i] != '"' {
		return nil, false, pcSyntax(d.i, "expected string")
	}
	start := d.i + 1
	for i := start; i < len(buf); i++ {
		switch c := buf[i]; {
		case c == '"':
			d.i = i + 1
			return buf[start:i], false, nil
		case c == '\\':
			s, err := d.strEscaped(start, i, unescape)
			return s, true, err
		case c < 0x20:
			return nil, false, pcSyntax(i, "control character in string")
		}
	}
	return nil, false, pcEOF(len(buf))
}

// strEscaped finishes a string that has an escape at i (start is just after
// the opening quote), unescaping into d.scratch if unescape is set.
// Unpaired surrogates become U+FFFD, as encoding/json does.
func (d *pcDecoder) strEscaped(start, i int, unescape bool) ([]byte, *awsproto.Error) {
	buf := d.buf
	out := d.scratch[:0]
	if unescape {
		out = append(out, buf[start:i]...)
	}
	for i < len(buf) {
		c := buf[i]
		switch {
		case c == '"':
			d.i = i + 1
			if !unescape {
				return nil, nil
			}
			d.scratch = out
			return out, nil
		case c < 0x20:
			return nil, pcSyntax(i, "control character in string")
		case c != '\\':
			if unescape {
				out = append(out, c)
			}
			i++
			continue
		}
		if i+1 >= len(buf) {
			return nil, pcEOF(len(buf))
		}
		var r rune
		switch buf[i+1] {
		case '"', '\\', '/':
			r = rune(buf[i+1])
		case 'b':
			r = '\b'
		case 'f':
			r = '\f'
		case 'n':
			r = '\n'
		case 'r':
			r = '\r'
		case 't':
			r = '\t'
		case 'u':
			r = pcHex4(buf[i+2:])
			if r < 0 {
				if len(buf)-(i+2) < 4 && pcHexPrefix(buf[i+2:]) {
					return nil, pcEOF(len(buf))
				}
				return nil, pcSyntax(i, `invalid \u escape`)
			}
			i += 6
			if utf16.IsSurrogate(r) {
				// A surrogate counts only as the first half of a pair.
				r2 := rune(-1)
				if len(buf)-i >= 2 && buf[i] == '\\' && buf[i+1] == 'u' {
					r2 = pcHex4(buf[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			if unescape {
				out = utf8.AppendRune(out, r)
			}
			continue
		default:
			return nil, pcSyntax(i, "invalid escape in string")
		}
		if unescape {
			out = append(out, byte(r))
		}
		i += 2
	}
	return nil, pcEOF(len(buf))
}

// pcHex4 returns the value of the 4 hex digits at the start of b, or -1.
func pcHex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// pcHexPrefix reports whether b (shorter than 4) is all hex digits, i.e. a
// \u escape cut short by the end of the body.
func pcHexPrefix(b []byte) bool {
	for _, c := range b {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// skip validates and skips the JSON value at d.i; depth is its nesting level.
func (d *pcDecoder) skip(depth int) *awsproto.Error {
	if depth > pcMaxDepth {
		return pcSyntax(d.i, "nesting too deep")
	}
	if d.i >= len(d.buf) {
		return pcEOF(d.i)
	}
	switch c := d.buf[d.i]; {
	case c == '"':
		_, _, err := d.str(false)
		return err
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		d.i++
		d.ws()
		if d.i < len(d.buf) && d.buf[d.i] == end {
			d.i++
			return nil
		}
		for {
			if c == '{' {
				if _, _, err := d.str(false); err != nil {
					return err
				}
				if err := d.colon(); err != nil {
					return err
				}
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			d.ws()
			if d.i >= len(d.buf) {
				return pcEOF(d.i)
			}
			switch d.buf[d.i] {
			case ',':
				d.i++
				d.ws()
			case end:
				d.i++
				return nil
			default:
				return pcSyntax(d.i, fmt.Sprintf("expected ',' or '%c'", end))
			}
		}
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return d.number()
	}
	if c := d.buf[d.i]; c < 0x20 || c >= 0x7f {
		return pcSyntax(d.i, fmt.Sprintf("unexpected byte 0x%02x", c))
	}
	return pcSyntax(d.i, "unexpected character '"+string(d.buf[d.i])+"'")
}

// number validates and skips a JSON number at d.i.
func (d *pcDecoder) number() *awsproto.Error {
	buf, i := d.buf, d.i
	digits := func() bool {
		s := i
		for i < len(buf) && '0' <= buf[i] && buf[i] <= '9' {
			i++
		}
		return i > s
	}
	if buf[i] == '-' {
		i++
	}
	if i < len(buf) && buf[i] == '0' {
		i++
	} else if !digits() {
		return pcNumberErr(buf, i)
	}
	if i < len(buf) && buf[i] == '.' {
		i++
		if !digits() {
			return pcNumberErr(buf, i)
		}
	}
	if i < len(buf) && (buf[i] == 'e' || buf[i] == 'E') {
		i++
		if i < len(buf) && (buf[i] == '+' || buf[i] == '-') {
			i++
		}
		if !digits() {
			return pcNumberErr(buf, i)
		}
	}
	d.i = i
	return nil
}

func pcNumberErr(buf []byte, i int) *awsproto.Error {
	if i >= len(buf) {
		return pcEOF(i)
	}
	return pcSyntax(i, "invalid number")
}

func pcSyntax(off int, what string) *awsproto.Error {
	return awsproto.Errorf(awsproto.SerializationException, "Invalid JSON at byte offset %d: %s", off, what)
}

func pcEOF(off int) *awsproto.Error { return pcSyntax(off, "unexpected end of input") }

func pcType(off int, what string) *awsproto.Error {
	return awsproto.Errorf(awsproto.SerializationException, "Invalid value at byte offset %d: %s", off, what)
}

func pcDuplicate(off int, member string) *awsproto.Error {
	return awsproto.Errorf(awsproto.SerializationException, "Duplicate member %s at byte offset %d", member, off)
}
