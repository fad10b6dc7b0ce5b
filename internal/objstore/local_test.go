package objstore_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/objstore/storetest"
)

const bucket = "test-bucket"

// newLocal opens a Local on a fresh <tmp>/buckets and returns it with the
// root's path.
func newLocal(t *testing.T) (*objstore.Local, string) {
	t.Helper()
	root := filepath.Join(t.TempDir(), "buckets")
	l, err := objstore.NewLocal(root, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, root
}

func putString(ctx context.Context, s objstore.Store, bucket, key, data string) error {
	return s.Put(ctx, bucket, key, objstore.Meta{}, func(w io.Writer) error {
		_, err := io.WriteString(w, data)
		return err
	})
}

// entries lists a directory's names, failing the test on error.
func entries(t *testing.T, dir string) []string {
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

func TestLocalContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) objstore.Store {
		l, root := newLocal(t)
		if !objstore.XattrSupported(root) {
			t.Log("no user xattrs here: Meta is not checked")
			return struct{ objstore.Store }{l} // hides Stat
		}
		return l
	})
}

func TestLocalLayout(t *testing.T) {
	l, root := newLocal(t)
	if err := putString(t.Context(), l, bucket, "2024/05/01/obj.json", "{}"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, bucket, "2024", "05", "01", "obj.json"))
	if err != nil || string(b) != "{}" {
		t.Fatalf("object file = %q, %v; want {}", b, err)
	}
	if got := entries(t, root); !slices.Equal(got, []string{".tmp", bucket}) {
		t.Errorf("root holds %q; want .tmp and the bucket", got)
	}
	if got := entries(t, filepath.Join(root, ".tmp")); len(got) != 0 {
		t.Errorf("temporary files left behind: %q", got)
	}
	if l.Dir() != root {
		t.Errorf("Dir() = %q; want %q", l.Dir(), root)
	}
}

func TestLocalBucketCreatedOnFirstPut(t *testing.T) {
	l, root := newLocal(t)
	ctx := t.Context()
	if _, err := l.List(ctx, bucket, ""); !errors.Is(err, objstore.ErrNoSuchBucket) {
		t.Fatalf("List before any Put = %v; want ErrNoSuchBucket", err)
	}
	if err := l.Delete(ctx, bucket, "k"); !errors.Is(err, objstore.ErrNoSuchBucket) {
		t.Errorf("Delete before any Put = %v; want ErrNoSuchBucket", err)
	}
	if err := putString(ctx, l, bucket, "k", "v"); err != nil {
		t.Fatal(err)
	}
	if err := l.Delete(ctx, bucket, "k"); err != nil {
		t.Fatal(err)
	}
	// The bucket outlives its last object, as in S3.
	if got, err := l.List(ctx, bucket, ""); err != nil || len(got) != 0 {
		t.Errorf("List of emptied bucket = %v, %v; want empty", got, err)
	}
	if fi, err := os.Stat(filepath.Join(root, bucket)); err != nil || !fi.IsDir() {
		t.Errorf("bucket directory: %v", err)
	}
}

