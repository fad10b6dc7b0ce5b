package logtest

// The contract under concurrency: appends from many goroutines, delivery
// while appending, fencing, and two handles on one log.

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// testConcurrentAppends runs appenders at once: every acknowledged batch is
// in the log once, its records consecutive, each appender's batches in
// the order it made them.
func testConcurrentAppends(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	const appenders, batches = 8, 40
	type ack struct {
		g, i  int
		first uint64
	}
	var mu sync.Mutex
	var acks []ack
	var wg sync.WaitGroup
	for g := range appenders {
		wg.Go(func() {
			for i := range batches {
				n := 1 + (g+i)%5
				recs := make([]string, n)
				for r := range recs {
					recs[r] = fmt.Sprintf("g%d-b%d-r%d", g, i, r)
				}
				first, err := l.Append(t.Context(), batchOf(recs...))
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				acks = append(acks, ack{g, i, first})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	bl := l.Backlog(1)
	bySeq := map[uint64]string{}
	var prev uint64
	for _, r := range readAll(t, l, 1, bl.To) {
		if r.Seq <= prev {
			t.Fatalf("Seq %d after %d", r.Seq, prev)
		}
		prev = r.Seq
		bySeq[r.Seq] = string(r.Data)
	}
	total := 0
	last := make([]uint64, appenders)
	for _, a := range acks {
		n := 1 + (a.g+a.i)%5
		total += n
		for r := range n {
			want := fmt.Sprintf("g%d-b%d-r%d", a.g, a.i, r)
			if got := bySeq[a.first+uint64(r)]; got != want {
				t.Fatalf("record %d of acknowledged batch at %d: %q, want %q", r, a.first, got, want)
			}
		}
		if a.first <= last[a.g] {
			t.Fatalf("appender %d: batch %d at %d, not after its previous batch at %d", a.g, a.i, a.first, last[a.g])
		}
		last[a.g] = a.first
	}
	if len(bySeq) != total || bl.Records != total {
		t.Fatalf("log holds %d records (backlog says %d), %d were acknowledged", len(bySeq), bl.Records, total)
	}
}

// testDeliverWhileAppending runs a delivery loop (cut, read, commit) while
// appenders write: every acknowledged record is delivered exactly once.
func testDeliverWhileAppending(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	const appenders, batches = 4, 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for g := range appenders {
		wg.Go(func() {
			for i := range batches {
				recs := []string{fmt.Sprintf("g%d-%d-0", g, i), fmt.Sprintf("g%d-%d-1", g, i)}
				if _, err := l.Append(t.Context(), batchOf(recs...)); err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				for _, r := range recs {
					acked[r] = true
				}
				mu.Unlock()
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	delivered := map[string]int{}
	cursor, _ := l.Committed()
	finished := false
	deadline := time.Now().Add(30 * time.Second)
	for {
		wake := l.Appended()
		sp, err := l.Cut(cursor, 300)
		if err != nil {
			t.Fatalf("Cut(%d): %v", cursor, err)
		}
		if !sp.Empty() {
			err := l.Read(t.Context(), sp.From, sp.To, func(r buffer.Record) error {
				delivered[string(r.Data)]++
				return nil
			})
			if err != nil {
				t.Fatalf("Read %+v: %v", sp, err)
			}
			if err := l.Commit(t.Context(), sp.To, nil); err != nil {
				t.Fatalf("Commit(%d): %v", sp.To, err)
			}
			cursor = sp.To
			continue
		}
		if finished {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("delivery did not catch up within 30 s")
		}
		select {
		case <-wake:
		case <-done:
			finished = true // one more pass drains what is left
		case <-time.After(100 * time.Millisecond):
		}
	}
	if t.Failed() {
		return
	}
	for r := range acked {
		if delivered[r] != 1 {
			t.Fatalf("record %q delivered %d times", r, delivered[r])
		}
	}
	if len(delivered) != len(acked) {
		t.Fatalf("%d records delivered, %d acknowledged", len(delivered), len(acked))
	}
}

// testFence checks the tokens' order on one handle: an older token is
// refused, the current one and newer ones are not, commits go on.
func testFence(t *testing.T, s *suite) {
	l := s.open("log", Options{})
	ctx := t.Context()
	a := appendRecs(t, l, "a", "b")
	if err := l.Fence(ctx, 5); err != nil {
		t.Fatalf("Fence(5) on a new log: %v", err)
	}
	if err := l.Commit(ctx, a+1, []byte("plan")); err != nil {
		t.Fatalf("Commit after Fence: %v", err)
	}
	if err := l.Fence(ctx, 5); err != nil {
		t.Fatalf("Fence with the same token again: %v", err)
	}
	if err := l.Fence(ctx, 4); !errors.Is(err, buffer.ErrFenced) {
		t.Fatalf("Fence(4) after Fence(5) = %v, want ErrFenced", err)
	}
	if err := l.Fence(ctx, 9); err != nil {
		t.Fatalf("Fence(9): %v", err)
	}
	if upto, st := l.Committed(); upto != a+1 || string(st) != "plan" {
		t.Fatalf("Committed() after fences = %d, %q", upto, st)
	}
	if err := l.Commit(ctx, l.Backlog(1).To, nil); err != nil {
		t.Fatalf("Commit after a newer Fence on the same handle: %v", err)
	}
}

// testTwoHandles opens the same log twice, as two nodes would. An exclusive
// log refuses the second open. A shared one shows each handle the other's
// appends, and after the second handle fences it, the first can no longer
// commit or fence, while the second sees the first one's last commit.
func testTwoHandles(t *testing.T, s *suite) {
	ctx := t.Context()
	a := s.open("log", Options{})
	if !s.h.Shared {
		b, err := s.h.Open(t, "log", Options{})
		if err == nil {
			b.Close()
			t.Fatal("a second Open of an exclusive log succeeded while the first is open")
		}
		return
	}
	b := s.open("log", Options{})
	x := appendRecs(t, a, "from a")
	y := appendRecs(t, b, "from b")
	for _, h := range []buffer.Log{a, b} {
		eventually(t, "both appends seen by both handles", func() bool { return h.Backlog(1).Records == 2 })
		equal(t, "records seen by a handle", dataOf(readAll(t, h, 1, h.Backlog(1).To)), []string{"from a", "from b"})
	}
	if x > y {
		x, y = y, x
	}

	// a owns delivery and commits a plan.
	if err := a.Fence(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx, x+1, []byte("a's plan")); err != nil {
		t.Fatal(err)
	}
	// b takes over with a newer lease: it sees a's plan.
	if err := b.Fence(ctx, 11); err != nil {
		t.Fatal(err)
	}
	if upto, st := b.Committed(); upto != x+1 || string(st) != "a's plan" {
		t.Fatalf("after taking over: Committed() = %d, %q; want %d, %q", upto, st, x+1, "a's plan")
	}
	// a, which does not know yet, can no longer plan or commit.
	if err := a.Commit(ctx, x+1, []byte("a's other plan")); !errors.Is(err, buffer.ErrFenced) {
		t.Fatalf("Commit by the fenced handle = %v, want ErrFenced", err)
	}
	if err := a.Commit(ctx, y+1, nil); !errors.Is(err, buffer.ErrFenced) {
		t.Fatalf("Commit by the fenced handle = %v, want ErrFenced", err)
	}
	if err := a.Fence(ctx, 10); !errors.Is(err, buffer.ErrFenced) {
		t.Fatalf("Fence with the old token = %v, want ErrFenced", err)
	}
	// b goes on; a still appends (every node takes Puts).
	if err := b.Commit(ctx, y+1, nil); err != nil {
		t.Fatalf("Commit by the new holder: %v", err)
	}
	appendRecs(t, a, "a again")
	eventually(t, "b seeing a's append after the takeover", func() bool { return b.Backlog(y+1).Records == 1 })
	equal(t, "b's backlog", backlogData(t, b), []string{"a again"})
	// a may take the log back with a newer token, and then sees b's commit.
	if err := a.Fence(ctx, 12); err != nil {
		t.Fatalf("Fence(12) by the first handle: %v", err)
	}
	if upto, st := a.Committed(); upto != y+1 || st != nil {
		t.Fatalf("a after taking back: Committed() = %d, %q; want %d, nil", upto, st, y+1)
	}
	if err := b.Commit(ctx, y+1, []byte("late")); !errors.Is(err, buffer.ErrFenced) {
		t.Fatalf("Commit by b after a took the log back = %v, want ErrFenced", err)
	}
}
