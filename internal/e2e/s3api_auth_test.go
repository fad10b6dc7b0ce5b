package e2e

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// s3Status sends a raw request and returns its status and S3 error code.
func s3Status(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body := string(readAll(t, resp.Body))
	code := ""
	if _, after, ok := strings.Cut(body, "<Code>"); ok {
		code, _, _ = strings.Cut(after, "</Code>")
	}
	return resp.StatusCode, code
}

// TestS3APICredentials: with --credentials every S3 request needs a valid
// signature: header-signed with a hashed or unsigned payload, presigned,
// or streamed in signed chunks (minio-go); unsigned requests, wrong keys,
// tampered presigned URLs and a chunk whose bytes changed are refused.
func TestS3APICredentials(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--credentials", writeCredentials(t))
	ctx := t.Context()
	c := s3Client(s, authKeyID, authSecret, false)
	b := aws.String("signed")
	try(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: b})).must(t)
	try(c.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("k"), Body: strings.NewReader("signed bytes")})).must(t)
	if got, _ := getBody(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")}); got != "signed bytes" {
		t.Fatalf("GetObject = %q", got)
	}

	// Unsigned and wrongly signed requests.
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/signed/k", nil)
	if status, code := s3Status(t, req); status != 403 || code != "AccessDenied" {
		t.Errorf("unsigned GET = %d %s; want 403 AccessDenied", status, code)
	}
	req, _ = http.NewRequest(http.MethodPut, s.URL+"/signed/evil", strings.NewReader("x"))
	if status, _ := s3Status(t, req); status != 403 {
		t.Errorf("unsigned PUT = %d; want 403", status)
	}
	wrong := s3Client(s, authKeyID, "not-the-secret", false)
	if _, err := wrong.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")}); s3ErrCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret = %v; want SignatureDoesNotMatch", err)
	}
	unknown := s3Client(s, "AKIANOBODY", "x", false)
	if _, err := unknown.ListBuckets(ctx, &s3.ListBucketsInput{}); s3ErrCode(err) != "InvalidAccessKeyId" {
		t.Errorf("unknown key = %v; want InvalidAccessKeyId", err)
	}

	// A body whose signed hash does not match.
	req, _ = http.NewRequest(http.MethodPut, s.URL+"/signed/tampered", strings.NewReader("other bytes"))
	sum := sha256.Sum256([]byte("the signed bytes"))
	signReq(t, req, hex.EncodeToString(sum[:]))
	if status, code := s3Status(t, req); status != 400 || code != "XAmzContentSHA256Mismatch" {
		t.Errorf("PUT with another body's hash = %d %s", status, code)
	}

	// Presigned URLs.
	pre := s3.NewPresignClient(c)
	u := try(pre.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: aws.String("k")}, s3.WithPresignExpires(time.Minute))).must(t)
	resp, err := http.Get(u.URL)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "signed bytes" {
		t.Fatalf("presigned GET = %d %q", resp.StatusCode, got)
	}
	req, _ = http.NewRequest(http.MethodGet, strings.Replace(u.URL, "/signed/k", "/signed/other", 1), nil)
	if status, code := s3Status(t, req); status != 403 || code != "SignatureDoesNotMatch" {
		t.Errorf("tampered presigned URL = %d %s", status, code)
	}
	up := try(pre.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: aws.String("presigned-put")})).must(t)
	req, _ = http.NewRequest(http.MethodPut, up.URL, strings.NewReader("put by URL"))
	if status, code := s3Status(t, req); status != 200 {
		t.Errorf("presigned PUT = %d %s", status, code)
	}

	// minio-go streams PUT bodies in signed chunks over plain HTTP.
	mc, err := minio.New(s.Addr, &minio.Options{Creds: miniocreds.NewStaticV4(authKeyID, authSecret, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("chunked "), 40_000)
	if _, err := mc.PutObject(ctx, "signed", "minio/obj", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{ContentType: "text/plain"}); err != nil {
		t.Fatalf("minio PutObject: %v", err)
	}
	if !strings.Contains(s.logs.String(), `key=minio/obj query="" payload=STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) {
		t.Error("minio-go did not stream its PUT in signed chunks")
	}
	obj, err := mc.GetObject(ctx, "signed", "minio/obj", minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, obj); !bytes.Equal(got, data) {
		t.Fatalf("minio GetObject: %d bytes", len(got))
	}
	badMinio, _ := minio.New(s.Addr, &minio.Options{Creds: miniocreds.NewStaticV4(authKeyID, "wrong", ""), Region: "us-east-1"})
	if _, err := badMinio.PutObject(ctx, "signed", "minio/bad", bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); minio.ToErrorResponse(err).Code != "SignatureDoesNotMatch" {
		t.Errorf("minio with a wrong secret = %v", err)
	}

	// A streamed body whose chunk changed after it was signed.
	for _, tamper := range []bool{false, true} {
		req := signedChunkedPut(t, s.URL+"/signed/chunked", []byte("first chunk of data"), []byte("second"), tamper)
		status, code := s3Status(t, req)
		switch {
		case !tamper && status != 200:
			t.Errorf("signed chunked PUT = %d %s", status, code)
		case tamper && (status != 403 || code != "SignatureDoesNotMatch"):
			t.Errorf("tampered chunk = %d %s; want 403 SignatureDoesNotMatch", status, code)
		}
	}
	if got, _ := getBody(t, c, &s3.GetObjectInput{Bucket: b, Key: aws.String("chunked")}); got != "first chunk of datasecond" {
		t.Errorf("chunked object = %q", got)
	}
}

// signReq signs req for S3 with the test key and the given payload hash.
func signReq(t *testing.T, req *http.Request, payloadHash string) {
	t.Helper()
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: authKeyID, SecretAccessKey: authSecret},
		req, payloadHash, "s3", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

// signedChunkedPut builds a STREAMING-AWS4-HMAC-SHA256-PAYLOAD PUT of the
// chunks, signed as the SigV4 streaming spec says; with tamper, the first
// chunk's bytes are changed after signing.
func signedChunkedPut(t *testing.T, url string, chunks ...any) *http.Request {
	t.Helper()
	var parts [][]byte
	tamper := false
	for _, c := range chunks {
		switch v := c.(type) {
		case []byte:
			parts = append(parts, v)
		case bool:
			tamper = v
		}
	}
	decoded := 0
	for _, p := range parts {
		decoded += len(p)
	}
	req, _ := http.NewRequest(http.MethodPut, url, nil)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(decoded))
	signReq(t, req, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	auth := req.Header.Get("Authorization")
	_, seed, _ := strings.Cut(auth, "Signature=")
	date := req.Header.Get("X-Amz-Date")
	scope := date[:8] + "/us-east-1/s3/aws4_request"
	key := []byte("AWS4" + authSecret)
	for _, s := range []string{date[:8], "us-east-1", "s3", "aws4_request"} {
		key = hmacSum(key, s)
	}
	prev := seed
	var body bytes.Buffer
	empty := sha256.Sum256(nil)
	for _, p := range append(parts, nil) {
		h := sha256.Sum256(p)
		sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + date + "\n" + scope + "\n" + prev + "\n" + hex.EncodeToString(empty[:]) + "\n" + hex.EncodeToString(h[:])
		sig := hex.EncodeToString(hmacSum(key, sts))
		data := p
		if tamper && len(p) > 0 {
			data = bytes.Clone(p)
			data[0] ^= 1
			tamper = false
		}
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", len(p), sig)
		body.Write(data)
		body.WriteString("\r\n")
		prev = sig
	}
	req.Body = io.NopCloser(&body)
	req.ContentLength = int64(body.Len())
	return req
}

func hmacSum(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}
