package objstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	tm "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
)

// S3Options configure NewS3. The zero value talks to AWS S3 with the
// standard AWS configuration (environment, shared files, instance roles).
type S3Options struct {
	// Endpoint is the URL of an S3-compatible service (MinIO, versitygw,
	// Ceph, ...). Empty leaves the choice to the SDK, which honours
	// AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL, and otherwise uses AWS.
	Endpoint string
	// Region signs requests; empty leaves it to the AWS configuration.
	Region string
	// PathStyle sends requests as http://host/bucket/key instead of
	// http://bucket.host/key. Most self-hosted services need it.
	PathStyle bool
	// Credentials override the standard AWS credential chain (tests).
	Credentials aws.CredentialsProvider
	// PartSize is the size of a multipart upload's parts and the threshold
	// above which an object is uploaded in parts; 0 means 16 MiB.
	PartSize int64
	// Concurrency is how many parts of one object are uploaded at once; 0
	// means 2. A Put buffers up to (Concurrency+1)×PartSize bytes.
	Concurrency int
	// RequestTimeout bounds how long an S3 request may go without
	// progress: while it sends its body, between two chunks; once sent,
	// until the answer's headers come (plus RequestTimeoutPerMiB for each
	// MiB it sent); while the answer's body is read, between two chunks.
	// A request that stalls is cancelled, logged at Warn, and retried. 0
	// means 20 s.
	RequestTimeout time.Duration
	// RequestTimeoutPerMiB is added to the wait for an answer for each
	// MiB of the request (S3's work grows with it). 0 means 1 s.
	RequestTimeoutPerMiB time.Duration
	// Logger receives the store's logs; nil discards them.
	Logger *slog.Logger
	// SDKOptions adjust the SDK client after the options above (retries,
	// HTTP client, middleware in tests).
	SDKOptions []func(*s3.Options)
}

// S3 is a Store on Amazon S3 or any S3-compatible service, through
// aws-sdk-go-v2. It is safe for concurrent use.
//
// Buckets must exist: as with Firehose, a missing bucket is an error
// (S3.NoSuchBucket) that delivery retries until someone creates it.
//
// Put streams the object into S3 as it is written: objects smaller than
// PartSize go up in one PutObject, larger ones as a multipart upload, so
// memory use stays bounded whatever the object's size. S3 makes an object
// visible only when its PutObject or CompleteMultipartUpload succeeds, so
// Put is atomic; a failed Put aborts its multipart upload. Put writes
// Meta.ContentType (S3's default "binary/octet-stream" when empty) and
// Meta.ContentEncoding as the object's Content-Type and Content-Encoding.
//
// Names are checked as in Local (ValidBucketName, ValidKey), so that every
// store holds the same keys. Errors carry Firehose's delivery error codes:
// see DeliveryError and ErrorCode.
type S3 struct {
	client   *s3.Client
	uploader *tm.Client
	logger   *slog.Logger
	http     *guardedClient
	endpoint string
}

var _ Store = (*S3)(nil)

const (
	defaultPartSize    = 16 << 20
	defaultConcurrency = 2
	// s3DefaultContentType is what S3 reports for an object stored without
	// a Content-Type; Stat maps it back to an empty Meta.ContentType.
	s3DefaultContentType = "binary/octet-stream"
	// abortTimeout bounds the AbortMultipartUpload of a failed Put, which
	// runs even when the Put's context was cancelled.
	abortTimeout = 30 * time.Second
)

