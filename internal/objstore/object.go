package objstore

import (
	"bufio"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
)

// ObjectAttrs is what the local store keeps about one object, or one
// version of it: its bytes' size, time and ETag, and the metadata the
// writer set.
type ObjectAttrs struct {
	Key          string
	Size         int64
	LastModified time.Time
	// ETag is the hex MD5 of the bytes, or, for an object assembled from
	// a multipart upload, S3's "hex-N" form (set by the writer).
	ETag string
	// VersionID is the object's version: NullVersion for objects written
	// while the bucket's versioning was never enabled, or suspended.
	VersionID string
	// DeleteMarker marks a version that records a delete.
	DeleteMarker bool
	// IsLatest is set by version listings on each key's newest version.
	IsLatest bool
	Meta     Meta
	// Extra is the S3 API's own metadata for the object (user metadata,
	// checksums, ...). The store keeps it without looking inside.
	Extra []byte
}

// NullVersion is the version ID of an object written while versioning was
// off, as S3 names it.
const NullVersion = "null"

// MaxExtra bounds ObjectAttrs.Extra: what one extended attribute holds on
// common file systems, well above S3's 2 KB of user metadata.
const MaxExtra = 3 << 10

// PutOptions are the optional parts of PutObject.
type PutOptions struct {
	Meta  Meta
	Extra []byte
	// ETag, when set, is recorded instead of the MD5 of the bytes (which is
	// then not computed): multipart uploads set S3's "hex-N".
	ETag string
	// IfNoneMatch makes the put fail with ErrPreconditionFailed when the
	// key has a current object (S3's If-None-Match: *).
	IfNoneMatch bool
	// IfMatch, when set, makes the put fail with ErrPreconditionFailed
	// unless the key's current object has this ETag.
	IfMatch string
	// ExtraAfter, when set, is called once the bytes are written and
	// gives Extra: metadata that depends on the bytes (their checksum).
	ExtraAfter func() []byte
}

// More errors of the local store's S3-shaped operations.
var (
	// ErrPreconditionFailed is returned by PutObject when its condition
	// does not hold.
	ErrPreconditionFailed = errors.New("objstore: precondition failed")
	// ErrNoSuchVersion is returned for a version ID the key does not have.
	ErrNoSuchVersion = errors.New("objstore: no such version")
	// ErrIsDeleteMarker is returned when a version that is a delete marker
	// is asked for its bytes.
	ErrIsDeleteMarker = errors.New("objstore: version is a delete marker")
	// ErrBucketExists is returned by CreateBucket for an existing bucket.
	ErrBucketExists = errors.New("objstore: bucket already exists")
	// ErrBucketNotEmpty is returned by DeleteBucket while the bucket holds
	// objects or versions.
	ErrBucketNotEmpty = errors.New("objstore: bucket not empty")
	// ErrNoSuchUpload is returned for an unknown multipart upload.
	ErrNoSuchUpload = errors.New("objstore: no such upload")
	// ErrMetadataTooLarge is returned when an object's metadata does not
	// fit in its extended attributes.
	ErrMetadataTooLarge = errors.New("objstore: metadata too large")
)

// Extended attribute names besides Meta's.
const (
	xattrETag         = "user.hydrant.etag"
	xattrVersion      = "user.hydrant.version"
	xattrExtra        = "user.hydrant.s3"
	xattrDeleteMarker = "user.hydrant.delete-marker"
)

