package objstore

import (
	"context"
	"io"
)

// Router is a Store that sends each bucket to the store configured for it,
// and every other bucket to a default store: say, most buckets to S3 and a
// scratch bucket to local disk. It adds no behaviour of its own, so it
// keeps each store's contract.
type Router struct {
	def     Store
	buckets map[string]Store
}

var _ Store = (*Router)(nil)

// NewRouter returns a Router sending the buckets named in buckets to their
// stores and all others to def. The map is copied.
func NewRouter(def Store, buckets map[string]Store) *Router {
	m := make(map[string]Store, len(buckets))
	for b, s := range buckets {
		m[b] = s
	}
	return &Router{def: def, buckets: m}
}

// For returns the store that holds bucket.
func (r *Router) For(bucket string) Store {
	if s, ok := r.buckets[bucket]; ok {
		return s
	}
	return r.def
}

// Put stores the object in its bucket's store.
func (r *Router) Put(ctx context.Context, bucket, key string, meta Meta, write func(w io.Writer) error) error {
	return r.For(bucket).Put(ctx, bucket, key, meta, write)
}

// Get opens the object in its bucket's store.
func (r *Router) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	return r.For(bucket).Get(ctx, bucket, key)
}

// List lists the bucket in its store.
func (r *Router) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	return r.For(bucket).List(ctx, bucket, prefix)
}

// Delete removes the object from its bucket's store.
func (r *Router) Delete(ctx context.Context, bucket, key string) error {
	return r.For(bucket).Delete(ctx, bucket, key)
}
