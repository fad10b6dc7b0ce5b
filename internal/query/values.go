package query

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hydrant-io/hydrant/internal/athena"
)

// duckType is a parsed DuckDB type name, as database/sql reports it.
type duckType struct {
	base      string // VARCHAR, INTEGER, LIST, MAP, STRUCT, DECIMAL, ...
	elem      *duckType
	key, val  *duckType
	fields    []duckField
	precision int
	scale     int
}

type duckField struct {
	name string
	typ  *duckType
}

// parseDuckType parses names like INTEGER[], DECIMAL(10,2),
// MAP(VARCHAR, INTEGER[]), STRUCT("x" INTEGER, y VARCHAR)[].
func parseDuckType(s string) *duckType {
	p := &duckTypeParser{s: s}
	return p.parse()
}

type duckTypeParser struct {
	s string
	i int
}

func (p *duckTypeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *duckTypeParser) name() string {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		p.i++
		for p.i < len(p.s) {
			if p.s[p.i] == '"' {
				if p.i+1 < len(p.s) && p.s[p.i+1] == '"' {
					b.WriteByte('"')
					p.i += 2
					continue
				}
				p.i++
				break
			}
			b.WriteByte(p.s[p.i])
			p.i++
		}
		return b.String()
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune("(),[] ", rune(p.s[p.i])) {
		p.i++
	}
	return p.s[start:p.i]
}

func (p *duckTypeParser) parse() *duckType {
	t := &duckType{base: strings.ToUpper(p.name())}
	p.space()
	// Multi-word names.
	for _, suffix := range []string{"WITH TIME ZONE"} {
		if strings.HasPrefix(strings.ToUpper(p.s[p.i:]), suffix) {
			t.base += " " + suffix
			p.i += len(suffix)
		}
	}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		switch t.base {
		case "DECIMAL", "NUMERIC":
			var args []int
			for {
				n, _ := strconv.Atoi(strings.TrimSpace(p.name()))
				args = append(args, n)
				p.space()
				if p.i < len(p.s) && p.s[p.i] == ',' {
					p.i++
					continue
				}
				break
			}
			if len(args) > 0 {
				t.precision = args[0]
			}
			if len(args) > 1 {
				t.scale = args[1]
			}
		case "MAP":
			t.key = p.parse()
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
			}
			t.val = p.parse()
		case "STRUCT":
			for {
				p.space()
				if p.i < len(p.s) && p.s[p.i] == ')' {
					break
				}
				name := p.name()
				t.fields = append(t.fields, duckField{name: name, typ: p.parse()})
				p.space()
				if p.i < len(p.s) && p.s[p.i] == ',' {
					p.i++
					continue
				}
				break
			}
		default:
			depth := 1
			for p.i < len(p.s) && depth > 0 {
				if p.s[p.i] == '(' {
					depth++
				} else if p.s[p.i] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
				p.i++
			}
		}
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ')' {
			p.i++
		}
	}
	for {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '[' {
			for p.i < len(p.s) && p.s[p.i] != ']' {
				p.i++
			}
			p.i++
			t = &duckType{base: "LIST", elem: t}
			continue
		}
		return t
	}
}

// athenaColumn is the Athena type of a DuckDB result column.
func athenaColumn(name string, t *duckType) athena.Column {
	c := athena.Column{Name: name}
	switch t.base {
	case "BOOLEAN":
		c.Type = "boolean"
	case "TINYINT", "UTINYINT":
		c.Type, c.Precision = "tinyint", 3
	case "SMALLINT", "USMALLINT":
		c.Type, c.Precision = "smallint", 5
	case "INTEGER", "UINTEGER":
		c.Type, c.Precision = "integer", 10
	case "BIGINT", "UBIGINT", "HUGEINT", "UHUGEINT":
		c.Type, c.Precision = "bigint", 19
	case "FLOAT":
		c.Type, c.Precision = "real", 17
	case "DOUBLE":
		c.Type, c.Precision = "double", 17
	case "DECIMAL":
		c.Type, c.Precision, c.Scale = "decimal", t.precision, t.scale
	case "DATE":
		c.Type = "date"
	case "TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP_S":
		c.Type, c.Precision = "timestamp", 3
	case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
		c.Type, c.Precision = "timestamp with time zone", 3
	case "TIME":
		c.Type, c.Precision = "time", 3
	case "INTERVAL":
		c.Type = "interval day to second"
	case "BLOB":
		c.Type, c.Precision = "varbinary", 2147483647
	case "LIST", "ARRAY":
		c.Type = "array"
	case "MAP":
		c.Type = "map"
	case "STRUCT":
		c.Type = "row"
	case "JSON":
		c.Type = "json"
	case "UUID":
		c.Type = "uuid"
	default:
		c.Type, c.Precision = "varchar", 2147483647
	}
	return c
}

