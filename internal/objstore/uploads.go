package objstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Multipart uploads. An upload is the directory
//
//	.s3/uploads/<bucket>/<upload ID>/
//
// holding upload.json (its key, start time and the object's metadata) and
// one file per part, part-NNNNN, written as objects are (temporary file,
// sync, rename) with its ETag in an xattr. Completing the upload writes
// the chosen parts into a new object (copied in the kernel where the file
// system can) and removes the directory. Upload IDs are 26 base32
// characters, so they are safe path elements; keys live only inside
// upload.json.

const uploadsDir = ".s3/uploads"

// MaxParts is the highest part number S3 allows.
const MaxParts = 10000

// Upload is a multipart upload in progress.
type Upload struct {
	ID        string    `json:"-"`
	Key       string    `json:"key"`
	Initiated time.Time `json:"initiated"`
	Meta      Meta      `json:"meta"`
	// Extra is the S3 API's metadata for the object (and for the upload:
	// its checksum algorithm), kept as given.
	Extra []byte `json:"extra,omitempty"`
}

// Part is one uploaded part.
type Part struct {
	Number       int
	Size         int64
	ETag         string
	LastModified time.Time
	// Extra is the S3 API's metadata for the part (its checksum).
	Extra []byte
}

// ErrInvalidPart is returned by CompleteUpload when a named part is
// missing or its ETag differs.
var ErrInvalidPart = errors.New("objstore: invalid part")

func validUploadID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

func uploadDir(bucket, id string) string { return uploadsDir + "/" + bucket + "/" + id }

func partName(n int) string { return fmt.Sprintf("part-%05d", n) }

// CreateUpload starts a multipart upload of key.
func (l *Local) CreateUpload(ctx context.Context, bucket, key string, meta Meta, extra []byte) (Upload, error) {
	if _, err := objectName(bucket, key); err != nil {
		return Upload{}, fmt.Errorf("create upload: %w", err)
	}
	if len(extra) > MaxExtra {
		return Upload{}, fmt.Errorf("create upload: %w: %d bytes of S3 metadata; at most %d", ErrMetadataTooLarge, len(extra), MaxExtra)
	}
	if err := l.requireBucket(ctx, bucket); err != nil {
		return Upload{}, err
	}
	u := Upload{ID: rand.Text(), Key: key, Initiated: time.Now().UTC(), Meta: meta, Extra: extra}
	b, err := json.Marshal(u)
	if err != nil {
		return Upload{}, err
	}
	if err := l.writeSmall(uploadDir(bucket, u.ID)+"/upload.json", b); err != nil {
		return Upload{}, fmt.Errorf("create upload of %s/%s: %w", bucket, key, err)
	}
	return u, nil
}

// upload reads an upload's record and checks that it is for key.
func (l *Local) upload(bucket, key, id string) (Upload, error) {
	if !validUploadID(id) {
		return Upload{}, fmt.Errorf("upload %q: %w", id, ErrNoSuchUpload)
	}
	b, err := l.root.ReadFile(uploadDir(bucket, id) + "/upload.json")
	if isMissing(err) {
		return Upload{}, fmt.Errorf("upload %s: %w", id, ErrNoSuchUpload)
	}
	if err != nil {
		return Upload{}, fmt.Errorf("upload %s: %w", id, err)
	}
	var u Upload
	if err := json.Unmarshal(b, &u); err != nil {
		return Upload{}, fmt.Errorf("upload %s: %w", id, err)
	}
	u.ID = id
	if key != "" && u.Key != key {
		return Upload{}, fmt.Errorf("upload %s is for another key: %w", id, ErrNoSuchUpload)
	}
	return u, nil
}

// PutPart stores part n (1 to MaxParts) of an upload, replacing an earlier
// part n. Its ETag is the MD5 of its bytes; extra, when set, is called
// once they are written and gives the part's Extra (its checksum).
func (l *Local) PutPart(ctx context.Context, bucket, key, id string, n int, write func(w io.Writer) error, extra func() []byte) (Part, error) {
	if n < 1 || n > MaxParts {
		return Part{}, fmt.Errorf("part number %d: %w", n, ErrInvalidPart)
	}
	if err := l.requireBucket(ctx, bucket); err != nil {
		return Part{}, err
	}
	if _, err := l.upload(bucket, key, id); err != nil {
		return Part{}, err
	}
	attrs := ObjectAttrs{Key: key}
	name := uploadDir(bucket, id) + "/" + partName(n)
	tmp, err := l.writeTemp(ctx, name, &attrs, write, extra)
	if err != nil {
		return Part{}, err
	}
	// The upload may have been completed or aborted meanwhile.
	if _, err := l.upload(bucket, key, id); err != nil {
		l.root.Remove(tmp)
		return Part{}, err
	}
	if err := l.root.Rename(tmp, name); err != nil {
		l.root.Remove(tmp)
		if isMissing(err) {
			return Part{}, fmt.Errorf("upload %s: %w", id, ErrNoSuchUpload)
		}
		return Part{}, fmt.Errorf("put part %d of upload %s: %w", n, id, err)
	}
	if err := l.syncDir(uploadDir(bucket, id)); err != nil {
		return Part{}, fmt.Errorf("put part %d of upload %s: %w", n, id, err)
	}
	return Part{Number: n, Size: attrs.Size, ETag: attrs.ETag, LastModified: attrs.LastModified, Extra: attrs.Extra}, nil
}

