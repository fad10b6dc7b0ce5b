package awsproto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// S3's streaming payloads (aws-chunked) sign each chunk, chaining from the
// request's own signature, and may end with signed trailing headers
// (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html).
const (
	// StreamingPayload is the X-Amz-Content-Sha256 of a body whose chunks
	// are signed.
	StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingPayloadTrailer is StreamingPayload with signed trailers.
	StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	// StreamingUnsignedTrailer is an unsigned aws-chunked body with
	// trailers (a checksum sent after the data).
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

	chunkAlgorithm   = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER"
	emptySHA256      = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// ChunkVerifier checks the chain of chunk signatures of one streaming
// request body. It is not safe for concurrent use.
type ChunkVerifier struct {
	key   []byte
	stamp string
	scope string
	prev  string
}

// ChunkVerifier returns the verifier of this request's chunk signatures,
// seeded with its signature. Call it after the request's own signature has
// been verified.
func (s *Signed) ChunkVerifier() *ChunkVerifier {
	return &ChunkVerifier{
		key:   s.v.keys.signingKey(s.id.AccessKeyID, s.secret, s.scope),
		stamp: s.stamp, scope: s.scope, prev: s.signature,
	}
}

// Chunk checks the signature of the next chunk, given the SHA-256 of its
// data, and moves the chain on.
func (c *ChunkVerifier) Chunk(dataHash []byte, signature string) bool {
	return c.check(chunkAlgorithm, emptySHA256+"\n"+hex.EncodeToString(dataHash), signature)
}

// Trailer checks the signature of the trailing headers, given the SHA-256
// of their canonical form ("name:value\n" each).
func (c *ChunkVerifier) Trailer(trailerHash []byte, signature string) bool {
	return c.check(trailerAlgorithm, hex.EncodeToString(trailerHash), signature)
}

func (c *ChunkVerifier) check(algorithm, tail, signature string) bool {
	sts := algorithm + "\n" + c.stamp + "\n" + c.scope + "\n" + c.prev + "\n" + tail
	mac := hmac.New(sha256.New, c.key)
	mac.Write([]byte(sts))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return false
	}
	c.prev = signature
	return true
}
