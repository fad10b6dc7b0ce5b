package catalog

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Inferrer infers a table's columns (Hive types) from sample JSON records,
// as a crawler does: types are merged across records (int → bigint →
// double; anything else that conflicts becomes string), nested objects
// become struct<>, arrays array<>, and objects whose keys look like data
// rather than names become map<string,…>. Names are lower-cased, as Hive
// and the OpenX deserializer's default match them.
type Inferrer struct {
	root    *shape
	records int
}

// NewInferrer returns an empty inferrer.
func NewInferrer() *Inferrer { return &Inferrer{root: &shape{kind: kObject}} }

// shape is what has been seen at one position of the records.
type shape struct {
	kind   shapeKind
	fields []*field // kObject, in order of first appearance
	index  map[string]int
	elem   *shape // kArray
}

type field struct {
	name string
	s    *shape
}

type shapeKind int

const (
	kNull shapeKind = iota // only nulls (or empty arrays' elements) so far
	kBool
	kInt
	kBigInt
	kDouble
	kDate
	kTimestamp
	kString
	kArray
	kObject
)

// Records is how many JSON objects were added.
func (in *Inferrer) Records() int { return in.records }

// Add reads every JSON value from r (newline-delimited, concatenated as
// Firehose delivers them, or a mix) and merges the objects into the
// inferred shape. A value that is not an object is an error, as it would
// be for Firehose's conversion.
func (in *Inferrer) Add(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	for {
		s, err := readShape(dec, 0)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("record %d: %w", in.records+1, err)
		}
		if s.kind != kObject {
			return fmt.Errorf("record %d: not a JSON object", in.records+1)
		}
		in.root = merge(in.root, s)
		in.records++
	}
}

// maxInferDepth bounds nesting.
const maxInferDepth = 64

// readShape reads one JSON value as a shape.
func readShape(dec *json.Decoder, depth int) (*shape, error) {
	if depth > maxInferDepth {
		return nil, fmt.Errorf("JSON nested deeper than %d levels", maxInferDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		if depth > 0 && errors.Is(err, io.EOF) {
			// Inside a value, the end of input is a truncated record.
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			s := &shape{kind: kObject, index: map[string]int{}}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, unexpectedEOF(err)
				}
				v, err := readShape(dec, depth+1)
				if err != nil {
					return nil, err
				}
				s.add(strings.ToLower(kt.(string)), v)
			}
			_, err := dec.Token()
			return s, unexpectedEOF(err)
		case '[':
			s := &shape{kind: kArray, elem: &shape{kind: kNull}}
			for dec.More() {
				v, err := readShape(dec, depth+1)
				if err != nil {
					return nil, err
				}
				s.elem = merge(s.elem, v)
			}
			_, err := dec.Token()
			return s, unexpectedEOF(err)
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case nil:
		return &shape{kind: kNull}, nil
	case bool:
		return &shape{kind: kBool}, nil
	case json.Number:
		if i, err := t.Int64(); err == nil {
			if i >= -1<<31 && i < 1<<31 {
				return &shape{kind: kInt}, nil
			}
			return &shape{kind: kBigInt}, nil
		}
		return &shape{kind: kDouble}, nil
	case string:
		switch {
		case dateRE.MatchString(t):
			return &shape{kind: kDate}, nil
		case timestampRE.MatchString(t):
			return &shape{kind: kTimestamp}, nil
		}
		return &shape{kind: kString}, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// unexpectedEOF reports the end of input inside a value as truncation.
func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// The string forms Firehose's deserializers read as dates and timestamps.
var (
	dateRE      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	timestampRE = regexp.MustCompile(`^\d{4}-\d{1,2}-\d{1,2}[T ]\d{1,2}:\d{2}(:\d{2}([.,]\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$`)
)

// add merges a member into an object shape.
func (s *shape) add(name string, v *shape) {
	if s.index == nil {
		s.index = map[string]int{}
	}
	if i, ok := s.index[name]; ok {
		s.fields[i].s = merge(s.fields[i].s, v)
		return
	}
	s.index[name] = len(s.fields)
	s.fields = append(s.fields, &field{name: name, s: v})
}

// merge combines two shapes seen at the same position.
func merge(a, b *shape) *shape {
	switch {
	case a.kind == kNull:
		return b
	case b.kind == kNull:
		return a
	case a.kind == kObject && b.kind == kObject:
		for _, f := range b.fields {
			a.add(f.name, f.s)
		}
		return a
	case a.kind == kArray && b.kind == kArray:
		a.elem = merge(a.elem, b.elem)
		return a
	case a.kind == b.kind:
		return a
	}
	lo, hi := min(a.kind, b.kind), max(a.kind, b.kind)
	switch {
	case lo >= kInt && hi <= kDouble:
		// int → bigint → double
		return &shape{kind: hi}
	case lo == kDate && hi == kTimestamp:
		return &shape{kind: kTimestamp}
	}
	return &shape{kind: kString}
}

// maxStructFields is the number of distinct keys above which an object is
// taken for a map rather than a struct.
const maxStructFields = 100

// identRE is what a struct field name looks like.
var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// hive renders a shape as a Hive type.
func (s *shape) hive() string {
	switch s.kind {
	case kBool:
		return "boolean"
	case kInt:
		return "int"
	case kBigInt:
		return "bigint"
	case kDouble:
		return "double"
	case kDate:
		return "date"
	case kTimestamp:
		return "timestamp"
	case kArray:
		return "array<" + s.elem.hive() + ">"
	case kObject:
		if len(s.fields) == 0 {
			return "string"
		}
		if s.mapLike() {
			v := &shape{kind: kNull}
			for _, f := range s.fields {
				v = merge(v, f.s)
			}
			return "map<string," + v.hive() + ">"
		}
		parts := make([]string, len(s.fields))
		for i, f := range s.fields {
			parts[i] = f.name + ":" + f.s.hive()
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	return "string"
}

// mapLike says an object's keys are data: too many of them, or not names.
func (s *shape) mapLike() bool {
	if len(s.fields) > maxStructFields {
		return true
	}
	for _, f := range s.fields {
		if !identRE.MatchString(f.name) {
			return true
		}
	}
	return false
}

// Columns returns the inferred columns in order of first appearance.
// Top-level names that are not Hive identifiers are kept as they are (the
// stream can map them with OpenX's ColumnToJsonKeyMappings).
func (in *Inferrer) Columns() []Column {
	cols := make([]Column, 0, len(in.root.fields))
	for _, f := range in.root.fields {
		cols = append(cols, Column{Name: f.name, Type: f.s.hive()})
	}
	return cols
}

// ParquetTableInput is a TableInput for Parquet files that Firehose (or
// hydrant) writes, with the given columns, partition keys (strings) and
// location.
func ParquetTableInput(name string, cols []Column, partitions []string, location string) TableInput {
	sd := &StorageDescriptor{
		Columns:      cols,
		InputFormat:  ptr("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"),
		OutputFormat: ptr("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"),
		SerdeInfo:    &SerDeInfo{SerializationLibrary: ptr("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")},
	}
	if location != "" {
		sd.Location = ptr(location)
	}
	in := TableInput{Name: name, StorageDescriptor: sd, TableType: ptr("EXTERNAL_TABLE"),
		Parameters: map[string]string{"classification": "parquet", "hydrant:inferred": "true"}}
	for _, p := range partitions {
		in.PartitionKeys = append(in.PartitionKeys, Column{Name: p, Type: "string"})
	}
	return in
}