func TestLocalRefusesTraversal(t *testing.T) {
	l, root := newLocal(t)
	ctx := t.Context()
	// Something worth stealing next to the root.
	secret := filepath.Join(filepath.Dir(root), "secret")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{
		"dotdot":            "../x",
		"dotdot to secret":  "../../secret",
		"inner dotdot":      "a/../../x",
		"trailing dotdot":   "a/..",
		"absolute":          "/abs",
		"absolute secret":   secret,
		"double slash":      "a//b",
		"trailing slash":    "a/",
		"dot":               ".",
		"inner dot":         "a/./b",
		"NUL":               "a\x00b",
		"newline":           "a\nb",
		"DEL":               "a\x7fb",
		"C1 control":        "a\u0085b",
		"backslash dotdot":  `..\x`,
		"backslash":         `a\b`,
		"empty":             "",
		"invalid UTF-8":     "a\xffb",
		"too long":          strings.Repeat("k", objstore.MaxKeyLen+1),
		"long segment":      strings.Repeat("s", 256),
		"into temp dir":     "../.tmp/x",
		"into other bucket": "../other-bucket/x",
	}
	for name, key := range keys {
		t.Run("key "+name, func(t *testing.T) {
			err := putString(ctx, l, bucket, key, "pwned")
			if !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Put = %v; want ErrInvalidKey", err)
			}
			if _, err := l.Get(ctx, bucket, key); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Get = %v; want ErrInvalidKey", err)
			}
			if _, _, err := l.Stat(ctx, bucket, key); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Stat = %v; want ErrInvalidKey", err)
			}
			if err := l.Delete(ctx, bucket, key); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Delete = %v; want ErrInvalidKey", err)
			}
		})
	}
	buckets := map[string]string{
		"dotdot":         "..",
		"dot":            ".",
		"temp dir":       ".tmp",
		"hidden":         ".abc",
		"slash":          "a/b",
		"dotdot slash":   "../abc",
		"upper case":     "Bucket",
		"IPv4 form":      "192.168.5.4",
		"empty":          "",
		"underscore":     "my_bucket",
		"absolute":       "/tmp",
		"backslash":      `ab\c`,
		"NUL":            "ab\x00c",
		"adjacent dots":  "a..b",
		"too short":      "ab",
		"xn-- prefix":    "xn--abc",
		"s3alias suffix": "abc-s3alias",
	}
	for name, b := range buckets {
		t.Run("bucket "+name, func(t *testing.T) {
			if err := putString(ctx, l, b, "k", "pwned"); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Put = %v; want ErrInvalidKey", err)
			}
			if _, err := l.Get(ctx, b, "k"); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Get = %v; want ErrInvalidKey", err)
			}
			if _, err := l.List(ctx, b, ""); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("List = %v; want ErrInvalidKey", err)
			}
			if err := l.Delete(ctx, b, "k"); !errors.Is(err, objstore.ErrInvalidKey) {
				t.Errorf("Delete = %v; want ErrInvalidKey", err)
			}
		})
	}
	// Nothing was written anywhere: not next to the root, not inside it.
	if got := entries(t, filepath.Dir(root)); !slices.Equal(got, []string{"buckets", "secret"}) {
		t.Errorf("root's parent holds %q", got)
	}
	if got := entries(t, root); !slices.Equal(got, []string{".tmp"}) {
		t.Errorf("root holds %q; want only .tmp", got)
	}
	if got := entries(t, filepath.Join(root, ".tmp")); len(got) != 0 {
		t.Errorf("temporary files left behind: %q", got)
	}
}

func TestLocalSymlinkCannotEscape(t *testing.T) {
	l, root := newLocal(t)
	ctx := t.Context()
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := putString(ctx, l, bucket, "k", "v"); err != nil {
		t.Fatal(err)
	}
	// Someone with access to the data directory plants links.
	if err := os.Symlink(outside, filepath.Join(root, bucket, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, bucket, "file-link")); err != nil {
		t.Fatal(err)
	}
	if rc, err := l.Get(ctx, bucket, "link/secret"); err == nil {
		rc.Close()
		t.Error("Get through a symlink out of the root succeeded")
	}
	if rc, err := l.Get(ctx, bucket, "file-link"); err == nil {
		rc.Close()
		t.Error("Get of a symlink to a file out of the root succeeded")
	}
	if err := putString(ctx, l, bucket, "link/planted", "x"); err == nil {
		t.Error("Put through a symlink out of the root succeeded")
	}
	if got := entries(t, outside); !slices.Equal(got, []string{"secret"}) {
		t.Errorf("outside directory holds %q; want only secret", got)
	}
	got, err := l.List(ctx, bucket, "")
	if err != nil || len(got) != 1 || got[0].Key != "k" {
		t.Errorf("List = %+v, %v; want only k (links are not objects)", got, err)
	}
}

