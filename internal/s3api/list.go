package s3api

import (
	"encoding/base64"
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// maxKeysParam reads max-keys (or another page size): default and cap
// 1000, as S3 does.
func maxKeysParam(req *request, name string, def int) (int, error) {
	v, ok := req.query[name]
	if !ok || v[0] == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v[0])
	if err != nil || n < 0 {
		return 0, invalidArgument(name, v[0], "Provided "+name+" not an integer or within integer range")
	}
	return min(n, def), nil
}

// encodingParam reads encoding-type: "url" or nothing.
func encodingParam(req *request) (bool, error) {
	switch v := req.query.Get("encoding-type"); v {
	case "":
		return false, nil
	case "url":
		return true, nil
	default:
		return false, invalidArgument("encoding-type", v, "Invalid Encoding Method specified in Request")
	}
}

// page lists one page of the bucket; max 0 answers an empty page, as S3
// does for max-keys=0.
func (a *API) page(req *request, o objstore.ListOptions) (objstore.ListPage, error) {
	if o.MaxKeys == 0 {
		exists, err := a.store.BucketExists(req.ctx(), req.bucket)
		if err == nil && !exists {
			err = objstore.ErrNoSuchBucket
		}
		return objstore.ListPage{}, storeError(err, req.bucket, "")
	}
	p, err := a.store.Page(req.ctx(), req.bucket, o)
	return p, storeError(err, req.bucket, "")
}

func (a *API) contents(p objstore.ListPage, enc, withOwner bool) ([]objectXML, []commonPrefix) {
	var objs []objectXML
	for _, o := range p.Objects {
		x := objectXML{Key: encodeKey(o.Key, enc), LastModified: s3Time(o.LastModified), ETag: `"` + o.ETag + `"`, Size: o.Size, StorageClass: "STANDARD"}
		if withOwner {
			x.Owner = &a.owner
		}
		objs = append(objs, x)
	}
	var cps []commonPrefix
	for _, cp := range p.Prefixes {
		cps = append(cps, commonPrefix{Prefix: encodeKey(cp, enc)})
	}
	return objs, cps
}

func (a *API) listObjectsV2(req *request) error {
	q := req.query
	max, err := maxKeysParam(req, "max-keys", 1000)
	if err != nil {
		return err
	}
	enc, err := encodingParam(req)
	if err != nil {
		return err
	}
	o := objstore.ListOptions{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), StartAfter: q.Get("start-after"), MaxKeys: max}
	token := q.Get("continuation-token")
	if _, ok := q["continuation-token"]; ok {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil || token == "" {
			return invalidArgument("continuation-token", token, "The continuation token provided is incorrect")
		}
		o.StartAfter = string(after)
	}
	p, err := a.page(req, o)
	if err != nil {
		return err
	}
	objs, cps := a.contents(p, enc, q.Get("fetch-owner") == "true")
	n := len(objs) + len(cps)
	out := listBucketResult{NS: s3NS, Name: req.bucket, Prefix: encodeKey(o.Prefix, enc), Delimiter: encodeKey(o.Delimiter, enc),
		StartAfter: encodeKey(q.Get("start-after"), enc), Token: token, KeyCount: &n, MaxKeys: max,
		IsTruncated: p.Truncated, Contents: objs, CommonPrefixes: cps}
	if enc {
		out.EncodingType = "url"
	}
	if p.Truncated {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(p.Last))
	}
	return writeXML(req.w, out)
}

