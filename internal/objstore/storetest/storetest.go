// Package storetest is the contract every objstore.Store must meet, as one
// test suite that each implementation's tests run against a fresh store:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) objstore.Store { ... })
//	}
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

const (
	// Bucket is the bucket the suite writes to. A store given to Run must
	// either create it on the first Put (Local) or have it, empty.
	Bucket = "hydrant-storetest"
	// MissingBucket must not exist in a store given to Run.
	MissingBucket = "hydrant-storetest-missing"
)

// Stater is implemented by stores that can return an object's Meta; when a
// store does, Run checks that Meta survives a round trip.
type Stater interface {
	Stat(ctx context.Context, bucket, key string) (objstore.ObjectInfo, objstore.Meta, error)
}

// Run runs the contract suite. newStore is called once per subtest and must
// return an empty store; it registers its own cleanup with t.
func Run(t *testing.T, newStore func(t *testing.T) objstore.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, objstore.Store)
	}{
		{"PutGet", testPutGet},
		{"Overwrite", testOverwrite},
		{"Large", testLarge},
		{"WriteError", testWriteError},
		{"CanceledBefore", testCanceledBefore},
		{"CanceledDuring", testCanceledDuring},
		{"List", testList},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"InvalidNames", testInvalidNames},
		{"ConcurrentPuts", testConcurrentPuts},
		{"AtomicOverwrite", testAtomicOverwrite},
		{"Meta", testMeta},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// put stores data under key in Bucket, failing the test on error.
