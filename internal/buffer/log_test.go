package buffer

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	l := openLog(t, dir, Options{Now: clk.Now})
	if got := l.Backlog(1); !got.Empty() {
		t.Fatalf("new log Backlog = %+v", got)
	}
	if upto, state := l.Committed(); upto != 1 || state != nil {
		t.Fatalf("new log Committed = %d, %q", upto, state)
	}

	big := strings.Repeat("x", 1<<20)
	if s := mustAppend(t, l, "a", "", "ccc"); s != 1 {
		t.Fatalf("first Append = %d, want 1", s)
	}
	clk.Advance(1500 * time.Microsecond)
	if s := mustAppend(t, l, big); s != 4 {
		t.Fatalf("second Append = %d, want 4", s)
	}
	if s := mustAppend(t, l, "d"); s != 5 {
		t.Fatalf("third Append = %d, want 5", s)
	}

	recs := readAll(t, l, 1, 6)
	if got, want := dataOf(recs), []string{"a", "", "ccc", big, "d"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("Read: got %d records, want %d", len(got), len(want))
	}
	t0 := clk.t.Add(-1500 * time.Microsecond)
	for i, r := range recs {
		if r.Seq != uint64(i+1) {
			t.Errorf("record %d has Seq %d", i, r.Seq)
		}
		want := t0.Truncate(time.Millisecond)
		if i >= 3 {
			want = t0.Add(1500 * time.Microsecond).Truncate(time.Millisecond)
		}
		if !r.Arrival.Equal(want) {
			t.Errorf("record %d arrival %v, want %v", i, r.Arrival, want)
		}
	}

	// A partial range inside frames, and fn's error stops the read.
	if got := dataOf(readAll(t, l, 2, 4)); strings.Join(got, "|") != "|ccc" {
		t.Errorf("Read(2, 4) = %q", got)
	}
	stop := errors.New("stop")
	n := 0
	err := l.Read(context.Background(), 1, 6, func(Record) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("Read with failing fn: err %v after %d records", err, n)
	}

	// Range errors.
	for _, r := range [][2]uint64{{1, 7}, {5, 4}, {0, 2}} {
		if err := l.Read(context.Background(), r[0], r[1], func(Record) error { return nil }); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("Read(%d, %d) = %v, want ErrOutOfRange", r[0], r[1], err)
		}
	}
	if _, err := l.Append(context.Background(), &Batch{}); err == nil {
		t.Error("Append of an empty batch succeeded")
	}

	// Everything survives a clean restart.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, Options{Now: clk.Now})
	checkRecords(t, l, 1, []string{"a", "", "ccc", big, "d"})
	if s := mustAppend(t, l, "e"); s != 6 {
		t.Fatalf("Append after reopen = %d, want 6", s)
	}
}

