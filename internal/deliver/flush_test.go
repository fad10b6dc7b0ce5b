package deliver

import (
	"strings"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// TestFlushCutsOnce: with hints that would hold records for 15 minutes, a
// flush delivers what was buffered at the call, and only that: records
// appended afterwards wait for the hints (or the next flush) again.
func TestFlushCutsOnce(t *testing.T) {
	st := testStream(t, "data/", "")
	st.Destination.Buffering = streamspec.Buffering{Bytes: 128 << 20, Interval: 900 * time.Second}
	f := newFixture(t, st)
	d := Start(Config{Stream: f.info, Log: f.log, Store: f.store})
	defer d.Stop()
	wait := func(ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("flush not done after 10s")
		}
	}
	wait(d.Flush()) // nothing buffered: done at once, no object
	if objs := f.objects(t); len(objs) != 0 {
		t.Fatalf("objects from an empty flush: %v", objs)
	}

	f.put(t, "a,", "b,")
	first, second := d.Flush(), d.Flush() // both cover a and b
	wait(first)
	// Done means committed, not only stored.
	if upto, _ := f.log.Committed(); upto != 3 {
		t.Fatalf("flush done with the cursor at %d, want 3", upto)
	}
	wait(second)
	objs := f.objects(t)
	if len(objs) != 1 {
		t.Fatalf("after the flush: %v", objs)
	}
	for _, v := range objs {
		if v != "a,b," {
			t.Fatalf("flushed object %q", v)
		}
	}

	// The flush was one cut: the next records wait for the hints again.
	f.put(t, "c,")
	time.Sleep(300 * time.Millisecond)
	if objs := f.objects(t); len(objs) != 1 {
		t.Fatalf("a record after the flush was delivered before the interval: %v", objs)
	}
	if upto, _ := f.log.Committed(); upto != 3 {
		t.Fatalf("cursor %d, want 3", upto)
	}
	wait(d.Flush())
	if objs := f.objects(t); len(objs) != 2 {
		t.Fatalf("after the second flush: %v", objs)
	}
}

// TestFlushSpansSeveralObjects: a flush of more than SizeInMBs still cuts in
// batches of at most SizeInMBs, and is done only when the last one is.
func TestFlushSpansSeveralObjects(t *testing.T) {
	st := testStream(t, "data/", "")
	st.Destination.Buffering = streamspec.Buffering{Bytes: 1 << 20, Interval: 900 * time.Second}
	f := newFixture(t, st)
	rec := strings.Repeat("x", 600<<10)
	f.put(t, rec, rec, rec)
	d := Start(Config{Stream: f.info, Log: f.log, Store: f.store})
	defer d.Stop()
	select {
	case <-d.Flush():
	case <-time.After(10 * time.Second):
		t.Fatal("flush not done after 10s")
	}
	if objs := f.objects(t); len(objs) != 3 {
		t.Fatalf("%d objects, want 3 of one record each", len(objs))
	}
	if upto, _ := f.log.Committed(); upto != 4 {
		t.Fatalf("cursor %d, want 4", upto)
	}
}
