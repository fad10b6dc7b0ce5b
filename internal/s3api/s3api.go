// Package s3api is hydrant's S3 API: the REST-XML protocol over the local
// bucket store (objstore.Local), the same store Firehose delivery writes
// to, so delivered objects are listed and read as soon as they land.
// Buckets are addressed path-style (/bucket/key) or virtual-hosted
// (bucket.localhost:port). Requests are verified with SigV4 when
// credentials are configured (header and presigned forms, every payload
// mode S3 has: a signed hash, UNSIGNED-PAYLOAD, aws-chunked with chunk
// signatures and trailers); bodies are streamed to disk, never held.
package s3api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// Options configure the S3 API.
type Options struct {
	// Store holds the local buckets.
	Store *objstore.Local
	// Remote, when set, tells where a bucket that is not on the local
	// store lives (its S3 endpoint, as --bucket-store routes it); such
	// buckets are answered with an error that says so.
	Remote func(bucket string) (where string, remote bool)
	// Verifier checks signatures; nil accepts unsigned requests (loopback
	// without credentials).
	Verifier *awsproto.Verifier
	// Budget is charged for the XML bodies read into memory.
	Budget *awsproto.Budget
	// Region is the region buckets report; AccountID names the owner.
	Region    string
	AccountID string
	Logger    *slog.Logger
}

// API serves S3 over the local store. It is an http.Handler for the
// server's SetS3.
type API struct {
	store    *objstore.Local
	remote   func(string) (string, bool)
	verifier *awsproto.Verifier
	budget   *awsproto.Budget
	region   string
	owner    owner
	log      *slog.Logger
}

// New returns the S3 API.
func New(o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Remote == nil {
		o.Remote = func(string) (string, bool) { return "", false }
	}
	sum := sha256.Sum256([]byte("hydrant:" + o.AccountID))
	return &API{store: o.Store, remote: o.Remote, verifier: o.Verifier, budget: o.Budget, region: o.Region,
		owner: owner{ID: hex.EncodeToString(sum[:]), DisplayName: "hydrant"}, log: o.Logger}
}

// Limits of S3 that hydrant keeps.
const (
	// maxObjectSize is the largest single PUT (and part).
	maxObjectSize = 5 << 30
	// maxXMLBody bounds the XML documents read into memory (DeleteObjects
	// of 1,000 keys, CompleteMultipartUpload of 10,000 parts).
	maxXMLBody = 4 << 20
	// minPartSize is the smallest part but the last.
	minPartSize = 5 << 20
)

// request is one S3 request as the handlers see it.
type request struct {
	r      *http.Request
	w      http.ResponseWriter
	bucket string
	key    string
	query  url.Values
	// body is the request's payload, decoded (aws-chunked) and checked
	// against its signed hash as it is read.
	body *payload
	// id is who signed the request (nil when unsigned).
	id *awsproto.Identity
}

// ServeHTTP answers one S3 request.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := requestID()
	w.Header().Set("x-amz-request-id", reqID)
	w.Header().Set("x-amz-id-2", reqID)
	w.Header().Set("Server", "hydrant")
	q := r.URL.Query()
	req := &request{r: r, w: w, query: q}
	if err := a.serve(req); err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			var pe *awsproto.Error
			if !errors.As(err, &pe) {
				a.log.Error("s3: request failed", "method", r.Method, "bucket", req.bucket, "key", req.key, "err", err)
			}
		}
		if req.body != nil {
			req.body.drain()
		}
		writeError(w, r, err)
		return
	}
	if req.body != nil {
		req.body.drain()
	}
}