func TestCut(t *testing.T) {
	clk := newClock()
	l := openLog(t, t.TempDir(), Options{Now: clk.Now})
	rec := func(n int) string { return strings.Repeat("r", n) }
	// Seqs 1-3 (10+20+30), 4 (40), 5-8 (4×5).
	mustAppend(t, l, rec(10), rec(20), rec(30))
	t1 := clk.Now()
	clk.Advance(time.Second)
	mustAppend(t, l, rec(40))
	t2 := clk.Now()
	clk.Advance(time.Second)
	mustAppend(t, l, rec(5), rec(5), rec(5), rec(5))
	t3 := clk.Now()

	tests := []struct {
		name     string
		from     uint64
		max      int64
		to       uint64
		bytes    int64
		oldest   time.Time
		wantErr  error
		emptyCut bool
	}{
		{name: "max smaller than one record gives one record", from: 1, max: 5, to: 2, bytes: 10, oldest: t1},
		{name: "max zero gives one record", from: 1, max: 0, to: 2, bytes: 10, oldest: t1},
		{name: "exact fit of one record", from: 1, max: 10, to: 2, bytes: 10, oldest: t1},
		{name: "exact fit inside a frame", from: 1, max: 30, to: 3, bytes: 30, oldest: t1},
		{name: "exact fit of a whole frame", from: 1, max: 60, to: 4, bytes: 60, oldest: t1},
		{name: "next frame one byte too big", from: 1, max: 99, to: 4, bytes: 60, oldest: t1},
		{name: "exact fit of two frames", from: 1, max: 100, to: 5, bytes: 100, oldest: t1},
		{name: "spanning frames ending inside one", from: 1, max: 110, to: 7, bytes: 110, oldest: t1},
		{name: "everything", from: 1, max: 1 << 30, to: 9, bytes: 120, oldest: t1},
		{name: "from inside a frame, rest fits exactly", from: 2, max: 50, to: 4, bytes: 50, oldest: t1},
		{name: "from inside a frame, rest too big", from: 2, max: 49, to: 3, bytes: 20, oldest: t1},
		{name: "from inside a frame, at least one record", from: 3, max: 1, to: 4, bytes: 30, oldest: t1},
		{name: "from inside a frame across two frames", from: 3, max: 75, to: 6, bytes: 75, oldest: t1},
		{name: "single-record frame", from: 4, max: 40, to: 5, bytes: 40, oldest: t2},
		{name: "last frame partial", from: 6, max: 12, to: 8, bytes: 10, oldest: t3},
		{name: "at the end", from: 9, max: 10, to: 9, emptyCut: true},
		{name: "past the end", from: 10, max: 10, wantErr: ErrOutOfRange},
		{name: "seq zero was never appended", from: 0, max: 10, wantErr: ErrOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp, err := l.Cut(tt.from, tt.max)
			if tt.wantErr != nil || err != nil {
				if !isErr(err, tt.wantErr) {
					t.Fatalf("Cut(%d, %d) error %v, want %v", tt.from, tt.max, err, tt.wantErr)
				}
				return
			}
			if tt.emptyCut {
				if !sp.Empty() || sp.From != tt.from {
					t.Fatalf("Cut(%d, %d) = %+v, want empty", tt.from, tt.max, sp)
				}
				return
			}
			want := Span{From: tt.from, To: tt.to, Records: int(tt.to - tt.from), Bytes: tt.bytes, Oldest: tt.oldest}
			if sp != want {
				t.Fatalf("Cut(%d, %d) =\n %+v, want\n %+v", tt.from, tt.max, sp, want)
			}
			// The span's bytes are the bytes Read delivers.
			var n int64
			for _, r := range readAll(t, l, sp.From, sp.To) {
				n += int64(len(r.Data))
			}
			if n != sp.Bytes {
				t.Fatalf("Read of %+v gave %d bytes", sp, n)
			}
		})
	}
}

func TestBacklog(t *testing.T) {
	clk := newClock()
	l := openLog(t, t.TempDir(), Options{Now: clk.Now})
	mustAppend(t, l, "0123456789", "0123456789012345678901234567890123456789")
	t1 := clk.Now()
	clk.Advance(time.Second)
	mustAppend(t, l, "abc", "defgh", "i")
	t2 := clk.Now()

	tests := []struct {
		name string
		from uint64
		want Span
	}{
		{name: "from the start", from: 1, want: Span{From: 1, To: 6, Records: 5, Bytes: 59, Oldest: t1}},
		{name: "before the start is clamped", from: 0, want: Span{From: 1, To: 6, Records: 5, Bytes: 59, Oldest: t1}},
		{name: "inside the first frame", from: 2, want: Span{From: 2, To: 6, Records: 4, Bytes: 49, Oldest: t1}},
		{name: "frame boundary", from: 3, want: Span{From: 3, To: 6, Records: 3, Bytes: 9, Oldest: t2}},
		{name: "inside the last frame", from: 5, want: Span{From: 5, To: 6, Records: 1, Bytes: 1, Oldest: t2}},
		{name: "at the end", from: 6, want: Span{From: 6, To: 6}},
		{name: "past the end", from: 9, want: Span{From: 9, To: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.Backlog(tt.from); got != tt.want {
				t.Fatalf("Backlog(%d) =\n %+v, want\n %+v", tt.from, got, tt.want)
			}
		})
	}
}

func TestCommitDeletesSegmentsAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentBytes: 300}
	l := openLog(t, dir, opts)
	var want []string
	for i := range 20 {
		recs := []string{fmt.Sprintf("%02d-a-%s", i, strings.Repeat("p", 40)), fmt.Sprintf("%02d-b", i)}
		mustAppend(t, l, recs...)
		want = append(want, recs...)
	}
	segsBefore := segFiles(t, dir)
	if len(segsBefore) < 5 {
		t.Fatalf("expected several segments with SegmentBytes 300, got %v", segsBefore)
	}
	usedBefore := l.BufferedBytes()

	// Commit inside a frame of a later segment.
	const upto = 22
	if err := l.Commit(context.Background(), upto, []byte("plan-1")); err != nil {
		t.Fatal(err)
	}
	segsAfter := segFiles(t, dir)
	if len(segsAfter) >= len(segsBefore) || segsAfter[0] == segsBefore[0] {
		t.Fatalf("Commit(%d) kept delivered segments: before %v, after %v", upto, segsBefore, segsAfter)
	}
	if used := l.BufferedBytes(); used >= usedBefore || used <= 0 {
		t.Fatalf("BufferedBytes after commit = %d, before %d", used, usedBefore)
	}
	if got, state := l.Committed(); got != upto || string(state) != "plan-1" {
		t.Fatalf("Committed = %d, %q", got, state)
	}
	checkRecords(t, l, upto, want[upto-1:])
	if err := l.Read(context.Background(), 1, 3, func(Record) error { return nil }); !errors.Is(err, ErrOutOfRange) {
		t.Fatalf("Read of deleted records: %v, want ErrOutOfRange", err)
	}

	// Bad commits.
	for _, c := range []struct {
		upto uint64
	}{{upto - 1}, {42}} {
		if err := l.Commit(context.Background(), c.upto, nil); !errors.Is(err, ErrOutOfRange) {
			t.Errorf("Commit(%d) = %v, want ErrOutOfRange", c.upto, err)
		}
	}
	// Same cursor, new plan.
	if err := l.Commit(context.Background(), upto, []byte("plan-2")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	l = openLog(t, dir, opts)
	if got, state := l.Committed(); got != upto || string(state) != "plan-2" {
		t.Fatalf("after reopen Committed = %d, %q", got, state)
	}
	checkRecords(t, l, upto, want[upto-1:])
	if s := mustAppend(t, l, "next"); s != 41 {
		t.Fatalf("Append after reopen = %d, want 41", s)
	}
	// Everything delivered: only the active segment remains, and a reopen
	// with nothing to recover continues the sequence.
	if err := l.Commit(context.Background(), 42, nil); err != nil {
		t.Fatal(err)
	}
	if !l.OldestUndelivered().IsZero() || l.BufferedBytes() != 0 {
		t.Fatalf("all delivered: oldest %v, buffered %d", l.OldestUndelivered(), l.BufferedBytes())
	}
	if segs := segFiles(t, dir); len(segs) != 1 {
		t.Fatalf("segments after full commit: %v", segs)
	}
	l.Close()
	l = openLog(t, dir, opts)
	if s := mustAppend(t, l, "after"); s != 42 {
		t.Fatalf("Append after full commit and reopen = %d, want 42", s)
	}
}

