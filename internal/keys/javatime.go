package keys

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// This file compiles and prints the subset of Java's DateTimeFormatter
// pattern language that Firehose accepts inside !{timestamp:...}. The rules
// follow DateTimeFormatterBuilder.appendPattern: runs of ASCII letters are
// fields whose letter count selects the style, '...' quotes literal text
// ('' is one quote), '[' and ']' bracket optional sections (always printed
// when formatting a full date-time), '{', '}' and '#' are reserved, and every
// other character is printed as is. Text styles use English (Locale.US),
// which is what a JVM service in AWS runs with by default.
//
// Two GUESSES: Java's w and Y are locale-dependent (Locale.US weeks start on
// Sunday with one minimal day); hydrant prints ISO-8601 weeks and week-based
// years for them, which is what people asking for "week" usually mean in a
// partition path. e and c print Locale.US day numbers (Sunday = 1).

// layout is a compiled pattern: a sequence of literal runs and fields.
type layout []layoutItem

// layoutItem is one literal run (letter == 0) or one pattern field.
type layoutItem struct {
	lit    string
	letter byte
	count  int
}

// maxLetters is the largest letter count Java accepts for a field letter
// hydrant prints, or 0 for any other letter.
func maxLetters(c byte) int {
	switch c {
	case 'a':
		return 1
	case 'w', 'd', 'h', 'H', 'k', 'K', 'm', 's', 'V':
		return 2
	case 'D', 'z':
		return 3
	case 'O':
		return 4
	case 'G', 'M', 'L', 'Q', 'q', 'E', 'e', 'c', 'Z', 'X', 'x':
		return 5
	case 'S':
		return 9
	case 'u', 'y', 'Y':
		return 19
	}
	return 0
}

// javaOnly lists letters Java defines that hydrant does not print; a pattern
// using them is rejected rather than printed differently from AWS.
const javaOnly = "WFAnNvpgB"

// compileLayout parses a Java DateTimeFormatter pattern. Errors describe the
// offending letter or construct in Java's own words where Java has them.
func compileLayout(p string) (layout, error) {
	var out layout
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, layoutItem{lit: lit.String()})
			lit.Reset()
		}
	}
	depth := 0
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			j := i + 1
			var q strings.Builder
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("pattern ends with an incomplete string literal: %s", p)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						q.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				q.WriteByte(p[j])
				j++
			}
			if j == i+1 {
				lit.WriteByte('\'') // '' outside a literal is one quote
			} else {
				lit.WriteString(q.String())
			}
			i = j + 1
		case c == '[':
			depth++
			i++
		case c == ']':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("pattern invalid as it contains ] without previous [")
			}
			i++
		case c == '{' || c == '}' || c == '#':
			return nil, fmt.Errorf("pattern includes reserved character: '%c'", c)
		case isLetter(c):
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			n := j - i
			if err := checkField(c, n); err != nil {
				return nil, err
			}
			flush()
			out = append(out, layoutItem{letter: c, count: n})
			i = j
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return out, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// checkField rejects letters and counts that Java rejects, and the few Java
// fields hydrant cannot print identically (so a stream is never created whose
// keys would silently differ from AWS's).
func checkField(c byte, n int) error {
	limit := maxLetters(c)
	ok := limit > 0
	switch {
	case c == 'z' && n == 4:
		return fmt.Errorf("pattern letter 'zzzz' (full zone name) is not supported")
	case !ok && strings.IndexByte(javaOnly, c) >= 0:
		return fmt.Errorf("pattern letter '%c' is not supported", c)
	case !ok:
		return fmt.Errorf("unknown pattern letter: %c", c)
	case n > limit:
		return fmt.Errorf("too many pattern letters: %c", c)
	case c == 'V' && n != 2:
		return fmt.Errorf("pattern letter count must be 2: V")
	case c == 'O' && n != 1 && n != 4:
		return fmt.Errorf("pattern letter count must be 1 or 4: O")
	case c == 'c' && n == 2:
		return fmt.Errorf("invalid pattern \"cc\"")
	}
	return nil
}

// appendFormat prints t (already in the wanted zone) by the layout.
func (l layout) appendFormat(b []byte, t time.Time) []byte {
	for _, it := range l {
		if it.letter == 0 {
			b = append(b, it.lit...)
			continue
		}
		b = appendField(b, t, it.letter, it.count)
	}
	return b
}

