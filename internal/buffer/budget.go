package buffer

import (
	"fmt"
	"sync/atomic"
)

// Budget is a cap on buffered bytes shared by several logs: hydrant's global
// --max-buffer-bytes across every stream. Each log that is given one (in
// Options.Budget) reserves an append's frame bytes from it next to its own
// MaxBytes and gives them back exactly when its own count goes down: when
// the append fails, when a commit covers the frame, and for whatever the log
// still holds when it is closed. Appends past the budget fail with ErrFull,
// unless the budget holds nothing else (one batch larger than the cap still
// gets in, as with MaxBytes).
//
// A Budget is safe for concurrent use; the zero value has no cap.
type Budget struct {
	max  int64
	used atomic.Int64
}

// NewBudget returns a budget of max bytes; max <= 0 means no cap (the
// budget still counts, for metrics).
func NewBudget(max int64) *Budget { return &Budget{max: max} }

// Used returns the bytes reserved by every log sharing the budget.
func (b *Budget) Used() int64 { return b.used.Load() }

// Max returns the cap, 0 when there is none.
func (b *Budget) Max() int64 {
	if b.max < 0 {
		return 0
	}
	return b.max
}

// reserve takes n bytes, or fails with ErrFull and takes nothing.
func (b *Budget) reserve(n int64) error {
	used := b.used.Add(n)
	if b.max > 0 && used > b.max && used > n {
		b.used.Add(-n)
		return fmt.Errorf("%w: %d bytes buffered across all streams, limit %d", ErrFull, used-n, b.max)
	}
	return nil
}

// add changes the reservation by n without checking the cap (recovery at
// open, releases).
func (b *Budget) add(n int64) { b.used.Add(n) }
