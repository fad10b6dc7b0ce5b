package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// Tests of the partition buffers: a partition keeps its records across
// moves and is written on its own hints, durably (item 16 of issue 8).

// waitFor polls cond (state reached by the loop's goroutine).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// flush flushes d and waits for it.
func flush(t *testing.T, d *deliver.Deliverer) {
	t.Helper()
	select {
	case <-d.Flush():
	case <-time.After(30 * time.Second):
		t.Fatal("flush not done after 30s")
	}
}

// lines counts every line of every object of bucket.
func (e *env) lines(t *testing.T, bucket string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, v := range e.objects(t, bucket) {
		for l := range strings.SplitSeq(strings.TrimSuffix(v, "\n"), "\n") {
			out[l]++
		}
	}
	return out
}

// buffered partitions by key "c", 1 h interval and the given size.
func buffered(t *testing.T, size int64) streamspec.Stream {
	st := partitioned(t, "c=!{partitionKeyFromQuery:c}/")
	st.Destination.Buffering = streamspec.Buffering{Bytes: size, Interval: time.Hour}
	return st
}

// TestPartitionsBufferAcrossMoves: a partition collects its records from
// several moves and is written when it alone reaches SizeInMBs; a partition
// that does not stays buffered, across a restart too, and what was
// delivered before the restart is not delivered again.
func TestPartitionsBufferAcrossMoves(t *testing.T) {
	t.Parallel()
	e := newEnv(t, buffered(t, 2048))
	d := deliver.Start(e.config(e.store, nil, 0))
	defer func() { d.Stop() }()
	pad := strings.Repeat("x", 590)
	for i := range 4 {
		e.put(t, fmt.Sprintf(`{"c":"a","i":%d,"p":"%s"}`, i, pad))
		waitFor(t, "the record to be moved", func() bool {
			upto, _ := e.log.Committed()
			return upto == uint64(i+2)
		})
	}
	e.put(t, `{"c":"b"}`)
	waitFor(t, "a's object", func() bool { return len(e.objects(t, "bkt")) == 1 && d.PartitionStats().Records == 2 })
	objs := e.objects(t, "bkt")
	for k, v := range objs {
		if !strings.HasPrefix(k, "c=a/") || strings.Count(v, "\n") != 3 {
			t.Fatalf("object %s holds %q, want a's first three records (from three moves)", k, v)
		}
	}
	if ps := d.PartitionStats(); ps.Partitions != 2 || ps.Records != 2 {
		t.Fatalf("partition buffers %+v, want a's last record and b's", ps)
	}
	d.Stop()
	d = deliver.Start(e.config(e.store, nil, 0))
	waitFor(t, "the buffers to be read back", func() bool { return d.PartitionStats().Records == 2 })
	flush(t, d)
	got := byPrefix(e.objects(t, "bkt"))
	if len(got["c=a/"]) != 2 || len(got["c=b/"]) != 1 {
		t.Fatalf("after the flush: %v", got)
	}
	for l, n := range e.lines(t, "bkt") {
		if n != 1 {
			t.Fatalf("%s delivered %d times", l, n)
		}
	}
	if ps := d.PartitionStats(); ps != (deliver.PartitionStats{}) {
		t.Fatalf("partition buffers after the flush: %+v", ps)
	}
}

// TestPartitionObjectSizes: with many partitions, each object holds up to
// SizeInMBs of its own partition (not SizeInMBs divided among the
// partitions of a batch, as when partitions lived one batch).
func TestPartitionObjectSizes(t *testing.T) {
	t.Parallel()
	const size = 32 << 10
	e := newEnv(t, buffered(t, size))
	d := deliver.Start(e.config(e.store, nil, 0))
	defer d.Stop()
	rec := func(p, i int) string {
		r := fmt.Sprintf(`{"c":"%d","i":%d,"p":"`, p, i)
		return r + strings.Repeat("x", 1023-len(r)-2) + `"}`
	}
	const parts, perPart, perPut = 10, 100, 5
	for i := 0; i < perPart; i += perPut {
		var recs []string
		for p := range parts {
			for j := i; j < i+perPut; j++ {
				recs = append(recs, rec(p, j))
			}
		}
		e.put(t, recs...)
	}
	flush(t, d)
	sizes := map[string][]int{}
	for k, v := range e.objects(t, "bkt") {
		p := k[:strings.IndexByte(k, '/')]
		sizes[p] = append(sizes[p], len(v))
	}
	if len(sizes) != parts {
		t.Fatalf("objects of %d partitions, want %d", len(sizes), parts)
	}
	for p, s := range sizes {
		sort.Sort(sort.Reverse(sort.IntSlice(s)))
		total := 0
		for i, n := range s {
			total += n
			if n > size {
				t.Errorf("%s: an object of %d bytes, over the %d-byte hint", p, n, size)
			}
			// Every object but the flushed remainder is full, give or
			// take one move's group (a quarter of the hint at most).
			if i < len(s)-1 && n < size*3/4 {
				t.Errorf("%s: objects %v: partitions must fill their own objects", p, s)
				break
			}
		}
		if total != perPart*1024 {
			t.Errorf("%s: %d bytes delivered, want %d", p, total, perPart*1024)
		}
	}
}