func (a *API) listObjectsV1(req *request) error {
	q := req.query
	max, err := maxKeysParam(req, "max-keys", 1000)
	if err != nil {
		return err
	}
	enc, err := encodingParam(req)
	if err != nil {
		return err
	}
	marker := q.Get("marker")
	o := objstore.ListOptions{Prefix: q.Get("prefix"), Delimiter: q.Get("delimiter"), StartAfter: marker, MaxKeys: max}
	p, err := a.page(req, o)
	if err != nil {
		return err
	}
	objs, cps := a.contents(p, enc, true)
	m := encodeKey(marker, enc)
	out := listBucketResult{NS: s3NS, Name: req.bucket, Prefix: encodeKey(o.Prefix, enc), Marker: &m, Delimiter: encodeKey(o.Delimiter, enc),
		MaxKeys: max, IsTruncated: p.Truncated, Contents: objs, CommonPrefixes: cps}
	if enc {
		out.EncodingType = "url"
	}
	// S3 sends NextMarker only with a delimiter; without one the last key
	// is the next marker.
	if p.Truncated && o.Delimiter != "" {
		out.NextMarker = encodeKey(p.Last, enc)
	}
	return writeXML(req.w, out)
}

// listObjectVersions serves ListObjectVersions: every version and delete
// marker, by key and newest first, paged by key and version markers.
func (a *API) listObjectVersions(req *request) error {
	q := req.query
	max, err := maxKeysParam(req, "max-keys", 1000)
	if err != nil {
		return err
	}
	enc, err := encodingParam(req)
	if err != nil {
		return err
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	keyMarker, vidMarker := q.Get("key-marker"), q.Get("version-id-marker")
	if vidMarker != "" && keyMarker == "" {
		return invalidArgument("version-id-marker", vidMarker, "A version-id marker cannot be specified without a key marker.")
	}
	all, err := a.store.ListVersions(req.ctx(), req.bucket, prefix)
	if err != nil {
		return storeError(err, req.bucket, "")
	}
	out := listVersionsResult{NS: s3NS, Name: req.bucket, Prefix: encodeKey(prefix, enc), KeyMarker: encodeKey(keyMarker, enc),
		VersionIDMarker: vidMarker, MaxKeys: max, Delimiter: encodeKey(delim, enc)}
	if enc {
		out.EncodingType = "url"
	}
	// Skip to the markers: past keyMarker, or, with a version marker, past
	// that version of keyMarker.
	i := 0
	if keyMarker != "" {
		for i < len(all) && all[i].Key < keyMarker {
			i++
		}
		if vidMarker == "" {
			for i < len(all) && all[i].Key == keyMarker {
				i++
			}
		} else {
			j := i
			for j < len(all) && all[j].Key == keyMarker && all[j].VersionID != vidMarker {
				j++
			}
			if j < len(all) && all[j].Key == keyMarker {
				i = j + 1
			}
		}
	}
	lastPrefix, count := "", 0
	for ; i < len(all); i++ {
		v := all[i]
		if delim != "" {
			if k := strings.Index(v.Key[len(prefix):], delim); k >= 0 {
				cp := v.Key[:len(prefix)+k+len(delim)]
				if cp == lastPrefix || cp <= keyMarker {
					continue
				}
				if count == max {
					out.IsTruncated = true
					break
				}
				lastPrefix = cp
				out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: encodeKey(cp, enc)})
				out.NextKeyMarker, out.NextVersionIDMarker = encodeKey(cp, enc), ""
				count++
				continue
			}
		}
		if count == max {
			out.IsTruncated = true
			break
		}
		e := versionEntry{Key: encodeKey(v.Key, enc), VersionID: v.VersionID, IsLatest: v.IsLatest, LastModified: s3Time(v.LastModified), Owner: a.owner}
		if v.DeleteMarker {
			e.XMLName = xml.Name{Local: "DeleteMarker"}
		} else {
			size := v.Size
			e.XMLName, e.ETag, e.Size, e.StorageClass = xml.Name{Local: "Version"}, `"`+v.ETag+`"`, &size, "STANDARD"
		}
		out.Entries = append(out.Entries, e)
		out.NextKeyMarker, out.NextVersionIDMarker = encodeKey(v.Key, enc), v.VersionID
		count++
	}
	if !out.IsTruncated {
		out.NextKeyMarker, out.NextVersionIDMarker = "", ""
	}
	return writeXML(req.w, out)
}
