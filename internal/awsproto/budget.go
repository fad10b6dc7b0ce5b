package awsproto

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// DefaultMaxInflightBytes is the default Budget size: the request bytes
// all in-flight requests together may hold in memory.
const DefaultMaxInflightBytes = 256 << 20

// DefaultInflightWait is how long a request waits for its share of the
// budget before it is answered "Slow down.".
const DefaultInflightWait = time.Second

// Budget bounds the request body bytes held in memory at once, across all
// requests that share it, so that many slow or large requests cannot
// exhaust memory: a request reserves its body's size before reading it and
// gives it back when it has been answered. Reservations are granted first
// come, first served, so a large request is not starved by small ones.
// A nil *Budget grants everything.
type Budget struct {
	size int64
	wait time.Duration

	mu      sync.Mutex
	used    int64
	peak    int64
	waiters list.List // of *budgetWaiter, oldest first
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed when granted
}

// NewBudget makes a budget of size bytes (DefaultMaxInflightBytes if not
// positive) whose reservations wait at most wait (DefaultInflightWait if
// not positive).
func NewBudget(size int64, wait time.Duration) *Budget {
	if size <= 0 {
		size = DefaultMaxInflightBytes
	}
	if wait <= 0 {
		wait = DefaultInflightWait
	}
	return &Budget{size: size, wait: wait}
}

// Acquire reserves n bytes, waiting at most the budget's wait or until ctx
// ends. A reservation larger than the whole budget is cut to the budget,
// so that such a request can still run, alone. It returns the amount to
// hand back to Release, and false if nothing was reserved.
func (b *Budget) Acquire(ctx context.Context, n int64) (int64, bool) {
	if b == nil || n <= 0 {
		return 0, true
	}
	n = min(n, b.size)
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.used+n <= b.size {
		b.take(n)
		b.mu.Unlock()
		return n, true
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()

	t := time.NewTimer(b.wait)
	defer t.Stop()
	select {
	case <-w.ready:
		return n, true
	case <-t.C:
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	select {
	case <-w.ready: // granted while timing out: keep it
		return n, true
	default:
	}
	front := b.waiters.Front() == elem
	b.waiters.Remove(elem)
	if front {
		// The head of the queue gave up: those behind it may fit now.
		b.grantWaiters()
	}
	return 0, false
}

// Release gives back a reservation made by Acquire.
func (b *Budget) Release(n int64) {
	if b == nil || n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	b.grantWaiters()
	b.mu.Unlock()
}

// InUse is the number of bytes reserved now.
func (b *Budget) InUse() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Peak is the most bytes ever reserved at once; it never exceeds the size.
func (b *Budget) Peak() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// Size is the budget's capacity in bytes.
func (b *Budget) Size() int64 {
	if b == nil {
		return 0
	}
	return b.size
}

func (b *Budget) take(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

// grantWaiters grants queued reservations in order while they fit. The
// caller holds mu.
func (b *Budget) grantWaiters() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.used+w.n > b.size {
			return
		}
		b.take(w.n)
		b.waiters.Remove(e)
		close(w.ready)
	}
}