// NewS3 makes an S3 store. It loads the AWS configuration (credentials from
// the standard chain unless opts.Credentials is set) but does not contact
// the service: an unreachable endpoint shows up as delivery errors, which
// are retried, not as a failure to start.
func NewS3(ctx context.Context, opts S3Options) (*S3, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// A service that accepts a request and never answers (a network
	// partition, a hung server) must turn into an error that is logged and
	// retried, not a Put blocked for minutes: every request is bounded by
	// its progress (guardedClient).
	// The guard wraps the client the configuration has finished (which
	// may have added a CA bundle to it).
	httpClient := &guardedClient{
		stall:  cmp.Or(opts.RequestTimeout, defaultRequestTimeout),
		perMiB: cmp.Or(opts.RequestTimeoutPerMiB, defaultRequestTimeoutPerMiB),
		log:    logger,
	}
	load := []func(*config.LoadOptions) error{config.WithLogger(sdkLogger{logger}), config.WithHTTPClient(awshttp.NewBuildableClient())}
	if opts.Region != "" {
		load = append(load, config.WithRegion(opts.Region))
	}
	if opts.Credentials != nil {
		load = append(load, config.WithCredentialsProvider(opts.Credentials))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, fmt.Errorf("objstore: load AWS configuration: %w", err)
	}
	httpClient.next, cfg.HTTPClient = cfg.HTTPClient, httpClient
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.PathStyle
		for _, f := range opts.SDKOptions {
			f(o)
		}
	})
	partSize := opts.PartSize
	if partSize <= 0 {
		partSize = defaultPartSize
	}
	concurrency := opts.Concurrency
	if concurrency <= 0 {
		concurrency = defaultConcurrency
	}
	uploader := tm.New(client, func(o *tm.Options) {
		o.PartSizeBytes = partSize
		o.MultipartUploadThreshold = partSize
		o.Concurrency = concurrency
		// Abort a failed multipart upload with a fresh context: the Put's
		// own may be the reason it failed.
		o.FailTimeout = abortTimeout
		// The transfer manager would otherwise add CRC32 checksums to every
		// upload whatever the configuration says (AWS_REQUEST_CHECKSUM_CALCULATION);
		// some S3-compatible services reject them.
		o.RequestChecksumCalculation = cfg.RequestChecksumCalculation
	})
	endpoint := opts.Endpoint
	if endpoint == "" && cfg.BaseEndpoint != nil {
		endpoint = *cfg.BaseEndpoint
	}
	logger.Debug("objstore: S3 store ready", "endpoint", endpoint, "region", cfg.Region, "path_style", opts.PathStyle,
		"part_size", partSize, "concurrency", concurrency, "request_timeout", httpClient.stall, "request_timeout_per_mib", httpClient.perMiB)
	if endpoint == "" {
		endpoint = "AWS S3 (" + cfg.Region + ")"
	}
	return &S3{client: client, uploader: uploader, logger: logger, http: httpClient, endpoint: endpoint}, nil
}

// sdkLogger sends the SDK's own log lines (deprecations, skipped checksum
// validation, ...) to the store's logger instead of stderr.
type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	s.l.Log(context.Background(), level, "objstore: aws sdk: "+fmt.Sprintf(format, v...))
}

// Endpoint names the service the store writes to: its URL, or AWS.
func (s *S3) Endpoint() string { return s.endpoint }

// Client returns the SDK client the store uses.
func (s *S3) Client() *s3.Client { return s.client }

// Put streams the bytes write produces into the object; see S3 and Store.
//
// write runs on the calling goroutine (so its panics reach the caller) and
// feeds a pipe that the upload reads on another. An error from write, or a
// write after ctx ended, stops the upload before it completes.
func (s *S3) Put(ctx context.Context, bucket, key string, meta Meta, write func(w io.Writer) error) error {
	if err := validObject(bucket, key); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	in := &tm.UploadObjectInput{
		Bucket:      aws.String(bucket),
		Key:         aws.String(key),
		ContentType: aws.String(cmp.Or(meta.ContentType, s3DefaultContentType)),
	}
	if meta.ContentEncoding != "" {
		in.ContentEncoding = aws.String(meta.ContentEncoding)
	}
	pr, pw := io.Pipe()
	in.Body = pr
	uploaded := make(chan error, 1)
	go func() {
		_, err := s.uploader.UploadObject(ctx, in)
		// Unblock write if the upload stopped reading early.
		pr.CloseWithError(errUploadEnded)
		uploaded <- err
	}()

	// If write panics, end the upload (aborting it) before the panic
	// goes on up.
	finished := false
	defer func() {
		if !finished {
			pw.CloseWithError(errWriterPanicked)
			cancel()
			<-uploaded
		}
	}()
	cw := &stickyCtxWriter{ctx: ctx, w: pw}
	werr := write(cw)
	switch {
	case werr != nil:
		pw.CloseWithError(werr)
	case cw.err != nil:
		// A careless write ignored an error (ctx ended, or the upload
		// failed): the object must not be completed.
		pw.CloseWithError(cw.err)
	default:
		pw.Close()
	}
	uerr := <-uploaded
	finished = true

	switch {
	case werr != nil && !errors.Is(werr, errUploadEnded):
		return werr // write's own failure, unwrapped as Store promises
	case uerr != nil:
		if err := ctx.Err(); err != nil && !errors.Is(uerr, err) {
			uerr = fmt.Errorf("%w: %w", err, uerr)
		}
		return fmt.Errorf("put %s/%s: %w", bucket, key, classify(uerr))
	case werr != nil:
		return fmt.Errorf("put %s/%s: %w", bucket, key, werr)
	case cw.err != nil:
		// The upload finished without the bytes after a failed write;
		// cannot happen as the pipe carried the error, but never report
		// such an object as stored.
		return fmt.Errorf("put %s/%s: %w", bucket, key, cw.err)
	}
	return nil
}

