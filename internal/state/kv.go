package state

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/natsd"
)

// KV is the Store of a cluster: one JetStream key-value bucket shared by
// every node. Values larger than a message can hold (function code) go to
// a JetStream object store bucket, the key holding a reference to them.
type KV struct {
	kv    jetstream.KeyValue
	blobs jetstream.ObjectStore
	// inline is the largest value stored in the key itself.
	inline int
}

var _ Store = (*KV)(nil)

const (
	// Bucket and BlobBucket are the JetStream buckets of the store.
	Bucket     = "hydrant_state"
	BlobBucket = "hydrant_state_blobs"
	blobMarker = "\x00hydrant-blob:"
)

// OpenKV opens (creating if needed) the store's buckets with replicas
// copies of each value.
func OpenKV(ctx context.Context, js jetstream.JetStream, replicas int) (*KV, error) {
	if replicas <= 0 {
		replicas = 1
	}
	kv, err := natsd.Ensure(ctx, func(ctx context.Context) (jetstream.KeyValue, error) { return js.KeyValue(ctx, Bucket) },
		func(ctx context.Context) (jetstream.KeyValue, error) {
			return js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
				Bucket:      Bucket,
				Description: "hydrant: streams, tables, functions and the other services' state",
				History:     1,
				Storage:     jetstream.FileStorage,
				Replicas:    replicas,
			})
		})
	if err != nil {
		return nil, fmt.Errorf("state: bucket %s: %w", Bucket, err)
	}
	obs, err := natsd.Ensure(ctx, func(ctx context.Context) (jetstream.ObjectStore, error) { return js.ObjectStore(ctx, BlobBucket) },
		func(ctx context.Context) (jetstream.ObjectStore, error) {
			return js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
				Bucket:      BlobBucket,
				Description: "hydrant: state values too large for a key (function code)",
				Storage:     jetstream.FileStorage,
				Replicas:    replicas,
			})
		})
	if err != nil {
		return nil, fmt.Errorf("state: bucket %s: %w", BlobBucket, err)
	}
	return &KV{kv: kv, blobs: obs, inline: 256 << 10}, nil
}

// kvKey maps a key onto the KV key alphabet: '/' becomes the token
// separator '.', letters, digits, '_' and '-' stay, every other byte is
// =XX (hex), so that a prefix ending in '/' is a subject filter.
func kvKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case c == '/':
			b.WriteByte('.')
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

