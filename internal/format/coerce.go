package format

import (
	"math"
	"strconv"
	"time"
)

// put appends a present value of primitive node n.
// present records the levels of a present value of primitive node n and
// returns the page its value goes to.
func (c *converter) present(n *node, rep int) *rawPage {
	p := c.pages[n.leaf]
	p.defs = append(p.defs, byte(n.def))
	if n.repeated {
		p.reps = append(p.reps, byte(rep))
	}
	p.n++
	if rep == 0 {
		p.rows++
	}
	return p
}

// putInt appends an integer (or boolean as 0/1) value.
func (c *converter) putI(n *node, rep int, v int64) {
	p := c.present(n, rep)
	p.ints = append(p.ints, v)
}

// putF appends a floating-point value.
func (c *converter) putF(n *node, rep int, v float64) {
	p := c.present(n, rep)
	p.flts = append(p.flts, v)
}

// putBytes appends a byte-array value (copied).
func (c *converter) putBytes(n *node, rep int, b []byte) {
	p := c.present(n, rep)
	p.data = append(p.data, b...)
	p.ends = append(p.ends, int32(len(p.data)))
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func isText(k Kind) bool { return k == String || k == Char || k == Varchar }

// scalar reads a JSON scalar (or, for OpenX string columns, any value) into
// primitive node n. ch is the value's first byte.
func (c *converter) scalar(n *node, rep int, ch byte) error {
	k := n.typ.Kind
	switch ch {
	case '"':
		raw, esc, err := c.sc.str()
		if err != nil {
			return err
		}
		if isText(k) || k == Binary {
			if !esc && k != Char && k != Varchar {
				c.putBytes(n, rep, raw)
				return nil
			}
			// Decoded straight into the page.
			p := c.present(n, rep)
			start := len(p.data)
			p.data, _ = appendString(p.data, raw)
			if k == Char || k == Varchar {
				p.data = p.data[:start+len(truncateRunes(p.data[start:], n.typ.Length))]
			}
			p.ends = append(p.ends, int32(len(p.data)))
			return nil
		}
		if c.d.Hive && k != Date && k != Timestamp {
			return malformed(n, "a JSON string")
		}
		text := raw
		if esc {
			c.key, _ = appendString(c.key[:0], raw)
			text = c.key
		}
		return c.scalarText(n, rep, text, true)
	case 't', 'f':
		v := ch == 't'
		word := "false"
		if v {
			word = "true"
		}
		if err := c.sc.literal(word); err != nil {
			return err
		}
		switch {
		case k == Boolean:
			c.putI(n, rep, b2i(v))
			return nil
		case isText(k):
			// Both SerDes hand a boolean to a string column as its text.
			c.putBytes(n, rep, truncateText(n, []byte(word)))
			return nil
		}
		return malformed(n, "a JSON boolean")
	case '{', '[':
		if isText(k) && !c.d.Hive {
			// OpenX hands nested JSON to a string column as its text.
			start := c.sc.i
			if err := c.sc.skip(0); err != nil {
				return err
			}
			c.putBytes(n, rep, truncateText(n, c.sc.b[start:c.sc.i]))
			return nil
		}
		return c.mismatch(n, "a nested JSON value")
	}
	text, isInt, err := c.sc.number()
	if err != nil {
		return syntaxErr(&c.sc, "looking for beginning of value")
	}
	switch {
	case isText(k):
		// Both SerDes hand a number to a string column as its JSON text,
		// as written (OpenX keeps unquoted values as text; Hive's reads
		// the token's text).
		c.putBytes(n, rep, truncateText(n, text))
		return nil
	case k == Boolean || k == Binary || k == Date:
		return malformed(n, "a JSON number")
	case !isInt && k >= TinyInt && k <= BigInt:
		// Java's Number.intValue: the fraction is dropped.
		f, err := strconv.ParseFloat(string(text), 64)
		if err != nil {
			return malformed(n, "the number "+string(text))
		}
		return c.putInt(n, rep, math.Trunc(f), text)
	}
	return c.scalarText(n, rep, text, false)
}

func truncateText(n *node, b []byte) []byte {
	if n.typ.Kind == Char || n.typ.Kind == Varchar {
		return truncateRunes(b, n.typ.Length)
	}
	return b
}

// truncateRunes cuts b to at most n characters, as Hive does for char(n)
// and varchar(n).
func truncateRunes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	for i := range string(b) {
		if n == 0 {
			return b[:i]
		}
		n--
	}
	return b
}

// putInt writes an integral float after a range check.
func (c *converter) putInt(n *node, rep int, f float64, text []byte) error {
	lo, hi := intRange(n.typ.Kind)
	if !(f >= float64(lo) && f <= float64(hi)) {
		return malformed(n, "the out-of-range number "+string(text))
	}
	c.putInteger(n, rep, int64(f))
	return nil
}

