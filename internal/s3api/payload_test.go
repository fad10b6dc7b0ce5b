package s3api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func chunkedRequest(body string, decoded int) *http.Request {
	r, _ := http.NewRequest(http.MethodPut, "http://localhost/b/k", strings.NewReader(body))
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", itoa(int64(decoded)))
	return r
}

func TestChunkedPayload(t *testing.T) {
	for _, tt := range []struct {
		name, body, declared, want, trailer, code string
		decoded                                   int
	}{
		{name: "unsigned with a trailer", declared: "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
			body: "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n", decoded: 11, want: "hello world", trailer: "DUoRhQ=="},
		{name: "signed chunks, signatures not checked without credentials", declared: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
			body: "3;chunk-signature=ab\r\nabc\r\n0;chunk-signature=cd\r\n\r\n", decoded: 3, want: "abc"},
		{name: "no final CRLF", declared: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", body: "2\r\nhi\r\n0\r\n", decoded: 2, want: "hi"},
		{name: "short body", declared: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", body: "5\r\nhel", decoded: 5, code: "IncompleteBody"},
		{name: "chunk longer than declared", declared: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", body: "2\r\nhello\r\n0\r\n\r\n", decoded: 5, code: "IncompleteBody"},
		{name: "more than the decoded length", declared: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", body: "5\r\nhello\r\n0\r\n\r\n", decoded: 3, code: "IncompleteBody"},
		{name: "less than the decoded length", declared: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", body: "5\r\nhello\r\n0\r\n\r\n", decoded: 9, code: "IncompleteBody"},
		{name: "bad size", declared: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", body: "zz\r\nhello\r\n", decoded: 5, code: "IncompleteBody"},
		{name: "signed chunk without signature", declared: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", body: "3\r\nabc\r\n0\r\n\r\n", decoded: 3, code: "IncompleteBody"},
		{name: "endless header line", declared: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", body: "5;" + strings.Repeat("x", 10000) + "\r\nhello", decoded: 5, code: "InvalidRequest"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPayload(chunkedRequest(tt.body, tt.decoded), tt.declared, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(p)
			var ae *apiError
			switch {
			case tt.code != "":
				if !errors.As(err, &ae) || ae.code != tt.code {
					t.Fatalf("read = %q, %v; want %s", got, err, tt.code)
				}
			case err != nil || string(got) != tt.want:
				t.Fatalf("read = %q, %v; want %q", got, err, tt.want)
			case p.Trailer("x-amz-checksum-crc32") != tt.trailer:
				t.Fatalf("trailer = %q; want %q", p.Trailer("x-amz-checksum-crc32"), tt.trailer)
			}
		})
	}
}

// FuzzChunkedPayload: any body decodes to at most its declared length or
// fails with an S3 error; nothing panics.
func FuzzChunkedPayload(f *testing.F) {
	f.Add([]byte("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n"), 5)
	f.Add([]byte("3;chunk-signature=ab\r\nabc\r\n0;chunk-signature=cd\r\n\r\n"), 3)
	f.Fuzz(func(t *testing.T, body []byte, decoded int) {
		if decoded < 0 {
			decoded = -decoded
		}
		r := chunkedRequest(string(body), decoded%4096)
		p, err := newPayload(r, "STREAMING-UNSIGNED-PAYLOAD-TRAILER", nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(p)
		if len(got) > decoded%4096 {
			t.Fatalf("decoded %d bytes; declared %d", len(got), decoded%4096)
		}
		var ae *apiError
		if err != nil && !errors.As(err, &ae) {
			t.Fatalf("error %v is not an S3 error", err)
		}
	})
}

func TestParseRange(t *testing.T) {
	for _, tt := range []struct {
		h             string
		start, length int64
		ok, bad       bool
	}{
		{"bytes=0-4", 0, 5, true, false},
		{"bytes=5-", 5, 5, true, false},
		{"bytes=-3", 7, 3, true, false},
		{"bytes=-30", 0, 10, true, false},
		{"bytes=8-100", 8, 2, true, false},
		{"bytes=10-", 0, 0, false, true},
		{"bytes=-0", 0, 0, false, true},
		{"bytes=5-2", 0, 0, false, false},
		{"bytes=0-1,3-4", 0, 0, false, false},
		{"items=0-1", 0, 0, false, false},
	} {
		s, l, ok, err := parseRange(tt.h, 10)
		if s != tt.start || l != tt.length || ok != tt.ok || (err != nil) != tt.bad {
			t.Errorf("parseRange(%q) = %d, %d, %v, %v", tt.h, s, l, ok, err)
		}
	}
}

func TestHostBucket(t *testing.T) {
	for host, want := range map[string]string{
		"localhost:4566": "", "127.0.0.1:4566": "", "s3.localhost:4566": "", "s3.us-east-1.localhost": "",
		"logs.localhost:4566": "logs", "my.dotted.bucket.localhost": "my.dotted.bucket",
		"logs.s3.localhost:4566": "logs", "logs.s3.eu-west-1.localhost:4566": "logs", "LOGS.localhost.": "logs",
	} {
		got, ok := hostBucket(host)
		if got != want || ok != (want != "") {
			t.Errorf("hostBucket(%q) = %q, %v; want %q", host, got, ok, want)
		}
	}
}