func TestLocalRemovesLeftoverTemps(t *testing.T) {
	root := filepath.Join(t.TempDir(), "buckets")
	tmp := filepath.Join(root, ".tmp")
	if err := os.MkdirAll(filepath.Join(tmp, "odd-dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ABCDEF", "GHIJKL"} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte("half an object"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs bytes.Buffer
	l, err := objstore.NewLocal(root, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := entries(t, tmp); len(got) != 0 {
		t.Errorf("after open .tmp holds %q; want nothing", got)
	}
	if !strings.Contains(logs.String(), "removed=3") {
		t.Errorf("log does not report 3 removed files:\n%s", logs.String())
	}
}

func TestLocalNoPartialObject(t *testing.T) {
	l, root := newLocal(t)
	ctx := t.Context()
	old := strings.Repeat("old ", 10_000)
	if err := putString(ctx, l, bucket, "obj", old); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"obj", "new/obj"} {
		t.Run(key, func(t *testing.T) {
			written, release := make(chan struct{}), make(chan struct{})
			errc := make(chan error, 1)
			go func() {
				errc <- l.Put(ctx, bucket, key, objstore.Meta{}, func(w io.Writer) error {
					if _, err := w.Write(bytes.Repeat([]byte("new "), 50_000)); err != nil {
						return err
					}
					close(written)
					<-release
					_, err := w.Write([]byte("end"))
					return err
				})
			}()
			<-written
			// Mid-write: the bytes are in one temporary file, the target
			// path shows the old object or nothing.
			if got := entries(t, filepath.Join(root, ".tmp")); len(got) != 1 {
				t.Errorf("mid-write .tmp holds %q; want one file", got)
			}
			b, err := os.ReadFile(filepath.Join(root, bucket, filepath.FromSlash(key)))
			switch {
			case key == "obj" && (err != nil || string(b) != old):
				t.Errorf("mid-write target = %d bytes, %v; want the old object", len(b), err)
			case key != "obj" && !errors.Is(err, fs.ErrNotExist):
				t.Errorf("mid-write target = %d bytes, %v; want no file", len(b), err)
			}
			if key != "obj" {
				if _, err := l.Get(ctx, bucket, key); !errors.Is(err, objstore.ErrNotFound) {
					t.Errorf("mid-write Get = %v; want ErrNotFound", err)
				}
			}
			close(release)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			b, err = os.ReadFile(filepath.Join(root, bucket, filepath.FromSlash(key)))
			if err != nil || len(b) != 200_003 || !strings.HasSuffix(string(b), "new end") {
				t.Errorf("after Put target = %d bytes, %v; want the whole new object", len(b), err)
			}
		})
	}
}

func TestLocalSyncsDirectories(t *testing.T) {
	l, _ := newLocal(t)
	var mu sync.Mutex
	var synced []string
	objstore.WrapSyncDir(l, func(name string, sync func(string) error) error {
		mu.Lock()
		synced = append(synced, name)
		mu.Unlock()
		return sync(name)
	})
	for _, tt := range []struct {
		key  string
		want []string
	}{
		// New bucket and directories: each new entry's parent, deepest
		// first, then the object's directory after the rename.
		{"x/y/a", []string{bucket + "/x", bucket, ".", bucket + "/x/y"}},
		{"x/y/b", []string{bucket + "/x/y"}},
		{"x/z/c", []string{bucket + "/x", bucket + "/x/z"}},
		{"top", []string{bucket}},
	} {
		synced = nil
		if err := putString(t.Context(), l, bucket, tt.key, "v"); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(synced, tt.want) {
			t.Errorf("Put(%q) synced %q; want %q", tt.key, synced, tt.want)
		}
	}
	// Delete syncs the directory it removed the entry from.
	synced = nil
	if err := l.Delete(t.Context(), bucket, "x/y/b"); err != nil {
		t.Fatal(err)
	}
	if want := []string{bucket + "/x/y"}; !slices.Equal(synced, want) {
		t.Errorf("Delete synced %q; want %q", synced, want)
	}
}

func TestLocalSyncErrorFailsPut(t *testing.T) {
	l, _ := newLocal(t)
	errSync := errors.New("disk on fire")
	objstore.WrapSyncDir(l, func(string, func(string) error) error { return errSync })
	err := putString(t.Context(), l, bucket, "a/b", "v")
	if !errors.Is(err, errSync) {
		t.Errorf("Put with failing directory sync = %v; want it to report the sync error", err)
	}
}

func TestLocalKeyConflict(t *testing.T) {
	l, root := newLocal(t)
	ctx := t.Context()
	for _, k := range []string{"a", "c/d"} {
		if err := putString(ctx, l, bucket, k, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"a/b", "a/b/c", "c"} {
		err := putString(ctx, l, bucket, k, "v")
		if !errors.Is(err, objstore.ErrKeyConflict) {
			t.Errorf("Put(%q) = %v; want ErrKeyConflict", k, err)
		} else {
			t.Logf("Put(%q): %v", k, err)
		}
		if _, err := l.Get(ctx, bucket, k); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Get(%q) = %v; want ErrNotFound", k, err)
		}
	}
	if err := l.Delete(ctx, bucket, "c"); err != nil {
		t.Errorf("Delete(c) = %v; want nil (no such object)", err)
	}
	got, err := l.List(ctx, bucket, "")
	if err != nil || len(got) != 2 || got[0].Key != "a" || got[1].Key != "c/d" {
		t.Errorf("List = %+v, %v; want a and c/d", got, err)
	}
	if got := entries(t, filepath.Join(root, ".tmp")); len(got) != 0 {
		t.Errorf("temporary files left behind: %q", got)
	}
}

func TestLocalPanicInWriteLeavesNoTemp(t *testing.T) {
	l, root := newLocal(t)
	func() {
		defer func() { recover() }()
		l.Put(t.Context(), bucket, "k", objstore.Meta{}, func(w io.Writer) error {
			w.Write([]byte("partial"))
			panic("producer bug")
		})
	}()
	if got := entries(t, filepath.Join(root, ".tmp")); len(got) != 0 {
		t.Errorf("temporary files left behind: %q", got)
	}
	if _, err := l.Get(t.Context(), bucket, "k"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get = %v; want ErrNotFound", err)
	}
}

func TestLocalMetaInXattrs(t *testing.T) {
	l, root := newLocal(t)
	if !objstore.XattrSupported(root) {
		t.Skip("file system has no user xattrs")
	}
	meta := objstore.Meta{ContentType: "application/octet-stream", ContentEncoding: "gzip"}
	if err := l.Put(t.Context(), bucket, "m", meta, func(w io.Writer) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// The object file itself carries Meta, so a copy made with xattrs
	// (cp -a, rsync -X) keeps it; there is no sidecar to lose.
	if got := entries(t, filepath.Join(root, bucket)); !slices.Equal(got, []string{"m"}) {
		t.Errorf("bucket holds %q; want only the object", got)
	}
	_, got, err := l.Stat(t.Context(), bucket, "m")
	if err != nil || got != meta {
		t.Errorf("Stat = %+v, %v; want %+v", got, err, meta)
	}
}

// TestPutETagIsOpaque: Put (delivery's write) records an opaque ETag in
// S3's multipart form, new for every write, and does not hash the bytes;
// PutObject (the S3 API's) records their MD5.
func TestPutETagIsOpaque(t *testing.T) {
	t.Parallel()
	l, _ := newLocal(t)
	ctx := t.Context()
	form := regexp.MustCompile(`^[0-9a-f]{32}-1$`)
	var seen []string
	for range 2 {
		if err := l.Put(ctx, bucket, "d", objstore.Meta{}, func(w io.Writer) error {
			_, err := io.WriteString(w, "same bytes")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		a, err := l.StatObject(ctx, bucket, "d", "")
		if err != nil || !form.MatchString(a.ETag) {
			t.Fatalf("StatObject after Put = %+v, %v", a, err)
		}
		seen = append(seen, a.ETag)
	}
	if seen[0] == seen[1] {
		t.Fatalf("two writes got the same ETag %s", seen[0])
	}
	if a := put(t, l, "s", "same bytes"); a.ETag != fmt.Sprintf("%x", md5.Sum([]byte("same bytes"))) {
		t.Fatalf("PutObject ETag %s; want the MD5", a.ETag)
	}
}