// appendField prints one field; counts were checked by checkField.
func appendField(b []byte, t time.Time, c byte, n int) []byte {
	switch c {
	case 'G':
		era := [3]string{"AD", "Anno Domini", "A"}
		if t.Year() <= 0 {
			era = [3]string{"BC", "Before Christ", "B"}
		}
		return append(b, era[textStyle(n)]...)
	case 'y':
		y := t.Year()
		if y <= 0 {
			y = 1 - y // year-of-era
		}
		return appendYear(b, y, n)
	case 'u':
		return appendYear(b, t.Year(), n)
	case 'Y':
		y, _ := t.ISOWeek()
		return appendYear(b, y, n)
	case 'w':
		_, w := t.ISOWeek()
		return appendNum(b, w, n)
	case 'D':
		return appendNum(b, t.YearDay(), n)
	case 'M', 'L':
		m := t.Month()
		if n <= 2 {
			return appendNum(b, int(m), n)
		}
		return appendText(b, m.String(), n)
	case 'Q', 'q':
		q := (int(t.Month())-1)/3 + 1
		switch n {
		case 1, 5:
			return appendNum(b, q, 1)
		case 2:
			return appendNum(b, q, 2)
		case 3:
			return append(append(b, 'Q'), byte('0'+q))
		default:
			return append(b, [...]string{"1st", "2nd", "3rd", "4th"}[q-1]+" quarter"...)
		}
	case 'd':
		return appendNum(b, t.Day(), n)
	case 'E':
		return appendText(b, t.Weekday().String(), n)
	case 'e', 'c':
		if n <= 2 {
			return appendNum(b, int(t.Weekday())+1, n) // Locale.US: Sunday is day 1
		}
		return appendText(b, t.Weekday().String(), n)
	case 'a':
		if t.Hour() < 12 {
			return append(b, "AM"...)
		}
		return append(b, "PM"...)
	case 'H':
		return appendNum(b, t.Hour(), n)
	case 'k':
		h := t.Hour()
		if h == 0 {
			h = 24
		}
		return appendNum(b, h, n)
	case 'K':
		return appendNum(b, t.Hour()%12, n)
	case 'h':
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return appendNum(b, h, n)
	case 'm':
		return appendNum(b, t.Minute(), n)
	case 's':
		return appendNum(b, t.Second(), n)
	case 'S':
		f := t.Nanosecond()
		for i := n; i < 9; i++ {
			f /= 10
		}
		return appendNum(b, f, n)
	case 'Z', 'X', 'x', 'O':
		_, off := t.Zone()
		return appendOffsetField(b, c, n, off)
	case 'z':
		name, _ := t.Zone()
		return append(b, name...)
	case 'V':
		return append(b, t.Location().String()...)
	}
	return b
}

// textStyle maps a letter count to Java's SHORT (0), FULL (1), NARROW (2).
func textStyle(n int) int {
	switch n {
	case 4:
		return 1
	case 5:
		return 2
	}
	return 0
}

// appendText prints an English month or weekday name in the count's style.
func appendText(b []byte, full string, n int) []byte {
	switch textStyle(n) {
	case 1:
		return append(b, full...)
	case 2:
		return append(b, full[0])
	}
	return append(b, full[:3]...)
}

// appendNum prints v zero-padded to width (width 1 means no padding).
func appendNum(b []byte, v, width int) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	s := strconv.Itoa(v)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// appendYear applies Java's year rules: two letters print the last two
// digits; four or more pad to the count and add '+' when the year is wider
// than the count (SignStyle.EXCEEDS_PAD).
func appendYear(b []byte, y, n int) []byte {
	switch {
	case n == 2:
		return appendNum(b, (y%100+100)%100, 2)
	case n >= 4 && y >= 0 && len(strconv.Itoa(y)) > n:
		b = append(b, '+')
	}
	return appendNum(b, y, n)
}

// Offset printing styles of Java's OffsetIdPrinterParser, by index:
// +HH, +HHmm, +HH:mm, +HHMM, +HH:MM, +HHMMss, +HH:MM:ss, +HHMMSS, +HH:MM:SS.
const (
	offHHmm    = 1
	offHHMM    = 3
	offHHcMM   = 4
	offHHMMss  = 5
	offHHcMMss = 6
)

// appendOffsetField prints the zone offset fields Z, X, x and O.
func appendOffsetField(b []byte, c byte, n, secs int) []byte {
	styles := [...]int{offHHmm, offHHMM, offHHcMM, offHHMMss, offHHcMMss}
	switch c {
	case 'Z':
		switch {
		case n <= 3:
			return appendOffset(b, offHHMM, "+0000", secs)
		case n == 4:
			return appendGMT(b, secs, true)
		}
		return appendOffset(b, offHHcMMss, "Z", secs)
	case 'X':
		return appendOffset(b, styles[n-1], "Z", secs)
	case 'x':
		zero := [...]string{"+00", "+0000", "+00:00", "+0000", "+00:00"}
		return appendOffset(b, styles[n-1], zero[n-1], secs)
	}
	return appendGMT(b, secs, n == 4)
}

// appendOffset prints an offset in one of Java's offset styles, or zero's
// own text when the offset is zero.
func appendOffset(b []byte, style int, zero string, secs int) []byte {
	if secs == 0 {
		return append(b, zero...)
	}
	sign := byte('+')
	if secs < 0 {
		sign, secs = '-', -secs
	}
	h, m, s := secs/3600, secs/60%60, secs%60
	b = appendNum(append(b, sign), h, 2)
	colon := style%2 == 0
	if style >= 3 || (style >= 1 && m > 0) {
		if colon {
			b = append(b, ':')
		}
		b = appendNum(b, m, 2)
		if style >= 7 || (style >= 5 && s > 0) {
			if colon {
				b = append(b, ':')
			}
			b = appendNum(b, s, 2)
		}
	}
	return b
}

// appendGMT prints Java's localized offset: "GMT" for zero, else
// "GMT+8"/"GMT+5:30" (short) or "GMT+08:00" (full), seconds when non-zero.
func appendGMT(b []byte, secs int, full bool) []byte {
	b = append(b, "GMT"...)
	if secs == 0 {
		return b
	}
	sign := byte('+')
	if secs < 0 {
		sign, secs = '-', -secs
	}
	h, m, s := secs/3600, secs/60%60, secs%60
	if full {
		b = appendNum(append(b, sign), h, 2)
		b = appendNum(append(b, ':'), m, 2)
	} else {
		b = appendNum(append(b, sign), h, 1)
		if m == 0 && s == 0 {
			return b
		}
		b = appendNum(append(b, ':'), m, 2)
	}
	if s > 0 {
		b = appendNum(append(b, ':'), s, 2)
	}
	return b
}
