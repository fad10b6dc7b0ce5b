// Package logtest is the contract every buffer.Log must meet, as one test
// suite that each implementation's tests run against fresh logs:
//
//	func TestContract(t *testing.T) {
//		logtest.Run(t, func(t *testing.T) logtest.Harness { ... })
//	}
//
// It covers appends and their acknowledgement, backlogs, cuts, reads,
// commits and their state, recovery after a close and after a crash,
// back-pressure, deleting a log, and fencing: a node that lost a stream's
// delivery lease can no longer commit, so two nodes never plan the same
// records under different object keys.
package logtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// Harness opens the logs of one implementation for the suite.
type Harness struct {
	// Open opens the log called name, creating an empty one when there is
	// none and recovering it otherwise. Each call gives a new handle, as a
	// process (or a node of a cluster) would open it. The suite closes
	// what it opens; the harness cleans up whatever is left with t.
	Open func(t *testing.T, name string, opts Options) (buffer.Log, error)
	// Delete removes the closed log called name and everything it holds.
	Delete func(t *testing.T, name string) error
	// Crash abandons an open log as a crash of its process would, without
	// an orderly close; nil means Close.
	Crash func(t *testing.T, l buffer.Log)
	// Shared says that several handles on one log may be open at once, as
	// the nodes of a cluster hold them; the suite then checks that they
	// see each other's appends and commits and that Fence decides which of
	// them may commit. When false, a second Open of an open log must fail:
	// that is the log's fence.
	Shared bool
}

// Options are what the suite varies between opens.
type Options struct {
	// MaxBytes caps the undelivered bytes the log holds, as the log counts
	// them; past it Append fails with buffer.ErrFull. Zero means no cap.
	MaxBytes int64
}

// Run runs the contract suite. newHarness is called once per subtest.
func Run(t *testing.T, newHarness func(t *testing.T) Harness) {
	tests := []struct {
		name string
		fn   func(*testing.T, *suite)
	}{
		{"AppendRead", testAppendRead},
		{"EmptyBatch", testEmptyBatch},
		{"LargeBatch", testLargeBatch},
		{"Backlog", testBacklog},
		{"Cut", testCut},
		{"ReadRanges", testReadRanges},
		{"Commit", testCommit},
		{"Reopen", testReopen},
		{"Crash", testCrash},
		{"Appended", testAppended},
		{"Closed", testClosed},
		{"BackPressure", testBackPressure},
		{"Delete", testDelete},
		{"ConcurrentAppends", testConcurrentAppends},
		{"DeliverWhileAppending", testDeliverWhileAppending},
		{"Fence", testFence},
		{"TwoHandles", testTwoHandles},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &suite{t: t, h: newHarness(t)}
			tt.fn(t, s)
		})
	}
}

// suite opens logs through the harness and closes them at the end.
type suite struct {
	t *testing.T
	h Harness
}

// open opens name and closes it when the test ends (unless the test closed
// or crashed it first).
func (s *suite) open(name string, opts Options) buffer.Log {
	s.t.Helper()
	l, err := s.h.Open(s.t, name, opts)
	if err != nil {
		s.t.Fatalf("Open(%q): %v", name, err)
	}
	s.t.Cleanup(func() { _ = l.Close() })
	return l
}

// crash abandons l as a crash would.
func (s *suite) crash(l buffer.Log) {
	if s.h.Crash != nil {
		s.h.Crash(s.t, l)
		return
	}
	_ = l.Close()
}

// batchOf builds a batch holding recs.
func batchOf(recs ...string) *buffer.Batch {
	var b buffer.Batch
	for _, r := range recs {
		b.Add([]byte(r))
	}
	return &b
}

// appendRecs appends recs as one batch and fails the test on error.
func appendRecs(t *testing.T, l buffer.Log, recs ...string) uint64 {
	t.Helper()
	seq, err := l.Append(t.Context(), batchOf(recs...))
	if err != nil {
		t.Fatalf("Append(%d records): %v", len(recs), err)
	}
	if seq < 1 {
		t.Fatalf("Append returned sequence %d", seq)
	}
	return seq
}

