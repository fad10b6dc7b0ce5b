package buffer

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// The byte layouts below are documented in docs/FORMAT.md ("Record log");
// change both together.
const (
	segMagic       = "HYDL"
	segVersion     = 1
	segHeaderSize  = 24
	frameHeader    = 8  // u32 payload length | u32 CRC32C(payload)
	payloadHeader  = 20 // u64 first seq | i64 arrival ms | u32 count
	frameOverhead  = frameHeader + payloadHeader
	maxPayload     = 256 << 20
	cursorMagic    = "HYDC"
	cursorVersion  = 1
	cursorFixed    = 20 // magic, version, committed, state length
	maxCursorState = 16 << 20

	// The two-slot cursor file (version 2).
	cursorFileMagic   = "HYDK"
	cursorFileVersion = 2
	cursorHeaderSize  = 16 // magic, version, slot size, CRC32C of the 12 bytes before
	cursorSlotFixed   = 20 // generation, committed, state length
	defaultCursorSlot = 4096
)

// castagnoli is the CRC32C table; on amd64 and arm64 the crc32 package uses
// the CPU's CRC32C instructions for it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CorruptionError reports bytes on disk that fail the log's checks.
type CorruptionError struct {
	// Path is the file holding the bad bytes.
	Path string
	// Offset is where the bad frame or header starts.
	Offset int64
	// Reason says what was found.
	Reason string
}

// Error implements error.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("buffer: corrupt log %s at offset %d: %s", e.Path, e.Offset, e.Reason)
}

// putSegHeader writes a segment header for first into b[:segHeaderSize].
func putSegHeader(b []byte, first uint64) {
	copy(b[0:4], segMagic)
	binary.LittleEndian.PutUint32(b[4:], segVersion)
	binary.LittleEndian.PutUint64(b[8:], first)
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	binary.LittleEndian.PutUint32(b[20:], 0)
}

// parseSegHeader checks a segment header and returns its first seq, or a
// reason it is not valid.
func parseSegHeader(b []byte) (first uint64, reason string) {
	switch {
	case len(b) < segHeaderSize:
		return 0, "short header"
	case string(b[0:4]) != segMagic:
		return 0, "bad magic"
	case binary.LittleEndian.Uint32(b[16:]) != crc32.Checksum(b[:16], castagnoli):
		return 0, "header checksum mismatch"
	case binary.LittleEndian.Uint32(b[4:]) != segVersion:
		return 0, fmt.Sprintf("unknown version %d", binary.LittleEndian.Uint32(b[4:]))
	}
	return binary.LittleEndian.Uint64(b[8:]), ""
}

// appendFrame appends the frame for one batch to dst and returns it. The
// batch bytes are copied once and checksummed while still in cache.
func appendFrame(dst []byte, seq uint64, arrival int64, b *Batch) []byte {
	recs := b.Bytes()
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(payloadHeader+len(recs)))
	dst = binary.LittleEndian.AppendUint32(dst, 0) // CRC, below
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(arrival))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(b.Len()))
	dst = append(dst, recs...)
	crc := crc32.Checksum(dst[start+frameHeader:], castagnoli)
	binary.LittleEndian.PutUint32(dst[start+4:], crc)
	return dst
}

// frameInfo is what a frame's payload says about itself.
type frameInfo struct {
	seq     uint64
	arrival int64
	count   uint32
	data    int64 // record data bytes, without the record headers
}

// frameLength checks a frame header and returns the payload length, or a
// reason the header is not plausible.
func frameLength(h []byte) (int, string) {
	n := binary.LittleEndian.Uint32(h)
	if n < payloadHeader+recordHeader || n > maxPayload {
		return 0, fmt.Sprintf("bad frame length %d", n)
	}
	return int(n), ""
}

// parsePayload checks a frame's payload against the CRC from its header and
// its own structure (records exactly fill it), and describes it.
func parsePayload(crc uint32, p []byte) (frameInfo, string) {
	if got := crc32.Checksum(p, castagnoli); got != crc {
		return frameInfo{}, fmt.Sprintf("checksum mismatch (stored %08x, computed %08x)", crc, got)
	}
	fi := frameInfo{
		seq:     binary.LittleEndian.Uint64(p),
		arrival: int64(binary.LittleEndian.Uint64(p[8:])),
		count:   binary.LittleEndian.Uint32(p[16:]),
	}
	recs := p[payloadHeader:]
	var n uint32
	for len(recs) >= recordHeader {
		l := int(binary.LittleEndian.Uint32(recs))
		if l > len(recs)-recordHeader {
			return frameInfo{}, fmt.Sprintf("record %d overruns the frame", n)
		}
		recs = recs[recordHeader+l:]
		fi.data += int64(l)
		n++
	}
	if len(recs) != 0 || n != fi.count || n == 0 {
		return frameInfo{}, fmt.Sprintf("frame says %d records, holds %d", fi.count, n)
	}
	return fi, ""
}

// segName is the file name of the segment whose first record is first.
func segName(first uint64) string { return fmt.Sprintf("%020d.seg", first) }