func (a *API) serve(req *request) error {
	r := req.r
	bucket, key, err := a.target(r)
	if err != nil {
		return err
	}
	req.bucket, req.key = bucket, key
	if a.log.Enabled(r.Context(), slog.LevelDebug) {
		a.log.Debug("s3 request", "method", r.Method, "bucket", bucket, "key", key, "query", r.URL.RawQuery,
			"payload", r.Header.Get("X-Amz-Content-Sha256"), "content_encoding", r.Header.Get("Content-Encoding"))
	}
	if err := a.authenticate(req); err != nil {
		return err
	}
	if bucket == "" {
		if r.Method != http.MethodGet || key != "" {
			return errS3("MethodNotAllowed", "Method", r.Method, "ResourceType", "SERVICE")
		}
		return a.listBuckets(req)
	}
	if err := objstore.ValidBucketName(bucket); err != nil {
		return errS3f("InvalidBucketName", err.Error(), "BucketName", bucket)
	}
	if where, remote := a.remote(bucket); remote {
		return errS3f("PermanentRedirect", fmt.Sprintf("Bucket %s is not on hydrant's local store: hydrant delivers it to the S3 service at %s (--bucket-store, --s3-endpoint). Address that endpoint for it.", bucket, where),
			"Bucket", bucket, "Endpoint", where)
	}
	if key == "" {
		return a.bucketOp(req)
	}
	return a.objectOp(req)
}

// target finds the bucket and key of a request: from a BUCKET.localhost
// host (virtual-hosted style), else from the path's first segment.
func (a *API) target(r *http.Request) (bucket, key string, err error) {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	if b, ok := hostBucket(r.Host); ok {
		return b, p[1:], nil
	}
	rest := p[1:]
	bucket, key, _ = strings.Cut(rest, "/")
	return bucket, key, nil
}

// hostBucket reads the bucket of a virtual-hosted request: the labels in
// front of ".localhost", or of ".s3.localhost" and ".s3.REGION.localhost"
// when the client's endpoint names S3 (http://s3.localhost:4566).
func hostBucket(host string) (string, bool) {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	b, ok := strings.CutSuffix(h, ".localhost")
	if !ok || b == "" {
		return "", false
	}
	// An S3 endpoint's own name (s3.localhost, s3.us-east-1.localhost)
	// is not a bucket; in front of it is one.
	labels := strings.Split(b, ".")
	for i := len(labels) - 1; i >= 0 && i >= len(labels)-2; i-- {
		if labels[i] == "s3" {
			return strings.Join(labels[:i], "."), i > 0
		}
	}
	return b, true
}

// authenticate verifies the request's signature when credentials are
// configured, and sets up its payload: the body decoded from aws-chunked
// and checked against the hash it was signed with.
func (a *API) authenticate(req *request) error {
	r := req.r
	declared := r.Header.Get("X-Amz-Content-Sha256")
	var chunks *awsproto.ChunkVerifier
	if a.verifier != nil {
		signed, e := a.verifier.Check(r, awsproto.SigningService{Name: "s3", SingleEncodePath: true})
		if e != nil {
			return e
		}
		hash := declared
		switch {
		case signed.Identity().Presigned:
			if hash == "" {
				hash = r.URL.Query().Get("X-Amz-Content-Sha256")
			}
			if hash == "" {
				hash = awsproto.UnsignedPayload
			}
		case hash == "":
			return errS3f("InvalidRequest", "Missing required header for this request: x-amz-content-sha256")
		}
		id, e := signed.VerifyPayloadHash(hash)
		if e != nil {
			return e
		}
		req.id = id
		if hash == awsproto.StreamingPayload || hash == awsproto.StreamingPayloadTrailer {
			chunks = signed.ChunkVerifier()
		}
		r = r.WithContext(awsproto.WithCaller(r.Context(), id))
		req.r = r
	} else {
		req.r = r.WithContext(awsproto.WithCaller(r.Context(), awsproto.UnverifiedCaller(r)))
	}
	body, err := newPayload(req.r, declared, chunks)
	if err != nil {
		return err
	}
	req.body = body
	return nil
}

// requestID is a fresh request ID in S3's style.
func requestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// s3Time formats a time as S3's XML documents do.
func s3Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// httpTime formats a time as S3's headers do.
func httpTime(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// ctx is the request's context.
func (req *request) ctx() context.Context { return req.r.Context() }

// has reports whether the query names a sub-resource (?versioning).
func (req *request) has(name string) bool {
	_, ok := req.query[name]
	return ok
}