// PutObject stores an object as Put does and returns its attributes. The
// MD5 of the bytes is computed as they are written and kept as the ETag;
// when the bucket's versioning is enabled or suspended the current object
// is kept as a noncurrent version first (see versions.go).
func (l *Local) PutObject(ctx context.Context, bucket, key string, o PutOptions, write func(w io.Writer) error) (ObjectAttrs, error) {
	name, err := objectName(bucket, key)
	if err != nil {
		return ObjectAttrs{}, fmt.Errorf("put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return ObjectAttrs{}, fmt.Errorf("put %s: %w", name, err)
	}
	// The version is decided when the write starts: a versioning change
	// during a long upload applies to the next one.
	vs, err := l.versioning(bucket)
	if err != nil {
		return ObjectAttrs{}, fmt.Errorf("put %s: %w", name, err)
	}
	attrs := ObjectAttrs{Key: key, Meta: o.Meta, Extra: o.Extra, ETag: o.ETag, VersionID: NullVersion}
	if vs == VersioningEnabled {
		attrs.VersionID = newVersionID()
	}
	tmp, err := l.writeTemp(ctx, name, &attrs, write, o.ExtraAfter)
	if err != nil {
		return ObjectAttrs{}, err
	}
	done := false
	defer func() {
		if !done {
			l.root.Remove(tmp)
		}
	}()

	l.bucketMu.RLock()
	defer l.bucketMu.RUnlock()
	unlock := l.lockKey(bucket, key)
	defer unlock()
	if err := l.checkPut(ctx, bucket, key, o); err != nil {
		return ObjectAttrs{}, fmt.Errorf("put %s: %w", name, err)
	}
	if vs != VersioningUnversioned {
		if err := l.archiveCurrent(bucket, key, vs); err != nil {
			return ObjectAttrs{}, fmt.Errorf("put %s: keep current version: %w", name, err)
		}
	}
	if err := l.install(tmp, name); err != nil {
		return ObjectAttrs{}, fmt.Errorf("put %s: %w", name, err)
	}
	done = true
	return attrs, nil
}

// writeTemp writes an object's bytes and attributes to a new temporary
// file, synced and closed, and returns its name. attrs gets the ETag
// (unless set), size and time. An error from write is returned unwrapped.
func (l *Local) writeTemp(ctx context.Context, name string, attrs *ObjectAttrs, write func(w io.Writer) error, extraAfter func() []byte) (string, error) {
	tmp := path.Join(tmpDir, rand.Text())
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", fmt.Errorf("put %s: create temporary file: %w", name, err)
	}
	// Any way out but success, panics in write included, discards the
	// temporary file.
	ok := false
	defer func() {
		if !ok {
			f.Close()
			l.root.Remove(tmp)
		}
	}()
	var h hash.Hash
	var bw *bufio.Writer
	if attrs.ETag == "" {
		h = md5.New()
		bw = bufio.NewWriterSize(ctxWriter{ctx: ctx, w: io.MultiWriter(f, h)}, 64<<10)
		err = write(bw)
	} else {
		// Parts copied file to file: let io.Copy use copy_file_range.
		err = write(fileWriter{ctx: ctx, f: f})
	}
	if err != nil {
		return "", err // unwrapped, as Store promises
	}
	if bw != nil {
		if err := bw.Flush(); err != nil {
			return "", fmt.Errorf("put %s: write: %w", name, err)
		}
		attrs.ETag = hex.EncodeToString(h.Sum(nil))
	}
	if extraAfter != nil {
		attrs.Extra = extraAfter()
	}
	if len(attrs.Extra) > MaxExtra {
		return "", fmt.Errorf("put %s: %w: %d bytes of S3 metadata; at most %d", name, ErrMetadataTooLarge, len(attrs.Extra), MaxExtra)
	}
	// Setting xattrs does not change the modification time, which the
	// ETag is recorded with.
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("put %s: %w", name, err)
	}
	attrs.Size, attrs.LastModified = fi.Size(), fi.ModTime()
	if err := l.setAttrs(f, attrs); err != nil {
		return "", fmt.Errorf("put %s: %w", name, err)
	}
	if err := l.syncFile(f); err != nil {
		return "", fmt.Errorf("put %s: sync: %w", name, err)
	}
	ok = true
	if err := f.Close(); err != nil {
		l.root.Remove(tmp)
		return "", fmt.Errorf("put %s: close: %w", name, err)
	}
	// Last chance to honour cancellation: after the rename the object is
	// visible and Put reports how making it durable went.
	if err := ctx.Err(); err != nil {
		l.root.Remove(tmp)
		return "", fmt.Errorf("put %s: %w", name, err)
	}
	return tmp, nil
}

// fileWriter writes straight to a file, failing once ctx is done, and
// keeps the file's ReadFrom so that copies between files stay in the
// kernel.
type fileWriter struct {
	ctx context.Context
	f   *os.File
}

func (w fileWriter) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.f.Write(p)
}

func (w fileWriter) ReadFrom(r io.Reader) (int64, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.f.ReadFrom(r)
}

// setAttrs records attrs in f's extended attributes. Without user xattrs
// (other file systems) Meta, Extra and the version are dropped, with a
// warning logged once, and ETags are computed when asked for.
func (l *Local) setAttrs(f *os.File, a *ObjectAttrs) error {
	if err := l.setMeta(f, a.Meta); err != nil {
		return err
	}
	version := a.VersionID
	if version == NullVersion {
		version = ""
	}
	marker, etag := "", etagValue(a.ETag, a.LastModified)
	if a.DeleteMarker {
		marker, etag = "1", ""
	}
	for _, x := range [...]struct {
		name  string
		value []byte
	}{
		{xattrETag, []byte(etag)},
		{xattrVersion, []byte(version)},
		{xattrExtra, a.Extra},
		{xattrDeleteMarker, []byte(marker)},
	} {
		if len(x.value) == 0 {
			continue
		}
		err := setXattr(f, x.name, x.value)
		if errors.Is(err, errXattrUnsupported) {
			l.warnNoXattr(err)
			return nil
		}
		if err != nil {
			if isTooBig(err) {
				return fmt.Errorf("%w: %w", ErrMetadataTooLarge, err)
			}
			return fmt.Errorf("set %s: %w", x.name, err)
		}
	}
	return nil
}

