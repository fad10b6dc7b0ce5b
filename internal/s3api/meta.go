package s3api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// objectMeta is what the S3 API keeps about an object besides the store's
// own attributes (ETag, size, time, Content-Type and -Encoding), as JSON
// in the object's ObjectAttrs.Extra.
type objectMeta struct {
	User               map[string]string `json:"user,omitempty"`
	CacheControl       string            `json:"cacheControl,omitempty"`
	ContentDisposition string            `json:"contentDisposition,omitempty"`
	ContentLanguage    string            `json:"contentLanguage,omitempty"`
	Expires            string            `json:"expires,omitempty"`
	StorageClass       string            `json:"storageClass,omitempty"`
	SSE                string            `json:"sse,omitempty"`
	ChecksumAlgorithm  string            `json:"checksumAlgorithm,omitempty"`
	Checksum           string            `json:"checksum,omitempty"`
	ChecksumType       string            `json:"checksumType,omitempty"`
	// Parts describes an object assembled from a multipart upload, for
	// GetObject's partNumber.
	Parts *partLayout `json:"parts,omitempty"`
}

// partLayout is the sizes of a multipart object's parts: Count parts of
// Size bytes and a last one of Last bytes, or, when they differ, Sizes.
type partLayout struct {
	Count int     `json:"count"`
	Size  int64   `json:"size,omitempty"`
	Last  int64   `json:"last,omitempty"`
	Sizes []int64 `json:"sizes,omitempty"`
}

// maxListedParts bounds the part sizes kept one by one.
const maxListedParts = 200

func newPartLayout(sizes []int64) *partLayout {
	p := &partLayout{Count: len(sizes)}
	uniform := true
	for _, s := range sizes[:len(sizes)-1] {
		if s != sizes[0] {
			uniform = false
		}
	}
	switch {
	case uniform:
		p.Size, p.Last = sizes[0], sizes[len(sizes)-1]
	case len(sizes) <= maxListedParts:
		p.Sizes = sizes
	default:
		return &partLayout{Count: len(sizes)} // part ranges unknown
	}
	return p
}

// rangeOf returns the byte range of part n (1-based); ok is false when the
// layout does not know it.
func (p *partLayout) rangeOf(n int) (start, length int64, ok bool) {
	switch {
	case n < 1 || n > p.Count:
		return 0, 0, false
	case p.Sizes != nil:
		for _, s := range p.Sizes[:n-1] {
			start += s
		}
		return start, p.Sizes[n-1], true
	case p.Size > 0:
		length = p.Size
		if n == p.Count {
			length = p.Last
		}
		return int64(n-1) * p.Size, length, true
	}
	return 0, 0, false
}

func decodeMeta(extra []byte) objectMeta {
	var m objectMeta
	if len(extra) > 0 {
		_ = json.Unmarshal(extra, &m) // unreadable metadata is no metadata
	}
	return m
}

func (m objectMeta) encode() []byte {
	b, _ := json.Marshal(m)
	if string(b) == "{}" {
		return nil
	}
	return b
}

// maxUserMeta is S3's limit on user-defined metadata (names and values).
const maxUserMeta = 2 << 10

var storageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true, "ONEZONE_IA": true,
	"INTELLIGENT_TIERING": true, "GLACIER": true, "DEEP_ARCHIVE": true, "GLACIER_IR": true, "OUTPOSTS": true, "SNOW": true, "EXPRESS_ONEZONE": true,
}

