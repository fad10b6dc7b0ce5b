package natsd

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Ensure returns a JetStream asset (a stream, a key-value or object
// bucket), creating it when lookup finds none. Nodes that start together
// all want the same buckets, and concurrent creations of one stream can
// leave every one of them waiting for a reply until it times out; so a
// node looks first, waits a random moment before creating, and looks
// again after a failed or timed-out create. It gives up when ctx ends.
func Ensure[T any](ctx context.Context, lookup, create func(context.Context) (T, error)) (T, error) {
	var zero T
	var last error
	for {
		v, err := lookup(ctx)
		if err == nil {
			return v, nil
		}
		if notFound(err) {
			if !sleep(ctx, time.Duration(rand.Int64N(int64(300*time.Millisecond)))) {
				return zero, errors.Join(ctx.Err(), last)
			}
			if v, err := lookup(ctx); err == nil {
				return v, nil
			}
			cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			v, err = create(cctx)
			cancel()
			if err == nil {
				return v, nil
			}
		}
		last = err
		if ctx.Err() != nil {
			return zero, errors.Join(ctx.Err(), last)
		}
		if !sleep(ctx, time.Duration(100+rand.Int64N(400))*time.Millisecond) {
			return zero, errors.Join(ctx.Err(), last)
		}
	}
}

func notFound(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrBucketNotFound)
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}
