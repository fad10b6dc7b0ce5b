package compress

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/snappy"
)

// The two Snappy framings Firehose writes. Neither is Google's
// framing_format.txt stream; both wrap raw Snappy blocks.
//
// Snappy (Content-Encoding snappy-java) is the stream of xerial snappy-java's
// SnappyOutputStream:
//
//	header: 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00   (SnappyCodec.MAGIC_HEADER)
//	        int32 BE 1                          (DEFAULT_VERSION)
//	        int32 BE 1                          (MINIMUM_COMPATIBLE_VERSION)
//	blocks: int32 BE compressed length, raw Snappy block
//
// where each block holds at most 32 KiB of input (DEFAULT_BLOCK_SIZE). The
// header is written even for empty input, as SnappyOutputStream.close does.
//
// HADOOP_SNAPPY (Content-Encoding hadoop-snappy) is Hadoop's
// BlockCompressorStream as used by org.apache.hadoop.io.compress.SnappyCodec:
// no header; per block
//
//	uint32 BE uncompressed length of the block
//	one or more of: uint32 BE compressed length, raw Snappy block
//
// hydrant writes one chunk per block with at most hadoopBlockSize bytes of
// input, the most Hadoop's own writer puts in a block with its default
// 256 KiB buffer (bufferSize - (bufferSize/6 + 32)), so Hadoop readers with
// default settings accept every block. Empty input is a single zero length,
// which is what BlockCompressorStream.finish writes for it and what
// BlockDecompressorStream reads as end of stream.
const (
	xerialHeader    = "\x82SNAPPY\x00" + "\x00\x00\x00\x01" + "\x00\x00\x00\x01"
	xerialBlockSize = 32 << 10
	hadoopBlockSize = 256<<10 - ((256<<10)/6 + 32)

	// maxChunk bounds a compressed chunk and a decoded block when reading,
	// so corrupt input cannot ask for gigabytes.
	maxChunk = 64 << 20
)

// ErrCorrupt is wrapped by the Snappy and HADOOP_SNAPPY readers when the
// framing is malformed.
var ErrCorrupt = errors.New("corrupt snappy stream")

// blockWriter cuts its input into fixed-size blocks and writes each as a
// framed raw Snappy block. Block boundaries depend only on the byte count,
// never on how writes were split, which keeps the output deterministic.
type blockWriter struct {
	w       io.Writer
	hadoop  bool // Hadoop framing; else xerial
	size    int
	buf     []byte // pending input, len < size between calls
	out     []byte // framing scratch
	started bool   // something has been written to w
	closed  bool
	err     error // sticky: after a failed write nothing more is written
}

func newXerialWriter(w io.Writer) *blockWriter {
	return &blockWriter{w: w, size: xerialBlockSize, buf: make([]byte, 0, xerialBlockSize)}
}

func newHadoopWriter(w io.Writer) *blockWriter {
	return &blockWriter{w: w, hadoop: true, size: hadoopBlockSize, buf: make([]byte, 0, hadoopBlockSize)}
}

