package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// Object sub-resources hydrant does not implement.
var unsupportedObjectResources = []string{
	"acl", "tagging", "attributes", "retention", "legal-hold", "torrent", "restore", "select", "renameObject",
}

// objectOp dispatches a request addressed to an object.
func (a *API) objectOp(req *request) error {
	r := req.r
	for _, name := range unsupportedObjectResources {
		if req.has(name) {
			return notImplemented("The object sub-resource ?" + name + " (" + r.Method + ")")
		}
	}
	if err := objstore.ValidKey(req.key); err != nil {
		return invalidKey(err, req.key)
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if req.has("uploadId") && r.Method == http.MethodGet {
			return a.listParts(req)
		}
		return a.getObject(req)
	case http.MethodPut:
		switch {
		case req.has("uploadId") || req.has("partNumber"):
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return a.uploadPartCopy(req)
			}
			return a.uploadPart(req)
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return a.copyObject(req)
		}
		return a.putObject(req)
	case http.MethodDelete:
		if req.has("uploadId") {
			return a.abortMultipartUpload(req)
		}
		return a.deleteObject(req)
	case http.MethodPost:
		switch {
		case req.has("uploads"):
			return a.createMultipartUpload(req)
		case req.has("uploadId"):
			return a.completeMultipartUpload(req)
		}
		return notImplemented("POST to an object without ?uploads or ?uploadId")
	}
	return errS3("MethodNotAllowed", "Method", r.Method, "ResourceType", "OBJECT")
}

// versionParam reads ?versionId: "" when absent.
func versionParam(req *request) (string, error) {
	v, ok := req.query["versionId"]
	if !ok {
		return "", nil
	}
	if v[0] == "" || !objstore.ValidVersionID(v[0]) {
		return "", invalidArgument("versionId", v[0], "Invalid version id specified")
	}
	return v[0], nil
}