// TestPartitionIntervalFromOldestBuffered: each partition's interval counts
// from its own oldest buffered record, not from the stream's.
func TestPartitionIntervalFromOldestBuffered(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		st := partitioned(t, "c=!{partitionKeyFromQuery:c}/")
		st.Destination.Buffering = streamspec.Buffering{Bytes: 64 << 20, Interval: time.Minute}
		e := newEnv(t, st)
		d := deliver.Start(e.config(e.store, nil, 0))
		defer d.Stop()
		prefixes := func() []string {
			var out []string
			for p := range byPrefix(e.objects(t, "bkt")) {
				out = append(out, p)
			}
			sort.Strings(out)
			return out
		}
		e.put(t, `{"c":"a"}`)
		time.Sleep(30 * time.Second)
		e.put(t, `{"c":"b"}`)
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if got := prefixes(); fmt.Sprint(got) != "[c=a/]" {
			t.Fatalf("after 61 s: %v, want only a (b has waited 31 s)", got)
		}
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if got := prefixes(); fmt.Sprint(got) != "[c=a/ c=b/]" {
			t.Fatalf("after 91 s: %v", got)
		}
	})
}

// TestActivePartitionsAreBufferedOnes: the limit counts the partitions
// with records buffered, across moves; once delivered a partition no
// longer counts.
func TestActivePartitionsAreBufferedOnes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, buffered(t, 64<<20))
	obs := &partitionObs{}
	d := deliver.Start(e.config(e.store, obs, 2))
	defer d.Stop()
	e.put(t, `{"c":"1"}`, `{"c":"2"}`)
	waitFor(t, "two active partitions", func() bool { return d.PartitionStats().Partitions == 2 })
	e.put(t, `{"c":"3","n":1}`)
	waitFor(t, "PartitionCountExceeded", func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return obs.ever
	})
	if ps := d.PartitionStats(); ps.Partitions != 2 || ps.Records != 3 {
		t.Fatalf("partition buffers %+v, want 1, 2 and the error output of 3", ps)
	}
	flush(t, d)
	got := byPrefix(e.objects(t, "bkt"))
	if len(got["c=1/"]) != 1 || len(got["c=2/"]) != 1 || got["c=3/"] != nil ||
		!strings.Contains(strings.Join(got["err/partitioning-failed/"], ""), `"errorCode":"DynamicPartitioning.PartitionCountExceeded"`) {
		t.Fatalf("objects %v", got)
	}
	// Delivered, 1 and 2 are no longer active: 3 fits now.
	e.put(t, `{"c":"3","n":2}`)
	flush(t, d)
	if got := byPrefix(e.objects(t, "bkt")); len(got["c=3/"]) != 1 {
		t.Fatalf("objects %v", got)
	}
}

// TestPartitionBuffersSurviveRestart: what was moved stays buffered across a
// restart, is not moved again, and is delivered once.
func TestPartitionBuffersSurviveRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, buffered(t, 64<<20))
	d := deliver.Start(e.config(e.store, nil, 0))
	e.put(t, `{"c":"a","n":1}`, `{"c":"b","n":2}`)
	e.put(t, `{"c":"a","n":3}`)
	waitFor(t, "the records to be moved", func() bool { return d.PartitionStats().Records == 3 })
	d.Stop()
	d = deliver.Start(e.config(e.store, nil, 0))
	defer d.Stop()
	waitFor(t, "the buffers to be read back", func() bool { return d.PartitionStats().Records == 3 })
	if upto, _ := e.log.Committed(); upto != 4 {
		t.Fatalf("stream log at %d, want 4", upto)
	}
	flush(t, d)
	lines := e.lines(t, "bkt")
	if len(lines) != 3 {
		t.Fatalf("delivered %v", lines)
	}
	for l, n := range lines {
		if n != 1 {
			t.Fatalf("%s delivered %d times", l, n)
		}
	}
}

