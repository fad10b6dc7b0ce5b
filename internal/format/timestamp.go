package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// timestampParser reads timestamp column values. Results are microseconds
// since the epoch, UTC; text without a zone is taken as UTC, as Firehose
// does.
type timestampParser struct {
	hive    bool
	millis  bool
	formats []*jodaFormat
}

func newTimestampParser(d Deserializer) (*timestampParser, error) {
	p := &timestampParser{hive: d.Hive}
	if !d.Hive {
		return p, nil
	}
	for _, f := range d.TimestampFormats {
		if f == "millis" {
			p.millis = true
			continue
		}
		jf, err := compileJoda(f)
		if err != nil {
			return nil, fmt.Errorf("TimestampFormats: %w", err)
		}
		p.formats = append(p.formats, jf)
	}
	return p, nil
}

// epochMillisFrom is the boundary between epoch seconds and epoch
// milliseconds for bare numbers: 10^11 seconds is the year 5138, 10^11
// milliseconds is March 1973.
const epochMillisFrom = 1e11

func (p *timestampParser) parse(b []byte, quoted bool) (int64, bool) {
	if p.hive {
		if p.millis {
			if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
				return v * 1000, true
			}
		}
		for _, f := range p.formats {
			if us, ok := f.parse(string(b)); ok {
				return us, true
			}
		}
		// java.sql.Timestamp.valueOf, Hive's default and its fallback.
		return parseSQLTimestamp(b)
	}
	if len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') && isNumeric(b) {
		return parseEpoch(b)
	}
	return parseDateTime(b)
}

func isNumeric(b []byte) bool {
	for i, c := range b {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' && i == 0 || c == 'e' || c == 'E' || c == '+') {
			return false
		}
	}
	return true
}

// parseEpoch reads epoch seconds (integer or fractional) or, for integers
// of 10^11 and more, epoch milliseconds.
func parseEpoch(b []byte) (int64, bool) {
	if v, err := strconv.ParseInt(string(b), 10, 64); err == nil {
		if v >= epochMillisFrom || v <= -epochMillisFrom {
			if v > math.MaxInt64/1000 || v < math.MinInt64/1000 {
				return 0, false
			}
			return v * 1000, true
		}
		return v * 1e6, true
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.Abs(f) > 9e12 {
		return 0, false
	}
	return int64(math.Round(f * 1e6)), true
}

// parseSQLTimestamp reads what java.sql.Timestamp.valueOf does, the only
// form HiveJsonSerDe reads without TimestampFormats or when none of them
// matches: yyyy-[M]M-[d]d HH:mm:ss[.fraction of 1 to 9 digits], one space
// between date and time, no zone (UTC), surrounding spaces ignored. Hours,
// minutes and seconds take one or two digits.
func parseSQLTimestamp(b []byte) (int64, bool) {
	y, mo, d, rest, ok := parseYMD(trimSpace(b))
	if !ok || len(rest) == 0 || rest[0] != ' ' {
		return 0, false
	}
	rest = rest[1:]
	var hms [3]int
	for i := range hms {
		v, n := digitsN(rest, 1, 2)
		if n == 0 {
			return 0, false
		}
		hms[i], rest = v, rest[n:]
		if i < 2 {
			if len(rest) == 0 || rest[0] != ':' {
				return 0, false
			}
			rest = rest[1:]
		}
	}
	nanos := 0
	if len(rest) > 0 {
		if rest[0] != '.' {
			return 0, false
		}
		frac, n := digitsN(rest[1:], 1, 9)
		if n == 0 || n != len(rest)-1 {
			return 0, false
		}
		for i := n; i < 9; i++ {
			frac *= 10
		}
		nanos = frac
	}
	if hms[0] > 23 || hms[1] > 59 || hms[2] > 59 {
		return 0, false
	}
	return civilMicros(y, mo, d, hms[0], hms[1], hms[2], nanos), true
}

// parseDateTime reads the forms OpenX accepts: yyyy-[M]M-[d]d, then 'T' or
// ' ' and HH:mm[:ss][.fraction up to 9 digits], then an optional zone (Z,
// ±hh, ±hhmm, ±hh:mm).
func parseDateTime(b []byte) (int64, bool) {
	y, mo, d, rest, ok := parseYMD(b)
	if !ok {
		return 0, false
	}
	var h, mi, s, nanos int
	if len(rest) != 0 {
		if rest[0] != 'T' && rest[0] != ' ' {
			return 0, false
		}
		rest = rest[1:]
		var n int
		if h, n = digitsN(rest, 1, 2); n == 0 || n >= len(rest) || rest[n] != ':' {
			return 0, false
		}
		rest = rest[n+1:]
		if mi, n = digitsN(rest, 2, 2); n == 0 {
			return 0, false
		}
		rest = rest[n:]
		if len(rest) > 0 && rest[0] == ':' {
			if s, n = digitsN(rest[1:], 2, 2); n == 0 {
				return 0, false
			}
			rest = rest[n+1:]
			if len(rest) > 0 && (rest[0] == '.' || rest[0] == ',') {
				frac, n := digitsN(rest[1:], 1, 9)
				if n == 0 {
					return 0, false
				}
				for i := n; i < 9; i++ {
					frac *= 10
				}
				nanos = frac
				rest = rest[n+1:]
			}
		}
		if h > 23 || mi > 59 || s > 59 {
			return 0, false
		}
	}
	off, ok := parseZone(rest)
	if !ok {
		return 0, false
	}
	return civilMicros(y, mo, d, h, mi, s, nanos) - int64(off)*1e6, true
}

// civilMicros is the microseconds since the epoch of a valid UTC date and
// time (days from civil, after Howard Hinnant's algorithm).
func civilMicros(y, m, d, h, mi, s, nanos int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era)*146097 + int64(doe) - 719468
	return (days*86400+int64(h*3600+mi*60+s))*1e6 + int64(nanos/1000)
}

