package objstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"

	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/objstore/s3test"
	"github.com/hydrant-io/hydrant/internal/objstore/storetest"
)

// newS3 returns an S3 store on endpoint with the test credentials.
func newS3(t *testing.T, endpoint string, opts ...func(*objstore.S3Options)) *objstore.S3 {
	t.Helper()
	o := objstore.S3Options{
		Endpoint:    endpoint,
		Region:      s3test.Region,
		PathStyle:   true,
		Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKeyID, s3test.SecretAccessKey, ""),
		Logger:      slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	for _, f := range opts {
		f(&o)
	}
	s, err := objstore.NewS3(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestS3Contract runs the store contract against the S3 store on a real
// S3-protocol server (fakes3, its own process), emptying the bucket
// between subtests.
func TestS3Contract(t *testing.T) {
	endpoint, _, _ := s3test.Start(t)
	s3test.CreateBucket(t, endpoint, storetest.Bucket)
	client := s3test.Client(endpoint)
	storetest.Run(t, func(t *testing.T) objstore.Store {
		s := newS3(t, endpoint)
		infos, err := s.List(t.Context(), storetest.Bucket, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range infos {
			if _, err := client.DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(storetest.Bucket), Key: aws.String(o.Key)}); err != nil {
				t.Fatal(err)
			}
		}
		return s
	})
}

// opCounter counts the S3 operations a client sends.
type opCounter struct {
	mu  sync.Mutex
	ops map[string]int
}

func (c *opCounter) sdkOption(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Initialize.Add(middleware.InitializeMiddlewareFunc("countOps",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.ops[middleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	})
}

// take returns the counts so far and starts again.
func (c *opCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops := c.ops
	c.ops = map[string]int{}
	return ops
}

// TestS3Multipart checks that a large object streams up as a multipart
// upload and reads back exactly, and that a write callback failing half
// way aborts the upload: no object and no multipart upload left behind.
func TestS3Multipart(t *testing.T) {
	endpoint, _, _ := s3test.Start(t)
	const bucket = "multipart"
	s3test.CreateBucket(t, endpoint, bucket)
	ops := &opCounter{ops: map[string]int{}}
	s := newS3(t, endpoint, func(o *objstore.S3Options) { o.SDKOptions = append(o.SDKOptions, ops.sdkOption) })
	client := s3test.Client(endpoint)
	ctx := t.Context()

	const size = 40 << 20
	gen := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{4}), size) }
	want := sha256.New()
	io.Copy(want, gen())
	meta := objstore.Meta{ContentType: "application/octet-stream", ContentEncoding: "gzip"}
	if err := s.Put(ctx, bucket, "big/object.gz", meta, func(w io.Writer) error {
		_, err := io.CopyBuffer(struct{ io.Writer }{w}, gen(), make([]byte, 1<<20))
		return err
	}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if got, want := ops.take(), map[string]int{"CreateMultipartUpload": 1, "UploadPart": 3, "CompleteMultipartUpload": 1}; !maps.Equal(got, want) {
		t.Errorf("40 MiB Put sent %v; want %v (16+16+8 MiB parts)", got, want)
	}
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("big/object.gz")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != size || aws.ToString(head.ContentEncoding) != "gzip" || aws.ToString(head.ContentType) != "application/octet-stream" {
		t.Errorf("HEAD = %d bytes, Content-Encoding %q, Content-Type %q", aws.ToInt64(head.ContentLength), aws.ToString(head.ContentEncoding), aws.ToString(head.ContentType))
	}
	rc, err := s.Get(ctx, bucket, "big/object.gz")
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	n, err := io.Copy(got, rc)
	rc.Close()
	if err != nil || n != size || !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("read back %d bytes, %v; want the %d put", n, err, size)
	}

	// Fail after two parts' worth: the upload has started, so it must be
	// aborted.
	errBoom := errors.New("boom")
	err = s.Put(ctx, bucket, "big/failed", objstore.Meta{}, func(w io.Writer) error {
		if _, err := io.Copy(w, io.LimitReader(gen(), 36<<20)); err != nil {
			return err
		}
		return errBoom
	})
	if err != errBoom {
		t.Fatalf("Put with failing write = %v; want the write error", err)
	}
	if got := ops.take(); got["CreateMultipartUpload"] != 1 || got["AbortMultipartUpload"] != 1 || got["CompleteMultipartUpload"] != 0 {
		t.Errorf("failed Put sent %v; want a multipart upload that was aborted, never completed", got)
	}
	if _, err := s.Get(ctx, bucket, "big/failed"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get after failed Put = %v; want ErrNotFound", err)
	}
	ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left after a failed Put; want none (aborted)", len(ups.Uploads))
	}

	// A small object is one PutObject.
	ops.take()
	if err := s.Put(ctx, bucket, "small", objstore.Meta{}, func(w io.Writer) error {
		_, err := w.Write(make([]byte, 1<<20))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got, want := ops.take(), map[string]int{"PutObject": 1}; !maps.Equal(got, want) {
		t.Errorf("1 MiB Put sent %v; want %v", got, want)
	}
}

// TestS3ErrorCodes checks the Firehose error codes of failed Puts.
func TestS3ErrorCodes(t *testing.T) {
	endpoint, _, _ := s3test.Start(t)
	s := newS3(t, endpoint)
	write := func(w io.Writer) error { _, err := io.WriteString(w, "x"); return err }

	err := s.Put(t.Context(), "no-such-bucket", "k", objstore.Meta{}, write)
	if got := objstore.ErrorCode(err); got != "S3.NoSuchBucket" || !errors.Is(err, objstore.ErrNoSuchBucket) {
		t.Errorf("Put to a missing bucket = %v (code %q); want S3.NoSuchBucket wrapping ErrNoSuchBucket", err, got)
	}
	if de, ok := errors.AsType[*objstore.DeliveryError](err); !ok || de.Message == "" {
		t.Errorf("Put to a missing bucket = %#v; want a DeliveryError with S3's message", err)
	}

	// Nothing listens: a network error is InternalError.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	down := newS3(t, dead)
	err = down.Put(t.Context(), "bucket", "k", objstore.Meta{}, write)
	if got := objstore.ErrorCode(err); got != "InternalError" {
		t.Errorf("Put with the service down = %v (code %q); want InternalError", err, got)
	}
	if got := objstore.ErrorCode(nil); got != "" {
		t.Errorf("ErrorCode(nil) = %q; want empty", got)
	}
	if got := objstore.ErrorCode(objstore.ErrKeyConflict); got != "InternalError" {
		t.Errorf("ErrorCode(a local store error) = %q; want InternalError", got)
	}
}

// TestS3PanicInWrite checks that a panic in the write callback reaches the
// caller and leaves no object and no upload behind.
func TestS3PanicInWrite(t *testing.T) {
	endpoint, _, _ := s3test.Start(t)
	const bucket = "panics"
	s3test.CreateBucket(t, endpoint, bucket)
	s := newS3(t, endpoint, func(o *objstore.S3Options) { o.PartSize = 5 << 20 })
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Put swallowed the panic of its write callback")
			}
		}()
		_ = s.Put(t.Context(), bucket, "k", objstore.Meta{}, func(w io.Writer) error {
			w.Write(make([]byte, 12<<20)) // two parts: a multipart upload is under way
			panic("write failed")
		})
	}()
	if _, err := s.Get(t.Context(), bucket, "k"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get after panicking Put = %v; want ErrNotFound", err)
	}
	ups, err := s3test.Client(endpoint).ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("ListMultipartUploads = %v, %v; want none left", ups, err)
	}
}