func put(t *testing.T, s objstore.Store, key string, data []byte) {
	t.Helper()
	err := s.Put(t.Context(), Bucket, key, objstore.Meta{}, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

// get returns the bytes of key in Bucket, failing the test on error.
func get(t *testing.T, s objstore.Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(t.Context(), Bucket, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read: %v", key, err)
	}
	return b
}

// wantMissing checks that key in Bucket does not exist.
func wantMissing(t *testing.T, s objstore.Store, key string) {
	t.Helper()
	rc, err := s.Get(t.Context(), Bucket, key)
	if err == nil {
		rc.Close()
		t.Fatalf("Get(%q) found an object; want none", key)
	}
	if !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("Get(%q) = %v; want ErrNotFound", key, err)
	}
}

// keys lists Bucket under prefix and returns the keys.
func keys(t *testing.T, s objstore.Store, prefix string) []string {
	t.Helper()
	infos, err := s.List(t.Context(), Bucket, prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	out := []string{}
	for _, o := range infos {
		out = append(out, o.Key)
	}
	return out
}

func testPutGet(t *testing.T, s objstore.Store) {
	for key, data := range map[string][]byte{
		"hello.txt":                     []byte("hello, world\n"),
		"2024/05/01/12/stream-1-abc.gz": bytes.Repeat([]byte{0, 1, 2, 255}, 1000),
		"empty":                         {},
		"space and ünïcode/ключ €.json": []byte(`{"a":1}`),
	} {
		put(t, s, key, data)
		if got := get(t, s, key); !bytes.Equal(got, data) {
			t.Errorf("Get(%q) = %d bytes; want the %d put", key, len(got), len(data))
		}
	}
}

func testOverwrite(t *testing.T, s objstore.Store) {
	put(t, s, "k", bytes.Repeat([]byte("old "), 1000))
	put(t, s, "k", []byte("new"))
	if got := get(t, s, "k"); string(got) != "new" {
		t.Errorf("after overwrite Get = %q; want %q", got, "new")
	}
	if got := keys(t, s, ""); !slices.Equal(got, []string{"k"}) {
		t.Errorf("after overwrite List = %q; want [k]", got)
	}
}

func testLarge(t *testing.T, s objstore.Store) {
	const size = 20<<20 + 12345 // over 20 MiB, not a multiple of any buffer
	gen := func() io.Reader {
		return io.LimitReader(rand.NewChaCha8([32]byte{1, 2, 3}), size)
	}
	want := sha256.New()
	io.Copy(want, gen())
	err := s.Put(t.Context(), Bucket, "large/object.bin", objstore.Meta{}, func(w io.Writer) error {
		// Stream in uneven chunks, as a compressor would.
		buf := make([]byte, 777_777)
		_, err := io.CopyBuffer(struct{ io.Writer }{w}, gen(), buf)
		return err
	})
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	rc, err := s.Get(t.Context(), Bucket, "large/object.bin")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer rc.Close()
	got := sha256.New()
	n, err := io.Copy(got, rc)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Errorf("read back %d bytes (sha256 %x); want %d (sha256 %x)", n, got.Sum(nil), size, want.Sum(nil))
	}
	infos, err := s.List(t.Context(), Bucket, "large/")
	if err != nil || len(infos) != 1 || infos[0].Size != size {
		t.Errorf("List = %+v, %v; want one object of %d bytes", infos, err, size)
	}
}

func testWriteError(t *testing.T, s objstore.Store) {
	errBoom := errors.New("boom")
	failing := func(w io.Writer) error {
		w.Write(bytes.Repeat([]byte("partial"), 100_000))
		return errBoom
	}
	// A new key: nothing may appear.
	err := s.Put(t.Context(), Bucket, "new/key", objstore.Meta{}, failing)
	if err != errBoom {
		t.Errorf("Put with failing write = %v; want the write error itself, unwrapped", err)
	}
	// An existing key: the old object must survive whole.
	put(t, s, "old/key", []byte("old"))
	if err := s.Put(t.Context(), Bucket, "old/key", objstore.Meta{}, failing); err != errBoom {
		t.Errorf("overwriting Put with failing write = %v; want the write error itself", err)
	}
	wantMissing(t, s, "new/key")
	if got := get(t, s, "old/key"); string(got) != "old" {
		t.Errorf("Get after failed overwrite = %q; want %q", got, "old")
	}
	if got := keys(t, s, ""); !slices.Equal(got, []string{"old/key"}) {
		t.Errorf("List after failed writes = %q; want [old/key]", got)
	}
}

func testCanceledBefore(t *testing.T, s objstore.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Put(ctx, Bucket, "k", objstore.Meta{}, func(w io.Writer) error {
		_, err := w.Write([]byte("data"))
		return err
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put with cancelled ctx = %v; want context.Canceled", err)
	}
	wantMissing(t, s, "k")
}

func testCanceledDuring(t *testing.T, s objstore.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	err := s.Put(ctx, Bucket, "k", objstore.Meta{}, func(w io.Writer) error {
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		cancel()
		// A careless producer ignores write errors; Put must still fail.
		w.Write(chunk)
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Put cancelled during write = %v; want context.Canceled", err)
	}
	wantMissing(t, s, "k")
}

func testList(t *testing.T, s objstore.Store) {
	// No key is both an object and a "folder": file-system stores cannot
	// hold "a" next to "a/b".
	all := []string{"a-c", "a.b", "a/b/c", "a0", "ab", "b/c-e", "b/c/d", "z/ü", "z/é"}
	for i, k := range slices.Backward(all) {
		put(t, s, k, []byte(fmt.Sprint(i)))
	}
	for _, tt := range []struct {
		prefix string
		want   []string
	}{
		{"", []string{"a-c", "a.b", "a/b/c", "a0", "ab", "b/c-e", "b/c/d", "z/é", "z/ü"}},
		{"a", []string{"a-c", "a.b", "a/b/c", "a0", "ab"}},
		{"a/", []string{"a/b/c"}},
		{"a/b", []string{"a/b/c"}},
		{"a/b/c", []string{"a/b/c"}},
		{"a/b/c/", []string{}},
		{"b/c", []string{"b/c-e", "b/c/d"}},
		{"b/c/", []string{"b/c/d"}},
		{"z/", []string{"z/é", "z/ü"}},
		{"zz", []string{}},
		{"a//", []string{}},
		{"../", []string{}},
		{"/", []string{}},
	} {
		if got := keys(t, s, tt.prefix); !slices.Equal(got, tt.want) {
			t.Errorf("List(%q) = %q; want %q", tt.prefix, got, tt.want)
		}
	}
	infos, err := s.List(t.Context(), Bucket, "b/")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range infos {
		if o.Size != 1 || o.LastModified.IsZero() {
			t.Errorf("List entry %+v; want size 1 and a modification time", o)
		}
	}
}

func testMissing(t *testing.T, s objstore.Store) {
	ctx := t.Context()
	if _, err := s.List(ctx, MissingBucket, ""); !errors.Is(err, objstore.ErrNoSuchBucket) {
		t.Errorf("List(missing bucket) = %v; want ErrNoSuchBucket", err)
	}
	_, err := s.Get(ctx, MissingBucket, "k")
	if !errors.Is(err, objstore.ErrNotFound) || !errors.Is(err, objstore.ErrNoSuchBucket) {
		t.Errorf("Get(missing bucket) = %v; want both ErrNotFound and ErrNoSuchBucket", err)
	}
	put(t, s, "dir/present", []byte("x"))
	for _, key := range []string{"absent", "dir/absent", "dir", "dir/present/below"} {
		_, err := s.Get(ctx, Bucket, key)
		if !errors.Is(err, objstore.ErrNotFound) || errors.Is(err, objstore.ErrNoSuchBucket) {
			t.Errorf("Get(%q) = %v; want ErrNotFound only", key, err)
		}
	}
	if got := keys(t, s, "absent"); len(got) != 0 {
		t.Errorf("List(absent prefix) = %q; want none", got)
	}
}

func testDelete(t *testing.T, s objstore.Store) {
	ctx := t.Context()
	put(t, s, "x/y/z", []byte("1"))
	put(t, s, "x/keep", []byte("2"))
	for range 2 { // the second time the object is already gone
		if err := s.Delete(ctx, Bucket, "x/y/z"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
	}
	if err := s.Delete(ctx, Bucket, "never/existed"); err != nil {
		t.Errorf("Delete(never existed) = %v; want nil", err)
	}
	if err := s.Delete(ctx, Bucket, "x"); err != nil {
		t.Errorf("Delete(a prefix of other keys) = %v; want nil", err)
	}
	wantMissing(t, s, "x/y/z")
	if got := keys(t, s, ""); !slices.Equal(got, []string{"x/keep"}) {
		t.Errorf("List after Delete = %q; want [x/keep]", got)
	}
	// After deleting x/y/z, "x/y" can be an object.
	put(t, s, "x/y", []byte("3"))
	if got := get(t, s, "x/y"); string(got) != "3" {
		t.Errorf("Get(x/y) = %q", got)
	}
}

func testInvalidNames(t *testing.T, s objstore.Store) {
	ctx := t.Context()
	noop := func(io.Writer) error { return nil }
	for _, key := range []string{"", "../x", "a/../../x", "/abs", "a//b", "a/", ".", "a\x00b", `a\b`} {
		if err := s.Put(ctx, Bucket, key, objstore.Meta{}, noop); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Put(key %q) = %v; want ErrInvalidKey", key, err)
		}
		if _, err := s.Get(ctx, Bucket, key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Get(key %q) = %v; want ErrInvalidKey", key, err)
		}
		if err := s.Delete(ctx, Bucket, key); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Delete(key %q) = %v; want ErrInvalidKey", key, err)
		}
	}
	for _, bucket := range []string{"", "..", "Upper", "a/b", "192.168.5.4"} {
		if err := s.Put(ctx, bucket, "k", objstore.Meta{}, noop); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("Put(bucket %q) = %v; want ErrInvalidKey", bucket, err)
		}
		if _, err := s.List(ctx, bucket, ""); !errors.Is(err, objstore.ErrInvalidKey) {
			t.Errorf("List(bucket %q) = %v; want ErrInvalidKey", bucket, err)
		}
	}
}

func testConcurrentPuts(t *testing.T, s objstore.Store) {
	const writers, each = 16, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				// Writers share new directories, so they race to make them.
				key := fmt.Sprintf("p/%d/%02d-%d", i%3, w, i)
				errs <- s.Put(t.Context(), Bucket, key, objstore.Meta{}, func(wr io.Writer) error {
					_, err := io.WriteString(wr, key)
					return err
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Put: %v", err)
		}
	}
	got := keys(t, s, "p/")
	if len(got) != writers*each {
		t.Fatalf("List found %d objects; want %d", len(got), writers*each)
	}
	for _, k := range got {
		if b := get(t, s, k); string(b) != k {
			t.Errorf("Get(%q) = %q", k, b)
		}
	}
}

func testAtomicOverwrite(t *testing.T, s objstore.Store) {
	const size = 256 << 10
	put(t, s, "atomic", bytes.Repeat([]byte{'a'}, size))
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel, even when the reader fails the test
	defer cancel()
	wg.Go(func() {
		defer cancel()
		for i := range 20 {
			fill := bytes.Repeat([]byte{"bc"[i%2]}, 4096)
			if err := s.Put(ctx, Bucket, "atomic", objstore.Meta{}, func(w io.Writer) error {
				// Write in pieces so a non-atomic store would expose them.
				for range size / len(fill) {
					if _, err := w.Write(fill); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Errorf("Put: %v", err)
				return
			}
		}
	})
	reads := 0
	for ctx.Err() == nil || reads == 0 {
		b := get(t, s, "atomic")
		reads++
		if len(b) != size || bytes.Count(b, b[:1]) != size {
			t.Fatalf("read %d bytes of mixed content; want %d bytes of one version", len(b), size)
		}
	}
	t.Logf("%d whole reads during 20 overwrites", reads)
}

func testMeta(t *testing.T, s objstore.Store) {
	st, ok := s.(Stater)
	if !ok {
		t.Skip("store does not return Meta")
	}
	ctx := t.Context()
	meta := objstore.Meta{ContentType: "application/x-ndjson", ContentEncoding: "gzip"}
	before := time.Now().Add(-time.Minute)
	if err := s.Put(ctx, Bucket, "m/obj", meta, func(w io.Writer) error {
		_, err := io.WriteString(w, "12345")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	info, got, err := st.Stat(ctx, Bucket, "m/obj")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if got != meta || info.Key != "m/obj" || info.Size != 5 || info.LastModified.Before(before) {
		t.Errorf("Stat = %+v, %+v; want key m/obj, size 5, a recent time, %+v", info, got, meta)
	}
	// An overwrite without Meta clears it.
	put(t, s, "m/obj", []byte("1"))
	if _, got, err := st.Stat(ctx, Bucket, "m/obj"); err != nil || got != (objstore.Meta{}) {
		t.Errorf("Stat after overwrite = %+v, %v; want empty Meta", got, err)
	}
	if _, _, err := st.Stat(ctx, Bucket, "m/none"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Stat(missing) = %v; want ErrNotFound", err)
	}
}
