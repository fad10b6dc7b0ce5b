package buffer

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBudget checks the cap shared by several logs: appends reserve from it,
// failures, commits and Close give back exactly what they took, and what a
// log recovers at open counts against it.
func TestBudget(t *testing.T) {
	rec := strings.Repeat("b", 100)
	frame := int64(frameOverhead + recordHeader + len(rec))
	ctx := context.Background()
	budget := NewBudget(3 * frame)
	dirA, dirB := t.TempDir(), t.TempDir()
	a := openLog(t, dirA, Options{Budget: budget})
	b := openLog(t, dirB, Options{Budget: budget})

	mustAppend(t, a, rec)
	mustAppend(t, b, rec)
	mustAppend(t, a, rec)
	_, err := b.Append(ctx, batchOf(rec))
	if !errors.Is(err, ErrFull) || !strings.Contains(err.Error(), "across all streams") {
		t.Fatalf("Append past the shared budget = %v, want ErrFull naming the global cap", err)
	}
	if got := budget.Used(); got != 3*frame {
		t.Fatalf("Budget.Used = %d, want %d", got, 3*frame)
	}
	if got := b.BufferedBytes(); got != frame {
		t.Fatalf("refused append still counted in the log: BufferedBytes = %d, want %d", got, frame)
	}

	// Delivery in one log makes room for the other.
	if err := a.Commit(ctx, 3, nil); err != nil {
		t.Fatal(err)
	}
	if got := budget.Used(); got != frame {
		t.Fatalf("Budget.Used after commit = %d, want %d", got, frame)
	}
	mustAppend(t, b, rec)

	// Closing a log returns its share; reopening it takes it again.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := budget.Used(); got != 0 {
		t.Fatalf("Budget.Used after Close = %d, want 0", got)
	}
	b = openLog(t, dirB, Options{Budget: budget})
	if got := budget.Used(); got != 2*frame {
		t.Fatalf("Budget.Used after reopening = %d, want %d", got, 2*frame)
	}
	if got := b.BufferedBytes(); got != 2*frame {
		t.Fatalf("BufferedBytes after reopening = %d, want %d", got, 2*frame)
	}

	// One batch larger than the whole cap still gets into an empty budget.
	if err := b.Commit(ctx, 3, nil); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("B", int(4*frame))
	mustAppend(t, a, big)
	if _, err := b.Append(ctx, batchOf("x")); !errors.Is(err, ErrFull) {
		t.Fatalf("Append with the budget overfull = %v, want ErrFull", err)
	}
}

// TestBudgetWriteFailure checks that a failed write gives its reservation
// back to the shared budget.
func TestBudgetWriteFailure(t *testing.T) {
	clk, fs := newClock(), &faults{}
	budget := NewBudget(0)
	l := openLog(t, t.TempDir(), Options{Now: clk.Now, OpenFile: fs.open, Budget: budget})
	mustAppend(t, l, "A")
	used := budget.Used()
	fs.set(func(f *faults) { f.writeErr = syscall.ENOSPC })
	if _, err := l.Append(context.Background(), batchOf("B")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append during ENOSPC = %v", err)
	}
	if got := budget.Used(); got != used {
		t.Fatalf("Budget.Used after a failed write = %d, want %d", got, used)
	}
	if budget.Max() != 0 {
		t.Fatalf("Max of an uncapped budget = %d", budget.Max())
	}
	fs.clear()
	clk.Advance(time.Second)
	mustAppend(t, l, "C")
	if got := budget.Used(); got != l.BufferedBytes() {
		t.Fatalf("Budget.Used = %d, log holds %d", got, l.BufferedBytes())
	}
}
