package objstore_test

import (
	"crypto/md5"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// refPage is S3's listing rule written plainly over a sorted key list.
func refPage(keys []string, o objstore.ListOptions) (objs, prefixes []string, truncated bool) {
	last := ""
	for _, k := range keys {
		if !strings.HasPrefix(k, o.Prefix) || k <= o.StartAfter {
			continue
		}
		item, isPrefix := k, false
		if o.Delimiter != "" {
			if i := strings.Index(k[len(o.Prefix):], o.Delimiter); i >= 0 {
				item, isPrefix = k[:len(o.Prefix)+i+len(o.Delimiter)], true
				if item == last || item <= o.StartAfter {
					continue
				}
			}
		}
		if len(objs)+len(prefixes) == o.MaxKeys {
			return objs, prefixes, true
		}
		last = item
		if isPrefix {
			prefixes = append(prefixes, item)
		} else {
			objs = append(objs, item)
		}
	}
	return objs, prefixes, false
}

// TestPageMatchesS3Order lists a tree of awkward keys ('-' sorts before
// '/', '%' and spaces, deep and flat) every way S3 can and compares each
// page, and the pages chained by their markers, with the plain rule.
func TestPageMatchesS3Order(t *testing.T) {
	t.Parallel()
	l, _ := newLocal(t)
	ctx := t.Context()
	keys := []string{
		"a", "a-c", "a.b", "a0", "b/c-d/e", "b/c/d", "b/c.d", "b-/x", "b0",
		"logs/2024/05/01/00/x", "logs/2024/05/01/01/y", "logs/2024/05/1", "logs/2024-05",
		"z z/%41", "z z/a b", "zz", "é/ü", "日本/語",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 60 {
		keys = append(keys, "flat/"+string(rune('a'+r.IntN(26)))+strings.Repeat("x", i%7)+string(rune('0'+i%10)))
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	for _, k := range keys {
		if err := putString(ctx, l, bucket, k, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, prefix := range []string{"", "a", "b/", "b/c", "logs/2024/05/", "logs/2024", "flat/", "flat/q", "z z/", "nope/", "é"} {
		for _, delim := range []string{"", "/", "-", "0"} {
			for _, max := range []int{1, 2, 3, 7, 1000} {
				o := objstore.ListOptions{Prefix: prefix, Delimiter: delim, MaxKeys: max}
				var gotO, gotP, wantO, wantP []string
				for page := 0; ; page++ {
					p, err := l.Page(ctx, bucket, o)
					if err != nil {
						t.Fatal(err)
					}
					wo, wp, wt := refPage(keys, o)
					var po []string
					for _, ob := range p.Objects {
						po = append(po, ob.Key)
						if ob.ETag == "" || ob.Size != int64(len(ob.Key)) {
							t.Fatalf("object %+v: want its ETag and size", ob)
						}
					}
					if !slices.Equal(po, wo) || !slices.Equal(p.Prefixes, wp) || p.Truncated != wt {
						t.Fatalf("Page(%+v) = %q %q %v; want %q %q %v", o, po, p.Prefixes, p.Truncated, wo, wp, wt)
					}
					gotO, gotP = append(gotO, po...), append(gotP, p.Prefixes...)
					if !p.Truncated {
						break
					}
					o.StartAfter = p.Last
				}
				wantO, wantP, _ = refPage(keys, objstore.ListOptions{Prefix: prefix, Delimiter: delim, MaxKeys: 1 << 30})
				if !slices.Equal(gotO, wantO) || !slices.Equal(gotP, wantP) {
					t.Fatalf("pages of %d with prefix %q delimiter %q = %q %q; want %q %q", max, prefix, delim, gotO, gotP, wantO, wantP)
				}
			}
		}
	}
}

// TestPageSeesChanges: the cached directory listing never hides a key the
// store wrote or shows one it deleted.
func TestPageSeesChanges(t *testing.T) {
	t.Parallel()
	l, _ := newLocal(t)
	ctx := t.Context()
	list := func() []string {
		p, err := l.Page(ctx, bucket, objstore.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var ks []string
		for _, o := range p.Objects {
			ks = append(ks, o.Key)
		}
		return ks
	}
	for i, k := range []string{"d/1", "d/2", "d/3", "e"} {
		if err := putString(ctx, l, bucket, k, "v"); err != nil {
			t.Fatal(err)
		}
		if got := list(); len(got) != i+1 || got[i] != k {
			t.Fatalf("after putting %s: %q", k, got)
		}
	}
	if err := l.Delete(ctx, bucket, "d/2"); err != nil {
		t.Fatal(err)
	}
	if got := list(); !slices.Equal(got, []string{"d/1", "d/3", "e"}) {
		t.Fatalf("after delete: %q", got)
	}
}

// TestETagFollowsEdits: a file changed in place by another tool gets the
// ETag of its new bytes in listings and stats, not the one recorded.
func TestETagFollowsEdits(t *testing.T) {
	t.Parallel()
	l, root := newLocal(t)
	ctx := t.Context()
	put(t, l, "k", "old")
	page := func() string {
		p, err := l.Page(ctx, bucket, objstore.ListOptions{})
		if err != nil || len(p.Objects) != 1 {
			t.Fatalf("Page = %+v, %v", p, err)
		}
		return p.Objects[0].ETag
	}
	if got, want := page(), fmt.Sprintf("%x", md5.Sum([]byte("old"))); got != want {
		t.Fatalf("ETag %s; want %s", got, want)
	}
	file := filepath.Join(root, bucket, "k")
	if err := os.WriteFile(file, []byte("edited"), 0o644); err != nil {
		t.Fatal(err)
	}
	// As the edit's own time, whatever the file system clock's grain.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(file, later, later); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%x", md5.Sum([]byte("edited")))
	if got := page(); got != want {
		t.Fatalf("ETag after an edit %s; want %s", got, want)
	}
	if a, err := l.StatObject(ctx, bucket, "k", ""); err != nil || a.ETag != want {
		t.Fatalf("StatObject after an edit = %+v, %v", a, err)
	}
}
