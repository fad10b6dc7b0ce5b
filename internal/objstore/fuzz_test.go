package objstore

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzKeyPath checks that no key ValidKey accepts can name a file outside
// its bucket's directory, lexically and for real: every accepted key is put
// into a Local and must land exactly at <root>/<bucket>/<key>, with nothing
// created anywhere else.
func FuzzKeyPath(f *testing.F) {
	for _, seed := range []string{
		"a", "a/b/c", "../x", "a/../../x", "/abs", "a//b", "a/", ".", "..", "...",
		"a\x00b", `..\x`, "a/./b", ".tmp/x", "..a/b..", "ü/é", " / ", "a/.../b",
		strings.Repeat("x/", 300) + "y", strings.Repeat("d/", 60) + "z", strings.Repeat("s", 256),
	} {
		f.Add(seed)
	}
	const bucket = "fuzz-bucket"
	top := f.TempDir()
	root := filepath.Join(top, "buckets")
	l, err := NewLocal(root, nil)
	if err != nil {
		f.Fatal(err)
	}
	// Durability is not what this checks, and fsyncs would slow it a
	// hundredfold.
	l.syncDir = func(string) error { return nil }
	l.syncFile = func(*os.File) error { return nil }
	bucketDir := filepath.Join(root, bucket)

	f.Fuzz(func(t *testing.T, key string) {
		ctx := t.Context()
		write := func(w io.Writer) error { _, err := io.WriteString(w, key); return err }
		if ValidKey(key) != nil {
			if err := l.Put(ctx, bucket, key, Meta{}, write); !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("Put(%q) of a key ValidKey refuses = %v; want ErrInvalidKey", key, err)
			}
			return
		}

		// Lexically: the key is a local path that joins without being
		// rewritten, so distinct keys are distinct files inside the bucket.
		if !filepath.IsLocal(filepath.FromSlash(key)) {
			t.Fatalf("accepted key %q is not a local path", key)
		}
		want := bucketDir + string(filepath.Separator) + filepath.FromSlash(key)
		if joined := filepath.Join(bucketDir, filepath.FromSlash(key)); joined != want {
			t.Fatalf("accepted key %q joins to %q; want %q", key, joined, want)
		}
		if rel, err := filepath.Rel(bucketDir, want); err != nil || !filepath.IsLocal(rel) {
			t.Fatalf("accepted key %q resolves to %q, outside %q", key, want, bucketDir)
		}
		name, err := objectName(bucket, key)
		longSegment := slices.ContainsFunc(strings.Split(key, "/"), func(s string) bool { return len(s) > maxSegment })
		switch {
		case longSegment && errors.Is(err, ErrInvalidKey):
			return // the local store's file-name limit, not a traversal
		case err != nil:
			t.Fatalf("objectName(%q) = %v", key, err)
		case name != bucket+"/"+key:
			t.Fatalf("objectName(%q) = %q", key, name)
		}

		// For real. os.Root walks every path component on every call, so
		// a key hundreds of directories deep takes seconds on a busy
		// machine and would be reported as a hang; depth does not change
		// containment, which the lexical checks above cover.
		if strings.Count(key, "/") > 64 {
			return
		}
		if err := l.Put(ctx, bucket, key, Meta{}, write); err != nil {
			t.Fatalf("Put(%q): %v", key, err)
		}
		if b, err := os.ReadFile(want); err != nil || string(b) != key {
			t.Fatalf("object %q is not at %q: %q, %v", key, want, b, err)
		}
		if got := dirNames(t, top); !slices.Equal(got, []string{"buckets"}) {
			t.Fatalf("after Put(%q) the root's parent holds %q", key, got)
		}
		if got := dirNames(t, root); !slices.Equal(got, []string{".tmp", bucket}) {
			t.Fatalf("after Put(%q) the root holds %q", key, got)
		}
		infos, err := l.List(ctx, bucket, key)
		if err != nil || len(infos) != 1 || infos[0].Key != key {
			t.Fatalf("List(%q) = %+v, %v; want the key", key, infos, err)
		}
		if err := l.Delete(ctx, bucket, key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
		if got := dirNames(t, bucketDir); len(got) != 0 {
			t.Fatalf("after Delete(%q) the bucket holds %q", key, got)
		}
	})
}

// FuzzValidBucketName checks that an accepted bucket name is one plain,
// non-hidden path element, so it can only name a directory in the root.
func FuzzValidBucketName(f *testing.F) {
	for _, seed := range []string{"abc", "..", ".tmp", "a/b", "a..b", "192.168.5.4", "ABC", "a\\b", "xn--a", "a.b-c"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if ValidBucketName(name) != nil {
			return
		}
		if !filepath.IsLocal(name) || filepath.Base(name) != name || name[0] == '.' ||
			strings.ContainsAny(name, "/\\\x00") || strings.ToLower(name) != name || len(name) > 63 {
			t.Fatalf("accepted bucket name %q is not a plain directory name", name)
		}
	})
}

// dirNames lists a directory's names.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}
