package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// s3Client is an S3 client for s, path-style unless virtual, signing with
// the given key.
func s3Client(s *server, id, secret string, virtual bool) *s3.Client {
	hc := http.DefaultClient
	if virtual {
		// BUCKET.localhost names loopback (RFC 6761); dial the server
		// whatever the resolver thinks of it.
		d := &net.Dialer{}
		hc = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, s.Addr)
		}}}
	}
	endpoint := s.URL
	if virtual {
		_, port, _ := net.SplitHostPort(s.Addr)
		endpoint = "http://localhost:" + port
	}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(id, secret, ""),
		UsePathStyle: !virtual,
		HTTPClient:   hc,
	})
}

func s3ErrCode(err error) string {
	code, _ := apiErrorCode(err)
	return code
}

// result lets a call's (value, error) be checked inline:
// try(c.PutObject(...)).must(t).
type result[T any] struct {
	v   T
	err error
}

func try[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) must(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func getBody(t *testing.T, c *s3.Client, in *s3.GetObjectInput) (string, *s3.GetObjectOutput) {
	t.Helper()
	out, err := c.GetObject(t.Context(), in)
	if err != nil {
		t.Fatalf("GetObject %s: %v", aws.ToString(in.Key), err)
	}
	defer out.Body.Close()
	return string(readAll(t, out.Body)), out
}

// TestS3APISDK drives the S3 API with aws-sdk-go-v2, path-style and
// virtual-hosted: buckets, objects with metadata and checksums, ranges
// and conditions, listings paged with every parameter, copies, batch
// deletes and a multipart upload.
func TestS3APISDK(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, virtual := range []bool{false, true} {
		t.Run(fmt.Sprintf("virtual=%v", virtual), func(t *testing.T) {
			t.Parallel()
			c := s3Client(s, "test", "test", virtual)
			ctx := t.Context()
			b := "sdk-path"
			if virtual {
				b = "sdk-virtual"
			}
			try(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b})).must(t)
			if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &b}); s3ErrCode(err) != "BucketAlreadyOwnedByYou" {
				t.Fatalf("second CreateBucket = %v", err)
			}
			try(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &b})).must(t)
			if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")}); err == nil {
				t.Fatal("HeadBucket of a missing bucket succeeded")
			}

			// Put with metadata and a checksum; read it all back.
			put := try(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("dir/hello.txt"),
				Body: strings.NewReader("hello, world"), ContentType: aws.String("text/plain"), CacheControl: aws.String("max-age=60"),
				Metadata: map[string]string{"owner": "ada"}, ChecksumAlgorithm: types.ChecksumAlgorithmSha256})).must(t)
			sum := md5.Sum([]byte("hello, world"))
			if aws.ToString(put.ETag) != `"`+hex.EncodeToString(sum[:])+`"` || put.ChecksumSHA256 == nil {
				t.Fatalf("PutObject ETag %s checksum %v", aws.ToString(put.ETag), put.ChecksumSHA256)
			}
			body, out := getBody(t, c, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/hello.txt"), ChecksumMode: types.ChecksumModeEnabled})
			if body != "hello, world" || aws.ToString(out.ContentType) != "text/plain" || out.Metadata["owner"] != "ada" ||
				aws.ToString(out.CacheControl) != "max-age=60" || aws.ToString(out.ChecksumSHA256) != aws.ToString(put.ChecksumSHA256) {
				t.Fatalf("GetObject = %q %+v", body, out)
			}
			// Digests that do not match the body: nothing is stored.
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bad-digest"), Body: strings.NewReader("abc"),
				ContentMD5: aws.String("1B2M2Y8AsgTpgAmY7PhCfg==")}); s3ErrCode(err) != "BadDigest" {
				t.Errorf("PutObject with another body's Content-MD5 = %v; want BadDigest", err)
			}
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("bad-digest"), Body: strings.NewReader("abc"),
				ChecksumCRC32C: aws.String("AAAAAA==")}); s3ErrCode(err) != "BadDigest" {
				t.Errorf("PutObject with a wrong CRC32C = %v; want BadDigest", err)
			}
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("bad-digest")}); err == nil {
				t.Error("an object whose digest did not match was stored")
			}
			// Ranges.
			for rg, want := range map[string]string{"bytes=0-4": "hello", "bytes=7-": "world", "bytes=-5": "world", "bytes=7-100": "world"} {
				got, out := getBody(t, c, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/hello.txt"), Range: aws.String(rg)})
				if got != want || !strings.HasSuffix(aws.ToString(out.ContentRange), "/12") {
					t.Errorf("Range %s = %q (%s); want %q", rg, got, aws.ToString(out.ContentRange), want)
				}
			}
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/hello.txt"), Range: aws.String("bytes=50-")}); s3ErrCode(err) != "InvalidRange" {
				t.Errorf("unsatisfiable range = %v", err)
			}
			// Conditions.
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/hello.txt"), IfMatch: aws.String(`"nope"`)}); s3ErrCode(err) != "PreconditionFailed" {
				t.Errorf("If-Match mismatch = %v", err)
			}
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("dir/hello.txt"), IfNoneMatch: put.ETag}); s3ErrCode(err) != "NotModified" {
				t.Errorf("If-None-Match match = %v", err)
			}
			if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b, Key: aws.String("dir/hello.txt"), IfModifiedSince: aws.Time(time.Now().Add(time.Hour))}); s3ErrCode(err) != "NotModified" {
				t.Errorf("If-Modified-Since future = %v", err)
			}
			if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("dir/hello.txt"), Body: strings.NewReader("x"), IfNoneMatch: aws.String("*")}); s3ErrCode(err) != "PreconditionFailed" {
				t.Errorf("conditional put over an object = %v", err)
			}
			var nsk *types.NoSuchKey
			if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: aws.String("missing")}); !errors.As(err, &nsk) {
				t.Errorf("GetObject of a missing key = %v; want NoSuchKey", err)
			}
			var nsb *types.NoSuchBucket
			if _, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("missing-bucket")}); !errors.As(err, &nsb) {
				t.Errorf("listing a missing bucket = %v; want NoSuchBucket", err)
			}

			// A listing of awkward keys, paged every way.
			keys := []string{"a b/c", "a+b", "a-b/c", "a/b", "a/c/d", "é", "z%41"}
			for i := range 25 {
				keys = append(keys, fmt.Sprintf("many/%03d", i))
			}
			for _, k := range keys {
				try(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String(k), Body: strings.NewReader(k)})).must(t)
			}
			all := append(slices.Clone(keys), "dir/hello.txt")
			slices.Sort(all)
			var listed []string
			p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &b, MaxKeys: aws.Int32(4), EncodingType: types.EncodingTypeUrl})
			for p.HasMorePages() {
				page := try(p.NextPage(ctx)).must(t)
				for _, o := range page.Contents {
					// The Go SDK leaves encoding-type=url keys encoded.
					k, err := url.PathUnescape(aws.ToString(o.Key))
					if err != nil {
						t.Fatal(err)
					}
					listed = append(listed, k)
				}
			}
			if !slices.Equal(listed, all) {
				t.Fatalf("ListObjectsV2 pages = %q; want %q", listed, all)
			}
			v2 := try(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b, Delimiter: aws.String("/"), StartAfter: aws.String("a+b")})).must(t)
			var cps []string
			for _, cp := range v2.CommonPrefixes {
				cps = append(cps, aws.ToString(cp.Prefix))
			}
			if !slices.Equal(cps, []string{"a-b/", "a/", "dir/", "many/"}) || len(v2.Contents) != 2 {
				t.Fatalf("delimited listing: prefixes %q, %d objects", cps, len(v2.Contents))
			}
			var v1keys []string
			for marker := ""; ; {
				page := try(c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: &b, Prefix: aws.String("many/"), MaxKeys: aws.Int32(10), Marker: &marker})).must(t)
				for _, o := range page.Contents {
					v1keys = append(v1keys, aws.ToString(o.Key))
				}
				if !aws.ToBool(page.IsTruncated) {
					break
				}
				marker = v1keys[len(v1keys)-1]
			}
			if len(v1keys) != 25 {
				t.Fatalf("ListObjects (V1) pages = %d keys", len(v1keys))
			}

			// Copy, then delete in a batch.
			try(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &b, Key: aws.String("copy/hello.txt"), CopySource: aws.String(b + "/dir/hello.txt")})).must(t)
			if got, out := getBody(t, c, &s3.GetObjectInput{Bucket: &b, Key: aws.String("copy/hello.txt")}); got != "hello, world" || out.Metadata["owner"] != "ada" {
				t.Fatalf("copy = %q %v", got, out.Metadata)
			}
			var ids []types.ObjectIdentifier
			for _, k := range append(all, "copy/hello.txt") {
				ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
			}
			del := try(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &b, Delete: &types.Delete{Objects: ids}})).must(t)
			if len(del.Deleted) != len(ids) || len(del.Errors) != 0 {
				t.Fatalf("DeleteObjects: %d deleted, errors %v", len(del.Deleted), del.Errors)
			}

			// Multipart: three parts, one copied from an object.
			try(c.PutObject(ctx, &s3.PutObjectInput{Bucket: &b, Key: aws.String("src"), Body: strings.NewReader("0123456789")})).must(t)
			mp := try(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp/obj"), ContentType: aws.String("application/x-test")})).must(t)
			part := bytes.Repeat([]byte("p"), 5<<20)
			u1 := try(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mp/obj"), UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(part)})).must(t)
			u2 := try(c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &b, Key: aws.String("mp/obj"), UploadId: mp.UploadId, PartNumber: aws.Int32(2),
				CopySource: aws.String(b + "/src"), CopySourceRange: aws.String("bytes=2-5")})).must(t)
			ups := try(c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &b})).must(t)
			if len(ups.Uploads) != 1 || aws.ToString(ups.Uploads[0].UploadId) != aws.ToString(mp.UploadId) {
				t.Fatalf("ListMultipartUploads = %+v", ups.Uploads)
			}
			parts := try(c.ListParts(ctx, &s3.ListPartsInput{Bucket: &b, Key: aws.String("mp/obj"), UploadId: mp.UploadId})).must(t)
			if len(parts.Parts) != 2 || aws.ToInt64(parts.Parts[1].Size) != 4 {
				t.Fatalf("ListParts = %+v", parts.Parts)
			}
			done := try(c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mp/obj"), UploadId: mp.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
					{PartNumber: aws.Int32(1), ETag: u1.ETag}, {PartNumber: aws.Int32(2), ETag: u2.CopyPartResult.ETag}}}})).must(t)
			if !strings.HasSuffix(aws.ToString(done.ETag), `-2"`) {
				t.Fatalf("multipart ETag %s", aws.ToString(done.ETag))
			}
			got, out := getBody(t, c, &s3.GetObjectInput{Bucket: &b, Key: aws.String("mp/obj"), PartNumber: aws.Int32(2)})
			if got != "2345" || aws.ToInt32(out.PartsCount) != 2 || aws.ToString(out.ContentType) != "application/x-test" {
				t.Fatalf("part 2 = %q, %d parts", got, aws.ToInt32(out.PartsCount))
			}
			if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: &b, Key: aws.String("mp/obj"), UploadId: mp.UploadId}); s3ErrCode(err) != "NoSuchUpload" {
				t.Fatalf("ListParts after complete = %v", err)
			}
			small := try(c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &b, Key: aws.String("mp/small")})).must(t)
			s1 := try(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mp/small"), UploadId: small.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("tiny")})).must(t)
			s2 := try(c.UploadPart(ctx, &s3.UploadPartInput{Bucket: &b, Key: aws.String("mp/small"), UploadId: small.UploadId, PartNumber: aws.Int32(2), Body: strings.NewReader("tiny")})).must(t)
			if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &b, Key: aws.String("mp/small"), UploadId: small.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: s1.ETag}, {PartNumber: aws.Int32(2), ETag: s2.ETag}}}}); s3ErrCode(err) != "EntityTooSmall" {
				t.Fatalf("complete with a small first part = %v", err)
			}
			try(c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &b, Key: aws.String("mp/small"), UploadId: small.UploadId})).must(t)

			if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &b}); s3ErrCode(err) != "BucketNotEmpty" {
				t.Fatalf("DeleteBucket of a full bucket = %v", err)
			}
			for _, k := range []string{"src", "mp/obj"} {
				try(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String(k)})).must(t)
			}
			try(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &b})).must(t)
		})
	}
}