// metaFromHeaders reads an object's metadata from the headers of a PUT,
// a CreateMultipartUpload or a CopyObject that replaces metadata, and
// refuses the headers of features hydrant does not implement.
func metaFromHeaders(h http.Header) (objstore.Meta, objectMeta, error) {
	if err := refuseUnsupported(h); err != nil {
		return objstore.Meta{}, objectMeta{}, err
	}
	meta := objstore.Meta{ContentType: h.Get("Content-Type"), ContentEncoding: stripAWSChunked(h.Get("Content-Encoding"))}
	if meta.ContentType == "" {
		meta.ContentType = "binary/octet-stream"
	}
	om := objectMeta{
		CacheControl:       h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentLanguage:    h.Get("Content-Language"),
		Expires:            h.Get("Expires"),
	}
	if sc := h.Get("X-Amz-Storage-Class"); sc != "" {
		if !storageClasses[sc] {
			return meta, om, errS3f("InvalidStorageClass", "The storage class you specified is not valid", "StorageClassRequested", sc)
		}
		if sc != "STANDARD" {
			om.StorageClass = sc
		}
	}
	if sse := h.Get("X-Amz-Server-Side-Encryption"); sse != "" {
		if sse != "AES256" {
			return meta, om, notImplemented("Server-side encryption " + sse + " (x-amz-server-side-encryption)")
		}
		om.SSE = sse
	}
	size := 0
	for k, vs := range h {
		name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-")
		if !ok {
			continue
		}
		if om.User == nil {
			om.User = map[string]string{}
		}
		om.User[name] = strings.Join(vs, ",")
		size += len(name) + len(om.User[name])
	}
	if size > maxUserMeta {
		return meta, om, errS3f("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.",
			"Size", strconv.Itoa(size), "MaxSizeAllowed", strconv.Itoa(maxUserMeta))
	}
	return meta, om, nil
}

// stripAWSChunked removes the aws-chunked coding, which describes the
// request's transfer, not the object.
func stripAWSChunked(v string) string {
	var out []string
	for t := range strings.SplitSeq(v, ",") {
		if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, "aws-chunked") {
			out = append(out, t)
		}
	}
	return strings.Join(out, ",")
}

// refuseUnsupported answers NotImplemented for request headers that ask
// for features hydrant does not have, rather than ignoring them.
func refuseUnsupported(h http.Header) error {
	for _, name := range []string{
		"X-Amz-Tagging", "X-Amz-Website-Redirect-Location", "X-Amz-Object-Lock-Mode",
		"X-Amz-Object-Lock-Retain-Until-Date", "X-Amz-Object-Lock-Legal-Hold",
		"X-Amz-Server-Side-Encryption-Customer-Algorithm", "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id",
		"X-Amz-Grant-Full-Control", "X-Amz-Grant-Read", "X-Amz-Grant-Read-Acp", "X-Amz-Grant-Write-Acp",
	} {
		if h.Get(name) != "" {
			return notImplemented("The header " + strings.ToLower(name))
		}
	}
	switch acl := h.Get("X-Amz-Acl"); acl {
	case "", "private", "bucket-owner-full-control", "bucket-owner-read":
	default:
		return notImplemented("The canned ACL " + acl + " (x-amz-acl); hydrant's buckets are private")
	}
	return nil
}

// setObjectHeaders writes an object's headers on a GET or HEAD answer.
func setObjectHeaders(w http.ResponseWriter, a objstore.ObjectAttrs, m objectMeta) {
	h := w.Header()
	h.Set("Last-Modified", httpTime(a.LastModified))
	h.Set("ETag", `"`+a.ETag+`"`)
	h.Set("Accept-Ranges", "bytes")
	ct := a.Meta.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	h.Set("Content-Type", ct)
	for _, kv := range [...][2]string{
		{"Content-Encoding", a.Meta.ContentEncoding},
		{"Cache-Control", m.CacheControl},
		{"Content-Disposition", m.ContentDisposition},
		{"Content-Language", m.ContentLanguage},
		{"Expires", m.Expires},
		{"x-amz-storage-class", m.StorageClass},
		{"x-amz-server-side-encryption", m.SSE},
	} {
		if kv[1] != "" {
			h.Set(kv[0], kv[1])
		}
	}
	for k, v := range m.User {
		h["x-amz-meta-"+k] = []string{v}
	}
	if a.VersionID != objstore.NullVersion {
		h.Set("x-amz-version-id", a.VersionID)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