// readAll returns copies of the records in [from, to).
func readAll(t *testing.T, l buffer.Log, from, to uint64) []buffer.Record {
	t.Helper()
	var out []buffer.Record
	err := l.Read(t.Context(), from, to, func(r buffer.Record) error {
		r.Data = slices.Clone(r.Data)
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Read(%d, %d): %v", from, to, err)
	}
	return out
}

// dataOf returns the records' data as strings.
func dataOf(recs []buffer.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Data)
	}
	return out
}

// backlogData reads every record after the committed cursor.
func backlogData(t *testing.T, l buffer.Log) []string {
	t.Helper()
	upto, _ := l.Committed()
	bl := l.Backlog(upto)
	if bl.Empty() {
		return nil
	}
	return dataOf(readAll(t, l, bl.From, bl.To))
}

// equal fails the test unless got and want hold the same strings.
func equal(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s:\n got %d %s\nwant %d %s", what, len(got), abbrev(got), len(want), abbrev(want))
	}
}

// abbrev shows a list of records without flooding the output.
func abbrev(recs []string) string {
	var b strings.Builder
	for i, r := range recs {
		if i == 8 {
			fmt.Fprintf(&b, " …")
			break
		}
		if len(r) > 24 {
			r = fmt.Sprintf("%s…(%d bytes)", r[:16], len(r))
		}
		fmt.Fprintf(&b, " %q", r)
	}
	return "[" + b.String() + " ]"
}

// eventually polls cond until it holds or 10 seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func testAppendRead(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	if upto, state := l.Committed(); upto != 1 || state != nil {
		t.Fatalf("new log: Committed() = %d, %q; want 1, nil", upto, state)
	}
	if bl := l.Backlog(1); !bl.Empty() || bl.Records != 0 {
		t.Fatalf("new log: Backlog(1) = %+v", bl)
	}

	before := time.Now().Truncate(time.Millisecond)
	want := []string{"a", "", "ccc", strings.Repeat("x", 100_000), "d", "e"}
	firsts := []uint64{
		appendRecs(t, l, want[0], want[1], want[2]),
		appendRecs(t, l, want[3]),
		appendRecs(t, l, want[4], want[5]),
	}
	after := time.Now()
	if !(firsts[0] < firsts[1] && firsts[1] < firsts[2]) {
		t.Fatalf("Append returned %v, want increasing sequence numbers", firsts)
	}

	bl := l.Backlog(1)
	if bl.Records != len(want) || bl.From != 1 {
		t.Fatalf("Backlog(1) = %+v, want %d records from 1", bl, len(want))
	}
	recs := readAll(t, l, bl.From, bl.To)
	equal(t, "records read back", dataOf(recs), want)
	// A batch's records are numbered consecutively from what Append
	// returned (RecordIds are made from it), in increasing order overall.
	batchOfRec := []int{0, 0, 0, 1, 2, 2}
	offset := []uint64{0, 1, 2, 0, 0, 1}
	for i, r := range recs {
		if got, want := r.Seq, firsts[batchOfRec[i]]+offset[i]; got != want {
			t.Errorf("record %d: Seq %d, want %d", i, got, want)
		}
		if r.Arrival.Before(before) || r.Arrival.After(after) {
			t.Errorf("record %d: Arrival %v outside the appends' %v..%v", i, r.Arrival, before, after)
		}
		if r.Arrival.Truncate(time.Millisecond) != r.Arrival {
			t.Errorf("record %d: Arrival %v has more than millisecond precision", i, r.Arrival)
		}
	}
	if !recs[0].Arrival.Equal(recs[2].Arrival) {
		t.Errorf("records of one batch arrived at %v and %v", recs[0].Arrival, recs[2].Arrival)
	}
	if !bl.Oldest.Equal(recs[0].Arrival) {
		t.Errorf("Backlog Oldest %v, want the first record's arrival %v", bl.Oldest, recs[0].Arrival)
	}
	if bl.Bytes != 100_000+6 {
		t.Errorf("Backlog Bytes = %d, want %d", bl.Bytes, 100_000+6)
	}
	if bl.To <= recs[len(recs)-1].Seq {
		t.Errorf("Backlog To %d is not past the last record %d", bl.To, recs[len(recs)-1].Seq)
	}
}

