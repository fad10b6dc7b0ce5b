package s3api

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// payload is a request body as S3 takes it: decoded from aws-chunked when
// it was sent so, its chunk signatures and signed hash checked as it is
// read, and its length held to what the request declared. Errors are S3's
// (IncompleteBody, XAmzContentSHA256Mismatch, SignatureDoesNotMatch).
type payload struct {
	raw  io.ReadCloser
	r    io.Reader
	size int64 // the decoded length declared; -1 when none was
	n    int64
	// sha checks a body sent with its hex SHA-256 as X-Amz-Content-Sha256.
	sha     hash.Hash
	wantSHA string
	chunked *chunkedReader
	err     error
}

// newPayload sets up the body of r. declared is its X-Amz-Content-Sha256;
// chunks verifies chunk signatures (nil when unsigned or not streaming).
func newPayload(r *http.Request, declared string, chunks *awsproto.ChunkVerifier) (*payload, error) {
	p := &payload{raw: r.Body, size: r.ContentLength}
	if r.Body == nil || r.Body == http.NoBody {
		p.raw, p.size = http.NoBody, 0
	}
	p.r = p.raw
	streaming := strings.HasPrefix(declared, "STREAMING-") || hasToken(r.Header.Get("Content-Encoding"), "aws-chunked")
	switch {
	case streaming:
		switch declared {
		case awsproto.StreamingPayload, awsproto.StreamingPayloadTrailer, awsproto.StreamingUnsignedTrailer, "", awsproto.UnsignedPayload:
		default:
			return nil, notImplemented("x-amz-content-sha256 " + declared)
		}
		dl := r.Header.Get("X-Amz-Decoded-Content-Length")
		n, err := strconv.ParseInt(dl, 10, 64)
		if err != nil || n < 0 {
			return nil, errS3f("MissingContentLength", "an aws-chunked body needs x-amz-decoded-content-length")
		}
		p.size = n
		signed := declared == awsproto.StreamingPayload || declared == awsproto.StreamingPayloadTrailer
		p.chunked = &chunkedReader{br: bufio.NewReaderSize(p.raw, 64<<10), verify: chunks, signed: signed,
			trailerSigned: declared == awsproto.StreamingPayloadTrailer}
		p.r = p.chunked
	case len(declared) == 64 && isHex(declared):
		p.sha, p.wantSHA = sha256.New(), strings.ToLower(declared)
	}
	return p, nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// hasToken reports whether a comma-separated header value holds tok.
func hasToken(v, tok string) bool {
	for t := range strings.SplitSeq(v, ",") {
		if strings.EqualFold(strings.TrimSpace(t), tok) {
			return true
		}
	}
	return false
}

// Read reads decoded bytes, failing with S3's error when the body does not
// hold what was declared.
func (p *payload) Read(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	n, err := p.r.Read(b)
	over := p.size >= 0 && p.n+int64(n) > p.size
	if over {
		n = int(p.size - p.n) // never hand out bytes past the declared length
	}
	p.n += int64(n)
	if p.sha != nil {
		p.sha.Write(b[:n])
	}
	switch {
	case over:
		p.err = errS3f("IncompleteBody", "the body holds more bytes than its declared length")
	case errors.Is(err, io.ErrUnexpectedEOF):
		p.err = errS3("IncompleteBody")
	case err == io.EOF:
		if p.size >= 0 && p.n < p.size {
			p.err = errS3("IncompleteBody")
		} else if p.sha != nil && hex.EncodeToString(p.sha.Sum(nil)) != p.wantSHA {
			p.err = errS3("XAmzContentSHA256Mismatch", "ClientComputedContentSHA256", p.wantSHA, "S3ComputedContentSHA256", hex.EncodeToString(p.sha.Sum(nil)))
		} else {
			p.err = io.EOF
		}
	case err != nil:
		var ae *apiError
		if errors.As(err, &ae) {
			p.err = ae
		} else {
			p.err = errS3f("IncompleteBody", "reading the body failed: "+err.Error())
		}
	}
	if p.err != nil {
		return n, p.err
	}
	return n, nil
}

// Trailer returns a trailing header of an aws-chunked body, once the body
// has been read to its end.
func (p *payload) Trailer(name string) string {
	if p.chunked == nil {
		return ""
	}
	return p.chunked.trailers[strings.ToLower(name)]
}

// Size is the decoded length the request declared, -1 if none.
func (p *payload) Size() int64 { return p.size }

// drain closes the body; net/http discards what is left unread.
func (p *payload) drain() { _ = p.raw.Close() }

// readAll reads a small body (an XML document) of at most max bytes,
// charged to the budget while it is held.
func (a *API) readAll(req *request, max int64) ([]byte, func(), error) {
	if req.body.size > max {
		return nil, func() {}, errS3f("InvalidRequest", "the request body is larger than "+strconv.FormatInt(max, 10)+" bytes")
	}
	want := req.body.size
	if want < 0 {
		want = 64 << 10
	}
	got, ok := a.budget.Acquire(req.ctx(), want)
	if !ok {
		return nil, func() {}, errS3("SlowDown")
	}
	release := func() { a.budget.Release(got) }
	var buf bytes.Buffer
	_, err := io.Copy(&buf, io.LimitReader(req.body, max+1))
	if err != nil {
		release()
		return nil, func() {}, err
	}
	if int64(buf.Len()) > max {
		release()
		return nil, func() {}, errS3f("InvalidRequest", "the request body is larger than "+strconv.FormatInt(max, 10)+" bytes")
	}
	return buf.Bytes(), release, nil
}

// chunkedReader decodes an aws-chunked body:
//
//	hex-size[;chunk-signature=sig]\r\n data \r\n ... 0[;chunk-signature=sig]\r\n
//	[trailer-name:value\r\n ... [x-amz-trailer-signature:sig\r\n]] \r\n
type chunkedReader struct {
	br            *bufio.Reader
	verify        *awsproto.ChunkVerifier
	signed        bool // chunks carry chunk-signature
	trailerSigned bool
	started       bool
	left          int64
	sig           string
	h             hash.Hash
	done          bool
	trailers      map[string]string
}

const (
	maxChunkLine = 4 << 10
	maxTrailers  = 16
)

func (c *chunkedReader) Read(b []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	for c.left == 0 {
		if err := c.next(); err != nil {
			return 0, err
		}
		if c.done {
			return 0, io.EOF
		}
	}
	if int64(len(b)) > c.left {
		b = b[:c.left]
	}
	n, err := c.br.Read(b)
	c.left -= int64(n)
	if c.h != nil {
		c.h.Write(b[:n])
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// next finishes the chunk just read and starts the next one.
func (c *chunkedReader) next() error {
	if c.started {
		if err := c.expectCRLF(); err != nil {
			return err
		}
		if err := c.checkChunk(); err != nil {
			return err
		}
	}
	c.started = true
	line, err := c.line()
	if err != nil {
		return err
	}
	sizeHex, ext, _ := strings.Cut(line, ";")
	size, err := strconv.ParseInt(strings.TrimSpace(sizeHex), 16, 64)
	if err != nil || size < 0 || size > maxObjectSize {
		return errS3f("IncompleteBody", "malformed aws-chunked chunk header "+strconv.Quote(truncate(line, 80)))
	}
	c.sig = ""
	if name, v, ok := strings.Cut(ext, "="); ok && strings.TrimSpace(name) == "chunk-signature" {
		c.sig = strings.TrimSpace(v)
	}
	if c.signed && c.sig == "" {
		return errS3f("IncompleteBody", "aws-chunked chunk without its chunk-signature")
	}
	if c.verify != nil {
		c.h = sha256.New()
	}
	c.left = size
	if size > 0 {
		return nil
	}
	// The final chunk: its signature covers no data; then the trailers.
	if err := c.checkChunk(); err != nil {
		return err
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	c.done = true
	return nil
}

// checkChunk verifies the signature of the chunk whose data was hashed.
func (c *chunkedReader) checkChunk() error {
	if c.verify == nil {
		return nil
	}
	if !c.verify.Chunk(c.h.Sum(nil), c.sig) {
		return errS3f("SignatureDoesNotMatch", "The chunk signature of an aws-chunked body does not match the signature calculated with your key.")
	}
	return nil
}

func (c *chunkedReader) readTrailers() error {
	var canon strings.Builder
	trailerSig := ""
	for i := 0; ; i++ {
		line, err := c.line()
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) && i == 0 {
				return nil // "0\r\n" and the end: no trailer, no final CRLF
			}
			return err
		}
		if line == "" {
			break
		}
		if i >= maxTrailers {
			return errS3f("InvalidRequest", "too many trailing headers in the aws-chunked body")
		}
		name, v, ok := strings.Cut(line, ":")
		if !ok {
			return errS3f("InvalidRequest", "malformed trailing header "+strconv.Quote(truncate(line, 80)))
		}
		name, v = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(v)
		if name == "x-amz-trailer-signature" {
			trailerSig = v
			continue
		}
		if c.trailers == nil {
			c.trailers = map[string]string{}
		}
		c.trailers[name] = v
		canon.WriteString(name + ":" + v + "\n")
	}
	if c.verify != nil && c.trailerSigned {
		sum := sha256.Sum256([]byte(canon.String()))
		if !c.verify.Trailer(sum[:], trailerSig) {
			return errS3f("SignatureDoesNotMatch", "The trailer signature of an aws-chunked body does not match the signature calculated with your key.")
		}
	}
	return nil
}

// line reads one CRLF-terminated line, at most maxChunkLine bytes.
func (c *chunkedReader) line() (string, error) {
	var b []byte
	for {
		frag, err := c.br.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > maxChunkLine {
			return "", errS3f("InvalidRequest", "aws-chunked line longer than 4 KiB")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return "", io.ErrUnexpectedEOF
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

func (c *chunkedReader) expectCRLF() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
		return io.ErrUnexpectedEOF
	}
	if crlf != [2]byte{'\r', '\n'} {
		return errS3f("IncompleteBody", "aws-chunked chunk data longer than its declared size")
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
