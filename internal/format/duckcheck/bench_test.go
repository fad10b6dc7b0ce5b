package duckcheck

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/format"
)

// benchColumns is a typical clickstream event: the recipe's kind of table.
var benchColumns = []format.Column{
	{Name: "event_id", Type: "string"}, {Name: "user_id", Type: "bigint"}, {Name: "session", Type: "string"},
	{Name: "event_type", Type: "string"}, {Name: "page", Type: "string"}, {Name: "price", Type: "double"},
	{Name: "quantity", Type: "int"}, {Name: "is_mobile", Type: "boolean"}, {Name: "event_time", Type: "timestamp"},
	{Name: "tags", Type: "array<string>"},
}

// duckColumns is the same schema for read_json(columns = ...).
const duckColumns = `{event_id: 'VARCHAR', user_id: 'BIGINT', session: 'VARCHAR', event_type: 'VARCHAR', page: 'VARCHAR',
 price: 'DOUBLE', quantity: 'INTEGER', is_mobile: 'BOOLEAN', event_time: 'TIMESTAMPTZ', tags: 'VARCHAR[]'}`

// nestedColumns is an order with nested structs, an array of structs and
// a map.
var nestedColumns = []format.Column{
	{Name: "order_id", Type: "string"},
	{Name: "customer", Type: "struct<id:string,tier:string,geo:struct<country:string,lat:double,lon:double>>"},
	{Name: "items", Type: "array<struct<sku:string,qty:int,price:double>>"},
	{Name: "attrs", Type: "map<string,string>"}, {Name: "total", Type: "double"}, {Name: "placed_at", Type: "timestamp"},
}

const duckNested = `{order_id: 'VARCHAR', customer: 'STRUCT(id VARCHAR, tier VARCHAR, geo STRUCT(country VARCHAR, lat DOUBLE, lon DOUBLE))',
 items: 'STRUCT(sku VARCHAR, qty INTEGER, price DOUBLE)[]', attrs: 'MAP(VARCHAR, VARCHAR)', total: 'DOUBLE', placed_at: 'TIMESTAMPTZ'}`

// workload is a table and the NDJSON records that fill it.
type workload struct {
	name    string
	columns []format.Column
	duck    string
	write   func(w io.Writer, r *rand.Rand, i int)
}

var workloads = []workload{
	{"flat", benchColumns, duckColumns, func(w io.Writer, r *rand.Rand, i int) {
		types := []string{"click", "view", "purchase", "scroll", "signup"}
		at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond * 37)
		fmt.Fprintf(w, `{"event_id":"e-%08d-%04x","user_id":%d,"session":"s-%06d","event_type":"%s","page":"/products/%d?ref=home",`+
			`"price":%.2f,"quantity":%d,"is_mobile":%t,"event_time":"%s","tags":["t%d","t%d"]}`+"\n",
			i, r.IntN(1<<16), r.IntN(1_000_000), r.IntN(50_000), types[r.IntN(len(types))], r.IntN(5000),
			r.Float64()*500, 1+r.IntN(9), r.IntN(2) == 0, at.Format("2006-01-02T15:04:05.000Z"), r.IntN(20), r.IntN(20))
	}},
	{"nested", nestedColumns, duckNested, func(w io.Writer, r *rand.Rand, i int) {
		tiers := []string{"free", "silver", "gold"}
		at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond * 37)
		fmt.Fprintf(w, `{"order_id":"o-%08d","customer":{"id":"c-%06d","tier":"%s","geo":{"country":"DE","lat":%.4f,"lon":%.4f}},`+
			`"items":[{"sku":"s-%04d","qty":%d,"price":%.2f},{"sku":"s-%04d","qty":%d,"price":%.2f}],`+
			`"attrs":{"channel":"web","campaign":"c%d"},"total":%.2f,"placed_at":"%s"}`+"\n",
			i, r.IntN(100_000), tiers[r.IntN(3)], 47+r.Float64()*8, 6+r.Float64()*9,
			r.IntN(5000), 1+r.IntN(5), r.Float64()*100, r.IntN(5000), 1+r.IntN(5), r.Float64()*100,
			r.IntN(50), r.Float64()*1000, at.Format("2006-01-02T15:04:05.000Z"))
	}},
}

// writeRecords writes n NDJSON records of a workload to path.
func writeRecords(tb testing.TB, wl workload, path string, n int) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range n {
		wl.write(w, r, i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	st, _ := f.Stat()
	f.Close()
	return st.Size()
}

// cpuTime is the process's user and system CPU time so far (DuckDB's
// threads included: the two sides run one after the other).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// convertFile runs hydrant's converter over an NDJSON file, one record per
// line (as Firehose receives them), into a Parquet file. The file is read
// as a stream, as delivery reads its log.
func convertFile(tb testing.TB, p *format.Parquet, in, out string) int {
	tb.Helper()
	src, err := os.Open(in)
	if err != nil {
		tb.Fatal(err)
	}
	defer src.Close()
	r := bufio.NewReaderSize(src, 1<<20)
	f, err := os.Create(out)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	enc, err := p.NewEncoder(bw)
	if err != nil {
		tb.Fatal(err)
	}
	rows := 0
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			if err := enc.Encode(deliver.Rec{Data: bytes.TrimSuffix(line, []byte("\n"))}); err != nil {
				tb.Fatal(err)
			}
			rows++
		}
		if err != nil {
			break
		}
	}
	if err := enc.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	return rows
}

