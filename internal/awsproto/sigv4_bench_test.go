package awsproto

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"
)

// BenchmarkVerify150KB measures verifying a PutRecordBatch-sized request:
// it should cost little more than the SHA-256 over the body that
// BenchmarkSHA256150KB measures alone.
func BenchmarkVerify150KB(b *testing.B) {
	body := bytes.Repeat([]byte(`{"Data":"aGVsbG8gd29ybGQK"},`), 150<<10/28)
	r := sdkSigned(b, "POST", "http://firehose.local:4566/", body, "firehose", testNow, testKey,
		map[string]string{"Content-Type": ContentTypeJSON11, "X-Amz-Target": "Firehose_20150804.PutRecordBatch", "User-Agent": "aws-sdk-go-v2/1.0"})
	v := testVerifier(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, e := v.Verify(r, body, SigningService{Name: "firehose"}); e != nil {
			b.Fatal(e)
		}
	}
}

func BenchmarkSHA256150KB(b *testing.B) {
	body := bytes.Repeat([]byte(`{"Data":"aGVsbG8gd29ybGQK"},`), 150<<10/28)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = sha256.Sum256(body)
	}
}

// BenchmarkVerifyEmpty is the fixed cost: parsing, canonical request and
// the final HMAC, with the signing key cached.
func BenchmarkVerifyEmpty(b *testing.B) {
	r := sdkSigned(b, "POST", "http://firehose.local:4566/", nil, "firehose", testNow, testKey,
		map[string]string{"Content-Type": ContentTypeJSON11, "X-Amz-Target": "Firehose_20150804.ListDeliveryStreams"})
	v := testVerifier(b)
	v.Now = func() time.Time { return testNow }
	b.ReportAllocs()
	for b.Loop() {
		if _, e := v.Verify(r, nil, SigningService{Name: "firehose"}); e != nil {
			b.Fatal(e)
		}
	}
}