// getObject serves GetObject and HeadObject.
func (a *API) getObject(req *request) error {
	r, w := req.r, req.w
	vid, err := versionParam(req)
	if err != nil {
		return err
	}
	f, attrs, err := a.store.OpenObject(req.ctx(), req.bucket, req.key, vid)
	if err != nil {
		if errors.Is(err, objstore.ErrIsDeleteMarker) {
			h := http.Header{}
			h.Set("x-amz-delete-marker", "true")
			if attrs.VersionID != "" {
				h.Set("x-amz-version-id", attrs.VersionID)
			}
			if h.Get("Last-Modified") == "" && !attrs.LastModified.IsZero() {
				h.Set("Last-Modified", httpTime(attrs.LastModified))
			}
			e, _ := storeError(err, req.bucket, req.key).(*apiError)
			if e != nil {
				if vid != "" {
					e.fields = map[string]any{"Method": r.Method, "ResourceType": "DeleteMarker"}
				}
				e.header = h
				return e
			}
		}
		if errors.Is(err, objstore.ErrNoSuchVersion) {
			return errS3("NoSuchVersion", "Key", req.key, "VersionId", vid)
		}
		return storeError(err, req.bucket, req.key)
	}
	defer f.Close()
	m := decodeMeta(attrs.Extra)
	if status := checkConditions(r.Header, attrs); status != 0 {
		setObjectHeaders(w, attrs, m)
		if status == http.StatusNotModified {
			w.Header().Del("Content-Type")
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
		return errS3("PreconditionFailed", "Condition", conditionName(r.Header, attrs))
	}
	for _, o := range [...][2]string{
		{"response-content-type", "Content-Type"}, {"response-content-language", "Content-Language"},
		{"response-expires", "Expires"}, {"response-cache-control", "Cache-Control"},
		{"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"},
	} {
		if v := req.query.Get(o[0]); v != "" {
			switch o[1] {
			case "Content-Type":
				attrs.Meta.ContentType = v
			case "Content-Encoding":
				attrs.Meta.ContentEncoding = v
			case "Content-Language":
				m.ContentLanguage = v
			case "Expires":
				m.Expires = v
			case "Cache-Control":
				m.CacheControl = v
			case "Content-Disposition":
				m.ContentDisposition = v
			}
		}
	}
	setObjectHeaders(w, attrs, m)

	start, length, partial := int64(0), attrs.Size, false
	if pn := req.query.Get("partNumber"); pn != "" {
		n, err := strconv.Atoi(pn)
		if err != nil || n < 1 || n > objstore.MaxParts {
			return invalidArgument("partNumber", pn, "Part number must be an integer between 1 and 10000, inclusive")
		}
		if r.Header.Get("Range") != "" {
			return invalidArgument("partNumber", pn, "Cannot specify both Range header and partNumber query parameter")
		}
		switch {
		case m.Parts == nil && n == 1:
			// An object uploaded in one piece is its own only part.
		case m.Parts == nil:
			return errS3f("InvalidPartNumber", "The requested partnumber is not satisfiable", "PartNumberRequested", pn, "ActualPartCount", "1")
		default:
			s, l, ok := m.Parts.rangeOf(n)
			if !ok {
				if n > m.Parts.Count {
					return errS3f("InvalidPartNumber", "The requested partnumber is not satisfiable", "PartNumberRequested", pn, "ActualPartCount", strconv.Itoa(m.Parts.Count))
				}
				return notImplemented("partNumber on an object whose parts had different sizes past the first 200")
			}
			start, length, partial = s, l, true
			w.Header().Set("x-amz-mp-parts-count", strconv.Itoa(m.Parts.Count))
		}
	} else if rg := r.Header.Get("Range"); rg != "" {
		s, l, ok, err := parseRange(rg, attrs.Size)
		if err != nil {
			w.Header().Set("Content-Range", "bytes */"+itoa(attrs.Size))
			return errS3("InvalidRange", "RangeRequested", rg, "ActualObjectSize", itoa(attrs.Size))
		}
		if ok {
			start, length, partial = s, l, true
		}
	}
	if !partial && strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED") && m.Checksum != "" {
		w.Header().Set(checksumHeader(m.ChecksumAlgorithm), m.Checksum)
		if m.ChecksumType != "" {
			w.Header().Set("x-amz-checksum-type", m.ChecksumType)
		}
	}
	w.Header().Set("Content-Length", itoa(length))
	status := http.StatusOK
	if partial {
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, attrs.Size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead || length == 0 {
		return nil
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		a.log.Error("s3: seek", "bucket", req.bucket, "key", req.key, "err", err)
		return nil
	}
	// *os.File behind a LimitedReader: net/http sends it with sendfile.
	if _, err := io.Copy(w, io.LimitReader(f, length)); err != nil {
		a.log.Debug("s3: GetObject body not sent in full", "bucket", req.bucket, "key", req.key, "err", err)
	}
	return nil
}

// parseRange reads a single-range "bytes=" header against an object of
// size bytes. ok is false for a header S3 ignores (malformed, or several
// ranges); err reports an unsatisfiable range.
func parseRange(h string, size int64) (start, length int64, ok bool, err error) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, nil
	}
	first, last, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return 0, 0, false, nil
	}
	if first == "" { // suffix: the last N bytes
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return 0, 0, false, nil
		}
		if n == 0 {
			return 0, 0, false, errors.New("unsatisfiable")
		}
		n = min(n, size)
		return size - n, n, size > 0, nilIf(size > 0, errors.New("unsatisfiable"))
	}
	s, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || s < 0 {
		return 0, 0, false, nil
	}
	e := size - 1
	if last != "" {
		if e, perr = strconv.ParseInt(last, 10, 64); perr != nil || e < s {
			return 0, 0, false, nil
		}
		e = min(e, size-1)
	}
	if s >= size {
		return 0, 0, false, errors.New("unsatisfiable")
	}
	return s, e - s + 1, true, nil
}

func nilIf(cond bool, err error) error {
	if cond {
		return nil
	}
	return err
}

