// Package objstore is where delivered objects land: the local store
// (<data-dir>/buckets/<bucket>/<key>, the embedded default) and, behind the
// same interface, S3-compatible services. One contract test suite runs
// against every implementation.
package objstore

import (
	"context"
	"errors"
	"io"
	"time"
)

// Meta is what Firehose sets on an object besides its bytes.
type Meta struct {
	ContentType     string
	ContentEncoding string
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// Store holds delivered objects.
//
// Put is called by delivery loops, concurrently for different keys; it must
// make the object visible atomically (a reader sees the whole object or
// none of it) and durably before returning nil. Writing the same key again
// replaces the object: delivery relies on that to redo a batch after a crash
// without duplicates.
type Store interface {
	// Put stores an object whose bytes are produced by write. write may be
	// called again if the store retries internally; it must produce the same
	// bytes each time. An error from write is returned unwrapped by Put
	// after discarding the partial object.
	Put(ctx context.Context, bucket, key string, meta Meta, write func(w io.Writer) error) error

	// Get opens an object for reading. A missing object gives ErrNotFound.
	Get(ctx context.Context, bucket, key string) (io.ReadCloser, error)

	// List returns the objects of bucket whose keys start with prefix, in
	// key order. A missing bucket gives ErrNoSuchBucket.
	List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error)

	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, bucket, key string) error
}

var (
	// ErrNotFound is returned for a missing object.
	ErrNotFound = errors.New("objstore: no such key")
	// ErrNoSuchBucket is returned when the bucket does not exist.
	ErrNoSuchBucket = errors.New("objstore: no such bucket")
	// ErrInvalidKey is returned for bucket names or keys that are not valid
	// or would leave the store's root.
	ErrInvalidKey = errors.New("objstore: invalid bucket or key")
	// ErrKeyConflict is returned by stores that keep keys as file paths
	// (Local) when a key cannot be stored next to an existing one: "a/b"
	// when "a" is an object, or "a" when objects "a/..." exist. S3 allows
	// both; a file system cannot. Retrying does not help.
	ErrKeyConflict = errors.New("objstore: key conflicts with an existing object")
)
