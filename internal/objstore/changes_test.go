package objstore_test

import (
	"context"
	"io"
	"testing"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// TestChanges checks that every write, replacement and deletion changes
// the count of the prefixes it touches, and that writes elsewhere leave a
// prefix's count alone.
func TestChanges(t *testing.T) {
	t.Parallel()
	l, _ := newLocal(t)
	ctx := context.Background()
	put := func(b, k string) {
		t.Helper()
		if err := putString(ctx, l, b, k, "x"); err != nil {
			t.Fatal(err)
		}
	}
	const table = "data/year=2026/"
	put(bucket, "data/year=2026/a")
	put(bucket, "results/r1.csv")
	put("other-bucket", "data/year=2026/a")
	steps := []struct {
		name    string
		do      func()
		changed bool
	}{
		{"nothing", func() {}, false},
		{"a new object under the prefix", func() { put(bucket, "data/year=2026/hour=1/b") }, true},
		{"the same object again (replaced)", func() { put(bucket, "data/year=2026/hour=1/b") }, true},
		{"an object in another top-level directory", func() { put(bucket, "results/r2.csv") }, false},
		{"an object in another bucket", func() { put("other-bucket", "data/year=2026/b") }, false},
		{"a delete under the prefix", func() {
			if err := l.Delete(ctx, bucket, "data/year=2026/hour=1/b"); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"a delete of a missing object", func() {
			if err := l.Delete(ctx, bucket, "data/year=2026/nothing"); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"a top-level object of the bucket", func() { put(bucket, "top") }, true},
		{"a new bucket", func() { put("third-bucket", "x") }, true},
	}
	for _, s := range steps {
		before, whole := l.Changes(bucket, table), l.Changes(bucket, "")
		s.do()
		after := l.Changes(bucket, table)
		if (after != before) != s.changed {
			t.Errorf("%s: count %d -> %d, want changed=%v", s.name, before, after, s.changed)
		}
		if s.changed && l.Changes(bucket, "") == whole {
			t.Errorf("%s: the whole bucket's count did not change", s.name)
		}
	}
	// Multipart uploads count when completed. (The first upload makes
	// the store's upload directory, which counts as a change of its root.)
	if _, err := l.CreateUpload(ctx, bucket, "data/year=2026/mp", objstore.Meta{}, nil); err != nil {
		t.Fatal(err)
	}
	before := l.Changes(bucket, table)
	up, err := l.CreateUpload(ctx, bucket, "data/year=2026/mp", objstore.Meta{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	part, err := l.PutPart(ctx, bucket, up.Key, up.ID, 1, func(w io.Writer) error {
		_, err := io.WriteString(w, "part")
		return err
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l.Changes(bucket, table) != before {
		t.Error("an upload's part changed the count before it was completed")
	}
	if _, err := l.CompleteUpload(ctx, bucket, up.Key, up.ID, []objstore.Part{part}, objstore.PutOptions{ETag: `"x-1"`}, nil); err != nil {
		t.Fatal(err)
	}
	if l.Changes(bucket, table) == before {
		t.Error("a completed upload did not change the count")
	}
}
