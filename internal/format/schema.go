package format

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// Column is a table column: its name as the catalog has it and its Hive type.
type Column struct {
	Name string
	Type string
}

// Schema is a table's columns compiled for conversion: the Parquet schema
// and, for every node of the Hive type tree, the definition and repetition
// levels its values are written with.
type Schema struct {
	root   *node
	leaves []leafInfo
	pq     *parquet.Schema
}

// leafInfo is one Parquet leaf column.
type leafInfo struct {
	path []string
	typ  *Type
}

// node is one Hive type position in the row, with the Parquet levels of its
// values.
type node struct {
	typ *Type
	// def is the definition level of a present (non-null) value here; a
	// null is written with def-1.
	def int
	// rep is the repetition level of the second and later elements of an
	// array or map (0 elsewhere).
	rep int
	// leaves are the indexes of the Parquet leaf columns under this node.
	leaves []int
	// leaf is the column index of a primitive node.
	leaf int
	// fields are a struct's members, with lookup by normalized JSON key.
	fields []*node
	names  []string
	lookup map[string]int
	// elem is an array's element; key and value are a map's.
	elem, key, value *node
}

// NewSchema compiles columns. Column and struct field names are matched
// lower-case, as Hive does.
func NewSchema(cols []Column) (*Schema, error) {
	if len(cols) == 0 {
		return nil, fmt.Errorf("the table has no columns")
	}
	st := &Type{Kind: Struct}
	seen := map[string]bool{}
	for _, c := range cols {
		t, err := ParseType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", c.Name, err)
		}
		name := strings.ToLower(c.Name)
		if seen[name] {
			return nil, fmt.Errorf("duplicate column %s", c.Name)
		}
		seen[name] = true
		st.Fields = append(st.Fields, Field{Name: name, Type: t})
	}
	s := &Schema{}
	s.root = s.compile(st, nil, 0, 0)
	return s, nil
}

// compile builds the node for t at the given levels, registering leaves in
// depth-first order (the Parquet column order).
func (s *Schema) compile(t *Type, path []string, def, rep int) *node {
	n := &node{typ: t, def: def}
	switch t.Kind {
	case Struct:
		n.lookup = make(map[string]int, len(t.Fields))
		for i, f := range t.Fields {
			name := strings.ToLower(f.Name)
			c := s.compile(f.Type, append(path[:len(path):len(path)], name), def+1, rep)
			n.fields = append(n.fields, c)
			n.names = append(n.names, name)
			n.lookup[name] = i
			n.leaves = append(n.leaves, c.leaves...)
		}
	case Array:
		n.rep = rep + 1
		n.elem = s.compile(t.Elem, append(path[:len(path):len(path)], "list", "element"), def+2, rep+1)
		n.leaves = n.elem.leaves
	case Map:
		n.rep = rep + 1
		kv := append(path[:len(path):len(path)], "key_value")
		n.key = s.compile(t.Key, append(kv[:len(kv):len(kv)], "key"), def+1, rep+1)
		n.value = s.compile(t.Value, append(kv[:len(kv):len(kv)], "value"), def+2, rep+1)
		n.leaves = append(append([]int{}, n.key.leaves...), n.value.leaves...)
	default:
		n.leaf = len(s.leaves)
		n.leaves = []int{n.leaf}
		s.leaves = append(s.leaves, leafInfo{path: path, typ: t})
	}
	return n
}

// Columns returns the number of Parquet leaf columns.
func (s *Schema) Columns() int { return len(s.leaves) }

// parquetSchema builds the Parquet schema, choosing physical and logical
// types for every reader named in docs/FORMAT.md. dict turns dictionary
// encoding on for the columns that can use it.
func (s *Schema) parquetSchema(dict bool) *parquet.Schema {
	root := &group{}
	for i, f := range s.root.fields {
		root.add(s.root.names[i], parquet.Optional(pqNode(f.typ, dict)))
	}
	return parquet.NewSchema("hive_schema", root)
}