func testEmptyBatch(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	if _, err := l.Append(t.Context(), &buffer.Batch{}); err == nil {
		t.Fatal("Append of an empty batch succeeded")
	}
	if bl := l.Backlog(1); !bl.Empty() {
		t.Fatalf("Backlog after a refused empty batch = %+v", bl)
	}
}

// testLargeBatch appends a batch larger than a replicated log's messages
// usually are (a PutRecordBatch carries up to 4 MiB) and many small records.
func testLargeBatch(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	var want []string
	for i := range 5 {
		want = append(want, fmt.Sprintf("%d-%s", i, strings.Repeat("L", 1000_000)))
	}
	for i := range 3000 {
		want = append(want, fmt.Sprintf("small-%d", i))
	}
	first := appendRecs(t, l, want...)
	tail := appendRecs(t, l, "after")
	recs := readAll(t, l, 1, l.Backlog(1).To)
	equal(t, "records of a large batch", dataOf(recs), append(slices.Clone(want), "after"))
	for i, r := range recs[:len(want)] {
		if r.Seq != first+uint64(i) {
			t.Fatalf("record %d of the batch: Seq %d, want %d", i, r.Seq, first+uint64(i))
		}
	}
	if tail <= recs[len(want)-1].Seq {
		t.Fatalf("next batch got %d, not after the large one's last record %d", tail, recs[len(want)-1].Seq)
	}
	// Cutting inside it works as anywhere else.
	sp, err := l.Cut(first+2, 1500_000)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Records != 1 || sp.Bytes != int64(len(want[2])) {
		t.Fatalf("Cut inside the large batch = %+v", sp)
	}
}

func testBacklog(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	a := appendRecs(t, l, "11", "222", "3333")
	b := appendRecs(t, l, "55555")
	all := l.Backlog(1)
	if all.Records != 4 || all.Bytes != 14 {
		t.Fatalf("Backlog(1) = %+v, want 4 records, 14 bytes", all)
	}
	// From inside the first batch.
	if bl := l.Backlog(a + 1); bl.From != a+1 || bl.Records != 3 || bl.Bytes != 12 || bl.To != all.To {
		t.Fatalf("Backlog(%d) = %+v, want 3 records, 12 bytes, To %d", a+1, bl, all.To)
	}
	// From the second batch; its arrival is the oldest.
	recs := readAll(t, l, b, all.To)
	if bl := l.Backlog(b); bl.Records != 1 || bl.Bytes != 5 || !bl.Oldest.Equal(recs[0].Arrival) {
		t.Fatalf("Backlog(%d) = %+v", b, bl)
	}
	// From the end: empty.
	if bl := l.Backlog(all.To); !bl.Empty() || bl.Records != 0 || bl.Bytes != 0 {
		t.Fatalf("Backlog(%d) at the end = %+v", all.To, bl)
	}
}

