package duckcheck

import (
	"bytes"
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/format"
)

// wantArrow are the Arrow types Apache Arrow's Parquet reader (the Go port
// of the C++ reader behind pyarrow) gives each column.
var wantArrow = []string{
	"bool", "int8", "int16", "int32", "int64", "float32", "float64", "decimal(10, 2)", "decimal(18, 3)",
	"decimal(38, 4)", "utf8", "utf8", "utf8", "binary", "date32", "timestamp[us, tz=UTC]", "list<element: int32, nullable>",
	"map<utf8, int64, items_nullable>",
	"struct<x: int32, y: list<element: struct<z: utf8, w: map<int32, list<element: float64, nullable>, items_nullable>>, nullable>>",
	"list<element: list<element: map<utf8, struct<q: list<element: bool, nullable>>, items_nullable>, nullable>, nullable>",
}

// TestArrowReadsEveryType reads hydrant's Parquet with Apache Arrow's
// reader: the types pyarrow users get, and every row.
func TestArrowReadsEveryType(t *testing.T) {
	for _, o := range []format.ParquetOptions{{Dictionary: true}, {WriterVersion: "V2", Compression: "GZIP"}} {
		p, err := format.NewParquet(columns, format.Deserializer{CaseInsensitive: true}, o)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		enc, _ := p.NewEncoder(&buf)
		for _, c := range cases {
			if err := enc.Encode(deliver.Rec{Data: []byte(c.rec)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		rdr, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		tbl, err := fr.ReadTable(context.Background())
		if err != nil {
			t.Fatalf("options %+v: %v", o, err)
		}
		if tbl.NumRows() != 6 {
			t.Errorf("options %+v: %d rows", o, tbl.NumRows())
		}
		for i, f := range tbl.Schema().Fields() {
			if f.Name != columns[i].Name || f.Type.String() != wantArrow[i] {
				t.Errorf("options %+v: column %d %s %s, want %s %s", o, i, f.Name, f.Type, columns[i].Name, wantArrow[i])
			}
		}
		tbl.Release()
	}
}