// Write buffers p and writes out every block it completes.
func (b *blockWriter) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.closed {
		return 0, errors.New("snappy writer: write after close")
	}
	n := 0
	for len(p) > 0 {
		take := min(len(p), b.size-len(b.buf))
		b.buf = append(b.buf, p[:take]...)
		p = p[take:]
		n += take
		if len(b.buf) == b.size {
			if err := b.flushBlock(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Close writes the last partial block, or for empty input the framing's
// empty form. It does not close the underlying writer.
func (b *blockWriter) Close() error {
	if b.closed || b.err != nil {
		return b.err
	}
	b.closed = true
	switch {
	case len(b.buf) > 0:
		return b.flushBlock()
	case b.started:
		return nil
	case b.hadoop:
		return b.emit([]byte{0, 0, 0, 0})
	}
	return b.emit([]byte(xerialHeader))
}

// flushBlock compresses and writes the buffered block, with the xerial
// header in front of the first one.
func (b *blockWriter) flushBlock() error {
	need := len(xerialHeader) + 8 + snappy.MaxEncodedLen(len(b.buf))
	if cap(b.out) < need {
		b.out = make([]byte, need)
	}
	out := b.out[:need]
	pos := 0
	if !b.hadoop && !b.started {
		pos += copy(out, xerialHeader)
	}
	if b.hadoop {
		binary.BigEndian.PutUint32(out[pos:], uint32(len(b.buf)))
		pos += 4
	}
	enc := snappy.Encode(out[pos+4:], b.buf) // encodes in place: out has room
	binary.BigEndian.PutUint32(out[pos:], uint32(len(enc)))
	pos += 4 + len(enc)
	b.buf = b.buf[:0]
	return b.emit(out[:pos])
}

func (b *blockWriter) emit(p []byte) error {
	b.started = true
	if _, err := b.w.Write(p); err != nil {
		b.err = fmt.Errorf("snappy write: %w", err)
		return b.err
	}
	return nil
}

// blockReader decodes either framing; its nextBlock differs.
type blockReader struct {
	r      *bufio.Reader
	hadoop bool
	comp   []byte // compressed chunk scratch
	block  []byte // current decoded block
	pos    int    // read position in block
	err    error  // sticky
}

func newXerialReader(r io.Reader) (*blockReader, error) {
	br := &blockReader{r: bufio.NewReader(r)}
	var hdr [len(xerialHeader)]byte
	if _, err := io.ReadFull(br.r, hdr[:]); err != nil {
		return nil, fmt.Errorf("snappy-java header: %w", noEOF(err))
	}
	if err := checkXerialHeader(hdr[:]); err != nil {
		return nil, err
	}
	return br, nil
}

func newHadoopReader(r io.Reader) *blockReader {
	return &blockReader{r: bufio.NewReader(r), hadoop: true}
}

// checkXerialHeader accepts the magic with any version from 1 on.
func checkXerialHeader(h []byte) error {
	if string(h[:8]) != xerialHeader[:8] {
		return fmt.Errorf("%w: no snappy-java magic header", ErrCorrupt)
	}
	if v := binary.BigEndian.Uint32(h[8:]); v < 1 || v > 1<<30 {
		return fmt.Errorf("%w: snappy-java version %d", ErrCorrupt, v)
	}
	return nil
}

func (br *blockReader) Read(p []byte) (int, error) {
	for br.pos >= len(br.block) {
		if br.err != nil {
			return 0, br.err
		}
		br.block, br.pos = br.block[:0], 0
		if br.hadoop {
			br.err = br.nextHadoopBlock()
		} else {
			br.err = br.nextXerialBlock()
		}
		if br.err != nil {
			br.block = br.block[:0] // never hand out part of a bad block
		}
	}
	n := copy(p, br.block[br.pos:])
	br.pos += n
	return n, nil
}

// Close releases the buffers; it does not close the underlying reader.
func (br *blockReader) Close() error {
	br.block, br.comp, br.err = nil, nil, errors.New("snappy reader closed")
	return nil
}

// nextXerialBlock decodes one block into br.block. A magic header where a
// length is expected starts a concatenated stream and is skipped, as
// snappy-java's SnappyInputStream does.
func (br *blockReader) nextXerialBlock() error {
	var n [4]byte
	if _, err := io.ReadFull(br.r, n[:]); err != nil {
		return err // io.EOF at a block boundary is the clean end
	}
	if string(n[:]) == xerialHeader[:4] {
		var rest [len(xerialHeader) - 4]byte
		if _, err := io.ReadFull(br.r, rest[:]); err != nil {
			return fmt.Errorf("snappy-java header: %w", noEOF(err))
		}
		return checkXerialHeader(append(n[:], rest[:]...))
	}
	chunk, err := br.readChunk(binary.BigEndian.Uint32(n[:]))
	if err != nil {
		return err
	}
	br.block, err = decodeAppend(br.block, chunk, maxChunk)
	return err
}

// nextHadoopBlock decodes one block (all its chunks) into br.block. A block
// of length zero is skipped: Hadoop writes one for empty input and may
// write one after a block that ended exactly on a write.
func (br *blockReader) nextHadoopBlock() error {
	var n [4]byte
	if _, err := io.ReadFull(br.r, n[:]); err != nil {
		return err
	}
	total := binary.BigEndian.Uint32(n[:])
	if total > maxChunk {
		return fmt.Errorf("%w: block of %d bytes", ErrCorrupt, total)
	}
	for uint32(len(br.block)) < total {
		if _, err := io.ReadFull(br.r, n[:]); err != nil {
			return fmt.Errorf("hadoop-snappy chunk length: %w", noEOF(err))
		}
		chunk, err := br.readChunk(binary.BigEndian.Uint32(n[:]))
		if err != nil {
			return err
		}
		if br.block, err = decodeAppend(br.block, chunk, int(total)); err != nil {
			return err
		}
	}
	return nil
}

// readChunk reads a compressed chunk of n bytes into the scratch buffer.
func (br *blockReader) readChunk(n uint32) ([]byte, error) {
	if n == 0 || n > maxChunk {
		return nil, fmt.Errorf("%w: chunk of %d bytes", ErrCorrupt, n)
	}
	if cap(br.comp) < int(n) {
		br.comp = make([]byte, n)
	}
	chunk := br.comp[:n]
	if _, err := io.ReadFull(br.r, chunk); err != nil {
		return nil, fmt.Errorf("snappy chunk: %w", noEOF(err))
	}
	return chunk, nil
}

// decodeAppend decodes a raw Snappy block onto the end of dst, failing if
// dst would grow past limit bytes.
func decodeAppend(dst, chunk []byte, limit int) ([]byte, error) {
	n, err := snappy.DecodedLen(chunk)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if n > limit-len(dst) {
		return nil, fmt.Errorf("%w: chunk decodes past its block (%d bytes)", ErrCorrupt, n)
	}
	start := len(dst)
	if cap(dst)-start < n {
		dst = append(make([]byte, 0, start+n), dst...)
	}
	if _, err := snappy.Decode(dst[start:start+n], chunk); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return dst[:start+n], nil
}

// noEOF turns a clean EOF inside a structure into an unexpected one.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
