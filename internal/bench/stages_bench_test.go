package bench

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// BenchmarkDeliveryStages attributes ack-to-visible: one op is a paced run
// (3,000,000 records of 300 B at 500,000 records/s, IntervalInSeconds 0)
// into the real stack in process, with the log's Commit and the store's Put
// timed. It reports the delivery cycle (object to object), the commit and
// the store write, each as p50 and p99 in ms, next to ack-to-visible. Run it
// with -benchtime 1x:
//
//	go test -run XXX -bench DeliveryStages -benchtime 1x ./internal/bench
func BenchmarkDeliveryStages(b *testing.B) {
	for b.Loop() {
		dir := b.TempDir()
		st := &stageTimes{}
		store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
		if err != nil {
			b.Fatal(err)
		}
		h := startHydrant(b, dir, stream.Options{
			Store: timedStore{store, st},
			OpenLog: func(d string) (buffer.Log, error) {
				l, err := buffer.Open(d, buffer.Options{})
				if err != nil {
					return nil, err
				}
				return timedLog{l, st}, nil
			},
		})
		if err := EnsureStream(context.Background(), h.URL, StreamSpec{Name: "bench", SizeInMBs: 128}, nil); err != nil {
			b.Fatal(err)
		}
		rep, err := Run(context.Background(), Config{
			Endpoint: h.URL, Stream: "bench", Records: 3_000_000, RecordSize: 300, Batch: 500,
			Concurrency: 8, Rate: 500_000, Visible: true, DrainTimeout: time.Minute,
		})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rep.RecordsPerSec, "records/s")
		b.ReportMetric(rep.VisibleP50Millis, "visible-p50-ms")
		b.ReportMetric(rep.VisibleP99Millis, "visible-p99-ms")
		st.report(b)
	}
}

// stageTimes collects the durations of the timed stages.
type stageTimes struct {
	mu       sync.Mutex
	commit   []time.Duration
	put      []time.Duration
	cycle    []time.Duration
	lastDone time.Time
}

func (s *stageTimes) add(dst *[]time.Duration, d time.Duration) {
	s.mu.Lock()
	*dst = append(*dst, d)
	s.mu.Unlock()
}

func (s *stageTimes) putDone(d time.Duration) {
	now := time.Now()
	s.mu.Lock()
	s.put = append(s.put, d)
	if !s.lastDone.IsZero() {
		s.cycle = append(s.cycle, now.Sub(s.lastDone))
	}
	s.lastDone = now
	s.mu.Unlock()
}

func (s *stageTimes) report(b *testing.B) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"cycle", s.cycle}, {"commit", s.commit}, {"put", s.put}} {
		slices.Sort(m.d)
		b.ReportMetric(ms(percentile(m.d, 0.50)), m.name+"-p50-ms")
		b.ReportMetric(ms(percentile(m.d, 0.99)), m.name+"-p99-ms")
	}
	b.ReportMetric(float64(len(s.put)), "objects")
}

// timedLog times Commit (the plan and delivered cursor writes).
type timedLog struct {
	buffer.Log
	st *stageTimes
}

func (l timedLog) Commit(ctx context.Context, upto uint64, state []byte) error {
	t := time.Now()
	err := l.Log.Commit(ctx, upto, state)
	l.st.add(&l.st.commit, time.Since(t))
	return err
}

// timedStore times Put (reading the records, writing, fsyncing and
// renaming the object).
type timedStore struct {
	objstore.Store
	st *stageTimes
}

func (s timedStore) Put(ctx context.Context, bucket, key string, meta objstore.Meta, write func(io.Writer) error) error {
	t := time.Now()
	err := s.Store.Put(ctx, bucket, key, meta, write)
	s.st.putDone(time.Since(t))
	return err
}
