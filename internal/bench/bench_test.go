package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/server"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// inProcess is the real hydrant stack (API, registry, segment logs, local
// store) served by httptest from dir.
type inProcess struct {
	URL string
	Reg *stream.Registry
}

func startHydrant(tb testing.TB, dir string, opts stream.Options) *inProcess {
	tb.Helper()
	if opts.Store == nil {
		store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
		if err != nil {
			tb.Fatal(err)
		}
		opts.Store = store
	}
	opts.Dir, opts.Region, opts.AccountID = filepath.Join(dir, "streams"), "us-east-1", "000000000000"
	reg, err := stream.Open(opts)
	if err != nil {
		tb.Fatal(err)
	}
	fh, err := firehose.NewService(reg, firehose.Options{Region: "us-east-1", AccountID: "000000000000"})
	if err != nil {
		tb.Fatal(err)
	}
	srv := server.New(nil)
	srv.AddService(fh.API())
	srv.SetReady(true)
	// The stats endpoint as cmd/hydrant serves it.
	srv.Handle("GET /_hydrant/streams/{name}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st, err := reg.Stats(r.PathValue("name"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		_ = json.NewEncoder(w).Encode(st)
	}))
	ts := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		ts.Close()
		if err := reg.Close(); err != nil {
			tb.Error(err)
		}
	})
	return &inProcess{URL: ts.URL, Reg: reg}
}

