// Package format converts JSON records to Parquet the way Amazon Data
// Firehose's record format conversion does: the columns come from a Glue
// table (Hive types), the JSON is read with the OpenX or Hive JSON SerDe's
// rules, and the rows are written as Parquet with the ParquetSerDe's
// settings. It implements deliver.Format.
package format

import (
	"fmt"
	"strconv"
	"strings"
)

// Kind is a Hive type's kind.
type Kind int

// The Hive types Glue tables use.
const (
	Boolean Kind = iota
	TinyInt
	SmallInt
	Int
	BigInt
	Float
	Double
	Decimal
	String
	Char
	Varchar
	Binary
	Date
	Timestamp
	Array
	Map
	Struct
)

var kindNames = [...]string{
	Boolean: "boolean", TinyInt: "tinyint", SmallInt: "smallint", Int: "int", BigInt: "bigint",
	Float: "float", Double: "double", Decimal: "decimal", String: "string", Char: "char",
	Varchar: "varchar", Binary: "binary", Date: "date", Timestamp: "timestamp",
	Array: "array", Map: "map", Struct: "struct",
}

// String is the kind's Hive name.
func (k Kind) String() string { return kindNames[k] }

// Type is a parsed Hive type.
type Type struct {
	Kind Kind
	// Precision and Scale are decimal(p,s)'s; Length is char(n)'s and
	// varchar(n)'s.
	Precision, Scale, Length int
	// Elem is an array's element, Key and Value a map's.
	Elem, Key, Value *Type
	// Fields are a struct's fields in declared order.
	Fields []Field
}

// Field is a named struct field or table column.
type Field struct {
	Name string
	Type *Type
}

// String renders t in Hive's syntax, as Glue shows it.
func (t *Type) String() string {
	switch t.Kind {
	case Decimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case Char, Varchar:
		return fmt.Sprintf("%s(%d)", t.Kind, t.Length)
	case Array:
		return "array<" + t.Elem.String() + ">"
	case Map:
		return "map<" + t.Key.String() + "," + t.Value.String() + ">"
	case Struct:
		var b strings.Builder
		b.WriteString("struct<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			name := f.Name
			if !isIdent(name) {
				name = "`" + name + "`"
			}
			b.WriteString(name + ":" + f.Type.String())
		}
		b.WriteByte('>')
		return b.String()
	}
	return t.Kind.String()
}

// primitives maps Hive's primitive type names (and their aliases) to kinds.
var primitives = map[string]Kind{
	"boolean": Boolean, "tinyint": TinyInt, "smallint": SmallInt, "int": Int, "integer": Int,
	"bigint": BigInt, "float": Float, "double": Double, "string": String, "binary": Binary,
	"date": Date, "timestamp": Timestamp, "decimal": Decimal, "char": Char, "varchar": Varchar,
	"real": Float, "double precision": Double, "numeric": Decimal,
}

// ParseType parses a Hive type string such as
// "array<struct<a:int,b:map<string,decimal(10,2)>>>". Names are
// case-insensitive; struct field names keep their case. Types Hive's Parquet
// SerDe cannot write (uniontype, Glue's set<>) are refused.
func ParseType(s string) (*Type, error) {
	p := typeParser{s: s}
	t, err := p.parse(0)
	if err != nil {
		return nil, fmt.Errorf("type %q: %w", s, err)
	}
	p.space()
	if p.i != len(p.s) {
		return nil, fmt.Errorf("type %q: unexpected %q at offset %d", s, p.s[p.i:], p.i)
	}
	return t, nil
}

type typeParser struct {
	s string
	i int
}

// maxTypeDepth bounds nesting so a hostile type string cannot exhaust the
// stack.
const maxTypeDepth = 100

