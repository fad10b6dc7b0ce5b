package duckcheck

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/format"
)

// columns has every Hive type, nested ones included.
var columns = []format.Column{
	{Name: "b", Type: "boolean"}, {Name: "ti", Type: "tinyint"}, {Name: "si", Type: "smallint"},
	{Name: "i", Type: "int"}, {Name: "bi", Type: "bigint"}, {Name: "f", Type: "float"},
	{Name: "d", Type: "double"}, {Name: "dec", Type: "decimal(10,2)"}, {Name: "dec18", Type: "decimal(18,3)"},
	{Name: "dec38", Type: "decimal(38,4)"}, {Name: "s", Type: "string"}, {Name: "c", Type: "char(3)"},
	{Name: "vc", Type: "varchar(4)"}, {Name: "bin", Type: "binary"}, {Name: "dt", Type: "date"},
	{Name: "ts", Type: "timestamp"}, {Name: "arr", Type: "array<int>"},
	{Name: "m", Type: "map<string,bigint>"},
	{Name: "st", Type: "struct<x:int,y:array<struct<z:string,w:map<int,array<double>>>>>"},
	{Name: "deep", Type: "array<array<map<string,struct<q:array<boolean>>>>>"},
}

// wantTypes are the DuckDB types each column must read as.
var wantTypes = []string{
	"BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL(10,2)",
	"DECIMAL(18,3)", "DECIMAL(38,4)", "VARCHAR", "VARCHAR", "VARCHAR", "BLOB", "DATE",
	"TIMESTAMP WITH TIME ZONE", "INTEGER[]", "MAP(VARCHAR, BIGINT)",
	"STRUCT(x INTEGER, y STRUCT(z VARCHAR, w MAP(INTEGER, DOUBLE[]))[])",
	"MAP(VARCHAR, STRUCT(q BOOLEAN[]))[][]",
}

// records and want: each record, then the row DuckDB must read back, one
// string per column (CAST(col AS VARCHAR); blobs as hex, timestamps as
// epoch microseconds).
var cases = []struct {
	name string
	rec  string
	want []string
}{
	{"native JSON types",
		`{"b":true,"ti":-128,"si":32767,"i":-2147483648,"bi":9223372036854775807,"f":1.5,"d":-2.25e-3,` +
			`"dec":12.345,"dec18":-123456789012345.6785,"dec38":"-123456789012345678901234.56789",` +
			`"s":"h\u00e9llo \"w\"\n","c":"abcdef","vc":"h\u00e9llo!","bin":"abc","dt":"2024-02-29",` +
			`"ts":"2024-01-02T03:04:05.123456Z","arr":[1,null,3],"m":{"K":1,"b":null},` +
			`"st":{"x":7,"y":[{"z":"a","w":{"1":[1.5,null]}},null,{}]},` +
			`"deep":[[{"k":{"q":[true,null,false]}}],[],null]}`,
		[]string{"true", "-128", "32767", "-2147483648", "9223372036854775807", "1.5", "-0.00225", "12.35",
			"-123456789012345.679", "-123456789012345678901234.5679", "héllo \"w\"\n", "abc", "héll", "616263",
			"2024-02-29", "1704164645123456", "[1, NULL, 3]", "{k=1, b=NULL}",
			"{'x': 7, 'y': [{'z': a, 'w': {1=[1.5, NULL]}}, NULL, {'z': NULL, 'w': NULL}]}",
			"[[{k={'q': [true, NULL, false]}}], [], NULL]"}},
	{"all missing", `{}`,
		[]string{"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
			"NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"}},
	{"OpenX coercions",
		`{"B":"TRUE","TI":"12","si":1.9,"i":"-7","bi":"42","f":"2.5","d":"1e3","dec":"-0.005",` +
			`"dec18":0,"dec38":1e20,"s":12.50,"c":true,"vc":{"a":1},"bin":"","dt":"2024-01-02 10:00:00",` +
			`"ts":1700000000,"arr":[],"m":{},"st":{"y":[]},"deep":[[{}]]}`,
		[]string{"true", "12", "1", "-7", "42", "2.5", "1000.0", "-0.01", "0.000", "100000000000000000000.0000",
			"12.50", "tru", "{\"a\"", "", "2024-01-02", "1700000000000000", "[]", "{}", "{'x': NULL, 'y': []}",
			"[[{}]]"}},
	{"epoch millis and fractions", `{"ts":1700000000123}{"ts":"1700000000.5"}{"ts":"2024-3-4 5:06:07.8"}`, nil},
}