// BenchmarkConvertVsDuckDB converts the same NDJSON file with the same
// explicit schema with hydrant and with DuckDB (read_json into COPY ...
// (FORMAT parquet, COMPRESSION snappy)) and reports both rates and their
// ratio (hydrant/duckdb; above 1 means hydrant is faster). The two take
// turns, BENCH_ROUNDS times (5), so that other load on the machine hits
// both: it reports the best time of each, the median of the rounds'
// ratios, and the CPU time per row. Run with -benchtime=1x; BENCH_ROWS sets
// the file size (default 1,000,000 rows).
func BenchmarkConvertVsDuckDB(b *testing.B) {
	for _, wl := range workloads {
		b.Run(wl.name, func(b *testing.B) { benchmarkVsDuckDB(b, wl) })
	}
}

func benchmarkVsDuckDB(b *testing.B, wl workload) {
	rows := 1_000_000
	if v := os.Getenv("BENCH_ROWS"); v != "" {
		fmt.Sscan(v, &rows)
	}
	dir := b.TempDir()
	in := filepath.Join(dir, "records.ndjson")
	size := writeRecords(b, wl, in, rows)
	db := openDuck(b)
	p, err := format.NewParquet(wl.columns, format.Deserializer{CaseInsensitive: true}, format.ParquetOptions{Dictionary: true})
	if err != nil {
		b.Fatal(err)
	}
	// The two run alternately, rounds times each, and the best time of
	// each counts: other load on the machine hits both alike.
	rounds := 5
	if v := os.Getenv("BENCH_ROUNDS"); v != "" {
		fmt.Sscan(v, &rounds)
	}
	hydrant, duck := time.Duration(1<<62), time.Duration(1<<62)
	var hydrantCPU, duckCPU time.Duration
	var ratios []float64
	b.ResetTimer()
	for range b.N * rounds {
		start, cpu := time.Now(), cpuTime()
		if n := convertFile(b, p, in, filepath.Join(dir, "hydrant.parquet")); n != rows {
			b.Fatalf("converted %d rows", n)
		}
		took := time.Since(start)
		hydrant = min(hydrant, took)
		hydrantCPU += cpuTime() - cpu

		start, cpu = time.Now(), cpuTime()
		q := fmt.Sprintf(`COPY (SELECT * FROM read_json('%s', format = 'newline_delimited', columns = %s))
			TO '%s' (FORMAT parquet, COMPRESSION snappy)`, in, strings.ReplaceAll(wl.duck, "\n", ""), filepath.Join(dir, "duck.parquet"))
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
		duck = min(duck, time.Since(start))
		duckCPU += cpuTime() - cpu
		ratios = append(ratios, time.Since(start).Seconds()/took.Seconds())
	}
	sort.Float64s(ratios)
	b.StopTimer()
	hr := float64(rows) / hydrant.Seconds()
	dr := float64(rows) / duck.Seconds()
	b.ReportMetric(hr, "hydrant_rows/s")
	b.ReportMetric(dr, "duckdb_rows/s")
	b.ReportMetric(hr/dr, "ratio")
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
	b.ReportMetric(float64(size)/float64(rows), "bytes/row")
	n := float64(rows * rounds * b.N)
	b.Logf("%s: %d rows, %d MiB NDJSON, GOMAXPROCS %d, best of %d: hydrant %.0f rows/s, duckdb %.0f rows/s, ratio %.2f "+
		"(median of the rounds' ratios %.2f, range %.2f-%.2f); CPU per row: hydrant %.2f µs, duckdb %.2f µs",
		wl.name, rows, size>>20, runtime.GOMAXPROCS(0), rounds, hr, dr, hr/dr, ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1],
		hydrantCPU.Seconds()/n*1e6, duckCPU.Seconds()/n*1e6)

	// Both files hold the same rows.
	got := queryStrings(b, db, fmt.Sprintf(`SELECT (SELECT count(*) FROM read_parquet('%[1]s/hydrant.parquet')),
		(SELECT count(*) FROM (SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet('%[1]s/hydrant.parquet')
		 EXCEPT SELECT CAST(COLUMNS(*) AS VARCHAR) FROM read_parquet('%[1]s/duck.parquet')))`, dir))
	if got[0][0] != fmt.Sprint(rows) || got[0][1] != "0" {
		b.Fatalf("hydrant's file differs from DuckDB's: %v", got)
	}
}