// TestS3APIVersioningSDK: with versioning enabled, overwrites and deletes
// keep prior versions and delete markers, as S3 does.
func TestS3APIVersioningSDK(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s3Client(s, "test", "test", false)
	ctx := t.Context()
	b := aws.String("versioned")
	try(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b})).must(t)
	try(c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})).must(t)
	if v := try(c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})).must(t); v.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("GetBucketVersioning = %v", v.Status)
	}
	var vids []string
	for _, body := range []string{"one", "two", "three"} {
		out := try(c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: strings.NewReader(body)})).must(t)
		vids = append(vids, aws.ToString(out.VersionId))
	}
	if got, _ := getBody(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("k"), VersionId: &vids[0]}); got != "one" {
		t.Fatalf("version 1 = %q", got)
	}
	del := try(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k")})).must(t)
	if !aws.ToBool(del.DeleteMarker) || del.VersionId == nil {
		t.Fatalf("DeleteObject = %+v; want a delete marker", del)
	}
	var nsk *types.NoSuchKey
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")}); !errors.As(err, &nsk) {
		t.Fatalf("GetObject after delete = %v", err)
	}
	vs := try(c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b})).must(t)
	if len(vs.Versions) != 3 || len(vs.DeleteMarkers) != 1 || !aws.ToBool(vs.DeleteMarkers[0].IsLatest) || aws.ToString(vs.Versions[0].VersionId) != vids[2] {
		t.Fatalf("ListObjectVersions: %d versions, %d markers", len(vs.Versions), len(vs.DeleteMarkers))
	}
	// Paged one at a time, the same four entries come back in order.
	var paged []string
	vp := s3.NewListObjectVersionsPaginator(c, &s3.ListObjectVersionsInput{Bucket: b, MaxKeys: aws.Int32(1)})
	for vp.HasMorePages() {
		page := try(vp.NextPage(ctx)).must(t)
		for _, m := range page.DeleteMarkers {
			paged = append(paged, aws.ToString(m.VersionId))
		}
		for _, v := range page.Versions {
			paged = append(paged, aws.ToString(v.VersionId))
		}
	}
	if want := []string{aws.ToString(del.VersionId), vids[2], vids[1], vids[0]}; !slices.Equal(paged, want) {
		t.Fatalf("paged versions %q; want %q", paged, want)
	}
	// Removing the marker brings "three" back.
	try(c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k"), VersionId: del.VersionId})).must(t)
	if got, _ := getBody(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")}); got != "three" {
		t.Fatalf("after removing the marker = %q", got)
	}
}