func TestDuckDBReadsEveryType(t *testing.T) {
	p, err := format.NewParquet(columns, format.Deserializer{CaseInsensitive: true}, format.ParquetOptions{Dictionary: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc, err := p.NewEncoder(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		if err := enc.Encode(deliver.Rec{Data: []byte(c.rec)}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "x.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDuck(t)

	// Types.
	rows, err := db.Query("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet(?))", path)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		if name != columns[i].Name || typ != wantTypes[i] {
			t.Errorf("column %d: %s %s, want %s %s", i, name, typ, columns[i].Name, wantTypes[i])
		}
		i++
	}
	rows.Close()
	if i != len(columns) {
		t.Fatalf("%d columns", i)
	}

	// Values.
	var sel []string
	for _, c := range columns {
		switch c.Type {
		case "binary":
			sel = append(sel, "hex("+c.Name+")")
		case "timestamp":
			sel = append(sel, "CAST(epoch_us("+c.Name+") AS VARCHAR)")
		default:
			sel = append(sel, "CAST("+c.Name+" AS VARCHAR)")
		}
	}
	got := queryStrings(t, db, "SELECT "+strings.Join(sel, ", ")+" FROM read_parquet(?)", path)
	if len(got) != 6 {
		t.Fatalf("%d rows", len(got))
	}
	for r, c := range cases {
		if c.want == nil {
			continue
		}
		for col, w := range c.want {
			if got[r][col] != w {
				t.Errorf("%s: column %s = %q, want %q", c.name, columns[col].Name, got[r][col], w)
			}
		}
	}
	ts := []string{got[3][15], got[4][15], got[5][15]}
	if want := []string{"1700000000123000", "1700000000500000", "1709528767800000"}; strings.Join(ts, ",") != strings.Join(want, ",") {
		t.Errorf("timestamps %v, want %v", ts, want)
	}
}

func openDuck(t testing.TB) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryStrings runs a query whose columns are all VARCHAR and returns its
// rows, NULL as "NULL".
func queryStrings(t testing.TB, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDuckDBReadsEveryOption writes the same records with every
// ParquetSerDe setting (codecs, page versions, dictionary on and off,
// small pages and row groups) and checks that DuckDB reads the same rows
// from each, and the codec and row groups asked for.
func TestDuckDBReadsEveryOption(t *testing.T) {
	var recs []string
	for i := range 3000 {
		for _, c := range cases {
			recs = append(recs, strings.ReplaceAll(c.rec, `"i":-2147483648`, `"i":`+strconv.Itoa(i)))
		}
	}
	db := openDuck(t)
	dir := t.TempDir()
	var want [][]string
	for i, o := range []format.ParquetOptions{
		{Dictionary: true},
		{Compression: "GZIP", WriterVersion: "V2"},
		{Compression: "UNCOMPRESSED", Dictionary: true, WriterVersion: "V2", PageSize: 4 << 10},
		{Compression: "SNAPPY", PageSize: 1 << 10, BlockSize: 64 << 10},
	} {
		p, err := format.NewParquet(columns, format.Deserializer{CaseInsensitive: true}, o)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		enc, _ := p.NewEncoder(&buf)
		for _, r := range recs {
			if err := enc.Encode(deliver.Rec{Data: []byte(r)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("%d.parquet", i))
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got := queryStrings(t, db, "SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet(?)", path)
		if want == nil {
			want = got
		} else if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("options %+v: rows differ", o)
		}
		meta := queryStrings(t, db, "SELECT DISTINCT compression, CAST(count(DISTINCT row_group_id) OVER () AS VARCHAR) FROM parquet_metadata(?)", path)
		codec := o.Compression
		if codec == "" {
			codec = "SNAPPY"
		}
		if len(meta) != 1 || meta[0][0] != codec {
			t.Errorf("options %+v: metadata %v", o, meta)
		}
		if o.BlockSize > 0 && meta[0][1] == "1" {
			t.Errorf("options %+v: one row group", o)
		}
	}
}

// TestDuckDBReadsAllNulls: columns with no value at all in a file (every
// record lacks them) read as nulls with their types.
func TestDuckDBReadsAllNulls(t *testing.T) {
	for _, o := range []format.ParquetOptions{{Dictionary: true}, {WriterVersion: "V2", Dictionary: true}} {
		p, err := format.NewParquet(columns, format.Deserializer{CaseInsensitive: true}, o)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		enc, _ := p.NewEncoder(&buf)
		for range 3 {
			if err := enc.Encode(deliver.Rec{Data: []byte(`{"unknown":1}`)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "null.parquet")
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		got := queryStrings(t, openDuck(t), "SELECT count(*)::VARCHAR, count(COLUMNS(*))::VARCHAR FROM read_parquet(?)", path)
		want := []string{"3"}
		for range columns {
			want = append(want, "0")
		}
		if fmt.Sprint(got) != fmt.Sprint([][]string{want}) {
			t.Fatalf("options %+v: %v", o, got)
		}
	}
}

// TestDuckDBReadsWideAndLarge: a 300-column table (pages handed over
// before they fill, to bound memory), values of nearly a megabyte, and
// several row groups.
func TestDuckDBReadsWideAndLarge(t *testing.T) {
	var cols []format.Column
	for i := range 300 {
		typ := []string{"string", "bigint", "double", "array<string>"}[i%4]
		cols = append(cols, format.Column{Name: fmt.Sprintf("c%03d", i), Type: typ})
	}
	p, err := format.NewParquet(cols, format.Deserializer{CaseInsensitive: true},
		format.ParquetOptions{Dictionary: true, PageSize: 64 << 10, BlockSize: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc, _ := p.NewEncoder(&buf)
	big := strings.Repeat("x", 900<<10)
	const n = 400
	for r := range n {
		var b strings.Builder
		b.WriteString("{")
		for i := range 300 {
			if i > 0 {
				b.WriteString(",")
			}
			switch i % 4 {
			case 0:
				v := fmt.Sprintf("v%d-%d", r, i)
				if i == 0 && r%100 == 7 {
					v = big
				}
				fmt.Fprintf(&b, `"c%03d":%q`, i, v)
			case 1:
				fmt.Fprintf(&b, `"c%03d":%d`, i, r*1000+i)
			case 2:
				fmt.Fprintf(&b, `"c%03d":%d.5`, i, r)
			case 3:
				fmt.Fprintf(&b, `"c%03d":["a%d","b"]`, i, r)
			}
		}
		b.WriteString("}")
		if err := enc.Encode(deliver.Rec{Data: []byte(b.String())}); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "wide.parquet")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	db := openDuck(t)
	got := queryStrings(t, db, `SELECT count(*)::VARCHAR, sum(c001)::VARCHAR, sum(length(c000))::VARCHAR,
		max(c299[1]), sum(c298)::VARCHAR FROM read_parquet(?)`, path)
	wantLen := 0
	for r := range n {
		if r%100 == 7 {
			wantLen += 900 << 10
		} else {
			wantLen += len(fmt.Sprintf("v%d-0", r))
		}
	}
	want := []string{fmt.Sprint(n), fmt.Sprint(n*(n-1)/2*1000 + n), fmt.Sprint(wantLen), "a99", fmt.Sprintf("%.1f", float64(n*(n-1)/2)+0.5*n)}
	if fmt.Sprint(got) != fmt.Sprint([][]string{want}) {
		t.Fatalf("got %v, want %v", got, want)
	}
	groups := queryStrings(t, db, "SELECT count(DISTINCT row_group_id)::VARCHAR FROM parquet_metadata(?)", path)
	if groups[0][0] == "1" {
		t.Error("one row group")
	}
}

// TestDuckDBReadsStringStatistics: a string column's chunk statistics as
// DuckDB reads them, for PLAIN and dictionary pages; an empty string is a
// minimum like any other, so min_value is written for it (a reader
// without it cannot skip the row group).
func TestDuckDBReadsStringStatistics(t *testing.T) {
	cols := []format.Column{{Name: "s", Type: "string"}, {Name: "v", Type: "varchar(3)"}}
	cases := []struct {
		name string
		recs []string
		want [][]string // per column: name, min_value, max_value
	}{
		{"empty smallest", []string{`{"s":"b","v":"b"}`, `{}`, `{"s":"","v":""}`, `{"s":"a","v":"a"}`}, [][]string{{"s", "", "b"}, {"v", "", "b"}}},
		{"only empty", []string{`{"s":"","v":""}`, `{"s":"","v":""}`}, [][]string{{"s", "", ""}, {"v", "", ""}}},
		{"no empty", []string{`{"s":"kiwi","v":"kiwi"}`, `{"s":"apple","v":"apple"}`}, [][]string{{"s", "apple", "kiwi"}, {"v", "app", "kiw"}}},
	}
	db := openDuck(t)
	dir := t.TempDir()
	for i, tc := range cases {
		for j, o := range []format.ParquetOptions{{Dictionary: true}, {}, {WriterVersion: "V2", Dictionary: true}} {
			p, err := format.NewParquet(cols, format.Deserializer{CaseInsensitive: true}, o)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc, _ := p.NewEncoder(&buf)
			for _, r := range tc.recs {
				if err := enc.Encode(deliver.Rec{Data: []byte(r)}); err != nil {
					t.Fatal(err)
				}
			}
			if err := enc.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, fmt.Sprintf("stats-%d-%d.parquet", i, j))
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			got := queryStrings(t, db, `SELECT path_in_schema, coalesce(stats_min_value, '<absent>'), coalesce(stats_max_value, '<absent>')
				FROM parquet_metadata(?) ORDER BY column_id`, path)
			want := tc.want
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s, options %+v: statistics %q, want %q", tc.name, o, got, want)
			}
		}
	}
}