// readAttrs reads an open object's (or version's) attributes. A missing
// ETag (an object written before hydrant kept them, or a file placed in a
// bucket by hand, or no xattrs) is computed from the bytes and, where it
// can be, recorded.
func (l *Local) readAttrs(f *os.File, fi fs.FileInfo, key string) (ObjectAttrs, error) {
	a := ObjectAttrs{Key: key, Size: fi.Size(), LastModified: fi.ModTime(), VersionID: NullVersion}
	var err error
	get := func(name string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = getXattr(f, name)
		if errors.Is(err, errXattrUnsupported) {
			err = nil
		}
		return v
	}
	a.Meta.ContentType = get(xattrContentType)
	a.Meta.ContentEncoding = get(xattrContentEncoding)
	a.ETag = etagFor(get(xattrETag), fi.ModTime())
	if v := get(xattrVersion); v != "" {
		a.VersionID = v
	}
	if x := get(xattrExtra); x != "" {
		a.Extra = []byte(x)
	}
	a.DeleteMarker = get(xattrDeleteMarker) == "1"
	if err != nil {
		return a, err
	}
	if a.ETag == "" && !a.DeleteMarker && fi.Mode().IsRegular() {
		if a.ETag, err = l.computeETag(f); err != nil {
			return a, err
		}
	}
	return a, nil
}

// readETag reads only an object's ETag (listings), computing it when it
// was never recorded or the file changed since.
func (l *Local) readETag(f *os.File, mtime time.Time) (string, error) {
	v, err := getXattr(f, xattrETag)
	if err != nil && !errors.Is(err, errXattrUnsupported) {
		return "", err
	}
	if etag := etagFor(v, mtime); etag != "" {
		return etag, nil
	}
	return l.computeETag(f)
}

// The ETag is recorded with the file's modification time in nanoseconds
// ("etag mtime"): a file changed in place by a tool other than hydrant
// gets a new mtime, so its stale ETag is recognized and computed again.

func etagValue(etag string, mtime time.Time) string {
	if etag == "" {
		return ""
	}
	return etag + " " + strconv.FormatInt(mtime.UnixNano(), 10)
}

// etagFor returns the ETag of a recorded value if it was recorded for a
// file of modification time mtime, else "".
func etagFor(v string, mtime time.Time) string {
	etag, ts, ok := strings.Cut(v, " ")
	if !ok || ts != strconv.FormatInt(mtime.UnixNano(), 10) {
		return ""
	}
	return etag
}

// computeETag hashes an object's bytes and records the result on the file
// (the same inode: a concurrent overwrite renames a new file in, so the
// value can never describe other bytes).
func (l *Local) computeETag(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	h := md5.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return "", fmt.Errorf("compute ETag: %w", err)
	}
	etag := hex.EncodeToString(h.Sum(nil))
	if err := setXattr(f, xattrETag, []byte(etagValue(etag, fi.ModTime()))); err != nil && !errors.Is(err, errXattrUnsupported) {
		// A read-only file or file system: the ETag is still right.
		l.logger.Debug("objstore: could not record a computed ETag", "file", f.Name(), "err", err)
	}
	return etag, nil
}

// warnNoXattr logs once that this file system keeps no metadata.
func (l *Local) warnNoXattr(err error) {
	l.warnMeta.Do(func() {
		l.logger.Warn("objstore: file system has no user extended attributes; local objects will not keep content type, encoding, S3 metadata or versions, and ETags are computed when read",
			"root", l.dir, "err", err)
	})
}

// StatObject returns the attributes of an object's current version, or,
// with versionID set, of that version (a delete marker included). A key
// whose latest version is a delete marker gives ErrNotFound wrapped with
// ErrIsDeleteMarker, and the marker's attributes.
func (l *Local) StatObject(ctx context.Context, bucket, key, versionID string) (ObjectAttrs, error) {
	f, a, err := l.openVersion(ctx, "stat", bucket, key, versionID)
	if f != nil {
		f.Close()
	}
	return a, err
}

// OpenObject opens an object's current version, or the version named, for
// reading, with its attributes. The file is the object's own: it supports
// ReadAt and Seek, and keeps its bytes even if the object is replaced
// while it is read. Errors are StatObject's; a delete marker named by its
// version gives ErrIsDeleteMarker.
func (l *Local) OpenObject(ctx context.Context, bucket, key, versionID string) (*os.File, ObjectAttrs, error) {
	f, a, err := l.openVersion(ctx, "get", bucket, key, versionID)
	if err == nil && a.DeleteMarker {
		f.Close()
		return nil, a, fmt.Errorf("get %s/%s version %s: %w", bucket, key, versionID, ErrIsDeleteMarker)
	}
	return f, a, err
}

// checkPut checks PutOptions' conditions against the key's current
// object. The caller holds the key's lock.
func (l *Local) checkPut(ctx context.Context, bucket, key string, o PutOptions) error {
	if !o.IfNoneMatch && o.IfMatch == "" {
		return nil
	}
	cur, err := l.StatObject(ctx, bucket, key, "")
	exists := err == nil
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	switch {
	case o.IfNoneMatch && exists:
		return fmt.Errorf("%w: the key has an object", ErrPreconditionFailed)
	case o.IfMatch != "" && !exists:
		return fmt.Errorf("%w: the key has no object: %w", ErrPreconditionFailed, ErrNotFound)
	case o.IfMatch != "" && o.IfMatch != "*" && o.IfMatch != cur.ETag:
		return fmt.Errorf("%w: the object's ETag is %q", ErrPreconditionFailed, cur.ETag)
	}
	return nil
}