// TestS3APIReadsDelivery: what a Firehose stream delivers is listed and
// read through the S3 API at once, with the Content-Encoding delivery set,
// and the delivered-to bucket appears in ListBuckets.
func TestS3APIReadsDelivery(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := t.Context()
	f := sdkClient(s)
	createStream(t, f, "to-s3api", &fhtypes.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::delivered"), Prefix: aws.String("events/"),
		CompressionFormat: fhtypes.CompressionFormatGzip,
		BufferingHints:    &fhtypes.BufferingHints{IntervalInSeconds: aws.Int32(60), SizeInMBs: aws.Int32(1)}})
	waitFor(t, 10*time.Second, "stream ACTIVE", func() bool {
		d, err := f.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("to-s3api")})
		return err == nil && d.DeliveryStreamDescription.DeliveryStreamStatus == fhtypes.DeliveryStreamStatusActive
	})
	var recs []fhtypes.Record
	for i := range 10 {
		recs = append(recs, fhtypes.Record{Data: fmt.Appendf(nil, `{"n":%d}`+"\n", i)})
	}
	try(f.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("to-s3api"), Records: recs})).must(t)
	flushStream(t, s, "to-s3api")

	c := s3Client(s, "test", "test", false)
	bs := try(c.ListBuckets(ctx, &s3.ListBucketsInput{})).must(t)
	if len(bs.Buckets) != 1 || aws.ToString(bs.Buckets[0].Name) != "delivered" {
		t.Fatalf("ListBuckets = %+v", bs.Buckets)
	}
	l := try(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("delivered"), Prefix: aws.String("events/")})).must(t)
	if len(l.Contents) != 1 || !strings.HasSuffix(aws.ToString(l.Contents[0].Key), ".gz") {
		t.Fatalf("delivered objects = %+v", l.Contents)
	}
	key := l.Contents[0].Key
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("delivered"), Key: key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	if aws.ToString(out.ContentEncoding) != "gzip" || aws.ToString(out.ETag) != aws.ToString(l.Contents[0].ETag) {
		t.Fatalf("delivered object: encoding %q, ETag %s vs listed %s", aws.ToString(out.ContentEncoding), aws.ToString(out.ETag), aws.ToString(l.Contents[0].ETag))
	}
	zr, err := gzip.NewReader(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(readAll(t, zr)), "\n"); got != 10 {
		t.Fatalf("delivered object holds %d records", got)
	}
	// Delivery does not hash what it writes: its objects' ETags are
	// opaque, in S3's multipart form, which no client takes for an MD5.
	if !regexp.MustCompile(`^"[0-9a-f]{32}-1"$`).MatchString(aws.ToString(l.Contents[0].ETag)) {
		t.Fatalf("delivered object's ETag %s; want an opaque multipart-form ETag", aws.ToString(l.Contents[0].ETag))
	}
}

