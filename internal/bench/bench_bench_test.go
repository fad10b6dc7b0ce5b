package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/hydrant-io/hydrant/internal/stream"
)

// The end-to-end benchmarks send 500-record PutRecordBatch requests of
// 300-byte records over loopback HTTP, 4×GOMAXPROCS in flight, to the real
// stack in process (BenchmarkPutRecordBatch: decode, validate, group-commit
// fsync, delivery to the local store running alongside) and to the
// baseline. One op is one request; MB/s counts record data. Client and
// server share the process, so the figures are an upper bound of what the
// separate-process `hydrant bench` measures.

const (
	benchBatch = 500
	benchSize  = 300
)

func BenchmarkPutRecordBatch(b *testing.B) {
	h := startHydrant(b, b.TempDir(), stream.Options{})
	if err := EnsureStream(context.Background(), h.URL, StreamSpec{Name: "bench", SizeInMBs: 128, IntervalInSeconds: 0}, nil); err != nil {
		b.Fatal(err)
	}
	benchPost(b, h.URL)
}

func BenchmarkPutRecordBatchBaseline(b *testing.B) {
	bl, err := OpenBaseline(b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(bl)
	defer func() { ts.Close(); _ = bl.Close() }()
	benchPost(b, ts.URL)
}

func benchPost(b *testing.B, url string) {
	bodies, _ := buildBodies("bench", benchBatch, benchSize, 0)
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	var next atomic.Int64
	b.SetBytes(benchBatch * benchSize)
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		resp := make([]byte, 0, 64<<10)
		for pb.Next() {
			body := bodies[int(next.Add(1))%len(bodies)].json
			req, err := http.NewRequest(http.MethodPost, url+"/", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			req.Header.Set("X-Amz-Target", "Firehose_20150804.PutRecordBatch")
			res, err := tr.RoundTrip(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp, err = readAll(res.Body, resp[:0])
			_ = res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK || !bytes.Contains(resp, failedZero) {
				b.Errorf("HTTP %d, %v: %.200s", res.StatusCode, err, resp)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)*benchBatch/b.Elapsed().Seconds(), "records/s")
}
