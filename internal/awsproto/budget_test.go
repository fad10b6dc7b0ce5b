package awsproto

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestBudgetGrantsInOrderAndTimesOut(t *testing.T) {
	b := NewBudget(100, 50*time.Millisecond)
	ctx := context.Background()
	if n, ok := b.Acquire(ctx, 60); !ok || n != 60 {
		t.Fatalf("first: %d %v", n, ok)
	}
	start := time.Now()
	if _, ok := b.Acquire(ctx, 50); ok {
		t.Fatal("second fit over the budget")
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > time.Second {
		t.Errorf("refusal took %s, want about the 50ms wait", d)
	}
	// A waiter is granted as soon as room is released.
	done := make(chan bool)
	go func() { _, ok := b.Acquire(ctx, 50); done <- ok }()
	time.Sleep(10 * time.Millisecond)
	b.Release(60)
	if !<-done {
		t.Fatal("waiter not granted after release")
	}
	if b.InUse() != 50 || b.Peak() != 60 {
		t.Errorf("in use %d, peak %d", b.InUse(), b.Peak())
	}
	// More than the whole budget is cut to it, and runs alone.
	b.Release(50)
	if n, ok := b.Acquire(ctx, 1000); !ok || n != 100 {
		t.Fatalf("oversized: %d %v", n, ok)
	}
	b.Release(100)
	var nilBudget *Budget
	if n, ok := nilBudget.Acquire(ctx, 5); !ok || n != 0 {
		t.Error("nil budget must grant")
	}
}

func TestBudgetNeverExceedsSize(t *testing.T) {
	b := NewBudget(1000, 20*time.Millisecond)
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, ok := b.Acquire(context.Background(), int64(100+i*7)); ok {
				time.Sleep(time.Millisecond)
				b.Release(n)
			}
		}()
	}
	wg.Wait()
	if b.Peak() > 1000 || b.InUse() != 0 {
		t.Errorf("peak %d, in use %d", b.Peak(), b.InUse())
	}
}