// pqNode returns the Parquet node for a Hive type (without its
// repetition).
func pqNode(t *Type, dict bool) parquet.Node {
	var leaf parquet.Node
	switch t.Kind {
	case Boolean:
		return parquet.Leaf(parquet.BooleanType)
	case TinyInt:
		leaf = parquet.Int(8)
	case SmallInt:
		leaf = parquet.Int(16)
	case Int:
		leaf = parquet.Int(32)
	case BigInt:
		leaf = parquet.Int(64)
	case Float:
		leaf = parquet.Leaf(parquet.FloatType)
	case Double:
		leaf = parquet.Leaf(parquet.DoubleType)
	case Decimal:
		switch {
		case t.Precision <= 9:
			leaf = parquet.Decimal(t.Scale, t.Precision, parquet.Int32Type)
		case t.Precision <= 18:
			leaf = parquet.Decimal(t.Scale, t.Precision, parquet.Int64Type)
		default:
			leaf = parquet.Decimal(t.Scale, t.Precision, parquet.FixedLenByteArrayType(decimalBytes(t.Precision)))
		}
	case String, Char, Varchar:
		leaf = parquet.String()
	case Binary:
		leaf = parquet.Leaf(parquet.ByteArrayType)
	case Date:
		leaf = parquet.Date()
	case Timestamp:
		leaf = parquet.TimestampAdjusted(parquet.Microsecond, true)
	case Array:
		g := &group{typ: parquet.List(parquet.String()).Type()}
		g.add("list", parquet.Repeated(&group{fields: []parquet.Field{field{parquet.Optional(pqNode(t.Elem, dict)), "element"}}}))
		return g
	case Map:
		g := &group{typ: parquet.Map(parquet.String(), parquet.String()).Type()}
		kv := &group{}
		kv.add("key", parquet.Required(pqNode(t.Key, dict)))
		kv.add("value", parquet.Optional(pqNode(t.Value, dict)))
		g.add("key_value", parquet.Repeated(kv))
		return g
	case Struct:
		g := &group{}
		for _, f := range t.Fields {
			g.add(strings.ToLower(f.Name), parquet.Optional(pqNode(f.Type, dict)))
		}
		return g
	}
	if dict {
		leaf = parquet.Encoded(leaf, &parquet.RLEDictionary)
	}
	return leaf
}

// decimalBytes is the smallest FIXED_LEN_BYTE_ARRAY length that holds every
// unscaled value of a decimal of precision p in two's complement.
func decimalBytes(p int) int {
	for n := 1; ; n++ {
		// 10^p - 1 < 2^(8n-1)  <=>  p < (8n-1)·log10(2)
		if float64(p) < float64(8*n-1)*0.30102999566398120 {
			return n
		}
	}
}

// group is a Parquet group whose fields keep their declared order
// (parquet.Group sorts them by name, which would reorder the table's
// columns). typ carries the LIST or MAP annotation when set.
type group struct {
	fields []parquet.Field
	typ    parquet.Type
}

func (g *group) add(name string, n parquet.Node) { g.fields = append(g.fields, field{n, name}) }

func (g *group) ID() int                 { return 0 }
func (g *group) String() string          { return "group" }
func (g *group) Optional() bool          { return false }
func (g *group) Repeated() bool          { return false }
func (g *group) Required() bool          { return true }
func (g *group) Leaf() bool              { return false }
func (g *group) Fields() []parquet.Field { return g.fields }

func (g *group) Type() parquet.Type {
	if g.typ != nil {
		return g.typ
	}
	return parquet.Group{}.Type()
}

func (g *group) Encoding() encoding.Encoding { return nil }
func (g *group) Compression() compress.Codec { return nil }

// GoType is never used for writing (rows are built value by value); it is
// a struct of the fields' Go types for completeness.
func (g *group) GoType() reflect.Type {
	fs := make([]reflect.StructField, len(g.fields))
	for i, f := range g.fields {
		fs[i] = reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: f.GoType()}
	}
	return reflect.StructOf(fs)
}

// field names a node inside a group.
type field struct {
	parquet.Node
	name string
}

func (f field) Name() string                           { return f.name }
func (f field) Value(base reflect.Value) reflect.Value { return base.FieldByName(f.name) }
