package s3api

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// uploadMeta is what an upload keeps besides the object's metadata: the
// checksum its parts carry and how the object's checksum is made.
type uploadMeta struct {
	Object            objectMeta `json:"object"`
	ChecksumAlgorithm string     `json:"checksumAlgorithm,omitempty"`
	ChecksumType      string     `json:"checksumType,omitempty"`
}

// partMeta is what a part keeps: its checksum.
type partMeta struct {
	Algorithm string `json:"alg,omitempty"`
	Checksum  string `json:"sum,omitempty"`
}

func (a *API) createMultipartUpload(req *request) error {
	r := req.r
	meta, om, err := metaFromHeaders(r.Header)
	if err != nil {
		return err
	}
	um := uploadMeta{Object: om}
	if v := r.Header.Get("X-Amz-Checksum-Algorithm"); v != "" {
		alg, ok := validAlgorithm(v)
		if !ok {
			return invalidArgument("x-amz-checksum-algorithm", v, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
		}
		um.ChecksumAlgorithm = alg
		um.ChecksumType = "COMPOSITE"
		if alg == "CRC64NVME" {
			um.ChecksumType = "FULL_OBJECT"
		}
	}
	if v := r.Header.Get("X-Amz-Checksum-Type"); v != "" {
		switch {
		case v != "COMPOSITE" && v != "FULL_OBJECT":
			return invalidArgument("x-amz-checksum-type", v, "Value for x-amz-checksum-type header is invalid.")
		case um.ChecksumAlgorithm == "":
			return invalidArgument("x-amz-checksum-type", v, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		case v == "FULL_OBJECT" && strings.HasPrefix(um.ChecksumAlgorithm, "SHA"):
			return invalidArgument("x-amz-checksum-type", v, "The FULL_OBJECT checksum type cannot be used with the "+strings.ToLower(um.ChecksumAlgorithm)+" checksum algorithm.")
		case v == "COMPOSITE" && um.ChecksumAlgorithm == "CRC64NVME":
			return invalidArgument("x-amz-checksum-type", v, "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.")
		}
		um.ChecksumType = v
	}
	extra, _ := json.Marshal(um)
	u, err := a.store.CreateUpload(req.ctx(), req.bucket, req.key, meta, extra)
	if err != nil {
		return storeError(err, req.bucket, req.key)
	}
	if um.ChecksumAlgorithm != "" {
		req.w.Header().Set("x-amz-checksum-algorithm", um.ChecksumAlgorithm)
		req.w.Header().Set("x-amz-checksum-type", um.ChecksumType)
	}
	return writeXML(req.w, initiateMultipartUploadResult{NS: s3NS, Bucket: req.bucket, Key: req.key, UploadID: u.ID})
}

// partParams reads ?partNumber and ?uploadId.
func partParams(req *request) (int, string, error) {
	pn := req.query.Get("partNumber")
	n, err := strconv.Atoi(pn)
	if err != nil || n < 1 || n > objstore.MaxParts {
		return 0, "", invalidArgument("partNumber", pn, "Part number must be an integer between 1 and 10000, inclusive")
	}
	id := req.query.Get("uploadId")
	if id == "" {
		return 0, "", invalidArgument("uploadId", id, "This operation needs an uploadId")
	}
	return n, id, nil
}

func (a *API) uploadInfo(req *request, id string) (objstore.Upload, uploadMeta, error) {
	u, _, err := a.store.ListParts(req.ctx(), req.bucket, req.key, id)
	if err != nil {
		return u, uploadMeta{}, storeError(err, req.bucket, req.key)
	}
	var um uploadMeta
	_ = json.Unmarshal(u.Extra, &um)
	return u, um, nil
}

func (a *API) uploadPart(req *request) error {
	n, id, err := partParams(req)
	if err != nil {
		return err
	}
	size := req.body.Size()
	if size < 0 {
		return errS3("MissingContentLength")
	}
	if size > maxObjectSize {
		return errS3("EntityTooLarge", "ProposedSize", itoa(size), "MaxSizeAllowed", itoa(maxObjectSize))
	}
	_, um, err := a.uploadInfo(req, id)
	if err != nil {
		return err
	}
	checks, err := parseBodyChecks(req.r.Header)
	if err != nil {
		return err
	}
	if um.ChecksumAlgorithm != "" && checks.alg != "" && checks.alg != um.ChecksumAlgorithm {
		return errS3f("InvalidRequest", "Checksum Type mismatch occurred, expected checksum Type: "+strings.ToLower(um.ChecksumAlgorithm)+", actual checksum Type: "+strings.ToLower(checks.alg))
	}
	if um.ChecksumAlgorithm != "" && checks.alg == "" {
		checks.alg, checks.sum = um.ChecksumAlgorithm, newChecksum(um.ChecksumAlgorithm)
	}
	var sum string
	p, err := a.store.PutPart(req.ctx(), req.bucket, req.key, id, n, func(w io.Writer) error {
		if _, err := io.Copy(w, checks.wrap(req.body)); err != nil {
			return err
		}
		var err error
		sum, err = checks.verify(req.body)
		return err
	}, func() []byte {
		if checks.alg == "" {
			return nil
		}
		b, _ := json.Marshal(partMeta{Algorithm: checks.alg, Checksum: sum})
		return b
	})
	if err != nil {
		return storeError(err, req.bucket, req.key)
	}
	req.w.Header().Set("ETag", `"`+p.ETag+`"`)
	if checks.alg != "" {
		req.w.Header().Set(checksumHeader(checks.alg), sum)
	}
	req.w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) uploadPartCopy(req *request) error {
	n, id, err := partParams(req)
	if err != nil {
		return err
	}
	if _, _, err := a.uploadInfo(req, id); err != nil {
		return err
	}
	src, err := a.openCopySource(req)
	if err != nil {
		return err
	}
	defer src.f.Close()
	start, length := int64(0), src.attrs.Size
	if rg := req.r.Header.Get("X-Amz-Copy-Source-Range"); rg != "" {
		s, l, ok, err := parseRange(rg, src.attrs.Size)
		if err != nil || !ok || strings.HasPrefix(strings.TrimPrefix(rg, "bytes="), "-") {
			return invalidArgument("x-amz-copy-source-range", rg, "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
		start, length = s, l
	}
	if length > maxObjectSize {
		return errS3("EntityTooLarge", "ProposedSize", itoa(length), "MaxSizeAllowed", itoa(maxObjectSize))
	}
	if _, err := src.f.Seek(start, io.SeekStart); err != nil {
		return err
	}
	p, err := a.store.PutPart(req.ctx(), req.bucket, req.key, id, n, func(w io.Writer) error {
		_, err := io.Copy(w, io.LimitReader(src.f, length))
		return err
	}, nil)
	if err != nil {
		return storeError(err, req.bucket, req.key)
	}
	if src.attrs.VersionID != objstore.NullVersion {
		req.w.Header().Set("x-amz-copy-source-version-id", src.attrs.VersionID)
	}
	return writeXML(req.w, copyObjectResult{XMLName: xml.Name{Local: "CopyPartResult"}, NS: s3NS, ETag: `"` + p.ETag + `"`, LastModified: s3Time(p.LastModified)})
}

func (a *API) abortMultipartUpload(req *request) error {
	err := a.store.AbortUpload(req.ctx(), req.bucket, req.key, req.query.Get("uploadId"))
	return a.noContent(req, storeError(err, req.bucket, req.key))
}

// completeMultipartUpload checks the parts named against those uploaded
// (order, ETags, checksums, sizes) and assembles the object.
func (a *API) completeMultipartUpload(req *request) error {
	id := req.query.Get("uploadId")
	var c completeMultipartUpload
	if err := a.decodeXML(req, &c); err != nil {
		return err
	}
	if len(c.Parts) == 0 {
		return errS3f("MalformedXML", "You must specify at least one part")
	}
	u, parts, err := a.store.ListParts(req.ctx(), req.bucket, req.key, id)
	if err != nil {
		return storeError(err, req.bucket, req.key)
	}
	var um uploadMeta
	_ = json.Unmarshal(u.Extra, &um)
	byNum := map[int]objstore.Part{}
	for _, p := range parts {
		byNum[p.Number] = p
	}
	md5s := md5.New()
	var composite hash.Hash
	if um.ChecksumType == "COMPOSITE" {
		composite = newChecksum(um.ChecksumAlgorithm)
	}
	chosen := make([]objstore.Part, 0, len(c.Parts))
	sizes := make([]int64, 0, len(c.Parts))
	for i, cp := range c.Parts {
		if i > 0 && cp.PartNumber <= c.Parts[i-1].PartNumber {
			return errS3("InvalidPartOrder")
		}
		p, ok := byNum[cp.PartNumber]
		if !ok || strings.Trim(cp.ETag, `"`) != p.ETag {
			return errS3("InvalidPart", "UploadId", id, "PartNumber", strconv.Itoa(cp.PartNumber), "ETag", cp.ETag)
		}
		if i < len(c.Parts)-1 && p.Size < minPartSize {
			return errS3("EntityTooSmall", "UploadId", id, "PartNumber", strconv.Itoa(cp.PartNumber),
				"ProposedSize", itoa(p.Size), "MinSizeAllowed", itoa(minPartSize))
		}
		var pm partMeta
		_ = json.Unmarshal(p.Extra, &pm)
		if um.ChecksumAlgorithm != "" {
			if given := cp.get(um.ChecksumAlgorithm); given != "" && given != pm.Checksum {
				return errS3f("InvalidPart", fmt.Sprintf("The %s of part %d you specified does not match the part's.", um.ChecksumAlgorithm, cp.PartNumber))
			}
			if composite != nil {
				raw, err := base64.StdEncoding.DecodeString(pm.Checksum)
				if err != nil || pm.Checksum == "" {
					return errS3f("InvalidRequest", fmt.Sprintf("Part %d was uploaded without its %s checksum, which this upload requires.", cp.PartNumber, um.ChecksumAlgorithm))
				}
				composite.Write(raw)
			}
		}
		raw, _ := hex.DecodeString(p.ETag)
		md5s.Write(raw)
		chosen = append(chosen, objstore.Part{Number: p.Number, ETag: p.ETag})
		sizes = append(sizes, p.Size)
	}
	etag := fmt.Sprintf("%s-%d", hex.EncodeToString(md5s.Sum(nil)), len(chosen))
	om := um.Object
	om.Parts = newPartLayout(sizes)
	var full hash.Hash
	var tee io.Writer
	if um.ChecksumType == "FULL_OBJECT" {
		full = newChecksum(um.ChecksumAlgorithm)
		tee = full
	}
	checksum := ""
	if composite != nil {
		checksum = fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(composite.Sum(nil)), len(chosen))
	}
	opts := objstore.PutOptions{Meta: u.Meta, ETag: etag}
	if err := putConditions(req.r.Header, &opts); err != nil {
		return err
	}
	opts.ExtraAfter = func() []byte {
		if full != nil {
			checksum = base64.StdEncoding.EncodeToString(full.Sum(nil))
		}
		if um.ChecksumAlgorithm != "" {
			om.ChecksumAlgorithm, om.Checksum, om.ChecksumType = um.ChecksumAlgorithm, checksum, um.ChecksumType
		}
		return om.encode()
	}
	attrs, err := a.store.CompleteUpload(req.ctx(), req.bucket, req.key, id, chosen, opts, tee)
	if err != nil {
		return storeError(err, req.bucket, req.key)
	}
	if want := req.r.Header.Get(checksumHeader(um.ChecksumAlgorithm)); full != nil && want != "" && want != checksum {
		a.log.Warn("s3: a completed upload's full-object checksum differs from the client's", "bucket", req.bucket, "key", req.key)
	}
	if attrs.VersionID != objstore.NullVersion {
		req.w.Header().Set("x-amz-version-id", attrs.VersionID)
	}
	scheme := "http"
	if req.r.TLS != nil {
		scheme = "https"
	}
	out := completeMultipartUploadResult{NS: s3NS, Location: scheme + "://" + req.r.Host + "/" + req.bucket + "/" + req.key,
		Bucket: req.bucket, Key: req.key, ETag: `"` + etag + `"`}
	if um.ChecksumAlgorithm != "" {
		out.set(um.ChecksumAlgorithm, checksum)
		out.ChecksumType = um.ChecksumType
	}
	return writeXML(req.w, out)
}

func (a *API) listParts(req *request) error {
	id := req.query.Get("uploadId")
	max, err := maxKeysParam(req, "max-parts", 1000)
	if err != nil {
		return err
	}
	marker := 0
	if v := req.query.Get("part-number-marker"); v != "" {
		if marker, err = strconv.Atoi(v); err != nil || marker < 0 {
			return invalidArgument("part-number-marker", v, "Provided part-number-marker not an integer or within integer range")
		}
	}
	u, parts, err := a.store.ListParts(req.ctx(), req.bucket, req.key, id)
	if err != nil {
		return storeError(err, req.bucket, req.key)
	}
	var um uploadMeta
	_ = json.Unmarshal(u.Extra, &um)
	out := listPartsResult{NS: s3NS, Bucket: req.bucket, Key: req.key, UploadID: id, PartNumberMarker: marker, MaxParts: max,
		Initiator: a.owner, Owner: a.owner, StorageClass: "STANDARD", ChecksumAlgorithm: um.ChecksumAlgorithm, ChecksumType: um.ChecksumType}
	for _, p := range parts {
		if p.Number <= marker {
			continue
		}
		if len(out.Parts) == max {
			out.IsTruncated = true
			break
		}
		x := partXML{PartNumber: p.Number, LastModified: s3Time(p.LastModified), ETag: `"` + p.ETag + `"`, Size: p.Size}
		var pm partMeta
		if json.Unmarshal(p.Extra, &pm) == nil && pm.Algorithm != "" {
			x.set(pm.Algorithm, pm.Checksum)
		}
		out.Parts = append(out.Parts, x)
		out.NextPartNumberMarker = p.Number
	}
	return writeXML(req.w, out)
}

func (a *API) listMultipartUploads(req *request) error {
	q := req.query
	max, err := maxKeysParam(req, "max-uploads", 1000)
	if err != nil {
		return err
	}
	enc, err := encodingParam(req)
	if err != nil {
		return err
	}
	prefix, delim := q.Get("prefix"), q.Get("delimiter")
	keyMarker, idMarker := q.Get("key-marker"), q.Get("upload-id-marker")
	us, err := a.store.Uploads(req.ctx(), req.bucket)
	if err != nil {
		return storeError(err, req.bucket, "")
	}
	out := listMultipartUploadsResult{NS: s3NS, Bucket: req.bucket, KeyMarker: encodeKey(keyMarker, enc), UploadIDMarker: idMarker,
		Prefix: encodeKey(prefix, enc), Delimiter: encodeKey(delim, enc), MaxUploads: max}
	if enc {
		out.EncodingType = "url"
	}
	lastPrefix, count := "", 0
	for _, u := range us {
		if !strings.HasPrefix(u.Key, prefix) {
			continue
		}
		if keyMarker != "" && (u.Key < keyMarker || u.Key == keyMarker && (idMarker == "" || u.ID <= idMarker)) {
			continue
		}
		if delim != "" {
			if k := strings.Index(u.Key[len(prefix):], delim); k >= 0 {
				cp := u.Key[:len(prefix)+k+len(delim)]
				if cp == lastPrefix {
					continue
				}
				if count == max {
					out.IsTruncated = true
					break
				}
				lastPrefix = cp
				out.CommonPrefixes = append(out.CommonPrefixes, commonPrefix{Prefix: encodeKey(cp, enc)})
				count++
				continue
			}
		}
		if count == max {
			out.IsTruncated = true
			break
		}
		var um uploadMeta
		_ = json.Unmarshal(u.Extra, &um)
		out.Uploads = append(out.Uploads, uploadXML{Key: encodeKey(u.Key, enc), UploadID: u.ID, Initiator: a.owner, Owner: a.owner,
			StorageClass: "STANDARD", Initiated: s3Time(u.Initiated), ChecksumAlgorithm: um.ChecksumAlgorithm, ChecksumType: um.ChecksumType})
		out.NextKeyMarker, out.NextUploadIDMarker = encodeKey(u.Key, enc), u.ID
		count++
	}
	if !out.IsTruncated {
		out.NextKeyMarker, out.NextUploadIDMarker = "", ""
	}
	return writeXML(req.w, out)
}
