package s3api

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"slices"
	"strings"
)

// S3's additional checksums: the algorithm names S3 uses, each sent as
// x-amz-checksum-<lower-case name> holding the base64 of the big-endian
// digest.
var checksumAlgorithms = []string{"CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"}

// crc64NVME is the NVMe polynomial, reversed as hash/crc64 takes it.
const crc64NVME = 0x9a6c9329ac4bc9b5

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	nvme       = crc64.MakeTable(crc64NVME)
)

func newChecksum(alg string) hash.Hash {
	switch alg {
	case "CRC32":
		return crc32.NewIEEE()
	case "CRC32C":
		return crc32.New(castagnoli)
	case "CRC64NVME":
		return crc64.New(nvme)
	case "SHA1":
		return sha1.New()
	case "SHA256":
		return sha256.New()
	}
	return nil
}

func checksumHeader(alg string) string { return "x-amz-checksum-" + strings.ToLower(alg) }

// validAlgorithm normalizes an x-amz-checksum-algorithm value.
func validAlgorithm(v string) (string, bool) {
	alg := strings.ToUpper(strings.TrimSpace(v))
	return alg, slices.Contains(checksumAlgorithms, alg)
}

// bodyChecks are the digests a request asked S3 to check its body
// against: Content-MD5 and at most one x-amz-checksum-*, whose value comes
// in a header or in the aws-chunked trailer.
type bodyChecks struct {
	md5       hash.Hash
	md5Want   []byte
	alg       string // the additional checksum, "" when none
	sum       hash.Hash
	want      string // its value from the header; "" when it comes in the trailer
	inTrailer bool
}

// parseBodyChecks reads the checksum headers of a request that carries an
// object's (or a part's) bytes.
func parseBodyChecks(h http.Header) (*bodyChecks, error) {
	c := &bodyChecks{}
	if v, ok := h["Content-Md5"]; ok {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[0]))
		if err != nil || len(b) != md5.Size {
			return nil, errS3("InvalidDigest")
		}
		c.md5, c.md5Want = md5.New(), b
	}
	for _, alg := range checksumAlgorithms {
		v := h.Get(checksumHeader(alg))
		if v == "" {
			continue
		}
		if c.alg != "" {
			return nil, errS3f("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		c.alg, c.want = alg, v
	}
	for t := range strings.SplitSeq(h.Get("X-Amz-Trailer"), ",") {
		t = strings.ToLower(strings.TrimSpace(t))
		if t == "" {
			continue
		}
		name, prefixed := strings.CutPrefix(t, "x-amz-checksum-")
		alg, ok := validAlgorithm(name)
		if !prefixed || !ok {
			return nil, errS3f("InvalidRequest", "The value specified in the x-amz-trailer header is not supported: "+t)
		}
		if c.alg != "" && c.alg != alg {
			return nil, errS3f("InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		c.alg, c.inTrailer = alg, true
	}
	if c.alg == "" {
		if v := h.Get("X-Amz-Sdk-Checksum-Algorithm"); v != "" {
			alg, ok := validAlgorithm(v)
			if !ok {
				return nil, invalidArgument("x-amz-sdk-checksum-algorithm", v, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
			}
			// Named without a value: S3 computes it and reports it.
			c.alg = alg
		}
	}
	if c.alg != "" {
		c.sum = newChecksum(c.alg)
	}
	return c, nil
}

// wrap returns r with every digest computed as it is read.
func (c *bodyChecks) wrap(r io.Reader) io.Reader {
	var ws []io.Writer
	if c.md5 != nil {
		ws = append(ws, c.md5)
	}
	if c.sum != nil {
		ws = append(ws, c.sum)
	}
	if len(ws) == 0 {
		return r
	}
	return io.TeeReader(r, io.MultiWriter(ws...))
}

// verify compares the digests with what the request declared, once the
// body has been read; it returns the checksum value to keep.
func (c *bodyChecks) verify(p *payload) (string, error) {
	if c.md5 != nil && !slicesEqual(c.md5.Sum(nil), c.md5Want) {
		return "", errS3("BadDigest")
	}
	if c.sum == nil {
		return "", nil
	}
	got := base64.StdEncoding.EncodeToString(c.sum.Sum(nil))
	want := c.want
	if c.inTrailer {
		want = p.Trailer(checksumHeader(c.alg))
		if want == "" {
			return "", errS3f("InvalidRequest", "The x-amz-trailer header named "+checksumHeader(c.alg)+" but the body sent no such trailer.")
		}
	}
	if want != "" && want != got {
		return "", errS3f("BadDigest", "The "+c.alg+" you specified did not match the calculated checksum.")
	}
	return got, nil
}

func slicesEqual(a, b []byte) bool { return string(a) == string(b) }