func TestRunHydrant(t *testing.T) {
	h := startHydrant(t, t.TempDir(), stream.Options{})
	ctx := context.Background()
	if err := EnsureStream(ctx, h.URL, StreamSpec{Name: "bench", SizeInMBs: 128, IntervalInSeconds: 0}, nil); err != nil {
		t.Fatal(err)
	}
	// An existing stream is reused.
	if err := EnsureStream(ctx, h.URL, StreamSpec{Name: "bench", SizeInMBs: 1, IntervalInSeconds: 60}, nil); err != nil {
		t.Fatal(err)
	}
	const records = 20_123 // not a multiple of the batch: the last request is short
	rep, err := Run(ctx, Config{
		Endpoint: h.URL, Stream: "bench", Records: records, RecordSize: 300, Batch: 500,
		Concurrency: 4, Visible: true, SampleEvery: time.Millisecond, DrainTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, records)
	if rep.VisibleSamples == 0 || rep.VisibleLost != 0 || rep.VisibleP50Millis <= 0 || rep.VisibleP99Millis < rep.VisibleP50Millis {
		t.Errorf("ack-to-visible: %d samples, %d lost, p50 %v ms, p99 %v ms", rep.VisibleSamples, rep.VisibleLost, rep.VisibleP50Millis, rep.VisibleP99Millis)
	}
	if rep.DrainMillis <= 0 {
		t.Errorf("drain time %v ms, want > 0", rep.DrainMillis)
	}
	st, err := h.Reg.Stats("bench")
	if err != nil {
		t.Fatal(err)
	}
	if st.Appended != records || st.Delivered != records {
		t.Errorf("server stats: appended %d, delivered %d; want %d each", st.Appended, st.Delivered, records)
	}
}

func TestRunBaseline(t *testing.T) {
	b, err := OpenBaseline(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(b)
	defer func() {
		ts.Close()
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	}()
	rep, err := Run(context.Background(), Config{
		Endpoint: ts.URL, Stream: "bench", Records: 10_000, RecordSize: 100, Batch: 250, Concurrency: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkReport(t, rep, 10_000)
}

func TestRunDuration(t *testing.T) {
	b, err := OpenBaseline(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(b)
	defer func() { ts.Close(); _ = b.Close() }()
	rep, err := Run(context.Background(), Config{
		Endpoint: ts.URL, Duration: 200 * time.Millisecond, RecordSize: 50, Batch: 10, Concurrency: 2, Rate: 5000,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Paced at 5000 records/s for 0.2s: about 1000 records, never many more.
	if rep.Records == 0 || rep.Records > 1300 || rep.FailedRecords != 0 {
		t.Errorf("paced run sent %d records (%d failed), want about 1000", rep.Records, rep.FailedRecords)
	}
}

func TestRunCountsFailures(t *testing.T) {
	// A server that takes nothing: every record fails, and Run says so.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	rep, err := Run(context.Background(), Config{Endpoint: ts.URL, Records: 100, RecordSize: 10, Batch: 10, Concurrency: 2})
	if err == nil {
		t.Fatal("Run succeeded against a failing server")
	}
	if rep.FailedRequests != 10 || rep.FailedRecords != 100 || rep.Records != 0 {
		t.Errorf("failed %d requests, %d records, acked %d; want 10, 100, 0", rep.FailedRequests, rep.FailedRecords, rep.Records)
	}
	// A 200 with failed records is parsed in full.
	ts2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"Encrypted":false,"FailedPutCount":3,"RequestResponses":[]}`))
	}))
	defer ts2.Close()
	rep, err = Run(context.Background(), Config{Endpoint: ts2.URL, Records: 100, RecordSize: 10, Batch: 10, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.FailedRecords != 30 || rep.Records != 70 || rep.FailedRequests != 0 {
		t.Errorf("failed records %d, acked %d, failed requests %d; want 30, 70, 0", rep.FailedRecords, rep.Records, rep.FailedRequests)
	}
}

// checkReport checks that a clean run's figures agree with each other.
func checkReport(t *testing.T, rep Report, records int64) {
	t.Helper()
	wantReq := (records + int64(rep.Batch) - 1) / int64(rep.Batch)
	if rep.Records != records || rep.FailedRecords != 0 || rep.Requests != wantReq || rep.FailedRequests != 0 {
		t.Errorf("records %d (failed %d), requests %d (failed %d); want %d records in %d requests, no failures",
			rep.Records, rep.FailedRecords, rep.Requests, rep.FailedRequests, records, wantReq)
	}
	if rep.Seconds <= 0 || rep.RecordsPerSec <= 0 || rep.MBPerSec <= 0 || rep.RequestsPerSec <= 0 {
		t.Errorf("rates not positive: %+v", rep)
	}
	if got, want := rep.MBPerSec, rep.RecordsPerSec*float64(rep.RecordSize)/1e6; got < want*0.999 || got > want*1.001 {
		t.Errorf("MB/s %v, want records/s × record size = %v", got, want)
	}
	if rep.LatencyP50Millis <= 0 || rep.LatencyP99Millis < rep.LatencyP50Millis || rep.LatencyMaxMillis < rep.LatencyP99Millis {
		t.Errorf("latencies p50 %v, p99 %v, max %v ms", rep.LatencyP50Millis, rep.LatencyP99Millis, rep.LatencyMaxMillis)
	}
}

func TestBodies(t *testing.T) {
	full, last := buildBodies("s", 7, 33, 7*5+3)
	if last == nil || last.records != 3 {
		t.Fatalf("last body: %+v", last)
	}
	seen := map[string]bool{}
	for _, b := range append(full, *last) {
		var in struct {
			DeliveryStreamName string
			Records            []struct{ Data []byte }
		}
		if err := json.Unmarshal(b.json, &in); err != nil {
			t.Fatal(err)
		}
		if in.DeliveryStreamName != "s" || len(in.Records) != b.records || b.bytes != int64(33*b.records) {
			t.Fatalf("body: name %q, %d records (want %d), %d bytes", in.DeliveryStreamName, len(in.Records), b.records, b.bytes)
		}
		for _, r := range in.Records {
			if len(r.Data) != 33 || r.Data[32] != '\n' || seen[string(r.Data)] {
				t.Fatalf("record %q: wrong size, no newline or not distinct", r.Data)
			}
			seen[string(r.Data)] = true
		}
	}
	if _, last := buildBodies("s", 7, 33, 14); last != nil {
		t.Error("a short last body for a multiple of the batch")
	}
}