func TestStaleDeliveredSegmentsRemovedAtOpen(t *testing.T) {
	// A crash between writing the cursor and deleting segments leaves
	// delivered segments behind; Open deletes them without reading them.
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentBytes: 100})
	for i := range 6 {
		mustAppend(t, l, fmt.Sprintf("record-%d-%s", i, strings.Repeat("z", 60)))
	}
	saved := map[string][]byte{}
	for _, name := range segFiles(t, dir) {
		saved[name] = readFile(t, filepath.Join(dir, name))
	}
	if err := l.Commit(context.Background(), 5, []byte("s")); err != nil {
		t.Fatal(err)
	}
	l.Close()
	for name, b := range saved {
		writeFile(t, filepath.Join(dir, name), b)
	}
	// Garbage in a stale segment does not matter: it is never read.
	first := segFiles(t, dir)[0]
	writeFile(t, filepath.Join(dir, first), []byte("garbage"))

	sink := &logSink{}
	l = openLog(t, dir, Options{SegmentBytes: 100, Logger: sink.logger()})
	if lines := sink.lines(-8); len(lines) != 0 {
		t.Errorf("unexpected log lines: %q", lines)
	}
	if got := segFiles(t, dir); len(got) != 2 {
		t.Errorf("segments after reopen: %v", got)
	}
	checkRecords(t, l, 5, []string{"record-4-" + strings.Repeat("z", 60), "record-5-" + strings.Repeat("z", 60)})
}

func TestMaxBytes(t *testing.T) {
	rec := strings.Repeat("m", 100)
	frame := int64(frameOverhead + recordHeader + len(rec))
	l := openLog(t, t.TempDir(), Options{MaxBytes: 2 * frame})
	mustAppend(t, l, rec)
	mustAppend(t, l, rec)
	if _, err := l.Append(context.Background(), batchOf(rec)); !errors.Is(err, ErrFull) {
		t.Fatalf("Append past MaxBytes = %v, want ErrFull", err)
	}
	if got := l.BufferedBytes(); got != 2*frame {
		t.Fatalf("BufferedBytes = %d, want %d", got, 2*frame)
	}
	// Delivering frees room.
	if err := l.Commit(context.Background(), 2, nil); err != nil {
		t.Fatal(err)
	}
	if s := mustAppend(t, l, rec); s != 3 {
		t.Fatalf("Append after commit = %d, want 3", s)
	}

	// A batch bigger than the cap is still taken into an empty log.
	l2 := openLog(t, t.TempDir(), Options{MaxBytes: 10})
	mustAppend(t, l2, rec)
	if _, err := l2.Append(context.Background(), batchOf("x")); !errors.Is(err, ErrFull) {
		t.Fatalf("second Append past MaxBytes = %v, want ErrFull", err)
	}
}

func TestClosedLog(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, "a")
	ch := l.Appended()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Append(ctx, batchOf("b")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v", err)
	}
	if _, err := l.Cut(1, 10); !errors.Is(err, ErrClosed) {
		t.Errorf("Cut after Close = %v", err)
	}
	if err := l.Read(ctx, 1, 2, func(Record) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	if err := l.Commit(ctx, 2, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close = %v", err)
	}
	if err := l.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
	if !l.Backlog(1).Empty() {
		t.Errorf("Backlog after Close is not empty")
	}
	for _, c := range []<-chan struct{}{ch, l.Appended()} {
		select {
		case <-c:
		default:
			t.Errorf("Appended channel not closed by Close")
		}
	}
	// The directory lock was released.
	l2 := openLog(t, dir, Options{})
	checkRecords(t, l2, 1, []string{"a"})
}

func TestOpenTwice(t *testing.T) {
	dir := t.TempDir()
	openLog(t, dir, Options{})
	if l, err := Open(dir, Options{}); err == nil {
		l.Close()
		t.Fatal("second Open of the same directory succeeded")
	}
}

func TestAppended(t *testing.T) {
	l := openLog(t, t.TempDir(), Options{})
	ch := l.Appended()
	select {
	case <-ch:
		t.Fatal("Appended closed before any append")
	default:
	}
	mustAppend(t, l, "x")
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("Appended not closed after an append")
	}
	ch2 := l.Appended()
	select {
	case <-ch2:
		t.Fatal("new Appended channel already closed")
	default:
	}
	if sp := l.Backlog(1); sp.Records != 1 {
		t.Fatalf("Backlog after wake-up = %+v", sp)
	}
}

