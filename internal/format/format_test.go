package format

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

func TestParseType(t *testing.T) {
	for in, want := range map[string]string{
		"INT":                                "int",
		"integer":                            "int",
		"decimal":                            "decimal(10,0)",
		"decimal(38, 9)":                     "decimal(38,9)",
		"varchar(10)":                        "varchar(10)",
		"array<struct<a:int,B:string>>":      "array<struct<a:int,B:string>>",
		"map<string,array<map<int,double>>>": "map<string,array<map<int,double>>>",
		"struct<`x y`:bigint>":               "struct<`x y`:bigint>",
		"double precision":                   "double",
	} {
		got, err := ParseType(in)
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		if got.String() != want {
			t.Errorf("%s: got %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"", "int<", "array<int", "map<array<int>,int>", "uniontype<int,string>",
		"set<int>", "decimal(40,2)", "decimal(5,6)", "char(0)", "struct<>", "struct<a:int,a:int>", "foo", "int int"} {
		if _, err := ParseType(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

var allTypes = []Column{
	{"b", "boolean"}, {"ti", "tinyint"}, {"si", "smallint"}, {"i", "int"}, {"bi", "bigint"},
	{"f", "float"}, {"d", "double"}, {"dec", "decimal(10,2)"}, {"dec38", "decimal(38,4)"},
	{"s", "string"}, {"c", "char(3)"}, {"vc", "varchar(4)"}, {"bin", "binary"}, {"dt", "date"},
	{"ts", "timestamp"}, {"arr", "array<int>"}, {"m", "map<string,bigint>"},
	{"st", "struct<x:int,y:array<struct<z:string>>>"},
}

// encode converts records with a fresh encoder and returns the file and the
// per-record errors.
func encode(t *testing.T, cols []Column, d Deserializer, recs ...string) ([]byte, []error) {
	t.Helper()
	p, err := NewParquet(cols, d, ParquetOptions{Dictionary: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc, err := p.NewEncoder(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, r := range recs {
		errs = append(errs, enc.Encode(deliver.Rec{Data: []byte(r)}))
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), errs
}

func TestConvertErrors(t *testing.T) {
	openx := Deserializer{CaseInsensitive: true}
	hive := Deserializer{Hive: true}
	cases := []struct {
		name string
		d    Deserializer
		rec  string
		code string // "" means converted
	}{
		{"object", openx, `{"i":1}`, ""},
		{"concatenated", openx, `{"i":1}{"i":2} {"i":3}`, ""},
		{"array", openx, `[{"i":1}]`, CodeParseError},
		{"not json", openx, `hello`, CodeParseError},
		{"truncated", openx, `{"i":1`, CodeParseError},
		{"empty", openx, ``, CodeParseError},
		{"bad after good", openx, `{"i":1}{`, CodeParseError},
		{"number for object", openx, `5`, CodeParseError},
		{"string for int", openx, `{"i":"12"}`, ""},
		{"word for int", openx, `{"i":"oops"}`, CodeMalformedData},
		{"int overflow", openx, `{"ti":300}`, CodeMalformedData},
		{"fraction for int", openx, `{"i":1.9}`, ""},
		{"word for double", openx, `{"d":"oops"}`, CodeMalformedData},
		{"object for int", openx, `{"i":{}}`, CodeMalformedData},
		{"malformed then broken", openx, `{"i":"x"`, CodeParseError},
		{"decimal overflow", openx, `{"dec":123456789.5}`, CodeMalformedData},
		{"decimal ok", openx, `{"dec":"12345678.125"}`, ""},
		{"bad date", openx, `{"dt":"2024-02-30"}`, CodeMalformedData},
		{"epoch", openx, `{"ts":1700000000}`, ""},
		{"iso ts", openx, `{"ts":"2024-01-02T03:04:05.123456789+02:00"}`, ""},
		{"bad ts", openx, `{"ts":"yesterday"}`, CodeMalformedData},
		{"nested to string", openx, `{"s":{"a":[1,2]}}`, ""},
		{"duplicate key", openx, `{"i":1,"I":2}`, CodeMalformedData},
		{"map of wrong values", openx, `{"m":{"a":"x"}}`, CodeMalformedData},
		{"array for map", openx, `{"m":[1]}`, CodeMalformedData},
		{"hive string for int", hive, `{"i":"12"}`, CodeMalformedData},
		{"hive number for string", hive, `{"s":12}`, ""},
		{"hive boolean for string", hive, `{"s":true}`, ""},
		{"hive number for binary", hive, `{"bin":12}`, CodeMalformedData},
		{"hive nested to string", hive, `{"s":{"a":1}}`, CodeMalformedData},
		{"hive number", hive, `{"i":12,"ts":"2024-01-02 03:04:05"}`, ""},
		{"hive iso ts", hive, `{"ts":"2024-01-02"}`, CodeMalformedData},
		// Without TimestampFormats, and when none of them matches, only
		// java.sql.Timestamp.valueOf's form is read: no 'T', no zone,
		// seconds required.
		{"hive ts with T", hive, `{"ts":"2024-01-02T03:04:05"}`, CodeMalformedData},
		{"hive ts with zone", hive, `{"ts":"2024-01-02 03:04:05Z"}`, CodeMalformedData},
		{"hive ts with offset", hive, `{"ts":"2024-01-02 03:04:05+02:00"}`, CodeMalformedData},
		{"hive ts without seconds", hive, `{"ts":"2024-01-02 03:04"}`, CodeMalformedData},
		{"hive ts with 10 fraction digits", hive, `{"ts":"2024-01-02 03:04:05.1234567891"}`, CodeMalformedData},
		{"hive ts with a bare dot", hive, `{"ts":"2024-01-02 03:04:05."}`, CodeMalformedData},
		{"hive ts short fields", hive, `{"ts":" 2024-1-2 3:4:5.123456789 "}`, ""},
		{"hive formats then iso", Deserializer{Hive: true, TimestampFormats: []string{"dd/MMM/yyyy:HH:mm:ss Z"}}, `{"ts":"2024-01-02T03:04:05Z"}`, CodeMalformedData},
		{"hive formats then sql", Deserializer{Hive: true, TimestampFormats: []string{"dd/MMM/yyyy:HH:mm:ss Z"}}, `{"ts":"2024-01-02 03:04:05"}`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := encode(t, allTypes, tc.d, `{"i":0}`, tc.rec)
			if errs[0] != nil {
				t.Fatalf("control record: %v", errs[0])
			}
			err := errs[1]
			var ce *deliver.ConversionError
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.code != "" && !errors.As(err, &ce):
				t.Fatalf("got %v, want %s", err, tc.code)
			case tc.code != "" && ce.Code != tc.code:
				t.Fatalf("got %s (%s), want %s", ce.Code, ce.Message, tc.code)
			}
		})
	}
}

func TestRowsReadBack(t *testing.T) {
	b, errs := encode(t, allTypes, Deserializer{CaseInsensitive: true},
		`{"B":true,"i":1,"arr":[1,null,3],"m":{"K":1},"st":{"x":1,"y":[{"z":"a"},null,{}]}}{"i":2}`,
		`{"oops"`,
		`{"i":3,"arr":[],"m":{},"st":null}`,
	)
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("errors %v", errs)
	}
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if f.NumRows() != 3 {
		t.Fatalf("rows %d", f.NumRows())
	}
	rows := make([]parquet.Row, 3)
	r := parquet.NewReader(f)
	n, err := r.ReadRows(rows)
	if n != 3 {
		t.Fatalf("read %d rows: %v", n, err)
	}
	if got := rows[0][3].Int32(); got != 1 { // column i
		t.Fatalf("i = %v", rows[0][3])
	}
}

func TestCivilMicros(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC),
		time.Date(1900, 3, 1, 1, 2, 3, 4000, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 12, 0, 0, 0, time.UTC), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		got := civilMicros(tm.Year(), int(tm.Month()), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), tm.Nanosecond())
		if got != tm.UnixMicro() {
			t.Errorf("%s: %d, want %d", tm, got, tm.UnixMicro())
		}
	}
	for x := range 300 {
		b := []byte("abcdefgh")
		b[x%8] = byte(x)
		want := false
		for _, c := range b {
			want = want || !plainByte[c]
		}
		if got := specialIn(binary.LittleEndian.Uint64(b)); got != want {
			t.Errorf("specialIn(%q) = %v", b, got)
		}
	}
}

func TestFastFloat(t *testing.T) {
	for _, s := range []string{"0", "1", "-1", "123.45", "0.1", "0.3", "-0.000001", "999999999999999", "123456.789012345",
		"1.7976931348623157", "3.14159265358979", "0.0000000000000000000001", "42.", "-", "", "1e5", "1.2.3", "0.000"} {
		f, ok := fastFloat([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if ok && (err != nil || f != want || math.Signbit(f) != math.Signbit(want)) {
			t.Errorf("fastFloat(%q) = %v, strconv says %v (%v)", s, f, want, err)
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 100000 {
		s := strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(12)-4)), 'f', r.IntN(10), 64)
		f, ok := fastFloat([]byte(s))
		want, _ := strconv.ParseFloat(s, 64)
		if ok && f != want {
			t.Fatalf("fastFloat(%q) = %v, want %v", s, f, want)
		}
	}
}

// An encoder whose records all failed is abandoned without Close by the
// delivery loop (no object is written): it must not leave a goroutine.
func TestAbandonedEncoderLeavesNoGoroutine(t *testing.T) {
	p, err := NewParquet(allTypes, Deserializer{CaseInsensitive: true}, ParquetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for range 50 {
		enc, _ := p.NewEncoder(io.Discard)
		for range 100 {
			if enc.Encode(deliver.Rec{Data: []byte("not json")}) == nil {
				t.Fatal("converted")
			}
		}
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines before, %d after", before, after)
	}
}

// readColumn reads back one top-level primitive column of every row, as
// strings ("null" for nulls), with parquet-go's reader.
func readColumn(t *testing.T, b []byte, col int) []string {
	t.Helper()
	f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]parquet.Row, f.NumRows())
	n, err := parquet.NewReader(f).ReadRows(rows)
	if n != len(rows) {
		t.Fatalf("read %d rows: %v", n, err)
	}
	var out []string
	for _, r := range rows {
		v := r[col]
		switch {
		case v.IsNull():
			out = append(out, "null")
		case v.Kind() == parquet.ByteArray:
			out = append(out, string(v.ByteArray()))
		default:
			out = append(out, v.String())
		}
	}
	return out
}

func TestDeserializerOptions(t *testing.T) {
	cols := []Column{{"user_id", "string"}, {"ts", "timestamp"}, {"a_b", "int"}}
	cases := []struct {
		name string
		d    Deserializer
		recs []string
		col  int
		want string
	}{
		{"case-insensitive by default", Deserializer{CaseInsensitive: true}, []string{`{"User_ID":"u"}`}, 0, "u"},
		{"case-sensitive", Deserializer{}, []string{`{"User_ID":"u"}`, `{"user_id":"v"}`}, 0, "null v"},
		{"dots", Deserializer{CaseInsensitive: true, ConvertDots: true}, []string{`{"a.b":5}`}, 2, "5"},
		{"dots off", Deserializer{CaseInsensitive: true}, []string{`{"a.b":5}`}, 2, "null"},
		// A mapped column is read from its mapped key only, as OpenX does:
		// its own name is just another unknown key.
		{"column mapping", Deserializer{CaseInsensitive: true, ColumnToJSONKey: map[string]string{"ts": "timestamp"}},
			[]string{`{"timestamp":"1970-01-01T00:00:01Z"}`, `{"ts":2}`, `{"ts":3,"timestamp":4}`}, 1, "1000000 null 4000000"},
		{"column mapping reads only the mapped key", Deserializer{CaseInsensitive: true, ColumnToJSONKey: map[string]string{"a_b": "the-int"}},
			[]string{`{"the-int":1,"a_b":2}`, `{"a_b":8}`, `{"A_B":9,"The-Int":5}`}, 2, "1 null 5"},
		{"hive millis", Deserializer{Hive: true, TimestampFormats: []string{"millis"}}, []string{`{"ts":1500}`}, 1, "1500000"},
		{"hive joda", Deserializer{Hive: true, TimestampFormats: []string{"dd/MMM/yyyy:HH:mm:ss Z"}},
			[]string{`{"ts":"02/Jan/1970:00:00:01 +0100"}`}, 1, "82801000000"},
		{"hive default format", Deserializer{Hive: true, TimestampFormats: []string{"yyyy"}},
			[]string{`{"ts":"1970-01-01 00:00:03.5"}`, `{"ts":"1970-1-2 1:02:03.000004"}`, `{"ts":"1971"}`}, 1, "3500000 90123000004 31536000000000"},
		{"hive no formats", Deserializer{Hive: true},
			[]string{`{"ts":"1970-01-01 00:00:03.5"}`, `{"ts":"1970-1-2 1:02:03.000004"}`}, 1, "3500000 90123000004"},
		{"hive case-insensitive fields", Deserializer{Hive: true}, []string{`{"USER_ID":"x"}`}, 0, "x"},
		// A number or boolean in a string column is its JSON text, with
		// either SerDe (docs/FORMAT.md).
		{"hive scalars as text", Deserializer{Hive: true}, []string{`{"user_id":12}`, `{"user_id":true}`, `{"user_id":-1.50e3}`, `{"user_id":false}`}, 0, "12 true -1.50e3 false"},
		{"openx scalars as text", Deserializer{CaseInsensitive: true}, []string{`{"user_id":12}`, `{"user_id":true}`, `{"user_id":-1.50e3}`, `{"user_id":false}`}, 0, "12 true -1.50e3 false"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, errs := encode(t, cols, tc.d, tc.recs...)
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			got := readColumn(t, b, tc.col)
			if strings.Join(got, " ") != tc.want {
				t.Fatalf("got %v, want %s", got, tc.want)
			}
		})
	}
}