// parseZone reads "", "Z", "UTC", ±hh, ±hhmm or ±hh:mm as an offset in
// seconds east of UTC.
func parseZone(b []byte) (int, bool) {
	b = trimSpace(b)
	switch string(b) {
	case "", "Z", "z", "UTC", "GMT":
		return 0, true
	}
	if b[0] != '+' && b[0] != '-' {
		return 0, false
	}
	sign := 1
	if b[0] == '-' {
		sign = -1
	}
	b = b[1:]
	h, n := digitsN(b, 2, 2)
	if n == 0 {
		return 0, false
	}
	b = b[n:]
	if len(b) > 0 && b[0] == ':' {
		b = b[1:]
	}
	m := 0
	if len(b) > 0 {
		if m, n = digitsN(b, 2, 2); n == 0 || n != len(b) {
			return 0, false
		}
	}
	if h > 18 || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// jodaFormat is a compiled Joda-Time pattern, for parsing only.
type jodaFormat struct {
	pattern string
	fields  []jodaField
}

// jodaField is one letter run of a pattern, or a literal.
type jodaField struct {
	letter byte
	count  int
	lit    string
}

// compileJoda splits a Joda-Time pattern into fields. Supported letters:
// y Y u (year), M (month: number, MMM short, MMMM full name), d, H, k, h, K,
// a, m, s, S (fraction), Z (offset), z (UTC/GMT/Z), E (day name, skipped),
// and 'quoted' literals.
func compileJoda(p string) (*jodaFormat, error) {
	f := &jodaFormat{pattern: p}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			end := strings.IndexByte(p[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("pattern %q: unterminated quote", p)
			}
			lit := p[i+1 : i+1+end]
			if lit == "" {
				lit = "'"
			}
			f.fields = append(f.fields, jodaField{lit: lit})
			i += end + 2
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			if !strings.ContainsRune("yYuMdHkhKamsSZzEx", rune(c)) {
				return nil, fmt.Errorf("pattern %q: letter %q is not supported", p, c)
			}
			f.fields = append(f.fields, jodaField{letter: c, count: j - i})
			i = j
		default:
			f.fields = append(f.fields, jodaField{lit: string(c)})
			i++
		}
	}
	return f, nil
}

var monthNames = []string{"january", "february", "march", "april", "may", "june", "july",
	"august", "september", "october", "november", "december"}

// parse reads s with the pattern; all of s must be consumed.
func (f *jodaFormat) parse(s string) (int64, bool) {
	y, mo, d, h, mi, sec, nanos, off := 1970, 1, 1, 0, 0, 0, 0, 0
	pm, hasAmPm := false, false
	for idx, fl := range f.fields {
		if fl.lit != "" {
			if !strings.HasPrefix(s, fl.lit) {
				return 0, false
			}
			s = s[len(fl.lit):]
			continue
		}
		// A numeric field followed directly by another numeric field takes
		// exactly count digits; otherwise it takes as many as are there.
		max := 9
		if idx+1 < len(f.fields) && f.fields[idx+1].lit == "" && fl.letter != 'S' {
			max = fl.count
		}
		var v, n int
		switch fl.letter {
		case 'y', 'Y', 'u':
			if fl.count == 2 {
				if v, n = digitsN([]byte(s), 2, 2); n == 0 {
					return 0, false
				}
				v += 2000
			} else if v, n = digitsN([]byte(s), 1, max); n == 0 {
				return 0, false
			}
			y = v
		case 'M':
			if fl.count >= 3 {
				found := false
				for i, name := range monthNames {
					cand := name
					if fl.count == 3 {
						cand = name[:3]
					}
					if len(s) >= len(cand) && strings.EqualFold(s[:len(cand)], cand) {
						mo, n, found = i+1, len(cand), true
						break
					}
				}
				if !found {
					return 0, false
				}
			} else if mo, n = digitsN([]byte(s), 1, min(max, 2)); n == 0 {
				return 0, false
			}
		case 'd', 'H', 'k', 'h', 'K', 'm', 's':
			if v, n = digitsN([]byte(s), 1, min(max, 2)); n == 0 {
				return 0, false
			}
			switch fl.letter {
			case 'd':
				d = v
			case 'H', 'k', 'h', 'K':
				h = v
			case 'm':
				mi = v
			case 's':
				sec = v
			}
		case 'S':
			if v, n = digitsN([]byte(s), 1, 9); n == 0 {
				return 0, false
			}
			for i := n; i < 9; i++ {
				v *= 10
			}
			nanos = v
		case 'a':
			hasAmPm = true
			switch {
			case len(s) >= 2 && strings.EqualFold(s[:2], "pm"):
				pm = true
			case len(s) >= 2 && strings.EqualFold(s[:2], "am"):
			default:
				return 0, false
			}
			n = 2
		case 'E':
			for n < len(s) && (s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z') {
				n++
			}
		case 'Z', 'z', 'x':
			end := 0
			for end < len(s) && strings.IndexByte("+-:0123456789ZzUTCGM", s[end]) >= 0 {
				end++
			}
			o, ok := parseZone([]byte(s[:end]))
			if !ok {
				return 0, false
			}
			off, n = o, end
		}
		s = s[n:]
	}
	if s != "" {
		return 0, false
	}
	if hasAmPm {
		if h == 12 {
			h = 0
		}
		if pm {
			h += 12
		}
	}
	if mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) || h > 23 || mi > 59 || sec > 59 {
		return 0, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, nanos, time.UTC)
	return t.UnixMicro() - int64(off)*1e6, true
}
