// Package state is where hydrant's services keep what their APIs create
// (streams, Glue tables, functions and their code, and the services to
// come): a small key-value store with revisions, compare-and-set and
// watches. On one node it is files in the data directory, each key a file
// at its own path, so data directories keep their layout (Local); in a
// cluster it is a NATS JetStream key-value bucket shared by every node,
// so a change made on one node is seen by all (KV). Both pass the contract
// suite in internal/state/statetest.
//
// Keys are slash-separated paths ("streams/ds-orders/stream.json"): each
// segment is non-empty, not "." or "..", and made of printable ASCII other
// than '/', '\\', '*' and '>'.
package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Store is a key-value store with revisions. Every method is safe for
// concurrent use.
type Store interface {
	// Get returns the key's value and revision, or an error wrapping
	// ErrNotFound.
	Get(ctx context.Context, key string) (Entry, error)
	// Put stores value under key if the key's revision is still rev (0:
	// the key must not exist; Any: whatever it is) and returns the new
	// revision. A mismatch fails with an error wrapping ErrConflict and
	// changes nothing. Revisions of a key only grow.
	Put(ctx context.Context, key string, value []byte, rev uint64) (uint64, error)
	// Delete removes key if its revision is still rev (Any: whatever it
	// is); a mismatch wraps ErrConflict. Deleting a missing key with Any
	// succeeds.
	Delete(ctx context.Context, key string, rev uint64) error
	// List returns every entry whose key starts with prefix, by key.
	List(ctx context.Context, prefix string) ([]Entry, error)
	// Watch sends every change to a key under prefix made after it
	// returns, in the order made, until ctx ends; then it closes the
	// channel. A watcher that falls far behind may miss changes and is
	// told so by an Event with Reset set: it should List again.
	Watch(ctx context.Context, prefix string) (<-chan Event, error)
}

// Entry is a key's value at a revision.
type Entry struct {
	Key      string
	Value    []byte
	Revision uint64
}

// Event is one change seen by Watch.
type Event struct {
	Entry
	// Deleted says the key was removed (Value is nil).
	Deleted bool
	// Reset says changes were missed: the watcher must List again.
	Reset bool
}

// Any is the revision that matches whatever a key holds (or lacks).
const Any = ^uint64(0)

var (
	// ErrNotFound is wrapped by Get of a missing key.
	ErrNotFound = errors.New("state: key not found")
	// ErrConflict is wrapped when a Put or Delete finds another revision.
	ErrConflict = errors.New("state: revision conflict")
)

// CheckKey returns an error unless key is a valid key.
func CheckKey(key string) error {
	if key == "" {
		return errors.New("state: empty key")
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("state: bad key %q: empty, . or .. segment", key)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if c <= ' ' || c >= 0x7f || c == '\\' || c == '*' || c == '>' {
				return fmt.Errorf("state: bad key %q: character %q", key, c)
			}
		}
	}
	return nil
}
