package console

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/format"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

func TestDecodeContent(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, c := range []struct {
		name    string
		content string
		format  string
		check   func(t *testing.T, p *preview)
	}{
		{"processing failures", `{"rawData":"` + b64(`{"a":1}`) + `","errorCode":"Lambda.ProcessingFailedStatus","errorMessage":"no","attemptsMade":4,"arrivalTimestamp":1700000000000,"attemptEndingTimestamp":1700000001000,"lambdaArn":"arn:f"}` + "\n" +
			`{"rawData":"` + base64.StdEncoding.EncodeToString([]byte{0xff, 0x00, 0x01}) + `","errorCode":"Lambda.ProcessingFailedStatus","errorMessage":"bin","attemptsMade":1,"arrivalTimestamp":1,"attemptEndingTimestamp":2}` + "\n",
			"errors", func(t *testing.T, p *preview) {
				if len(p.Errors) != 2 {
					t.Fatalf("errors %+v", p.Errors)
				}
				e := p.Errors[0]
				if e.RawData == nil || *e.RawData != `{"a":1}` || e.ErrorCode != "Lambda.ProcessingFailedStatus" || e.AttemptsMade != 4 || e.LambdaARN != "arn:f" || e.RawSize != 7 {
					t.Errorf("first %+v", e)
				}
				if e := p.Errors[1]; e.RawData != nil || e.RawBase64 != "/wAB" || e.RawSize != 3 {
					t.Errorf("binary record %+v", e)
				}
			}},
		{"conversion failures", `{"attemptsMade":1,"arrivalTimestamp":1,"lastErrorCode":"DataFormatConversion.ParseError","lastErrorMessage":"bad","attemptEndingTimestamp":2,"rawData":"` + b64("not json") + `","sequenceNumber":"7","subSequenceNumber":0,"dataCatalogTable":{"tableName":"t"}}` + "\n",
			"errors", func(t *testing.T, p *preview) {
				e := p.Errors[0]
				if e.ErrorCode != "DataFormatConversion.ParseError" || e.ErrorMessage != "bad" || *e.RawData != "not json" || e.SequenceNumber != "7" || string(e.DataCatalogTable) != `{"tableName":"t"}` {
					t.Errorf("%+v", e)
				}
			}},
		{"JSON lines", "{\"a\":1}\n{\"a\": 2}\n", "records", func(t *testing.T, p *preview) {
			if strings.Join(p.Records, "|") != `{"a":1}|{"a": 2}` {
				t.Errorf("%q", p.Records)
			}
		}},
		{"JSON back to back", `{"a":1}{"a":2}[3]`, "records", func(t *testing.T, p *preview) {
			if strings.Join(p.Records, "|") != `{"a":1}|{"a":2}|[3]` {
				t.Errorf("%q", p.Records)
			}
		}},
		{"CSV lines", "a,b\r\n1,2\n", "records", func(t *testing.T, p *preview) {
			if strings.Join(p.Records, "|") != "a,b|1,2" {
				t.Errorf("%q", p.Records)
			}
		}},
		{"binary", "\x00\x01\x02ab", "binary", func(t *testing.T, p *preview) {
			if !strings.HasPrefix(p.Text, "00000000  00 01 02 61 62") {
				t.Errorf("%q", p.Text)
			}
		}},
		{"a rune cut at the end", "h\u00e9llo \u00e9"[:len("h\u00e9llo \u00e9")-1], "records", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &preview{}
			decodeContent(p, []byte(c.content))
			if p.Format != c.format {
				t.Fatalf("format %s, want %s", p.Format, c.format)
			}
			if c.check != nil {
				c.check(t, p)
			}
		})
	}
}

func TestPreviewRecordLimit(t *testing.T) {
	var b strings.Builder
	for i := range maxPreviewRecords + 5 {
		b.WriteString(`{"i":` + itoa(i) + "}\n")
	}
	p := &preview{}
	decodeContent(p, []byte(b.String()))
	if len(p.Records) != maxPreviewRecords || !p.Truncated {
		t.Fatalf("%d records, truncated %v", len(p.Records), p.Truncated)
	}
}