// failingLog fails what its hooks say.
type failingLog struct {
	buffer.Log
	failAppend func(b *buffer.Batch) bool
	failCommit atomic.Bool
	appends    atomic.Int32 // appends refused
}

var errInjected = errors.New("injected failure")

func (l *failingLog) Append(ctx context.Context, b *buffer.Batch) (uint64, error) {
	if l.failAppend != nil && l.failAppend(b) {
		l.appends.Add(1)
		return 0, errInjected
	}
	return l.Log.Append(ctx, b)
}

func (l *failingLog) Commit(ctx context.Context, upto uint64, state []byte) error {
	if l.failCommit.Load() {
		return errInjected
	}
	return l.Log.Commit(ctx, upto, state)
}

// holds reports whether a batch holds a record containing s.
func holds(b *buffer.Batch, s string) bool {
	found := false
	b.Each(func(_ int, data []byte) { found = found || strings.Contains(string(data), s) })
	return found
}

// TestMoveWithoutStreamCommit: a move whose groups are all appended but
// whose stream-log commit was lost (a crash in between) counts: after the
// restart the stream log's cursor moves past it and nothing is moved twice.
func TestMoveWithoutStreamCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, buffered(t, 64<<20))
	main := &failingLog{Log: e.log}
	main.failCommit.Store(true)
	cfg := e.config(e.store, nil, 0)
	cfg.Log = main
	d := deliver.Start(cfg)
	e.put(t, `{"c":"a"}`, `{"c":"b"}`)
	waitFor(t, "the move", func() bool { return d.PartitionStats().Records == 2 })
	d.Stop()
	if upto, _ := e.log.Committed(); upto != 1 {
		t.Fatalf("stream log committed to %d", upto)
	}
	d = deliver.Start(e.config(e.store, nil, 0))
	defer d.Stop()
	flush(t, d)
	if upto, _ := e.log.Committed(); upto != 3 {
		t.Fatalf("stream log at %d after the restart, want 3", upto)
	}
	lines := e.lines(t, "bkt")
	if len(lines) != 2 || lines[`{"c":"a"}`] != 1 || lines[`{"c":"b"}`] != 1 {
		t.Fatalf("delivered %v", lines)
	}
}

// TestIncompleteMoveIsVoided: a move with some groups appended and not all
// is voided, whether the loop goes on (it tries again) or stops before it
// could record that (the next start finds it): the records it did append
// are never delivered, and the range is moved again.
func TestIncompleteMoveIsVoided(t *testing.T) {
	t.Parallel()
	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			e := newEnv(t, buffered(t, 64<<20))
			var refuse atomic.Bool
			refuse.Store(true)
			parts := &failingLog{Log: e.parts, failAppend: func(b *buffer.Batch) bool {
				return refuse.Load() && holds(b, `"c":"b"`)
			}}
			parts.failCommit.Store(crash)
			cfg := e.config(e.store, nil, 0)
			cfg.PartitionLog = parts
			d := deliver.Start(cfg)
			e.put(t, `{"c":"a"}`, `{"c":"b"}`)
			waitFor(t, "a refused append", func() bool {
				if crash {
					return parts.appends.Load() >= 1 && !e.parts.Backlog(1).Empty()
				}
				return parts.appends.Load() >= 2
			})
			if crash {
				// Stopped before the void could be committed: a's group
				// is in the partition log, b's is not.
				d.Stop()
				d = deliver.Start(e.config(e.store, nil, 0))
			} else {
				refuse.Store(false)
			}
			defer d.Stop()
			flush(t, d)
			lines := e.lines(t, "bkt")
			if len(lines) != 2 || lines[`{"c":"a"}`] != 1 || lines[`{"c":"b"}`] != 1 {
				t.Fatalf("delivered %v", lines)
			}
		})
	}
}