// TestS3APIConfinement: keys and buckets that try to leave the data dir
// are refused, and a symbolic link planted in a bucket cannot be read
// through.
func TestS3APIConfinement(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := t.Context()
	c := s3Client(s, "test", "test", false)
	try(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("jail")})).must(t)
	secret := filepath.Join(filepath.Dir(s.DataDir), "secret.txt")
	if err := os.WriteFile(secret, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"../secret.txt", "a/../../secret.txt", "../../../../../tmp/x", "/abs", "a//b", "./a"} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("jail"), Key: aws.String(k), Body: strings.NewReader("x")})
		if err == nil {
			t.Errorf("PutObject(%q) succeeded", k)
		}
	}
	// Raw requests, encoded every way a path can be.
	for _, p := range []string{"/jail/..%2F..%2Fsecret.txt", "/jail/%2e%2e/%2e%2e/secret.txt", "/..%2Fsecret.txt/x", "/jail/a%00b"} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+p, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || bytes.Contains(body, []byte("secret")) && !bytes.Contains(body, []byte("<Error>")) {
			t.Errorf("GET %s = %d %s", p, resp.StatusCode, body)
		}
	}
	// The one limit of keys as file paths: a key cannot be an object and a
	// folder of others at once; refused, and nothing replaced.
	try(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("jail"), Key: aws.String("file"), Body: strings.NewReader("f")})).must(t)
	try(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("jail"), Key: aws.String("dir/x"), Body: strings.NewReader("x")})).must(t)
	for key, want := range map[string]string{"file/child": "ObjectParentIsFile", "dir": "ExistingObjectIsDirectory"} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("jail"), Key: aws.String(key), Body: strings.NewReader("y")})
		if code, msg := apiErrorCode(err); code != want || !strings.Contains(msg, "FORMAT.md") {
			t.Errorf("PutObject(%q) = %v; want %s explaining the layout", key, err, want)
		}
	}
	if got, _ := getBody(t, c, &s3.GetObjectInput{Bucket: aws.String("jail"), Key: aws.String("file")}); got != "f" {
		t.Errorf("file = %q after the refused put", got)
	}
	try(c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("jail"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("file")}, {Key: aws.String("dir/x")}}}})).must(t)

	if err := os.Symlink(secret, filepath.Join(s.DataDir, "buckets", "jail", "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("jail"), Key: aws.String("link")}); err == nil {
		t.Error("GetObject through a symbolic link out of the data dir succeeded")
	}
	l := try(c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("jail")})).must(t)
	if len(l.Contents) != 0 {
		t.Errorf("listing shows %+v", l.Contents)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.DataDir), "x")); err == nil {
		t.Error("a file was written outside the data dir")
	}
	if got, _ := os.ReadFile(secret); string(got) != "secret" {
		t.Error("the file outside the data dir changed")
	}
}

// TestS3APIRemoteBucket: a bucket --bucket-store sends to a remote S3 is
// answered with where it lives.
func TestS3APIRemoteBucket(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--s3-endpoint", "http://127.0.0.1:9", "--s3-path-style", "--bucket-store", "*=local", "--bucket-store", "far-away=s3")
	c := s3Client(s, "test", "test", false)
	_, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String("far-away")})
	code, msg := apiErrorCode(err)
	if code != "PermanentRedirect" || !strings.Contains(msg, "http://127.0.0.1:9") {
		t.Fatalf("ListObjectsV2 of a remote bucket = %v (%s: %s)", err, code, msg)
	}
	try(c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("near")})).must(t)
}