func testCut(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	rec := func(n int) string { return strings.Repeat("r", n) }
	a := appendRecs(t, l, rec(10), rec(20), rec(30))
	b := appendRecs(t, l, rec(40))
	c := appendRecs(t, l, rec(5), rec(5), rec(5), rec(5))
	end := l.Backlog(1).To
	type want struct {
		records int
		bytes   int64
		next    uint64 // the first record after the span; 0: end
	}
	tests := []struct {
		name string
		from uint64
		max  int64
		want want
	}{
		{"max smaller than one record gives one record", 1, 5, want{1, 10, a + 1}},
		{"max zero gives one record", a, 0, want{1, 10, a + 1}},
		{"exact fit inside a batch", a, 30, want{2, 30, a + 2}},
		{"exact fit of a batch", a, 60, want{3, 60, b}},
		{"next batch one byte too big", a, 99, want{3, 60, b}},
		{"exact fit of two batches", a, 100, want{4, 100, c}},
		{"ending inside a batch", a, 110, want{6, 110, c + 2}},
		{"everything", a, 1 << 20, want{8, 120, 0}},
		{"starting inside a batch", a + 1, 50, want{2, 50, b}},
		{"starting inside a batch, ending in the next", a + 2, 75, want{3, 75, c + 1}},
		{"starting at the last record", c + 3, 100, want{1, 5, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := l.Cut(tt.from, tt.max)
			if err != nil {
				t.Fatalf("Cut(%d, %d): %v", tt.from, tt.max, err)
			}
			if sp.From != tt.from || sp.Records != tt.want.records || sp.Bytes != tt.want.bytes {
				t.Fatalf("Cut(%d, %d) = %+v, want From %d, %d records, %d bytes", tt.from, tt.max, sp, tt.from, tt.want.records, tt.want.bytes)
			}
			recs := readAll(t, l, sp.From, sp.To)
			if len(recs) != sp.Records {
				t.Fatalf("span %+v reads %d records", sp, len(recs))
			}
			var n int64
			for _, r := range recs {
				n += int64(len(r.Data))
			}
			if n != sp.Bytes {
				t.Fatalf("span %+v reads %d bytes", sp, n)
			}
			if !sp.Oldest.Equal(recs[0].Arrival) {
				t.Fatalf("span Oldest %v, first record arrived %v", sp.Oldest, recs[0].Arrival)
			}
			if tt.want.next == 0 {
				if sp.To != end {
					t.Fatalf("span To %d, want the end %d", sp.To, end)
				}
				return
			}
			if sp.To > tt.want.next || len(readAll(t, l, sp.To, tt.want.next+1)) != 1 {
				t.Fatalf("span To %d: the next record is not %d", sp.To, tt.want.next)
			}
		})
	}
	// Consecutive cuts cover every record once.
	var got []string
	for from := uint64(1); ; {
		sp, err := l.Cut(from, 25)
		if err != nil {
			t.Fatal(err)
		}
		if sp.Empty() {
			if sp.Records != 0 {
				t.Fatalf("empty span %+v has records", sp)
			}
			break
		}
		got = append(got, dataOf(readAll(t, l, sp.From, sp.To))...)
		from = sp.To
	}
	equal(t, "records of consecutive cuts", got, []string{rec(10), rec(20), rec(30), rec(40), rec(5), rec(5), rec(5), rec(5)})
}

