package format

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

// FuzzConvert feeds arbitrary records to the converter with a table of
// every type: it must never panic, every record either converts or fails
// with a ConversionError, and the file must read back (with parquet-go's
// reader) with exactly the rows of the records that converted.
func FuzzConvert(f *testing.F) {
	for _, s := range []string{
		`{"b":true,"ti":1,"si":2,"i":3,"bi":4,"f":1.5,"d":2.5,"dec":"1.25","dec38":-1e20,"s":"x","c":"abcd","vc":"\u00e9","bin":"b","dt":"2024-01-02","ts":"2024-01-02T03:04:05Z","arr":[1,null],"m":{"k":1},"st":{"x":1,"y":[{"z":"q"}]}}`,
		`{"i":1}{"i":2}`, `[1]`, `{"arr":[[1]]}`, `{"m":{"a":"b"}}`, `{"st":{"y":null}}`, `{"s":{"a":[1,{"b":2}]}}`,
		`{"ts":1700000000123}`, `{"dec38":"99999999999999999999999999999999.99995"}`, "{\"s\":\"\xff\\ud800\"}", `{"I":1,"i":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		variants := []struct {
			d Deserializer
			o ParquetOptions
		}{
			{Deserializer{CaseInsensitive: true}, ParquetOptions{Dictionary: true, PageSize: 1 << 10}},
			{Deserializer{Hive: true, TimestampFormats: []string{"millis", "yyyy-MM-dd'T'HH:mm:ssZ"}},
				ParquetOptions{WriterVersion: "V2", Compression: "GZIP", PageSize: 1 << 10, BlockSize: 4 << 10}},
		}
		for _, v := range variants {
			p, err := NewParquet(allTypes, v.d, v.o)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc, err := p.NewEncoder(&buf)
			if err != nil {
				t.Fatal(err)
			}
			rows := 0
			for _, rec := range bytes.Split(data, []byte("\n")) {
				err := enc.Encode(deliver.Rec{Data: rec})
				var ce *deliver.ConversionError
				switch {
				case err == nil:
					rows += countObjects(rec)
				case errors.As(err, &ce):
				default:
					t.Fatalf("record %q: %v", rec, err)
				}
			}
			if err := enc.Close(); err != nil {
				t.Fatal(err)
			}
			file, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
			if err != nil {
				t.Fatalf("unreadable file: %v", err)
			}
			if file.NumRows() != int64(rows) {
				t.Fatalf("%d rows in the file, %d converted", file.NumRows(), rows)
			}
			r := parquet.NewReader(file)
			got := 0
			batch := make([]parquet.Row, 16)
			for {
				n, err := r.ReadRows(batch)
				got += n
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("read rows: %v", err)
				}
			}
			if got != rows {
				t.Fatalf("read %d rows, want %d", got, rows)
			}
		}
	})
}

// countObjects counts the top-level JSON values of a record that converted
// (each is an object, hence a row).
func countObjects(rec []byte) int {
	s := scanner{b: rec}
	n := 0
	for s.next() != 0 {
		if s.skip(0) != nil {
			return n
		}
		n++
	}
	return n
}

// FuzzParseType: Hive type strings come from any Glue client; parsing
// never panics, and what parses prints back to a string that parses to
// the same type.
func FuzzParseType(f *testing.F) {
	for _, s := range []string{"int", "array<struct<a:int,b:map<string,decimal(10,2)>>>", "struct<`x y`:char(3)>",
		"map<int,array<array<varchar(5)>>>", "decimal", "double precision", "uniontype<int>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		typ, err := ParseType(s)
		if err != nil {
			return
		}
		again, err := ParseType(typ.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", s, typ, err)
		}
		if err == nil && again.String() != typ.String() {
			t.Fatalf("%q: %q then %q", s, typ, again)
		}
	})
}
