package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// maxListed bounds the entries (folders and objects) one listing returns.
const maxListed = 1000

// maxNewest bounds the objects the newest-first listings (data objects,
// error output) return.
const maxNewest = 200

// objectEntry is one object in a listing.
type objectEntry struct {
	Key      string    `json:"key"`
	Size     int64     `json:"size"`
	Modified time.Time `json:"modified"`
	// Type is the error output type of an object in the errors listing.
	Type string `json:"type,omitempty"`
}

// listing is GET /api/streams/{name}/objects: one level of the stream's
// bucket under a prefix (folders end in "/"); with ?kind=newest the newest
// objects under the stream's data prefix, with ?kind=errors the newest
// error output objects.
type listing struct {
	Bucket    string        `json:"bucket"`
	Prefix    string        `json:"prefix"`
	Folders   []string      `json:"folders"`
	Objects   []objectEntry `json:"objects"`
	Truncated bool          `json:"truncated"`
	// NoBucket says the bucket does not exist (nothing delivered yet).
	NoBucket bool `json:"noBucket,omitempty"`
}

func (c *Console) handleObjects(w http.ResponseWriter, r *http.Request) error {
	_, st, err := c.stream(r, r.PathValue("name"))
	if err != nil {
		return err
	}
	b := roots(st)
	out := listing{Bucket: b.Bucket, Folders: []string{}, Objects: []objectEntry{}}
	q := r.URL.Query()
	switch q.Get("kind") {
	case "errors":
		err = c.listErrors(r, b, &out)
	case "newest":
		out.Prefix = b.Data
		err = c.listNewest(r, b.Bucket, []string{b.Data}, nil, &out)
	default:
		out.Prefix = b.Data
		if q.Has("prefix") {
			out.Prefix = q.Get("prefix")
		}
		err = c.listLevel(r, &out)
	}
	if errors.Is(err, objstore.ErrNoSuchBucket) {
		out.NoBucket, err = true, nil
	}
	if errors.Is(err, objstore.ErrInvalidKey) {
		return errorf(http.StatusBadRequest, "%v", err)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pager lists a page of a bucket as S3's ListObjects does, delimiter
// included (the local store): a folder's level is read without walking
// what is below it.
type pager interface {
	Page(ctx context.Context, bucket string, o objstore.ListOptions) (objstore.ListPage, error)
}

// storeFor is the store that holds bucket: through a Router to the
// bucket's own store.
func (c *Console) storeFor(bucket string) objstore.Store {
	if r, ok := c.opts.Objects.(interface{ For(string) objstore.Store }); ok {
		return r.For(bucket)
	}
	return c.opts.Objects
}

// listLevel lists the objects directly under out.Prefix and the folders
// (common prefixes at the next "/") beside them: a page with a delimiter
// where the store pages, else the prefix's keys rolled up.
func (c *Console) listLevel(r *http.Request, out *listing) error {
	store := c.storeFor(out.Bucket)
	if p, ok := store.(pager); ok {
		page, err := p.Page(r.Context(), out.Bucket, objstore.ListOptions{Prefix: out.Prefix, Delimiter: "/", MaxKeys: maxListed})
		if err != nil {
			return err
		}
		out.Folders = append(out.Folders, page.Prefixes...)
		for _, o := range page.Objects {
			out.Objects = append(out.Objects, objectEntry{Key: o.Key, Size: o.Size, Modified: o.LastModified})
		}
		out.Truncated = page.Truncated
		return nil
	}
	all, err := store.List(r.Context(), out.Bucket, out.Prefix)
	if err != nil {
		return err
	}
	for _, o := range all {
		if len(out.Folders)+len(out.Objects) >= maxListed {
			out.Truncated = true
			break
		}
		rest := o.Key[len(out.Prefix):]
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			folder := out.Prefix + rest[:i+1]
			if n := len(out.Folders); n == 0 || out.Folders[n-1] != folder {
				out.Folders = append(out.Folders, folder)
			}
			continue
		}
		out.Objects = append(out.Objects, objectEntry{Key: o.Key, Size: o.Size, Modified: o.LastModified})
	}
	return nil
}

// listErrors lists the newest objects under the error output types' fixed
// prefixes.
func (c *Console) listErrors(r *http.Request, b browseRoots, out *listing) error {
	var prefixes []string
	for _, typ := range errorOutputTypes {
		if p := b.Errors[typ]; !slices.Contains(prefixes, p) {
			prefixes = append(prefixes, p)
		}
	}
	// An error prefix with no fixed part shares the bucket's root with
	// data: keep the keys that name their type.
	keep := func(p, key string) bool { return p != "" || typeOfKey(key) != "" }
	return c.listNewest(r, b.Bucket, prefixes, keep, out)
}

// listNewest lists the newest objects under prefixes (that keep accepts,
// when set), newest first.
func (c *Console) listNewest(r *http.Request, bucket string, prefixes []string, keep func(prefix, key string) bool, out *listing) error {
	for _, p := range prefixes {
		all, err := c.opts.Objects.List(r.Context(), bucket, p)
		if err != nil {
			return err
		}
		for _, o := range all {
			if keep == nil || keep(p, o.Key) {
				out.Objects = append(out.Objects, objectEntry{Key: o.Key, Size: o.Size, Modified: o.LastModified, Type: typeOfKey(o.Key)})
			}
		}
	}
	slices.SortFunc(out.Objects, func(a, b objectEntry) int {
		if c := b.Modified.Compare(a.Modified); c != 0 {
			return c
		}
		return strings.Compare(b.Key, a.Key)
	})
	if len(out.Objects) > maxNewest {
		out.Objects, out.Truncated = out.Objects[:maxNewest], true
	}
	return nil
}

// typeOfKey is the error output type a key names, if any.
func typeOfKey(key string) string {
	for _, typ := range errorOutputTypes {
		if strings.Contains(key, typ) {
			return typ
		}
	}
	return ""
}
