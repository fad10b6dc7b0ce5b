package awsproto

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// testNow is the server clock of the tests that sign with the SDK.
var testNow = time.Date(2023, 11, 10, 12, 20, 0, 0, time.UTC)

var testKey = aws.Credentials{AccessKeyID: "AKIAHYDRANTTEST", SecretAccessKey: "hydrant/secret+key"}

func testVerifier(t testing.TB) *Verifier {
	c, err := NewCredentials(
		Credential{AccessKeyID: testKey.AccessKeyID, SecretAccessKey: testKey.SecretAccessKey, Profile: "default"},
		Credential{AccessKeyID: "AKIASESSION", SecretAccessKey: "s3cr3t", SessionToken: "tok", Profile: "session"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return &Verifier{Credentials: c, Now: func() time.Time { return testNow }}
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sdkSigned builds a request as a server receives it (RequestURI set) and
// signs it with aws-sdk-go-v2's SigV4 signer at time at.
func sdkSigned(t testing.TB, method, target string, body []byte, service string, at time.Time, creds aws.Credentials, hdr map[string]string, opts ...func(*v4.SignerOptions)) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	hash := hexSHA256(body)
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		hash = h
	}
	if err := v4.NewSigner(opts...).SignHTTP(context.Background(), creds, r, hash, service, "us-east-1", at); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSigV4SDKSigned(t *testing.T) {
	v := testVerifier(t)
	batch := []byte(`{"DeliveryStreamName":"s","Records":[{"Data":"aGVsbG8="}]}`)
	jsonHdr := map[string]string{"Content-Type": ContentTypeJSON11, "X-Amz-Target": "Firehose_20150804.PutRecordBatch"}
	cases := []struct {
		name    string
		method  string
		target  string
		body    []byte
		service string
		hdr     map[string]string
		creds   aws.Credentials
		s3      bool
	}{
		{name: "awsJson PutRecordBatch", method: "POST", target: "http://firehose.local:4566/", body: batch, service: "firehose", hdr: jsonHdr},
		{name: "empty body", method: "POST", target: "http://127.0.0.1:4566/", body: nil, service: "firehose", hdr: jsonHdr},
		{name: "query needing encoding", method: "GET", target: "http://h/?prefix=a%2Fb&marker=x%20y&list-type=2&empty=&%E1%88%B4=%C3%BC&plus=a+b", service: "s3x"},
		{name: "REST path double-encoded", method: "POST", target: "http://h/2015-03-31/functions/my%3Afunc/invocations?Qualifier=v%201", body: []byte("{}"), service: "lambda"},
		{name: "folded header whitespace", method: "POST", target: "http://h/", body: batch, service: "firehose", hdr: map[string]string{"X-Amz-Meta-Note": "  a   b  c ", "X-Amz-Target": "T.Op"}},
		{name: "session token", method: "POST", target: "http://h/", body: batch, service: "firehose", creds: aws.Credentials{AccessKeyID: "AKIASESSION", SecretAccessKey: "s3cr3t", SessionToken: "tok"}},
		{name: "S3 single-encoded unsigned payload", method: "PUT", target: "http://h/bucket/key%20with%20space/a+b%2Bc", body: []byte("object bytes"), service: "s3", s3: true,
			hdr: map[string]string{"X-Amz-Content-Sha256": UnsignedPayload}},
		{name: "S3 streaming payload", method: "PUT", target: "http://h/bucket/k", body: []byte("chunks"), service: "s3", s3: true,
			hdr: map[string]string{"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "X-Amz-Decoded-Content-Length": "6"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			creds := testKey
			if c.creds.AccessKeyID != "" {
				creds = c.creds
			}
			var opts []func(*v4.SignerOptions)
			if c.s3 {
				opts = append(opts, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
			}
			r := sdkSigned(t, c.method, c.target, c.body, c.service, testNow.Add(-time.Minute), creds, c.hdr, opts...)
			svc := SigningService{Name: c.service, SingleEncodePath: c.s3}
			var id *Identity
			var e *Error
			if c.s3 {
				var s *Signed
				if s, e = v.Check(r, svc); e == nil {
					id, e = s.VerifyPayloadHash(r.Header.Get("X-Amz-Content-Sha256"))
				}
			} else {
				id, e = v.Verify(r, c.body, svc)
			}
			if e != nil {
				t.Fatalf("verify: %v", e)
			}
			if id.AccessKeyID != creds.AccessKeyID || id.Service != c.service || id.Region != "us-east-1" {
				t.Errorf("identity = %+v", id)
			}
			if !c.s3 {
				// The payload hash covers the body: one changed byte fails.
				tampered := append([]byte(nil), c.body...)
				tampered = append(tampered, ' ')
				if _, e := v.Verify(r, tampered, svc); e == nil || e.Message != msgSignatureMismatch {
					t.Errorf("tampered body verified: %v", e)
				}
			}
		})
	}
}

func TestSigV4Presigned(t *testing.T) {
	v := testVerifier(t)
	for _, c := range []struct {
		service string
		s3      bool
		hash    string
	}{{"sts", false, hexSHA256(nil)}, {"s3", true, UnsignedPayload}} {
		t.Run(c.service, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://h/bucket/some%20key?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=300", nil)
			signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = c.s3 })
			u, hdr, err := signer.PresignHTTP(context.Background(), testKey, req, c.hash, c.service, "us-east-1", testNow.Add(-2*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", u, nil)
			for k, vs := range hdr {
				r.Header[k] = vs
			}
			svc := SigningService{Name: c.service, SingleEncodePath: c.s3}
			s, e := v.Check(r, svc)
			if e != nil {
				t.Fatalf("check: %v", e)
			}
			if _, e := s.VerifyPayloadHash(c.hash); e != nil {
				t.Fatalf("verify: %v", e)
			}
			if !s.Identity().Presigned {
				t.Error("identity not marked presigned")
			}
			// Ten minutes later the 300-second URL has expired.
			late := &Verifier{Credentials: v.Credentials, Now: func() time.Time { return testNow.Add(8 * time.Minute) }}
			_, e = late.Check(r, svc)
			want := "Signature expired: 20231110T121800Z is now earlier than 20231110T122300Z (20231110T122800Z - 5 min.)"
			if e == nil || e.Type != InvalidSignatureException || e.Message != want {
				t.Errorf("expired presigned URL: got %v, want %s", e, want)
			}
		})
	}
}

func TestSigV4Errors(t *testing.T) {
	v := testVerifier(t)
	good := func() *http.Request {
		return sdkSigned(t, "POST", "http://h/", []byte("{}"), "firehose", testNow, testKey, map[string]string{"X-Amz-Target": "Firehose_20150804.ListDeliveryStreams"})
	}
	withAuth := func(f func(string) string) *http.Request {
		r := good()
		r.Header.Set("Authorization", f(r.Header.Get("Authorization")))
		return r
	}
	cases := []struct {
		name     string
		req      func() *http.Request
		body     []byte
		svc      SigningService
		wantType string
		wantMsg  string // exact; a trailing "*" matches a prefix
	}{
		{"unsigned", func() *http.Request { return httptest.NewRequest("POST", "http://h/", nil) }, nil, SigningService{},
			MissingAuthenticationTokenException, "Request is missing Authentication Token"},
		{"not SigV4", func() *http.Request {
			r := httptest.NewRequest("POST", "http://h/", nil)
			r.Header.Set("Authorization", "Bearer abc")
			return r
		}, nil, SigningService{}, MissingAuthenticationTokenException, "Request is missing Authentication Token"},
		{"both forms", func() *http.Request {
			r := good()
			r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
			return r
		}, nil, SigningService{}, InvalidSignatureException, "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."},
		{"missing parameters", func() *http.Request {
			r := good()
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=a/b")
			r.Header.Del("X-Amz-Date")
			return r
		}, nil, SigningService{}, IncompleteSignatureException,
			"Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=a/b"},
		{"space after Credential=", func() *http.Request {
			return withAuth(func(a string) string { return strings.Replace(a, "Credential=", "Credential= ", 1) })
		}, nil, SigningService{}, IncompleteSignatureException, "'AKIAHYDRANTTEST/20231110/us-east-1/firehose/aws4_request' not a valid key=value pair (missing equal-sign) in Authorization header: *"},
		{"bad date", func() *http.Request {
			r := good()
			r.Header.Set("X-Amz-Date", "2023-11-10T12:20:00Z")
			return r
		}, nil, SigningService{}, IncompleteSignatureException, "Date must be in ISO-8601 'basic format'. Got '2023-11-10T12:20:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		{"expired", func() *http.Request {
			return sdkSigned(t, "POST", "http://h/", nil, "firehose", testNow.Add(-20*time.Minute), testKey, nil)
		}, nil, SigningService{}, InvalidSignatureException, "Signature expired: 20231110T120000Z is now earlier than 20231110T121500Z (20231110T122000Z - 5 min.)"},
		{"not yet current", func() *http.Request {
			return sdkSigned(t, "POST", "http://h/", nil, "firehose", testNow.Add(10*time.Minute), testKey, nil)
		}, nil, SigningService{}, InvalidSignatureException, "Signature not yet current: 20231110T123000Z is still later than 20231110T122500Z (20231110T122000Z + 5 min.)"},
		{"host not signed", func() *http.Request {
			return withAuth(func(a string) string { return strings.Replace(a, ";host;", ";", 1) })
		}, nil, SigningService{}, InvalidSignatureException, "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		{"SigV4a", func() *http.Request {
			return withAuth(func(a string) string { return strings.Replace(a, "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1) })
		}, nil, SigningService{}, IncompleteSignatureException, "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now). "},
		{"short credential", func() *http.Request {
			return withAuth(func(a string) string { return strings.Replace(a, "/aws4_request", "", 1) })
		}, nil, SigningService{}, IncompleteSignatureException, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIAHYDRANTTEST/20231110/us-east-1/firehose'"},
		{"wrong service", good, nil, SigningService{Name: "kinesis"}, InvalidSignatureException, "Credential should be scoped to correct service: 'kinesis'. "},
		{"wrong region", good, nil, SigningService{Region: "eu-west-1"}, InvalidSignatureException, "Credential should be scoped to a valid region, not 'us-east-1'. "},
		{"scope terminator and date", func() *http.Request {
			return withAuth(func(a string) string {
				return strings.Replace(a, "20231110/us-east-1/firehose/aws4_request", "20231109/us-east-1/firehose/aws5_request", 1)
			})
		}, nil, SigningService{}, InvalidSignatureException,
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20231109' != '20231110', from '20231110T122000Z'."},
		{"unknown key", func() *http.Request {
			return sdkSigned(t, "POST", "http://h/", nil, "firehose", testNow, aws.Credentials{AccessKeyID: "AKIANOBODY", SecretAccessKey: "x"}, nil)
		}, nil, SigningService{}, UnrecognizedClientException, "The security token included in the request is invalid."},
		{"wrong session token", func() *http.Request {
			return sdkSigned(t, "POST", "http://h/", nil, "firehose", testNow, aws.Credentials{AccessKeyID: "AKIASESSION", SecretAccessKey: "s3cr3t", SessionToken: "other"}, nil)
		}, nil, SigningService{}, UnrecognizedClientException, "The security token included in the request is invalid."},
		{"wrong secret", func() *http.Request {
			return sdkSigned(t, "POST", "http://h/", nil, "firehose", testNow, aws.Credentials{AccessKeyID: testKey.AccessKeyID, SecretAccessKey: "wrong"}, nil)
		}, nil, SigningService{}, InvalidSignatureException, msgSignatureMismatch},
		{"unsigned header changed", func() *http.Request {
			r := good()
			r.Header.Set("X-Amz-Target", "Firehose_20150804.DeleteDeliveryStream")
			return r
		}, []byte("{}"), SigningService{}, InvalidSignatureException, msgSignatureMismatch},
		{"presigned missing parameters", func() *http.Request {
			return httptest.NewRequest("GET", "http://h/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20231110T122000Z", nil)
		}, nil, SigningService{}, IncompleteSignatureException,
			"AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."},
		{"presigned for too long", func() *http.Request {
			return httptest.NewRequest("GET", "http://h/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20231110T122000Z&X-Amz-Credential=a%2Fb%2Fc%2Fd%2Fe&X-Amz-Signature=00&X-Amz-SignedHeaders=host&X-Amz-Expires=604801", nil)
		}, nil, SigningService{}, IncompleteSignatureException, "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, e := v.Verify(c.req(), c.body, c.svc)
			if e == nil {
				t.Fatal("verified; want an error")
			}
			msgOK := e.Message == c.wantMsg
			if p, ok := strings.CutSuffix(c.wantMsg, "*"); ok {
				msgOK = strings.HasPrefix(e.Message, p)
			}
			if e.Type != c.wantType || !msgOK || e.Status != http.StatusBadRequest {
				t.Errorf("got %s %d %q\nwant %s 400 %q", e.Type, e.Status, e.Message, c.wantType, c.wantMsg)
			}
		})
	}
}

// TestSigV4OverSocket sends SDK-signed requests through a real HTTP server,
// so that what net/http does to a request (Host, Content-Length, header
// canonicalization) is what gets verified.
func TestSigV4OverSocket(t *testing.T) {
	v := testVerifier(t)
	v.Now = nil // real clock: the requests are signed now
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if _, e := v.Verify(r, body, SigningService{Name: "firehose"}); e != nil {
			WriteJSONError(w, e)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	for _, size := range []int{0, 1, 150 << 10} {
		body := bytes.Repeat([]byte("x"), size)
		req, _ := http.NewRequest("POST", srv.URL+"/?a=b%20c", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", "Firehose_20150804.PutRecordBatch")
		req.Header.Set("Content-Type", ContentTypeJSON11)
		if err := v4.NewSigner().SignHTTP(context.Background(), testKey, req, hexSHA256(body), "firehose", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("%d-byte body: %d %s", size, resp.StatusCode, msg)
		}
	}
}
