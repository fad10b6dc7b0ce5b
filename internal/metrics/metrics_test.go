package metrics

import (
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// codedErr is an error carrying a Firehose error code, as the S3 store's are.
type codedErr string

func (e codedErr) Error() string             { return "s3: " + string(e) }
func (e codedErr) FirehoseErrorCode() string { return string(e) }

// fixture is a Metrics with a fake buffer source and clock.
type fixture struct {
	m       *Metrics
	mu      sync.Mutex
	buffers []Buffer
	now     time.Time
}

func newFixture() *fixture {
	f := &fixture{now: time.Unix(1_700_000_000, 0)}
	f.m = New(Options{
		Buffers: func() []Buffer {
			f.mu.Lock()
			defer f.mu.Unlock()
			return append([]Buffer(nil), f.buffers...)
		},
		Budget:      func() (int64, int64) { return 3000, 8 << 30 },
		StreamLimit: 1 << 30,
		Now:         func() time.Time { return f.now },
	})
	return f
}

func (f *fixture) setBuffers(bs ...Buffer) {
	f.mu.Lock()
	f.buffers = bs
	f.mu.Unlock()
}

// value returns the value of the series name{labels} (a counter, gauge,
// or a histogram's sample count), failing when it does not exist.
func (f *fixture) value(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, ok := f.lookup(t, name, labels...)
	if !ok {
		t.Fatalf("no series %s%v", name, labels)
	}
	return v
}

func (f *fixture) lookup(t *testing.T, name string, labels ...string) (float64, bool) {
	t.Helper()
	fams, err := f.m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range fams {
		if fam.GetName() != name {
			continue
		}
	series:
		for _, mt := range fam.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				if labelValue(mt, labels[i]) != labels[i+1] {
					continue series
				}
			}
			switch {
			case mt.Counter != nil:
				return mt.Counter.GetValue(), true
			case mt.Gauge != nil:
				return mt.Gauge.GetValue(), true
			case mt.Histogram != nil:
				return float64(mt.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestPutMetrics(t *testing.T) {
	f := newFixture()
	f.setBuffers(Buffer{Stream: "clicks"}, Buffer{Stream: "views"})
	m := f.m
	m.ObservePut("clicks", "PutRecordBatch", 500, 50_000, 0, 3*time.Millisecond)
	m.ObservePut("clicks", "PutRecordBatch", 0, 0, 200, time.Millisecond) // all throttled
	m.ObservePut("clicks", "PutRecord", 1, 42, 0, 2*time.Millisecond)
	m.ObservePut("clicks", "PutRecord", 0, 0, 1, time.Millisecond) // 503
	m.ObservePut("views", "PutRecord", 1, 7, 0, time.Millisecond)

	tests := []struct {
		name string
		want float64
	}{
		{"firehose_incoming_records_total", 501},
		{"firehose_incoming_bytes_total", 50_042},
		{"firehose_incoming_put_requests_total", 2},
		{"firehose_throttled_records_total", 201},
		{"firehose_put_record_requests_total", 2},
		{"firehose_put_record_bytes_total", 42},
		{"firehose_put_record_latency_seconds", 2},
		{"firehose_put_record_batch_requests_total", 2},
		{"firehose_put_record_batch_records_total", 500},
		{"firehose_put_record_batch_bytes_total", 50_000},
		{"firehose_put_record_batch_latency_seconds", 2},
	}
	for _, tt := range tests {
		if got := f.value(t, tt.name, "stream", "clicks"); got != tt.want {
			t.Errorf("%s{stream=clicks} = %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := f.value(t, "firehose_incoming_records_total", "stream", "views"); got != 1 {
		t.Errorf("views IncomingRecords = %v, want 1", got)
	}
	// The latency histogram is in seconds.
	if got := testutil.ToFloat64(m.incomingRecords.WithLabelValues("views")); got != 1 {
		t.Errorf("cached child and vector disagree: %v", got)
	}
	sum := histogramSum(t, f, "firehose_put_record_batch_latency_seconds")
	if sum < 0.0039 || sum > 0.0041 {
		t.Errorf("PutRecordBatch latency sum = %vs, want 0.004s", sum)
	}
}

func histogramSum(t *testing.T, f *fixture, name string) float64 {
	t.Helper()
	fams, err := f.m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, fam := range fams {
		if fam.GetName() == name {
			return fam.GetMetric()[0].GetHistogram().GetSampleSum()
		}
	}
	t.Fatalf("no histogram %s", name)
	return 0
}

func TestDeliveryMetrics(t *testing.T) {
	f := newFixture()
	f.setBuffers(Buffer{Stream: "clicks"})
	m := f.m
	p := deliver.Plan{From: 1, To: 101, Records: 100, Bytes: 10_000}
	m.Failed("clicks", p, fmt.Errorf("put object: %w", codedErr("S3.NoSuchBucket")))
	m.Failed("clicks", p, errors.New("connection refused"))
	m.Failed("clicks", p, fmt.Errorf("put: %w", objstore.ErrNoSuchBucket))
	m.Delivered("clicks", deliver.Delivery{Plan: p, Objects: 1, Records: 98, Bytes: 9_800, ErrorRecords: 2, Took: 40 * time.Millisecond})
	m.Delivered("clicks", deliver.Delivery{Plan: p, Objects: 0, Records: 0, ErrorRecords: 100, Took: time.Millisecond})

	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"firehose_delivery_to_s3_records_total", nil, 98},
		{"firehose_delivery_to_s3_bytes_total", nil, 9_800},
		{"firehose_delivery_to_s3_objects_total", nil, 1},
		{"firehose_delivery_to_s3_attempts_total", nil, 5},
		{"firehose_delivery_to_s3_success_total", nil, 2},
		{"hydrant_delivery_error_output_records_total", nil, 102},
		{"hydrant_delivery_duration_seconds", nil, 2},
		{"hydrant_delivery_retries_total", []string{"error_code", "S3.NoSuchBucket"}, 2},
		{"hydrant_delivery_retries_total", []string{"error_code", "InternalError"}, 1},
	}
	for _, tt := range tests {
		labels := append([]string{"stream", "clicks"}, tt.labels...)
		if got := f.value(t, tt.name, labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, labels, got, tt.want)
		}
	}
}

func TestBufferGauges(t *testing.T) {
	f := newFixture()
	f.setBuffers(
		Buffer{Stream: "clicks", Bytes: 4096, Records: 30, Oldest: f.now.Add(-90 * time.Second), LostRecords: 7, LostBytes: 212},
		Buffer{Stream: "idle"},
	)
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"firehose_delivery_to_s3_data_freshness_seconds", []string{"stream", "clicks"}, 90},
		{"firehose_delivery_to_s3_data_freshness_seconds", []string{"stream", "idle"}, 0},
		{"hydrant_buffer_bytes", []string{"stream", "clicks"}, 4096},
		{"hydrant_buffer_records", []string{"stream", "clicks"}, 30},
		{"hydrant_buffer_bytes", []string{"stream", "idle"}, 0},
		{"hydrant_buffer_lost_records_total", []string{"stream", "clicks"}, 7},
		{"hydrant_buffer_lost_bytes_total", []string{"stream", "clicks"}, 212},
		{"hydrant_buffer_lost_records_total", []string{"stream", "idle"}, 0},
		{"hydrant_buffer_stream_limit_bytes", nil, 1 << 30},
		{"hydrant_buffer_global_bytes", nil, 3000},
		{"hydrant_buffer_global_limit_bytes", nil, 8 << 30},
	}
	for _, tt := range tests {
		if got := f.value(t, tt.name, tt.labels...); got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
}

// TestDeletedStreamForgotten checks that a stream no longer reported by
// Buffers loses its series at the next scrape.
func TestDeletedStreamForgotten(t *testing.T) {
	f := newFixture()
	f.setBuffers(Buffer{Stream: "a"}, Buffer{Stream: "b"})
	f.m.ObservePut("a", "PutRecord", 1, 1, 0, time.Millisecond)
	f.m.ObservePut("b", "PutRecord", 1, 1, 0, time.Millisecond)
	f.m.Failed("b", deliver.Plan{}, errors.New("x"))
	f.value(t, "firehose_incoming_records_total", "stream", "b")

	f.setBuffers(Buffer{Stream: "a"})
	f.value(t, "hydrant_buffer_bytes", "stream", "a") // a scrape: b is forgotten
	for _, name := range []string{"firehose_incoming_records_total", "firehose_put_record_latency_seconds", "hydrant_delivery_retries_total", "hydrant_buffer_bytes"} {
		if _, ok := f.lookup(t, name, "stream", "b"); ok {
			t.Errorf("%s{stream=b} still exported after the stream went away", name)
		}
	}
	if got := f.value(t, "firehose_incoming_records_total", "stream", "a"); got != 1 {
		t.Errorf("stream a lost its counts: %v", got)
	}
	// A stream created again under the same name starts from zero.
	f.setBuffers(Buffer{Stream: "a"}, Buffer{Stream: "b"})
	f.m.ObservePut("b", "PutRecord", 1, 1, 0, time.Millisecond)
	if got := f.value(t, "firehose_incoming_records_total", "stream", "b"); got != 1 {
		t.Errorf("recreated stream b: IncomingRecords = %v, want 1", got)
	}
}

func TestHandler(t *testing.T) {
	f := newFixture()
	f.setBuffers(Buffer{Stream: "clicks"})
	f.m.ObservePut("clicks", "PutRecordBatch", 3, 30, 0, time.Millisecond)
	srv := httptest.NewServer(f.m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	for _, want := range []string{
		"# HELP firehose_incoming_records_total IncomingRecords:",
		`firehose_incoming_records_total{stream="clicks"} 3`,
		"# TYPE firehose_put_record_batch_latency_seconds histogram",
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics page lacks %q:\n%s", want, body)
		}
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want the text format", ct)
	}
}

// BenchmarkObservePut is the per-request cost on the ingest hot path.
func BenchmarkObservePut(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObservePut("clicks", "PutRecordBatch", 500, 50_000, 0, time.Millisecond)
		}
	})
}