// TestPreviewObjects reads objects from a local store as the stream page
// does: compressed JSON lines in every format, and Parquet.
func TestPreviewObjects(t *testing.T) {
	store, err := objstore.NewLocal(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &Console{opts: Options{Objects: store}}
	ctx := context.Background()
	put := func(key string, write func(io.Writer) error) {
		t.Helper()
		if err := store.Put(ctx, "bkt", key, objstore.Meta{}, write); err != nil {
			t.Fatal(err)
		}
	}
	lines := "{\"n\":1}\n{\"n\":2}\n"
	for _, format := range []string{compress.Uncompressed, compress.GZIP, compress.ZIP, compress.Snappy, compress.HadoopSnappy} {
		key := "data/" + format + compress.Extension(format)
		put(key, func(w io.Writer) error {
			zw, err := compress.NewWriter(format, w, compress.Options{EntryName: "e"})
			if err != nil {
				return err
			}
			_, _ = io.WriteString(zw, lines)
			return zw.Close()
		})
		p, err := c.preview(httptest.NewRequest("GET", "/", nil), "bkt", key)
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if p.Compression != format || p.Format != "records" || strings.Join(p.Records, "|") != `{"n":1}|{"n":2}` || p.Size <= 0 {
			t.Errorf("%s: %+v", format, p)
		}
	}

	type row struct {
		ID    int32     `parquet:"id"`
		Name  string    `parquet:"name"`
		At    time.Time `parquet:"at,timestamp(millisecond)"`
		Price *float64  `parquet:"price,optional"`
	}
	price := 2.5
	var buf bytes.Buffer
	pw := parquet.NewGenericWriter[row](&buf)
	rows := []row{{1, "tea", time.UnixMilli(1700000000000).UTC(), &price}, {2, "cake", time.UnixMilli(1700000001000).UTC(), nil}}
	for range 60 {
		if _, err := pw.Write(rows); err != nil {
			t.Fatal(err)
		}
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	put("data/x.parquet", func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err })
	p, err := c.preview(httptest.NewRequest("GET", "/", nil), "bkt", "data/x.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if p.Format != "parquet" || p.TotalRows != 120 || len(p.Rows) != maxPreviewRecords || !p.Truncated {
		t.Fatalf("parquet preview: format %s, %d of %d rows", p.Format, len(p.Rows), p.TotalRows)
	}
	var names []string
	for _, col := range p.Columns {
		names = append(names, col.Name+":"+col.Type)
	}
	if got := strings.Join(names, " "); !strings.HasPrefix(got, "id:INT(32,true) name:STRING at:TIMESTAMP") || !strings.HasSuffix(got, "price:DOUBLE") {
		t.Errorf("columns %s", got)
	}
	if r := p.Rows[0]; r[0] != int64(1) && r[0] != int32(1) || r[1] != "tea" || r[2] != "2023-11-14T22:13:20Z" || r[3] != 2.5 {
		t.Errorf("first row %#v", r)
	}
	if r := p.Rows[1]; r[3] != nil {
		t.Errorf("second row's price %#v, want null", r[3])
	}
}

// TestPreviewHiveParquet previews what hydrant's own Parquet writer
// (internal/format) makes of a Glue table's types: decimals, timestamps
// and dates as a reader prints them, nested values as JSON.
func TestPreviewHiveParquet(t *testing.T) {
	var cols []format.Column
	for _, c := range [][2]string{{"id", "int"}, {"price", "decimal(8,2)"}, {"big", "decimal(20,3)"}, {"at", "timestamp"},
		{"day", "date"}, {"tags", "array<string>"}, {"s", "struct<a:int>"}} {
		cols = append(cols, format.Column{Name: c[0], Type: c[1]})
	}
	pq, err := format.NewParquet(cols, format.Deserializer{CaseInsensitive: true}, format.ParquetOptions{Dictionary: true})
	if err != nil {
		t.Fatal(err)
	}
	store, err := objstore.NewLocal(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = store.Put(context.Background(), "bkt", "x.parquet", objstore.Meta{}, func(w io.Writer) error {
		enc, err := pq.NewEncoder(w)
		if err != nil {
			return err
		}
		if err := enc.Encode(deliver.Rec{Data: []byte(`{"id":1,"price":3.5,"big":"-12345678901234567.891","at":"2026-06-30T12:34:56.789Z","day":"2026-06-30","tags":["x","y"],"s":{"a":7}}`)}); err != nil {
			return err
		}
		return enc.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	c := &Console{opts: Options{Objects: store}}
	p, err := c.preview(httptest.NewRequest("GET", "/", nil), "bkt", "x.parquet")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(p.Rows[0])
	if want := `[1,"3.50","-12345678901234567.891","2026-06-30T12:34:56.789Z","2026-06-30",["x","y"],{"a":7}]`; string(got) != want {
		t.Errorf("row %s\nwant %s", got, want)
	}
}