var (
	errUploadEnded    = errors.New("objstore: S3 upload ended before all bytes were written")
	errWriterPanicked = errors.New("objstore: write callback panicked")
)

// stickyCtxWriter fails writes once ctx is done and remembers the first
// write error, so Put notices it even if the caller ignored it.
type stickyCtxWriter struct {
	ctx context.Context
	w   io.Writer
	err error
}

func (c *stickyCtxWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if err := c.ctx.Err(); err != nil {
		c.err = err
		return 0, err
	}
	n, err := c.w.Write(p)
	if err != nil {
		c.err = err
	}
	return n, err
}

// Get opens an object for reading; see Store. The body streams from S3.
func (s *S3) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	if err := validObject(bucket, key); err != nil {
		return nil, fmt.Errorf("get: %w", err)
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s/%s: %w", bucket, key, missingObject(classify(err)))
	}
	return out.Body, nil
}

// Stat describes an object and returns its Meta, as Local.Stat does. S3's
// default Content-Type for objects stored without one is reported as empty.
func (s *S3) Stat(ctx context.Context, bucket, key string) (ObjectInfo, Meta, error) {
	if err := validObject(bucket, key); err != nil {
		return ObjectInfo{}, Meta{}, fmt.Errorf("stat: %w", err)
	}
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return ObjectInfo{}, Meta{}, fmt.Errorf("stat %s/%s: %w", bucket, key, missingObject(classify(err)))
	}
	meta := Meta{ContentType: aws.ToString(out.ContentType), ContentEncoding: aws.ToString(out.ContentEncoding)}
	if meta.ContentType == s3DefaultContentType {
		meta.ContentType = ""
	}
	info := ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), LastModified: aws.ToTime(out.LastModified)}
	return info, meta, nil
}

// List returns the objects under prefix in key order; see Store. It pages
// through ListObjectsV2.
func (s *S3) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	if err := ValidBucketName(bucket); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	var out []ObjectInfo
	for p := s3.NewListObjectsV2Paginator(s.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", bucket, classify(err))
		}
		for _, o := range page.Contents {
			out = append(out, ObjectInfo{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)})
		}
	}
	return out, nil
}

// Delete removes an object; see Store. A missing bucket gives
// ErrNoSuchBucket, as it does in Local.
func (s *S3) Delete(ctx context.Context, bucket, key string) error {
	if err := validObject(bucket, key); err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, classify(err))
	}
	return nil
}

// validObject checks a bucket name and key as Local does.
func validObject(bucket, key string) error {
	if err := ValidBucketName(bucket); err != nil {
		return err
	}
	return ValidKey(key)
}

// missingObject adds ErrNotFound to a missing-bucket error: for Get and
// Stat a missing bucket also means a missing object.
func missingObject(err error) error {
	if errors.Is(err, ErrNoSuchBucket) && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	return err
}
