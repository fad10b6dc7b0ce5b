package cwmetrics

import (
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

// BenchmarkObservePut is the recorder's cost per PutRecordBatch on the
// ingest path (eight series updated, one of them with a sketch).
func BenchmarkObservePut(b *testing.B) {
	s, _ := Open(Options{})
	r := NewRecorder(s)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r.ObservePut("bench", "PutRecordBatch", 500, 150000, 0, 3*time.Millisecond)
		}
	})
}

// BenchmarkDelivered is the recorder's cost per delivered object.
func BenchmarkDelivered(b *testing.B) {
	s, _ := Open(Options{})
	r := NewRecorder(s)
	b.ReportAllocs()
	for b.Loop() {
		r.Delivered("bench", deliver.Delivery{Objects: 1, Records: 1000, Bytes: 300000})
	}
}