func (p *typeParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

// word reads an identifier (letters, digits, underscore).
func (p *typeParser) word() string {
	p.space()
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *typeParser) expect(c byte) error {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != c {
		if p.i >= len(p.s) {
			return fmt.Errorf("expected %q at end", c)
		}
		return fmt.Errorf("expected %q at offset %d, found %q", c, p.i, p.s[p.i])
	}
	p.i++
	return nil
}

func (p *typeParser) peek(c byte) bool {
	p.space()
	return p.i < len(p.s) && p.s[p.i] == c
}

func (p *typeParser) number() (int, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	n, err := strconv.Atoi(p.s[start:p.i])
	if err != nil {
		return 0, fmt.Errorf("expected a number at offset %d", start)
	}
	return n, nil
}

func (p *typeParser) parse(depth int) (*Type, error) {
	if depth > maxTypeDepth {
		return nil, fmt.Errorf("nested deeper than %d levels", maxTypeDepth)
	}
	name := strings.ToLower(p.word())
	if name == "double" {
		// "double precision" is Hive's alias of double.
		save := p.i
		if strings.ToLower(p.word()) != "precision" {
			p.i = save
		}
	}
	switch name {
	case "":
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("missing type at end")
		}
		return nil, fmt.Errorf("unexpected %q at offset %d", p.s[p.i], p.i)
	case "array":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		elem, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Type{Kind: Array, Elem: elem}, p.expect('>')
	case "map":
		if err := p.expect('<'); err != nil {
			return nil, err
		}
		key, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		if !key.primitive() {
			return nil, fmt.Errorf("map key must be a primitive type, not %s", key)
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		val, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Type{Kind: Map, Key: key, Value: val}, p.expect('>')
	case "struct":
		return p.parseStruct(depth)
	case "uniontype", "set":
		return nil, fmt.Errorf("%s is not supported by Parquet conversion (use struct or array)", name)
	}
	k, ok := primitives[name]
	if !ok {
		return nil, fmt.Errorf("unknown type %q", name)
	}
	t := &Type{Kind: k}
	switch k {
	case Decimal:
		// Hive's bare "decimal" is decimal(10,0).
		t.Precision, t.Scale = 10, 0
		if p.peek('(') {
			p.i++
			var err error
			if t.Precision, err = p.number(); err != nil {
				return nil, err
			}
			t.Scale = 0
			if p.peek(',') {
				p.i++
				if t.Scale, err = p.number(); err != nil {
					return nil, err
				}
			}
			if err := p.expect(')'); err != nil {
				return nil, err
			}
		}
		if t.Precision < 1 || t.Precision > 38 || t.Scale < 0 || t.Scale > t.Precision {
			return nil, fmt.Errorf("decimal(%d,%d): precision must be 1..38 and scale 0..precision", t.Precision, t.Scale)
		}
	case Char, Varchar:
		if err := p.expect('('); err != nil {
			return nil, fmt.Errorf("%s needs a length: %w", name, err)
		}
		n, err := p.number()
		if err != nil {
			return nil, err
		}
		max := 65535
		if k == Char {
			max = 255
		}
		if n < 1 || n > max {
			return nil, fmt.Errorf("%s(%d): length must be 1..%d", name, n, max)
		}
		t.Length = n
		if err := p.expect(')'); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (p *typeParser) parseStruct(depth int) (*Type, error) {
	if err := p.expect('<'); err != nil {
		return nil, err
	}
	t := &Type{Kind: Struct}
	seen := map[string]bool{}
	if p.peek('>') {
		return nil, fmt.Errorf("struct<> needs at least one field")
	}
	for {
		name := p.fieldName()
		if name == "" {
			return nil, fmt.Errorf("expected a field name at offset %d", p.i)
		}
		if seen[strings.ToLower(name)] {
			return nil, fmt.Errorf("duplicate struct field %q", name)
		}
		seen[strings.ToLower(name)] = true
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		ft, err := p.parse(depth + 1)
		if err != nil {
			return nil, err
		}
		t.Fields = append(t.Fields, Field{Name: name, Type: ft})
		if p.peek(',') {
			p.i++
			continue
		}
		return t, p.expect('>')
	}
}

// fieldName reads a struct field name: an identifier or a `quoted` one.
func (p *typeParser) fieldName() string {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '`' {
		end := strings.IndexByte(p.s[p.i+1:], '`')
		if end < 0 {
			return ""
		}
		name := p.s[p.i+1 : p.i+1+end]
		p.i += end + 2
		return name
	}
	return p.word()
}

func (t *Type) primitive() bool { return t.Kind < Array }

// isIdent says a struct field name can be written without backquotes.
func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c != '_' && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
