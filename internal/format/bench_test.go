package format

import (
	"fmt"
	"io"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

var benchCols = []Column{
	{"event_id", "string"}, {"user_id", "bigint"}, {"session", "string"}, {"event_type", "string"},
	{"page", "string"}, {"price", "double"}, {"quantity", "int"}, {"is_mobile", "boolean"},
	{"event_time", "timestamp"}, {"tags", "array<string>"},
}

func benchRecords(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = appendEvent(nil, i)
	}
	return out
}

var eventTypes = []string{"click", "view", "purchase", "scroll", "signup"}

// appendEvent appends the i-th event of a deterministic clickstream.
func appendEvent(b []byte, i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 2))
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond * 37)
	return fmt.Appendf(b, `{"event_id":"e-%08d-%04x","user_id":%d,"session":"s-%06d","event_type":"%s","page":"/products/%d?ref=home",`+
		`"price":%.2f,"quantity":%d,"is_mobile":%t,"event_time":"%s","tags":["t%d","t%d"]}`,
		i, r.IntN(1<<16), r.IntN(1_000_000), r.IntN(50_000), eventTypes[r.IntN(len(eventTypes))], r.IntN(5000),
		r.Float64()*500, 1+r.IntN(9), r.IntN(2) == 0, at.Format("2006-01-02T15:04:05.000Z"), r.IntN(20), r.IntN(20))
}

// BenchmarkEncode converts typical events into a Parquet file (discarded).
func BenchmarkEncode(b *testing.B) {
	recs := benchRecords(100_000)
	var size int64
	for _, r := range recs {
		size += int64(len(r))
	}
	p, err := NewParquet(benchCols, Deserializer{CaseInsensitive: true}, ParquetOptions{Dictionary: true})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		enc, err := p.NewEncoder(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := enc.Encode(deliver.Rec{Data: r}); err != nil {
				b.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(len(recs)*b.N), "cpu-ns/row")
}

// cpuTime is the process's user and system CPU time: less disturbed by
// other load on the machine than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConvertOnly measures JSON to column values, without Parquet.
func BenchmarkConvertOnly(b *testing.B) {
	recs := benchRecords(100_000)
	s, _ := NewSchema(benchCols)
	c, _ := newConverter(s, Deserializer{CaseInsensitive: true})
	for i := range c.pages {
		c.pages[i] = &rawPage{}
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		for i, r := range recs {
			if _, err := c.convert(r); err != nil {
				b.Fatal(err)
			}
			if i%1024 == 0 {
				for _, p := range c.pages {
					p.reset()
				}
			}
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(len(recs)*b.N), "cpu-ns/row")
}

var orderCols = []Column{
	{"order_id", "string"},
	{"customer", "struct<id:string,tier:string,geo:struct<country:string,lat:double,lon:double>>"},
	{"items", "array<struct<sku:string,qty:int,price:double>>"},
	{"attrs", "map<string,string>"}, {"total", "double"}, {"placed_at", "timestamp"},
}

// appendOrder appends the i-th order: nested structs, an array of structs
// and a map.
func appendOrder(b []byte, i int) []byte {
	r := rand.New(rand.NewPCG(uint64(i), 3))
	tiers := []string{"free", "silver", "gold"}
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond * 37)
	return fmt.Appendf(b, `{"order_id":"o-%08d","customer":{"id":"c-%06d","tier":"%s","geo":{"country":"DE","lat":%.4f,"lon":%.4f}},`+
		`"items":[{"sku":"s-%04d","qty":%d,"price":%.2f},{"sku":"s-%04d","qty":%d,"price":%.2f}],`+
		`"attrs":{"channel":"web","campaign":"c%d"},"total":%.2f,"placed_at":"%s"}`,
		i, r.IntN(100_000), tiers[r.IntN(3)], 47+r.Float64()*8, 6+r.Float64()*9,
		r.IntN(5000), 1+r.IntN(5), r.Float64()*100, r.IntN(5000), 1+r.IntN(5), r.Float64()*100,
		r.IntN(50), r.Float64()*1000, at.Format("2006-01-02T15:04:05.000Z"))
}

// BenchmarkEncodeNested converts nested orders into a Parquet file.
func BenchmarkEncodeNested(b *testing.B) {
	recs := make([][]byte, 100_000)
	for i := range recs {
		recs[i] = appendOrder(nil, i)
	}
	p, err := NewParquet(orderCols, Deserializer{CaseInsensitive: true}, ParquetOptions{Dictionary: true})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		enc, err := p.NewEncoder(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := enc.Encode(deliver.Rec{Data: r}); err != nil {
				b.Fatal(err)
			}
		}
		if err := enc.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpuTime()-cpu)/float64(len(recs)*b.N), "cpu-ns/row")
}