func intRange(k Kind) (int64, int64) {
	switch k {
	case TinyInt:
		return math.MinInt8, math.MaxInt8
	case SmallInt:
		return math.MinInt16, math.MaxInt16
	case Int:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func (c *converter) putInteger(n *node, rep int, v int64) {
	if n.typ.Kind == BigInt {
		c.putI(n, rep, v)
	} else {
		c.putI(n, rep, int64(int32(v)))
	}
}

// scalarText converts the text of a number, or of a JSON string (quoted),
// to primitive node n.
func (c *converter) scalarText(n *node, rep int, text []byte, quoted bool) error {
	k := n.typ.Kind
	switch k {
	case Boolean:
		switch {
		case equalFold(text, "true"):
			c.putI(n, rep, 1)
		case equalFold(text, "false"):
			c.putI(n, rep, 0)
		default:
			return malformed(n, "the value "+strconv.Quote(string(text)))
		}
	case TinyInt, SmallInt, Int, BigInt:
		lo, hi := intRange(k)
		v, err := strconv.ParseInt(string(trimSpace(text)), 10, 64)
		if err != nil || v < lo || v > hi {
			return malformed(n, "the value "+strconv.Quote(string(text)))
		}
		c.putInteger(n, rep, v)
	case Float, Double:
		bits := 64
		if k == Float {
			bits = 32
		}
		f, ok := 0.0, false
		if k == Double {
			f, ok = fastFloat(text)
		}
		var err error
		if !ok {
			f, err = strconv.ParseFloat(string(trimSpace(text)), bits)
		}
		if err != nil && !(quoted && isSpecialFloat(text)) {
			return malformed(n, "the value "+strconv.Quote(string(text)))
		}
		if k == Float {
			c.putF(n, rep, float64(float32(f)))
		} else {
			c.putF(n, rep, f)
		}
	case Decimal:
		return c.putDecimal(n, rep, trimSpace(text))
	case String, Char, Varchar, Binary:
		c.putBytes(n, rep, truncateText(n, text))
	case Date:
		days, ok := parseDate(trimSpace(text))
		if !ok {
			return malformed(n, "the value "+strconv.Quote(string(text)))
		}
		c.putI(n, rep, int64(days))
	case Timestamp:
		us, ok := c.ts.parse(trimSpace(text), quoted)
		if !ok {
			return malformed(n, "the value "+strconv.Quote(string(text)))
		}
		c.putI(n, rep, us)
	default:
		return malformed(n, "a scalar")
	}
	return nil
}

// isSpecialFloat accepts the words Java's Double.parseDouble reads
// (strconv.ParseFloat reads them too but reports range errors for huge
// values as errors, which Java rounds to infinity).
func isSpecialFloat(b []byte) bool {
	return equalFold(b, "nan") || equalFold(b, "infinity") || equalFold(b, "-infinity") || equalFold(b, "+infinity")
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseDate reads yyyy-[M]M-[d]d, optionally followed by a time of day
// (which is ignored), as days since 1970-01-01.
func parseDate(b []byte) (int32, bool) {
	y, m, d, rest, ok := parseYMD(b)
	if !ok || (len(rest) > 0 && rest[0] != ' ' && rest[0] != 'T') {
		return 0, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return int32(t.Unix() / 86400), true
}

// parseYMD reads a yyyy-[M]M-[d]d date, checking the day exists.
func parseYMD(b []byte) (y, m, d int, rest []byte, ok bool) {
	var n int
	if y, n = digitsN(b, 4, 4); n == 0 || n >= len(b) || b[n] != '-' {
		return 0, 0, 0, nil, false
	}
	b = b[n+1:]
	if m, n = digitsN(b, 1, 2); n == 0 || n >= len(b) || b[n] != '-' {
		return 0, 0, 0, nil, false
	}
	b = b[n+1:]
	if d, n = digitsN(b, 1, 2); n == 0 {
		return 0, 0, 0, nil, false
	}
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, nil, false
	}
	return y, m, d, b[n:], true
}

// daysIn is the number of days of month m of year y (proleptic Gregorian).
func daysIn(y, m int) int {
	if m == 2 {
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return monthDays[m]
}

var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// float10 are the powers of ten a float64 holds exactly.
var float10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastFloat parses the common decimal numbers (up to 15 significant digits,
// no exponent) exactly: the mantissa and the power of ten are both exact
// float64s, so one division rounds correctly. ok is false for anything
// else, which strconv.ParseFloat handles.
func fastFloat(b []byte) (float64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	var m uint64
	digits, frac, dot := 0, 0, false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			if m != 0 {
				digits++
			}
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if len(b) == 0 || digits > 15 || frac >= len(float10) || (dot && frac == 0) {
		return 0, false
	}
	f := float64(m) / float10[frac]
	if neg {
		f = -f
	}
	return f, true
}

// digitsN reads between min and max decimal digits and returns their value
// and count (0 when fewer than min).
func digitsN(b []byte, min, max int) (int, int) {
	v, n := 0, 0
	for n < len(b) && n < max && b[n] >= '0' && b[n] <= '9' {
		v = v*10 + int(b[n]-'0')
		n++
	}
	if n < min {
		return 0, 0
	}
	return v, n
}