func TestCorruptCursorFailsOpen(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	mustAppend(t, l, "a")
	if err := l.Commit(context.Background(), 2, []byte("state")); err != nil {
		t.Fatal(err)
	}
	l.Close()
	path := filepath.Join(dir, cursorName)
	good := readFile(t, path)
	for name, offs := range map[string][]int{"header": {9}, "both slots": {cursorHeaderSize + 10, cursorHeaderSize + defaultCursorSlot + 10}} {
		b := bytes.Clone(good)
		for _, off := range offs {
			b[off] ^= 1
		}
		writeFile(t, path, b)
		_, err := Open(dir, Options{})
		var ce *CorruptionError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: Open with a corrupt cursor = %v, want CorruptionError", name, err)
		}
	}
	// A leftover temp cursor is ignored and removed.
	writeFile(t, path, good)
	writeFile(t, filepath.Join(dir, cursorTmpName), []byte("half"))
	l = openLog(t, dir, Options{})
	if upto, state := l.Committed(); upto != 2 || !bytes.Equal(state, []byte("state")) {
		t.Fatalf("Committed = %d, %q", upto, state)
	}
}

// TestCursorSlots checks the two-slot cursor: commits alternate slots in
// place, a torn newest slot falls back to the commit before it, a state
// larger than a slot grows the file, and a version-1 cursor still opens.
func TestCursorSlots(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, cursorName)
	l := openLog(t, dir, Options{})
	mustAppend(t, l, "a", "b", "c")
	ctx := context.Background()
	for i, st := range []string{"one", "two", "three"} {
		if err := l.Commit(ctx, uint64(i+1), []byte(st)); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	if n := len(readFile(t, path)); n != cursorHeaderSize+2*defaultCursorSlot {
		t.Fatalf("cursor file is %d bytes", n)
	}
	// Open wrote generation 1 (the empty cursor), so generation 4
	// ("three") sits in slot 0; tear it.
	b := readFile(t, path)
	b[cursorHeaderSize+cursorSlotFixed] ^= 0xff
	writeFile(t, path, b)
	l = openLog(t, dir, Options{})
	if upto, state := l.Committed(); upto != 2 || string(state) != "two" {
		t.Fatalf("after a torn newest slot: Committed = %d, %q; want 2, two", upto, state)
	}
	// Commits go on from there, and a big state grows the slots.
	big := bytes.Repeat([]byte("x"), 3*defaultCursorSlot)
	if err := l.Commit(ctx, 3, big); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx, 4, []byte("small")); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openLog(t, dir, Options{})
	if upto, state := l.Committed(); upto != 4 || string(state) != "small" {
		t.Fatalf("Committed = %d, %q", upto, state)
	}
	l.Close()

	// A cursor written by format version 1 opens and is replaced at once,
	// in the two-slot format.
	v1 := make([]byte, cursorFixed)
	copy(v1, cursorMagic)
	binary.LittleEndian.PutUint32(v1[4:], cursorVersion)
	binary.LittleEndian.PutUint64(v1[8:], 3)
	binary.LittleEndian.PutUint32(v1[16:], 2)
	v1 = append(v1, "v1"...)
	v1 = binary.LittleEndian.AppendUint32(v1, crc32.Checksum(v1, castagnoli))
	writeFile(t, path, v1)
	l = openLog(t, dir, Options{})
	if upto, state := l.Committed(); upto != 3 || string(state) != "v1" {
		t.Fatalf("version 1 cursor: Committed = %d, %q", upto, state)
	}
	if got := string(readFile(t, path)[:4]); got != cursorFileMagic {
		t.Fatalf("cursor not rewritten in the two-slot format: magic %q", got)
	}
}