func testReadRanges(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	a := appendRecs(t, l, "a0", "a1", "a2")
	b := appendRecs(t, l, "b0", "b1")
	end := l.Backlog(1).To
	equal(t, "Read inside a batch", dataOf(readAll(t, l, a+1, a+2)), []string{"a1"})
	equal(t, "Read across batches", dataOf(readAll(t, l, a+2, b+1)), []string{"a2", "b0"})
	equal(t, "Read of nothing", dataOf(readAll(t, l, b, b)), nil)

	stop := errors.New("stop")
	n := 0
	if err := l.Read(t.Context(), 1, end, func(buffer.Record) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("Read with a failing callback: %v after %d records, want the callback's error after 1", err, n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := l.Read(ctx, 1, end, func(buffer.Record) error { return nil }); err == nil {
		t.Fatal("Read with a canceled context succeeded")
	}
	if err := l.Read(t.Context(), 1, end+1000, func(buffer.Record) error { return nil }); !errors.Is(err, buffer.ErrOutOfRange) {
		t.Fatalf("Read past the end = %v, want ErrOutOfRange", err)
	}
	if err := l.Read(t.Context(), b, a, func(buffer.Record) error { return nil }); !errors.Is(err, buffer.ErrOutOfRange) {
		t.Fatalf("Read of a reversed range = %v, want ErrOutOfRange", err)
	}
}

func testCommit(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	appendRecs(t, l, "a", "b")
	c := appendRecs(t, l, "c")
	end := l.Backlog(1).To
	ctx := t.Context()

	// A plan saved at the cursor, then the cursor moved past it.
	if err := l.Commit(ctx, 1, []byte("plan 1")); err != nil {
		t.Fatal(err)
	}
	if upto, state := l.Committed(); upto != 1 || string(state) != "plan 1" {
		t.Fatalf("Committed() = %d, %q", upto, state)
	}
	if err := l.Commit(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	if upto, state := l.Committed(); upto != c || state != nil {
		t.Fatalf("Committed() = %d, %q; want %d, nil", upto, state, c)
	}
	equal(t, "backlog after a commit", backlogData(t, l), []string{"c"})
	if bl := l.Backlog(c); bl.Records != 1 || bl.Bytes != 1 {
		t.Fatalf("Backlog(%d) after commit = %+v", c, bl)
	}
	// The state returned is a copy.
	if err := l.Commit(ctx, c, []byte("plan 2")); err != nil {
		t.Fatal(err)
	}
	_, st := l.Committed()
	st[0] = 'X'
	if _, st := l.Committed(); string(st) != "plan 2" {
		t.Fatalf("Committed state changed through a returned slice: %q", st)
	}
	// Never back, never past the end.
	if err := l.Commit(ctx, c-1, nil); !errors.Is(err, buffer.ErrOutOfRange) {
		t.Fatalf("Commit behind the cursor = %v, want ErrOutOfRange", err)
	}
	if err := l.Commit(ctx, end+1000, nil); !errors.Is(err, buffer.ErrOutOfRange) {
		t.Fatalf("Commit past the end = %v, want ErrOutOfRange", err)
	}
	if upto, st := l.Committed(); upto != c || string(st) != "plan 2" {
		t.Fatalf("a refused commit changed the state: %d, %q", upto, st)
	}
	// Up to the end, where the next append continues.
	if err := l.Commit(ctx, end, nil); err != nil {
		t.Fatal(err)
	}
	if bl := l.Backlog(end); !bl.Empty() {
		t.Fatalf("Backlog after committing everything = %+v", bl)
	}
	d := appendRecs(t, l, "d")
	if d < end {
		t.Fatalf("Append after committing up to %d returned %d", end, d)
	}
	equal(t, "backlog after the next append", backlogData(t, l), []string{"d"})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := l.Commit(cctx, end, nil); err == nil {
		t.Fatal("Commit with a canceled context succeeded")
	}
}

// testReopen closes and reopens a log: what was acknowledged and committed
// is all there, and new records come after the old ones.
func testReopen(t *testing.T, s *suite) {
	testRestart(t, s, func(l buffer.Log) {
		if err := l.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
}

// testCrash does the same with a crash.
func testCrash(t *testing.T, s *suite) {
	testRestart(t, s, s.crash)
}

func testRestart(t *testing.T, s *suite, stop func(buffer.Log)) {
	l := s.open("log", Options{})
	appendRecs(t, l, "a", "b")
	c := appendRecs(t, l, "c", "d")
	appendRecs(t, l, "e")
	if err := l.Commit(t.Context(), c, []byte("the plan")); err != nil {
		t.Fatal(err)
	}
	last := l.Backlog(c).To
	stop(l)

	l = s.open("log", Options{})
	if upto, st := l.Committed(); upto != c || string(st) != "the plan" {
		t.Fatalf("after restart: Committed() = %d, %q; want %d, %q", upto, st, c, "the plan")
	}
	equal(t, "backlog after restart", backlogData(t, l), []string{"c", "d", "e"})
	if bl := l.Backlog(c); bl.To != last {
		t.Fatalf("after restart the backlog ends at %d, before it ended at %d", bl.To, last)
	}
	f := appendRecs(t, l, "f")
	if f < last {
		t.Fatalf("Append after restart returned %d, before the old end %d", f, last)
	}
	equal(t, "backlog after restart and an append", backlogData(t, l), []string{"c", "d", "e", "f"})
	// And once more, after committing everything.
	end := l.Backlog(c).To
	if err := l.Commit(t.Context(), end, nil); err != nil {
		t.Fatal(err)
	}
	stop(l)
	l = s.open("log", Options{})
	if upto, st := l.Committed(); upto != end || st != nil {
		t.Fatalf("after second restart: Committed() = %d, %q; want %d, nil", upto, st, end)
	}
	if g := appendRecs(t, l, "g"); g < end {
		t.Fatalf("Append after committing up to %d and restarting returned %d", end, g)
	}
	equal(t, "backlog after second restart", backlogData(t, l), []string{"g"})
}

func testAppended(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	ch := l.Appended()
	select {
	case <-ch:
		t.Fatal("Appended channel closed before any append")
	default:
	}
	appendRecs(t, l, "x")
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Appended channel not closed after an append")
	}
	ch2 := l.Appended()
	select {
	case <-ch2:
		t.Fatal("a new Appended channel is already closed")
	default:
	}
	if bl := l.Backlog(1); bl.Records != 1 {
		t.Fatalf("Backlog after the wake-up = %+v", bl)
	}
	appendRecs(t, l, "y")
	select {
	case <-ch2:
	case <-time.After(10 * time.Second):
		t.Fatal("second Appended channel not closed after an append")
	}
}

func testClosed(t *testing.T, s *suite) {
	l, err := s.h.Open(t, "log", Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendRecs(t, l, "a")
	ch := l.Appended()
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	if _, err := l.Append(ctx, batchOf("b")); !errors.Is(err, buffer.ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if _, err := l.Cut(1, 10); !errors.Is(err, buffer.ErrClosed) {
		t.Errorf("Cut after Close = %v, want ErrClosed", err)
	}
	if err := l.Read(ctx, 1, 2, func(buffer.Record) error { return nil }); !errors.Is(err, buffer.ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
	if err := l.Commit(ctx, 1, nil); !errors.Is(err, buffer.ErrClosed) {
		t.Errorf("Commit after Close = %v, want ErrClosed", err)
	}
	if err := l.Fence(ctx, 1); !errors.Is(err, buffer.ErrClosed) {
		t.Errorf("Fence after Close = %v, want ErrClosed", err)
	}
	if !l.Backlog(1).Empty() {
		t.Error("Backlog after Close is not empty")
	}
	for _, c := range []<-chan struct{}{ch, l.Appended()} {
		select {
		case <-c:
		default:
			t.Error("Appended channel not closed by Close")
		}
	}
	if err := l.Close(); !errors.Is(err, buffer.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	// Closing released the log: it opens again, with its record.
	l = s.open("log", Options{})
	equal(t, "records after reopening a closed log", backlogData(t, l), []string{"a"})
}

// testBackPressure fills a capped log: appends past the cap fail with
// ErrFull and lose nothing; delivering (committing) makes room again.
func testBackPressure(t *testing.T, s *suite) {
	const max = 64 << 10
	l := s.open("log", Options{MaxBytes: max})
	rec := strings.Repeat("p", 1000)
	var acked []string
	full := false
	for i := 0; i < 200 && !full; i++ {
		r := fmt.Sprintf("%03d%s", i, rec)
		_, err := l.Append(t.Context(), batchOf(r))
		switch {
		case err == nil:
			acked = append(acked, r)
		case errors.Is(err, buffer.ErrFull):
			full = true
		default:
			t.Fatalf("Append %d: %v, want nil or ErrFull", i, err)
		}
	}
	if !full {
		t.Fatalf("%d appends of 1 KB into a log capped at %d bytes never gave ErrFull", len(acked), max)
	}
	if len(acked) < 16 {
		t.Fatalf("only %d appends of 1 KB fit in %d bytes", len(acked), max)
	}
	// Still full; nothing acknowledged was dropped to make room.
	if _, err := l.Append(t.Context(), batchOf("more"+rec)); !errors.Is(err, buffer.ErrFull) {
		t.Fatalf("Append to a full log = %v, want ErrFull", err)
	}
	equal(t, "records of a full log", backlogData(t, l), acked)

	// Delivering makes room.
	bl := l.Backlog(1)
	if err := l.Commit(t.Context(), bl.To, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "an append after delivery made room", func() bool {
		_, err := l.Append(t.Context(), batchOf("after"))
		if err != nil && !errors.Is(err, buffer.ErrFull) {
			t.Fatalf("Append after commit: %v", err)
		}
		return err == nil
	})
	equal(t, "records after delivery made room", backlogData(t, l), []string{"after"})
}

func testDelete(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	other := s.open("other", Options{})
	appendRecs(t, l, "a", "b")
	appendRecs(t, other, "kept")
	if err := l.Commit(t.Context(), 2, []byte("plan")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.h.Delete(t, "log"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	l = s.open("log", Options{})
	if upto, st := l.Committed(); upto != 1 || st != nil {
		t.Fatalf("a deleted log opens with Committed() = %d, %q; want 1, nil", upto, st)
	}
	if bl := l.Backlog(1); !bl.Empty() {
		t.Fatalf("a deleted log opens with records: %+v", bl)
	}
	appendRecs(t, l, "new")
	equal(t, "records of a log made again", backlogData(t, l), []string{"new"})
	equal(t, "records of the log next to the deleted one", backlogData(t, other), []string{"kept"})
}