// render writes a value as Trino renders it in results: nested NULLs as
// "null", arrays [a, b], maps {k=v}, rows {f=v}, timestamps with
// milliseconds, doubles as Java prints them.
func render(b *strings.Builder, v any, t *duckType) {
	if v == nil {
		b.WriteString("null")
		return
	}
	switch x := v.(type) {
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int8, int16, int32, int64, int, uint8, uint16, uint32, uint64, uint:
		fmt.Fprint(b, x)
	case *big.Int:
		b.WriteString(x.String())
	case float32:
		b.WriteString(javaFloat(float64(x), 32))
	case float64:
		b.WriteString(javaFloat(x, 64))
	case duckdb.Decimal:
		b.WriteString(decimalString(x))
	case string:
		b.WriteString(x)
	case []byte:
		if t != nil && t.base == "UUID" && len(x) == 16 {
			u := duckdb.UUID(x)
			b.WriteString(u.String())
			return
		}
		for i, c := range x {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(hex.EncodeToString([]byte{c}))
		}
	case duckdb.UUID:
		b.WriteString(x.String())
	case *duckdb.UUID:
		b.WriteString(x.String())
	case time.Time:
		x = x.UTC()
		base := ""
		if t != nil {
			base = t.base
		}
		switch base {
		case "DATE":
			b.WriteString(x.Format("2006-01-02"))
		case "TIME":
			b.WriteString(x.Format("15:04:05.000"))
		case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE":
			b.WriteString(x.Format("2006-01-02 15:04:05.000") + " UTC")
		default:
			b.WriteString(x.Format("2006-01-02 15:04:05.000"))
		}
	case duckdb.Interval:
		if x.Months != 0 && x.Days == 0 && x.Micros == 0 {
			fmt.Fprintf(b, "%d-%d", x.Months/12, x.Months%12)
			return
		}
		micros := x.Micros + int64(x.Days)*86400e6 + int64(x.Months)*30*86400e6
		sign := ""
		if micros < 0 {
			sign, micros = "-", -micros
		}
		d := micros / 86400e6
		micros -= d * 86400e6
		fmt.Fprintf(b, "%s%d %02d:%02d:%02d.%03d", sign, d, micros/3600e6, micros/60e6%60, micros/1e6%60, micros/1e3%1000)
	case []any:
		var et *duckType
		if t != nil {
			et = t.elem
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			render(b, e, et)
		}
		b.WriteByte(']')
	case duckdb.OrderedMap:
		renderMap(b, &x, t)
	case *duckdb.OrderedMap:
		renderMap(b, x, t)
	case duckdb.Map:
		b.WriteByte('{')
		first := true
		for k, val := range x {
			if !first {
				b.WriteString(", ")
			}
			first = false
			render(b, k, nil)
			b.WriteByte('=')
			render(b, val, nil)
		}
		b.WriteByte('}')
	case map[string]any:
		b.WriteByte('{')
		if t != nil && len(t.fields) > 0 {
			for i, f := range t.fields {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(f.name + "=")
				render(b, x[f.name], f.typ)
			}
		} else {
			first := true
			for k, val := range x {
				if !first {
					b.WriteString(", ")
				}
				first = false
				b.WriteString(k + "=")
				render(b, val, nil)
			}
		}
		b.WriteByte('}')
	default:
		fmt.Fprint(b, x)
	}
}

func renderMap(b *strings.Builder, m *duckdb.OrderedMap, t *duckType) {
	var kt, vt *duckType
	if t != nil {
		kt, vt = t.key, t.val
	}
	keys, vals := m.Keys(), m.Values()
	b.WriteByte('{')
	for i := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		render(b, keys[i], kt)
		b.WriteByte('=')
		render(b, vals[i], vt)
	}
	b.WriteByte('}')
}

// decimalString renders a decimal with all its scale's digits.
func decimalString(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	s := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	scale := int(d.Scale)
	if scale == 0 {
		return sign + s
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	return sign + s[:len(s)-scale] + "." + s[len(s)-scale:]
}

// javaFloat formats a float as Java's Double.toString (and Float.toString)
// do, as Trino's results show them: 1.0, 0.001, 1.0E-4, 1.2345678E7,
// NaN, Infinity.
func javaFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, bits) // 1.2345678E+07
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}
