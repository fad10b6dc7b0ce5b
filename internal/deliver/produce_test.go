package deliver

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// slowFirst is a pipeline that works on several chunks at once and takes
// longer for earlier chunks, so they finish out of order.
type slowFirst struct {
	inflight, most atomic.Int32
	seen           atomic.Int32
}

func (s *slowFirst) ChunkBytes() int64 { return 12 }
func (s *slowFirst) Chunks() int       { return 3 }
func (s *slowFirst) Process(ctx context.Context, in []Rec) ([]Rec, []Failure, error) {
	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	for m := s.most.Load(); n > m && !s.most.CompareAndSwap(m, n); m = s.most.Load() {
	}
	// The first chunks wait longest.
	time.Sleep(time.Duration(max(0, 30-10*s.seen.Add(1))) * time.Millisecond)
	var u upper
	return u.Process(ctx, in)
}

// TestChunksInFlightKeepOrder checks that chunks processed at once come out
// in the log's order, records and failures alike, and that their bytes
// stay intact while later chunks are read.
func TestChunksInFlightKeepOrder(t *testing.T) {
	f := newFixture(t, testStream(t, "data/", "errors/"))
	var recs, want, wantBad []string
	for i := range 40 {
		r := fmt.Sprintf("r%03d,", i)
		if i%7 == 3 {
			r = fmt.Sprintf("bad%03d,", i)
			wantBad = append(wantBad, r)
		} else {
			want = append(want, strings.ToUpper(r))
		}
		recs = append(recs, r)
	}
	f.put(t, recs...)
	s := &slowFirst{}
	f.run(t, func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error) { return s, nil, nil })
	if s.most.Load() < 2 {
		t.Fatalf("at most %d chunks at once", s.most.Load())
	}
	var data, errs string
	for k, v := range f.objects(t) {
		if strings.HasPrefix(k, "data/") {
			data = v
		} else {
			errs = v
		}
	}
	if data != strings.Join(want, "") {
		t.Fatalf("data %q", data)
	}
	var bad []string
	for _, line := range strings.Split(strings.TrimSpace(errs), "\n") {
		bad = append(bad, line[len(`{"rawData":"`):][:12])
	}
	var wantRaw []string
	for _, r := range wantBad {
		wantRaw = append(wantRaw, base64.StdEncoding.EncodeToString([]byte(r))[:12])
	}
	if strings.Join(bad, ",") != strings.Join(wantRaw, ",") {
		t.Fatalf("failures in order %v, want %v", bad, wantRaw)
	}
}