// checkConditions evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since as S3 does: 0 to go on, 304 or 412.
func checkConditions(h http.Header, a objstore.ObjectAttrs) int {
	etag := `"` + a.ETag + `"`
	lm := a.LastModified.Truncate(time.Second)
	ifMatch, ifNone := h.Get("If-Match"), h.Get("If-None-Match")
	if ifMatch != "" {
		if !etagMatches(ifMatch, etag) {
			return http.StatusPreconditionFailed
		}
	} else if t, err := http.ParseTime(h.Get("If-Unmodified-Since")); err == nil && lm.After(t) {
		return http.StatusPreconditionFailed
	}
	if ifNone != "" {
		if etagMatches(ifNone, etag) {
			return http.StatusNotModified
		}
	} else if t, err := http.ParseTime(h.Get("If-Modified-Since")); err == nil && !lm.After(t) {
		return http.StatusNotModified
	}
	return 0
}

// conditionName names the header that failed, for PreconditionFailed.
func conditionName(h http.Header, a objstore.ObjectAttrs) string {
	if v := h.Get("If-Match"); v != "" {
		return "If-Match"
	}
	return "If-Unmodified-Since"
}

// etagMatches compares an If-Match / If-None-Match list with an ETag.
func etagMatches(list, etag string) bool {
	for t := range strings.SplitSeq(list, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag || `"`+t+`"` == etag {
			return true
		}
	}
	return false
}

// putObject stores an object from the request body, streamed to disk with
// its MD5 and checksums computed on the way.
func (a *API) putObject(req *request) error {
	r := req.r
	size := req.body.Size()
	if size < 0 {
		return errS3("MissingContentLength")
	}
	if size > maxObjectSize {
		return errS3("EntityTooLarge", "ProposedSize", itoa(size), "MaxSizeAllowed", itoa(maxObjectSize))
	}
	meta, om, err := metaFromHeaders(r.Header)
	if err != nil {
		return err
	}
	checks, err := parseBodyChecks(r.Header)
	if err != nil {
		return err
	}
	opts := objstore.PutOptions{Meta: meta}
	if err := putConditions(r.Header, &opts); err != nil {
		return err
	}
	var checksum string
	opts.ExtraAfter = func() []byte {
		if checks.alg != "" {
			om.ChecksumAlgorithm, om.Checksum, om.ChecksumType = checks.alg, checksum, "FULL_OBJECT"
		}
		return om.encode()
	}
	attrs, err := a.store.PutObject(req.ctx(), req.bucket, req.key, opts, func(w io.Writer) error {
		if _, err := io.Copy(w, checks.wrap(req.body)); err != nil {
			return err
		}
		var err error
		checksum, err = checks.verify(req.body)
		return err
	})
	if err != nil {
		return storeError(err, req.bucket, req.key)
	}
	h := req.w.Header()
	h.Set("ETag", `"`+attrs.ETag+`"`)
	if attrs.VersionID != objstore.NullVersion {
		h.Set("x-amz-version-id", attrs.VersionID)
	}
	if checks.alg != "" {
		h.Set(checksumHeader(checks.alg), checksum)
		h.Set("x-amz-checksum-type", "FULL_OBJECT")
	}
	if om.SSE != "" {
		h.Set("x-amz-server-side-encryption", om.SSE)
	}
	req.w.WriteHeader(http.StatusOK)
	return nil
}

// putConditions reads PutObject's If-None-Match and If-Match.
func putConditions(h http.Header, o *objstore.PutOptions) error {
	if v := h.Get("If-None-Match"); v != "" {
		if v != "*" {
			return notImplemented("If-None-Match other than * on PutObject")
		}
		o.IfNoneMatch = true
	}
	if v := h.Get("If-Match"); v != "" {
		o.IfMatch = strings.Trim(strings.TrimSpace(v), `"`)
	}
	return nil
}