// fromKVKey reverses kvKey.
func fromKVKey(k string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		switch c := k[i]; c {
		case '.':
			b.WriteByte('/')
		case '=':
			var x byte
			if i+2 >= len(k) {
				return "", fmt.Errorf("state: bad stored key %q", k)
			}
			if _, err := fmt.Sscanf(k[i+1:i+3], "%02X", &x); err != nil {
				return "", fmt.Errorf("state: bad stored key %q", k)
			}
			b.WriteByte(x)
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// value resolves a stored value, fetching a blob it refers to.
func (s *KV) value(ctx context.Context, v []byte) ([]byte, error) {
	name, ok := bytes.CutPrefix(v, []byte(blobMarker))
	if !ok {
		return v, nil
	}
	ctx, cancel := blobContext(ctx)
	defer cancel()
	b, err := s.blobs.GetBytes(ctx, string(name))
	if err != nil {
		return nil, fmt.Errorf("state: read blob %s: %w", name, err)
	}
	return b, nil
}

// Get implements Store.
func (s *KV) Get(ctx context.Context, key string) (Entry, error) {
	if err := CheckKey(key); err != nil {
		return Entry{}, err
	}
	e, err := s.kv.Get(ctx, kvKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return Entry{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("state: get %s: %w", key, err)
	}
	v, err := s.value(ctx, e.Value())
	if err != nil {
		return Entry{}, err
	}
	return Entry{Key: key, Value: v, Revision: e.Revision()}, nil
}

// Put implements Store.
func (s *KV) Put(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := CheckKey(key); err != nil {
		return 0, err
	}
	k := kvKey(key)
	stored := value
	var blob string
	if len(value) > s.inline || bytes.HasPrefix(value, []byte(blobMarker)) {
		// The blob is written first, under a name of its own: a key never
		// refers to a blob that is not complete.
		blob = k + "@" + newBlobID()
		bctx, cancel := blobContext(ctx)
		_, err := s.blobs.PutBytes(bctx, blob, value)
		cancel()
		if err != nil {
			return 0, fmt.Errorf("state: write blob of %s: %w", key, err)
		}
		stored = []byte(blobMarker + blob)
	}
	var old []byte
	if blob != "" || rev != 0 {
		if e, err := s.kv.Get(ctx, k); err == nil {
			old = e.Value()
		}
	}
	var nrev uint64
	var err error
	switch rev {
	case 0:
		nrev, err = s.kv.Create(ctx, k, stored)
	case Any:
		nrev, err = s.kv.Put(ctx, k, stored)
	default:
		nrev, err = s.kv.Update(ctx, k, stored, rev)
	}
	if err != nil {
		if blob != "" {
			_ = s.blobs.Delete(context.WithoutCancel(ctx), blob)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return 0, fmt.Errorf("%s: %w: %w", key, ErrConflict, err)
		}
		return 0, fmt.Errorf("state: put %s: %w", key, err)
	}
	s.dropBlob(ctx, old)
	return nrev, nil
}

// dropBlob deletes the blob a replaced value referred to, if any; a
// failure only leaves an orphan behind.
func (s *KV) dropBlob(ctx context.Context, old []byte) {
	if name, ok := bytes.CutPrefix(old, []byte(blobMarker)); ok {
		_ = s.blobs.Delete(context.WithoutCancel(ctx), string(name))
	}
}

// Delete implements Store.
func (s *KV) Delete(ctx context.Context, key string, rev uint64) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	k := kvKey(key)
	e, err := s.kv.Get(ctx, k)
	missing := errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted)
	if err != nil && !missing {
		return fmt.Errorf("state: delete %s: %w", key, err)
	}
	if missing {
		if rev == Any || rev == 0 {
			return nil
		}
		return fmt.Errorf("%s: %w: the key does not exist", key, ErrConflict)
	}
	if rev == Any {
		rev = e.Revision()
	}
	if err := s.kv.Delete(ctx, k, jetstream.LastRevision(rev)); err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) || strings.Contains(err.Error(), "wrong last sequence") {
			return fmt.Errorf("%s: %w: %w", key, ErrConflict, err)
		}
		return fmt.Errorf("state: delete %s: %w", key, err)
	}
	s.dropBlob(ctx, e.Value())
	return nil
}

// filter is the subject filter for keys under prefix: exact when the
// prefix ends at a segment boundary, everything otherwise (List and Watch
// then filter by prefix themselves).
func filter(prefix string) string {
	if prefix == "" || !strings.HasSuffix(prefix, "/") {
		return ">"
	}
	return kvKey(strings.TrimSuffix(prefix, "/")) + ".>"
}

// List implements Store: one watch of the current values, not a request
// per key.
func (s *KV) List(ctx context.Context, prefix string) ([]Entry, error) {
	w, err := s.kv.Watch(ctx, filter(prefix), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("state: list %q: %w", prefix, err)
	}
	defer func() { _ = w.Stop() }()
	var out []Entry
	for {
		var e jetstream.KeyValueEntry
		select {
		case e = <-w.Updates():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if e == nil {
			break // every current value has been sent
		}
		key, err := fromKVKey(e.Key())
		if err != nil || !strings.HasPrefix(key, prefix) {
			continue
		}
		v, err := s.value(ctx, e.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Key: key, Value: v, Revision: e.Revision()})
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Watch implements Store.
func (s *KV) Watch(ctx context.Context, prefix string) (<-chan Event, error) {
	w, err := s.kv.Watch(ctx, filter(prefix), jetstream.UpdatesOnly())
	if err != nil {
		return nil, fmt.Errorf("state: watch %q: %w", prefix, err)
	}
	out := make(chan Event)
	go func() {
		defer close(out)
		defer func() { _ = w.Stop() }()
		for {
			var e jetstream.KeyValueEntry
			var ok bool
			select {
			case e, ok = <-w.Updates():
			case <-ctx.Done():
				return
			}
			if !ok {
				return
			}
			if e == nil {
				continue
			}
			key, err := fromKVKey(e.Key())
			if err != nil || !strings.HasPrefix(key, prefix) {
				continue
			}
			ev := Event{Entry: Entry{Key: key, Revision: e.Revision()}}
			if e.Operation() == jetstream.KeyValuePut {
				if ev.Value, err = s.value(ctx, e.Value()); err != nil {
					// The blob was replaced already: a later event follows.
					continue
				}
			} else {
				ev.Deleted = true
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// blobContext gives a blob transfer time for its size: without a deadline
// of its own, the client would give up after its default 5 s.
func blobContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, 2*time.Minute)
}

func newBlobID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