// ListParts returns an upload and its parts, by number.
func (l *Local) ListParts(ctx context.Context, bucket, key, id string) (Upload, []Part, error) {
	if err := l.requireBucket(ctx, bucket); err != nil {
		return Upload{}, nil, err
	}
	u, err := l.upload(bucket, key, id)
	if err != nil {
		return Upload{}, nil, err
	}
	dir := uploadDir(bucket, id)
	names, err := fs.ReadDir(l.root.FS(), dir)
	if err != nil {
		return Upload{}, nil, fmt.Errorf("upload %s: %w", id, err)
	}
	var parts []Part
	for _, e := range names {
		num, ok := strings.CutPrefix(e.Name(), "part-")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || partName(n) != e.Name() {
			continue
		}
		p, err := l.readPart(dir, n)
		if isMissing(err) {
			continue
		}
		if err != nil {
			return Upload{}, nil, err
		}
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b Part) int { return a.Number - b.Number })
	return u, parts, nil
}

func (l *Local) readPart(dir string, n int) (Part, error) {
	f, err := l.root.Open(dir + "/" + partName(n))
	if err != nil {
		return Part{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Part{}, err
	}
	a, err := l.readAttrs(f, fi, "")
	if err != nil {
		return Part{}, err
	}
	return Part{Number: n, Size: a.Size, ETag: a.ETag, LastModified: a.LastModified, Extra: a.Extra}, nil
}

// Uploads lists a bucket's uploads in progress, by key and then by start
// time.
func (l *Local) Uploads(ctx context.Context, bucket string) ([]Upload, error) {
	if err := l.requireBucket(ctx, bucket); err != nil {
		return nil, err
	}
	es, err := fs.ReadDir(l.root.FS(), uploadsDir+"/"+bucket)
	if isMissing(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list uploads of %s: %w", bucket, err)
	}
	var out []Upload
	for _, e := range es {
		u, err := l.upload(bucket, "", e.Name())
		if errors.Is(err, ErrNoSuchUpload) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b Upload) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return a.Initiated.Compare(b.Initiated)
	})
	return out, nil
}

// AbortUpload removes an upload and its parts.
func (l *Local) AbortUpload(ctx context.Context, bucket, key, id string) error {
	if err := l.requireBucket(ctx, bucket); err != nil {
		return err
	}
	if _, err := l.upload(bucket, key, id); err != nil {
		return err
	}
	if err := l.root.RemoveAll(uploadDir(bucket, id)); err != nil {
		return fmt.Errorf("abort upload %s: %w", id, err)
	}
	return nil
}

// CompleteUpload writes the parts named (by number, each with the ETag
// the client has for it) one after the other into the upload's object,
// with o's options (o.ETag is the multipart ETag, which the caller
// computes), and removes the upload. When tee is set the bytes are also
// written to it (to compute a checksum of the whole object). A part that
// is missing or whose ETag differs gives ErrInvalidPart.
func (l *Local) CompleteUpload(ctx context.Context, bucket, key, id string, parts []Part, o PutOptions, tee io.Writer) (ObjectAttrs, error) {
	if err := l.requireBucket(ctx, bucket); err != nil {
		return ObjectAttrs{}, err
	}
	if _, err := l.upload(bucket, key, id); err != nil {
		return ObjectAttrs{}, err
	}
	if o.ETag == "" {
		return ObjectAttrs{}, errors.New("complete upload: the multipart ETag is required")
	}
	dir := uploadDir(bucket, id)
	attrs, err := l.PutObject(ctx, bucket, key, o, func(w io.Writer) error {
		for _, p := range parts {
			f, err := l.root.Open(dir + "/" + partName(p.Number))
			if isMissing(err) {
				return fmt.Errorf("%w: part %d was not uploaded", ErrInvalidPart, p.Number)
			}
			if err != nil {
				return err
			}
			var etag string
			fi, err := f.Stat()
			if err == nil {
				etag, err = l.readETag(f, fi.ModTime())
			}
			if err == nil && etag != p.ETag {
				err = fmt.Errorf("%w: part %d has ETag %q, not %q", ErrInvalidPart, p.Number, etag, p.ETag)
			}
			if err == nil {
				dst := w
				if tee != nil {
					dst = io.MultiWriter(w, tee)
				}
				_, err = io.Copy(dst, f)
			}
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ObjectAttrs{}, err
	}
	if err := l.root.RemoveAll(dir); err != nil {
		l.logger.Warn("objstore: remove completed upload", "upload", id, "err", err)
	}
	return attrs, nil
}
