package process

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

// replayInvoker answers every invocation with a prepared response, so the
// benchmark measures hydrant's side of the Lambda path only: building the
// event and applying the answer.
type replayInvoker struct{ resp []byte }

func (r replayInvoker) Invoke(context.Context, string, []byte) ([]byte, string, error) {
	return r.resp, "", nil
}

// BenchmarkLambdaPath runs 1 MB chunks of 300-byte records through the
// Lambda processor with a function that answers instantly.
func BenchmarkLambdaPath(b *testing.B) {
	var in []deliver.Rec
	for i := 0; i < (1<<20)/300; i++ {
		in = append(in, deliver.Rec{Data: []byte(strings.Repeat("x", 300)), Seq: uint64(i + 1), Arrival: time.UnixMilli(1)})
	}
	// Record this chunk's answer once, with the IDs the event will carry.
	var ev testEvent
	cap := &fakeInvoker{fn: func(_ int, e testEvent) ([]byte, string, error) { ev = e; return echo(0, e) }}
	p, _ := newTestFactory(cap).Pipeline(context.Background(), streamWith(lambdaProc()))
	if _, _, err := p.Process(context.Background(), in); err != nil {
		b.Fatal(err)
	}
	resp, _, _ := echo(0, ev)
	p, _ = NewFactory(replayInvoker{resp}, Options{}).Pipeline(context.Background(), streamWith(lambdaProc()))
	b.SetBytes(int64(len(in) * 300))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, failed, err := p.Process(context.Background(), in)
		if err != nil || len(failed) != 0 || len(out) != len(in) {
			b.Fatalf("%d out %d failed %v", len(out), len(failed), err)
		}
	}
	b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "records/s")
}
