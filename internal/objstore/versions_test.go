package objstore_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

func put(t *testing.T, l *objstore.Local, key, data string) objstore.ObjectAttrs {
	t.Helper()
	a, err := l.PutObject(t.Context(), bucket, key, objstore.PutOptions{}, func(w io.Writer) error {
		_, err := io.WriteString(w, data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func read(t *testing.T, l *objstore.Local, key, version string) string {
	t.Helper()
	f, _, err := l.OpenObject(t.Context(), bucket, key, version)
	if err != nil {
		t.Fatalf("open %s version %q: %v", key, version, err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	return string(b)
}

// versions renders a key's versions newest first: "data" or "DM", with
// "*" on the latest.
func versions(t *testing.T, l *objstore.Local, key string) string {
	t.Helper()
	vs, err := l.ListVersions(t.Context(), bucket, key)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		if v.Key != key {
			continue
		}
		s := "DM"
		if !v.DeleteMarker {
			s = read(t, l, key, v.VersionID)
		}
		if v.VersionID == objstore.NullVersion {
			s += "(null)"
		}
		if v.IsLatest {
			s += "*"
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

func setVersioning(t *testing.T, l *objstore.Local, s objstore.VersioningStatus) {
	t.Helper()
	if err := l.UpdateBucketConfig(t.Context(), bucket, func(c *objstore.BucketConfig) error { c.Versioning = s; return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestVersioning(t *testing.T) {
	t.Parallel()
	l, _ := newLocal(t)
	ctx := t.Context()
	if err := l.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	if err := l.CreateBucket(ctx, bucket); !errors.Is(err, objstore.ErrBucketExists) {
		t.Fatalf("second CreateBucket = %v; want ErrBucketExists", err)
	}
	put(t, l, "k", "v0") // before versioning: the null version
	setVersioning(t, l, objstore.VersioningEnabled)
	a1 := put(t, l, "k", "v1")
	a2 := put(t, l, "k", "v2")
	if a1.VersionID == a2.VersionID || !objstore.ValidVersionID(a1.VersionID) {
		t.Fatalf("version IDs %q, %q", a1.VersionID, a2.VersionID)
	}
	if got := versions(t, l, "k"); got != "v2* v1 v0(null)" {
		t.Fatalf("after two versioned puts: %s", got)
	}
	if got := read(t, l, "k", ""); got != "v2" {
		t.Fatalf("current = %q", got)
	}

	del, err := l.DeleteObject(ctx, bucket, "k", "")
	if err != nil || !del.DeleteMarker {
		t.Fatalf("delete = %+v, %v; want a delete marker", del, err)
	}
	if _, err := l.StatObject(ctx, bucket, "k", ""); !errors.Is(err, objstore.ErrNotFound) || !errors.Is(err, objstore.ErrIsDeleteMarker) {
		t.Fatalf("stat after delete = %v; want not found, a delete marker", err)
	}
	if _, _, err := l.OpenObject(ctx, bucket, "k", del.VersionID); !errors.Is(err, objstore.ErrIsDeleteMarker) {
		t.Fatalf("open the marker = %v", err)
	}
	if got := versions(t, l, "k"); got != "DM* v2 v1 v0(null)" {
		t.Fatalf("after delete: %s", got)
	}
	// Removing the marker brings v2 back; removing v2 brings v1 back.
	if _, err := l.DeleteObject(ctx, bucket, "k", del.VersionID); err != nil {
		t.Fatal(err)
	}
	if got := read(t, l, "k", ""); got != "v2" {
		t.Fatalf("after removing the marker: %q", got)
	}
	if _, err := l.DeleteObject(ctx, bucket, "k", a2.VersionID); err != nil {
		t.Fatal(err)
	}
	if got := versions(t, l, "k"); got != "v1* v0(null)" {
		t.Fatalf("after removing v2: %s", got)
	}

	setVersioning(t, l, objstore.VersioningSuspended)
	put(t, l, "k", "s1")
	put(t, l, "k", "s2") // replaces the null version
	if got := versions(t, l, "k"); got != "s2(null)* v1" {
		t.Fatalf("suspended puts: %s", got)
	}
	if err := l.DeleteBucket(ctx, bucket); !errors.Is(err, objstore.ErrBucketNotEmpty) {
		t.Fatalf("DeleteBucket = %v; want ErrBucketNotEmpty", err)
	}
	if _, err := l.DeleteObject(ctx, bucket, "k", ""); err != nil {
		t.Fatal(err)
	}
	if got := versions(t, l, "k"); got != "DM(null)* v1" {
		t.Fatalf("suspended delete: %s", got)
	}
	for _, v := range []string{objstore.NullVersion, a1.VersionID} {
		if _, err := l.DeleteObject(ctx, bucket, "k", v); err != nil {
			t.Fatal(err)
		}
	}
	if got := versions(t, l, "k"); got != "" {
		t.Fatalf("after removing every version: %q", got)
	}
	if err := l.DeleteBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	if ok, _ := l.BucketExists(ctx, bucket); ok {
		t.Fatal("bucket still exists")
	}
}

func TestMultipart(t *testing.T) {
	t.Parallel()
	l, root := newLocal(t)
	ctx := t.Context()
	if err := l.CreateBucket(ctx, bucket); err != nil {
		t.Fatal(err)
	}
	u, err := l.CreateUpload(ctx, bucket, "big/obj", objstore.Meta{ContentType: "text/plain"}, []byte(`{"x":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var parts []objstore.Part
	for i, s := range []string{"one-", "two-", "three"} {
		p, err := l.PutPart(ctx, bucket, "big/obj", u.ID, i+1, func(w io.Writer) error {
			_, err := io.WriteString(w, s)
			return err
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	if _, ps, err := l.ListParts(ctx, bucket, "big/obj", u.ID); err != nil || len(ps) != 3 {
		t.Fatalf("ListParts = %v, %v", ps, err)
	}
	if _, err := l.CompleteUpload(ctx, bucket, "big/obj", u.ID, []objstore.Part{{Number: 1, ETag: "bad"}}, objstore.PutOptions{ETag: "x-1"}, nil); !errors.Is(err, objstore.ErrInvalidPart) {
		t.Fatalf("complete with a wrong ETag = %v", err)
	}
	a, err := l.CompleteUpload(ctx, bucket, "big/obj", u.ID, []objstore.Part{parts[0], parts[2]}, objstore.PutOptions{ETag: "abc-2", Meta: u.Meta}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, l, "big/obj", ""); got != "one-three" || a.ETag != "abc-2" || a.Meta.ContentType != "text/plain" {
		t.Fatalf("completed object %q, %+v", got, a)
	}
	if us, err := l.Uploads(ctx, bucket); err != nil || len(us) != 0 {
		t.Fatalf("uploads after complete: %v %v", us, err)
	}
	if got := entries(t, root+"/.tmp"); len(got) != 0 {
		t.Fatalf("temporary files left: %q", got)
	}
	if _, err := l.PutPart(ctx, bucket, "big/obj", u.ID, 1, func(io.Writer) error { return nil }, nil); !errors.Is(err, objstore.ErrNoSuchUpload) {
		t.Fatalf("part of a completed upload = %v", err)
	}
	if _, err := l.PutPart(context.Background(), bucket, "big/obj", "../../../etc", 1, func(io.Writer) error { return nil }, nil); !errors.Is(err, objstore.ErrNoSuchUpload) {
		t.Fatalf("part of a traversing upload ID = %v", err)
	}
}