// deleteObject serves DeleteObject.
func (a *API) deleteObject(req *request) error {
	vid, err := versionParam(req)
	if err != nil {
		return err
	}
	if v := req.r.Header.Get("If-Match"); v != "" {
		cur, err := a.store.StatObject(req.ctx(), req.bucket, req.key, "")
		if err != nil && !errors.Is(err, objstore.ErrNotFound) {
			return storeError(err, req.bucket, req.key)
		}
		if err != nil || !etagMatches(v, `"`+cur.ETag+`"`) {
			return errS3("PreconditionFailed", "Condition", "If-Match")
		}
	}
	res, err := a.store.DeleteObject(req.ctx(), req.bucket, req.key, vid)
	if err != nil {
		return storeError(err, req.bucket, req.key)
	}
	if res.DeleteMarker {
		req.w.Header().Set("x-amz-delete-marker", "true")
	}
	if res.VersionID != "" && (res.VersionID != objstore.NullVersion || vid != "" || res.DeleteMarker) {
		req.w.Header().Set("x-amz-version-id", res.VersionID)
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteObjects serves DeleteObjects: up to 1,000 keys, each answered.
func (a *API) deleteObjects(req *request) error {
	var d deleteRequest
	if err := a.decodeXML(req, &d); err != nil {
		return err
	}
	if len(d.Objects) > 1000 {
		return errS3f("MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: at most 1000 objects may be deleted at once")
	}
	out := deleteResult{NS: s3NS}
	for _, o := range d.Objects {
		fail := func(err error) {
			ae, ok := storeError(err, req.bucket, o.Key).(*apiError)
			if !ok {
				a.log.Error("s3: delete", "bucket", req.bucket, "key", o.Key, "err", err)
				ae = errS3("InternalError")
			}
			out.Errors = append(out.Errors, deleteErrorXML{Key: o.Key, VersionID: o.VersionID, Code: ae.code, Message: ae.message()})
		}
		if err := objstore.ValidKey(o.Key); err != nil {
			fail(invalidKey(err, o.Key))
			continue
		}
		if o.VersionID != "" && !objstore.ValidVersionID(o.VersionID) {
			fail(errS3f("NoSuchVersion", "The specified version does not exist."))
			continue
		}
		res, err := a.store.DeleteObject(req.ctx(), req.bucket, o.Key, o.VersionID)
		if err != nil {
			fail(err)
			continue
		}
		if d.Quiet {
			continue
		}
		del := deletedXML{Key: o.Key, VersionID: o.VersionID}
		if res.DeleteMarker {
			del.DeleteMarker = true
			if o.VersionID == "" {
				del.DeleteMarkerVersionID = res.VersionID
			}
		}
		out.Deleted = append(out.Deleted, del)
	}
	return writeXML(req.w, out)
}

// copySource reads x-amz-copy-source: "/bucket/key?versionId=v", URL-encoded.
func (a *API) copySource(req *request) (bucket, key, version string, err error) {
	src := req.r.Header.Get("X-Amz-Copy-Source")
	raw, query, _ := strings.Cut(src, "?")
	dec, uerr := url.PathUnescape(raw)
	if uerr != nil {
		return "", "", "", invalidArgument("x-amz-copy-source", src, "Invalid copy source encoding")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(dec, "/"), "/")
	if objstore.ValidBucketName(bucket) != nil || key == "" {
		return "", "", "", invalidArgument("x-amz-copy-source", src, "Invalid copy source object key")
	}
	if err := objstore.ValidKey(key); err != nil {
		return "", "", "", invalidKey(err, key)
	}
	if query != "" {
		q, perr := url.ParseQuery(query)
		if perr != nil {
			return "", "", "", invalidArgument("x-amz-copy-source", src, "Invalid copy source")
		}
		if version = q.Get("versionId"); version != "" && !objstore.ValidVersionID(version) {
			return "", "", "", invalidArgument("x-amz-copy-source", src, "Invalid version id specified")
		}
	}
	if where, remote := a.remote(bucket); remote {
		return "", "", "", errS3f("InvalidRequest", fmt.Sprintf("The copy source bucket %s is not on hydrant's local store: it lives in the S3 service at %s.", bucket, where))
	}
	return bucket, key, version, nil
}

// openCopySource opens the source of a copy and checks the
// x-amz-copy-source-if-* conditions.
func (a *API) openCopySource(req *request) (*openedSource, error) {
	bucket, key, vid, err := a.copySource(req)
	if err != nil {
		return nil, err
	}
	f, attrs, err := a.store.OpenObject(req.ctx(), bucket, key, vid)
	if err != nil {
		if errors.Is(err, objstore.ErrIsDeleteMarker) && vid != "" {
			return nil, invalidArgument("x-amz-copy-source", req.r.Header.Get("X-Amz-Copy-Source"), "The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		if errors.Is(err, objstore.ErrNoSuchVersion) {
			return nil, errS3("NoSuchVersion", "Key", key, "VersionId", vid)
		}
		return nil, storeError(err, bucket, key)
	}
	h := http.Header{}
	for _, c := range []string{"If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if v := req.r.Header.Get("X-Amz-Copy-Source-" + c); v != "" {
			h.Set(c, v)
		}
	}
	if status := checkConditions(h, attrs); status != 0 {
		f.Close()
		return nil, errS3("PreconditionFailed", "Condition", "x-amz-copy-source-"+strings.ToLower(conditionName(h, attrs)))
	}
	return &openedSource{f: f, attrs: attrs, bucket: bucket, key: key, version: vid}, nil
}

type openedSource struct {
	f       io.ReadSeekCloser
	attrs   objstore.ObjectAttrs
	bucket  string
	key     string
	version string
}

// copyObject serves CopyObject.
func (a *API) copyObject(req *request) error {
	r := req.r
	src, err := a.openCopySource(req)
	if err != nil {
		return err
	}
	defer src.f.Close()
	directive := r.Header.Get("X-Amz-Metadata-Directive")
	var meta objstore.Meta
	var om objectMeta
	switch directive {
	case "", "COPY":
		if src.bucket == req.bucket && src.key == req.key && src.version == "" && r.Header.Get("X-Amz-Storage-Class") == "" {
			return errS3f("InvalidRequest", "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
		if err := refuseUnsupported(r.Header); err != nil {
			return err
		}
		meta, om = src.attrs.Meta, decodeMeta(src.attrs.Extra)
		om.Parts = nil
		if sc := r.Header.Get("X-Amz-Storage-Class"); sc != "" {
			om.StorageClass = sc
			if sc == "STANDARD" {
				om.StorageClass = ""
			}
		}
	case "REPLACE":
		if meta, om, err = metaFromHeaders(r.Header); err != nil {
			return err
		}
	default:
		return invalidArgument("x-amz-metadata-directive", directive, "Unknown metadata directive.")
	}
	if td := r.Header.Get("X-Amz-Tagging-Directive"); td != "" && td != "COPY" {
		return notImplemented("Object tagging (x-amz-tagging-directive " + td + ")")
	}
	alg := ""
	if v := r.Header.Get("X-Amz-Checksum-Algorithm"); v != "" {
		var ok bool
		if alg, ok = validAlgorithm(v); !ok {
			return invalidArgument("x-amz-checksum-algorithm", v, "Checksum algorithm provided is unsupported.")
		}
	} else if decodeMeta(src.attrs.Extra).ChecksumType == "FULL_OBJECT" {
		alg = decodeMeta(src.attrs.Extra).ChecksumAlgorithm
	}
	opts := objstore.PutOptions{Meta: meta}
	if err := putConditions(r.Header, &opts); err != nil {
		return err
	}
	var sum string
	opts.ExtraAfter = func() []byte {
		om.ChecksumAlgorithm, om.Checksum, om.ChecksumType = "", "", ""
		if alg != "" {
			om.ChecksumAlgorithm, om.Checksum, om.ChecksumType = alg, sum, "FULL_OBJECT"
		}
		return om.encode()
	}
	attrs, err := a.store.PutObject(req.ctx(), req.bucket, req.key, opts, func(w io.Writer) error {
		var dst io.Writer = w
		h := newChecksum(alg)
		if h != nil {
			dst = io.MultiWriter(w, h)
		}
		if _, err := io.Copy(dst, src.f); err != nil {
			return err
		}
		if h != nil {
			sum = base64.StdEncoding.EncodeToString(h.Sum(nil))
		}
		return nil
	})
	if err != nil {
		return storeError(err, req.bucket, req.key)
	}
	if src.attrs.VersionID != objstore.NullVersion {
		req.w.Header().Set("x-amz-copy-source-version-id", src.attrs.VersionID)
	}
	if attrs.VersionID != objstore.NullVersion {
		req.w.Header().Set("x-amz-version-id", attrs.VersionID)
	}
	res := copyObjectResult{XMLName: xml.Name{Local: "CopyObjectResult"}, NS: s3NS, ETag: `"` + attrs.ETag + `"`, LastModified: s3Time(attrs.LastModified)}
	res.set(alg, sum)
	return writeXML(req.w, res)
}
