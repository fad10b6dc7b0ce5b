package buffer

import (
	"context"
	"fmt"
)

// Fence implements Log. Only one process can open a segment log (its
// directory is flocked), so no other node can commit to it: the token is
// kept in memory, only to refuse an older one as the contract says.
func (l *SegmentLog) Fence(ctx context.Context, token uint64) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("buffer: fence: %w", err)
	}
	l.cmu.Lock()
	defer l.cmu.Unlock()
	l.mu.Lock()
	shut := l.shut
	l.mu.Unlock()
	switch {
	case shut:
		return ErrClosed
	case token < l.fence:
		return fmt.Errorf("buffer: fence %d: %w (holder %d)", token, ErrFenced, l.fence)
	}
	l.fence = token
	return nil
}
