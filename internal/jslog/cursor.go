package jslog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// cursor is a log's committed state as stored in the cursor bucket. Every
// write is a compare-and-set on the key's revision, and carries the fence
// token of the writer: a node that finds a higher token stored has lost
// the stream's delivery.
type cursor struct {
	Upto  uint64 `json:"upto"`
	Fence uint64 `json:"fence,omitempty"`
	State []byte `json:"state,omitempty"`
}

// fresh is the cursor of a log nothing was ever committed to.
var fresh = cursor{Upto: 1}

// loadCursor reads the stored cursor into l.
func (l *Log) loadCursor(ctx context.Context) error {
	c, rev, err := l.getCursor(ctx)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.cur, l.rev = c, rev
	l.mu.Unlock()
	return nil
}

// getCursor reads the stored cursor and its revision (0 when none).
func (l *Log) getCursor(ctx context.Context) (cursor, uint64, error) {
	e, err := l.ls.cursors.Get(ctx, l.key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return fresh, 0, nil
	}
	if err != nil {
		return cursor{}, 0, fmt.Errorf("jslog: read cursor of %s: %w", l.name, err)
	}
	c, err := decodeCursor(e.Value())
	if err != nil {
		return cursor{}, 0, fmt.Errorf("jslog: cursor of %s: %w", l.name, err)
	}
	return c, e.Revision(), nil
}

func decodeCursor(b []byte) (cursor, error) {
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return cursor{}, err
	}
	if c.Upto == 0 {
		return cursor{}, errors.New("cursor 0")
	}
	return c, nil
}

// putCursor stores c if the key is still at rev, and returns the new
// revision; jetstream.ErrKeyRevisionMismatch (or ErrKeyExists) when it
// moved.
func (l *Log) putCursor(ctx context.Context, c cursor, rev uint64) (uint64, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return 0, err
	}
	if rev == 0 {
		return l.ls.cursors.Create(ctx, l.key, b)
	}
	return l.ls.cursors.Update(ctx, l.key, b, rev)
}

func casConflict(err error) bool {
	return errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)
}

// Committed implements buffer.Log.
func (l *Log) Committed() (uint64, []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur.Upto, slices.Clone(l.cur.State)
}

// Fence implements buffer.Log: it stores the current cursor again under
// token, which moves the key's revision, so that every commit still in
// flight from an older holder fails its compare-and-set.
func (l *Log) Fence(ctx context.Context, token uint64) error {
	l.cmu.Lock()
	defer l.cmu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("jslog: fence: %w", err)
		}
		l.mu.Lock()
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return buffer.ErrClosed
		}
		c, rev, err := l.getCursor(ctx)
		if err != nil {
			return err
		}
		if c.Fence > token {
			l.mu.Lock()
			l.fenced = true
			l.mu.Unlock()
			return fmt.Errorf("jslog: fence %d of %s: %w (holder %d)", token, l.name, buffer.ErrFenced, c.Fence)
		}
		c.Fence = token
		nrev, err := l.putCursor(ctx, c, rev)
		if casConflict(err) {
			continue // a commit landed in between: read it and try again
		}
		if err != nil {
			return fmt.Errorf("jslog: fence %s: %w", l.name, err)
		}
		l.mu.Lock()
		l.cur, l.rev, l.token, l.fenced = c, nrev, token, false
		l.mu.Unlock()
		// The index must hold what other nodes appended before the
		// takeover, so that the first cut sees the whole backlog.
		return l.Sync(ctx)
	}
}

// Commit implements buffer.Log: a compare-and-set of the cursor under this
// handle's fence token, then a purge of the delivered messages.
func (l *Log) Commit(ctx context.Context, upto uint64, state []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("jslog: commit: %w", err)
	}
	if err := l.ensureIndex(ctx); err != nil {
		return err
	}
	l.cmu.Lock()
	defer l.cmu.Unlock()
	for {
		l.mu.Lock()
		closed, fenced, cur, rev, token, end := l.closed, l.fenced, l.cur, l.rev, l.token, l.endLocked()
		l.mu.Unlock()
		switch {
		case closed:
			return buffer.ErrClosed
		case fenced:
			return fmt.Errorf("jslog: commit %s: %w", l.name, buffer.ErrFenced)
		case upto < cur.Upto:
			return fmt.Errorf("jslog: commit %d: %w: behind the committed cursor %d", upto, buffer.ErrOutOfRange, cur.Upto)
		case upto > end:
			return fmt.Errorf("jslog: commit %d: %w: past the end of the log %d", upto, buffer.ErrOutOfRange, end)
		}
		next := cursor{Upto: upto, Fence: token, State: slices.Clone(state)}
		nrev, err := l.putCursor(ctx, next, rev)
		if casConflict(err) {
			// Someone else wrote the cursor: a newer holder (we are
			// fenced) or, before any fence, another handle.
			c, crev, gerr := l.getCursor(ctx)
			if gerr != nil {
				return gerr
			}
			l.mu.Lock()
			if c.Fence > token {
				l.fenced = true
			}
			if crev > l.rev {
				l.cur, l.rev = c, crev
			}
			l.mu.Unlock()
			continue
		}
		if err != nil {
			return fmt.Errorf("jslog: commit %s: %w", l.name, err)
		}
		l.mu.Lock()
		if nrev > l.rev {
			l.cur, l.rev = next, nrev
		}
		below := l.trim(upto)
		l.mu.Unlock()
		select {
		case <-l.purge:
		default:
		}
		l.purge <- below
		return nil
	}
}

// watchCursor follows commits made by other nodes while this one indexes
// the log: their cursor trims the index (stats on any node), and a higher
// fence token marks this handle fenced before it even tries to commit.
func (l *Log) watchCursor() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-l.done
		cancel()
	}()
	w, err := l.ls.cursors.Watch(ctx, l.key, jetstream.UpdatesOnly())
	if err != nil {
		l.log.Warn("jslog: cannot watch the cursor", "err", err)
		return
	}
	defer func() { _ = w.Stop() }()
	for e := range w.Updates() {
		if e == nil || e.Operation() != jetstream.KeyValuePut {
			continue
		}
		c, err := decodeCursor(e.Value())
		if err != nil {
			continue
		}
		l.mu.Lock()
		if e.Revision() > l.rev {
			if c.Fence > l.token {
				l.fenced = true
			}
			l.cur, l.rev = c, e.Revision()
			l.trim(c.Upto)
			l.wake()
		}
		l.mu.Unlock()
	}
}

// purger removes delivered messages from the stream in the background, so
// that a commit waits for the cursor write only.
func (l *Log) purger() {
	var done uint64 // purged below this
	for {
		select {
		case <-l.done:
			return
		case below := <-l.purge:
			if below <= done+1 || below <= 1 {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			err := l.stream.Purge(ctx, jetstream.WithPurgeSequence(below))
			cancel()
			if err != nil {
				l.log.Warn("jslog: purge of delivered messages failed; retried at the next commit", "below", below, "err", err)
				continue
			}
			done = below - 1
		}
	}
}
