package format

import (
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
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
	root    *node
	leaves  []leafInfo
	structs int
}

// leafInfo is one Parquet leaf column.
type leafInfo struct {
	path []string
	typ  *Type
	// ptype and typeLen are the physical type (and FIXED_LEN_BYTE_ARRAY
	// length); maxDef and maxRep the column's maximum levels.
	ptype          format.Type
	typeLen        int
	maxDef, maxRep int
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
	// leaf is the column index of a primitive node; id numbers the
	// structs, for the converter's per-struct state.
	leaf, id int
	// repeated says the node is inside an array or map: its values carry
	// repetition levels.
	repeated bool
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
	for _, l := range s.leaves {
		if l.maxDef > 255 || l.maxRep > 255 {
			return nil, fmt.Errorf("column %s is nested too deeply for Parquet levels", strings.Join(l.path, "."))
		}
	}
	return s, nil
}

// compile builds the node for t at the given levels, registering leaves in
// depth-first order (the Parquet column order).
func (s *Schema) compile(t *Type, path []string, def, rep int) *node {
	n := &node{typ: t, def: def, repeated: rep > 0}
	switch t.Kind {
	case Struct:
		n.id = s.structs
		s.structs++
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
		pt, n := physical(t)
		s.leaves = append(s.leaves, leafInfo{path: path, typ: t, ptype: pt, typeLen: n, maxDef: def, maxRep: rep})
	}
	return n
}

// Columns returns the number of Parquet leaf columns.
func (s *Schema) Columns() int { return len(s.leaves) }

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

// physical is the Parquet physical type a Hive primitive is stored as.
func physical(t *Type) (format.Type, int) {
	switch t.Kind {
	case Boolean:
		return format.Boolean, 0
	case TinyInt, SmallInt, Int, Date:
		return format.Int32, 0
	case BigInt, Timestamp:
		return format.Int64, 0
	case Float:
		return format.Float, 0
	case Double:
		return format.Double, 0
	case Decimal:
		switch {
		case t.Precision <= 9:
			return format.Int32, 0
		case t.Precision <= 18:
			return format.Int64, 0
		}
		return format.FixedLenByteArray, decimalBytes(t.Precision)
	}
	return format.ByteArray, 0
}

// elements returns the Parquet schema: the message, then every node depth
// first, with the physical and logical types docs/FORMAT.md lists.
func (s *Schema) elements() []format.SchemaElement {
	root := format.SchemaElement{Name: "hive_schema"}
	root.NumChildren.Set(int32(len(s.root.fields)))
	out := []format.SchemaElement{root}
	for i, f := range s.root.fields {
		out = appendElements(out, s.root.names[i], f.typ, format.Optional)
	}
	return out
}

func appendElements(out []format.SchemaElement, name string, t *Type, rep format.FieldRepetitionType) []format.SchemaElement {
	e := format.SchemaElement{Name: name}
	e.RepetitionType.Set(rep)
	switch t.Kind {
	case Struct:
		e.NumChildren.Set(int32(len(t.Fields)))
		out = append(out, e)
		for _, f := range t.Fields {
			out = appendElements(out, strings.ToLower(f.Name), f.Type, format.Optional)
		}
		return out
	case Array:
		e.NumChildren.Set(1)
		e.ConvertedType.Set(deprecated.List)
		e.LogicalType.Value = &format.ListType{}
		list := format.SchemaElement{Name: "list"}
		list.RepetitionType.Set(format.Repeated)
		list.NumChildren.Set(1)
		out = append(out, e, list)
		return appendElements(out, "element", t.Elem, format.Optional)
	case Map:
		e.NumChildren.Set(1)
		e.ConvertedType.Set(deprecated.Map)
		e.LogicalType.Value = &format.MapType{}
		kv := format.SchemaElement{Name: "key_value"}
		kv.RepetitionType.Set(format.Repeated)
		kv.NumChildren.Set(2)
		out = append(out, e, kv)
		out = appendElements(out, "key", t.Key, format.Required)
		return appendElements(out, "value", t.Value, format.Optional)
	}
	pt, n := physical(t)
	e.Type.Set(pt)
	if n > 0 {
		e.TypeLength.Set(int32(n))
	}
	switch t.Kind {
	case TinyInt, SmallInt:
		bits := int8(8)
		e.ConvertedType.Set(deprecated.Int8)
		if t.Kind == SmallInt {
			bits = 16
			e.ConvertedType.Set(deprecated.Int16)
		}
		e.LogicalType.Value = &format.IntType{BitWidth: bits, IsSigned: true}
	case Decimal:
		e.ConvertedType.Set(deprecated.Decimal)
		e.Scale.Set(int32(t.Scale))
		e.Precision.Set(int32(t.Precision))
		e.LogicalType.Value = &format.DecimalType{Scale: int32(t.Scale), Precision: int32(t.Precision)}
	case String, Char, Varchar:
		e.ConvertedType.Set(deprecated.UTF8)
		e.LogicalType.Value = &format.StringType{}
	case Date:
		e.ConvertedType.Set(deprecated.Date)
		e.LogicalType.Value = &format.DateType{}
	case Timestamp:
		e.ConvertedType.Set(deprecated.TimestampMicros)
		e.LogicalType.Value = &format.TimestampType{IsAdjustedToUTC: true, Unit: format.TimeUnit{Value: &format.MicroSeconds{}}}
	}
	return append(out, e)
}
