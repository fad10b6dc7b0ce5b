package logs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// A block is one append: the events of one PutLogEvents call (or one flush
// of a function's output), in (timestamp, seq) order, written with one
// write and made durable with one fsync. Its layout (FORMAT.md, "CloudWatch
// Logs"):
//
//	header (16 bytes)  magic "HLG1" | body length u32 | CRC-32C of body u32 | event count u32
//	body               first seq u64 | ingestion time i64 | min ts i64 | max ts i64
//	                   then per event: ts - previous ts (uvarint) | message length (uvarint) | message
//
// Integers are little-endian; times are epoch milliseconds. The first 32
// bytes of the body let a start-up scan index a block without reading its
// events.
const (
	blockMagic      = "HLG1"
	blockHeaderSize = 16
	blockPrefixSize = 32
	// scanSize is what a start-up scan reads of each block.
	scanSize = blockHeaderSize + blockPrefixSize
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// errCorrupt marks a block whose bytes do not check out.
var errCorrupt = errors.New("corrupt log block")

// event is one stored log event.
type event struct {
	ts  int64  // timestamp, ms
	seq uint64 // the group's sequence number: with ts, the event's position
	msg []byte
}

// blockInfo is what the index keeps of a block: enough to decide whether a
// query needs it without reading it.
type blockInfo struct {
	off      int64
	size     uint32 // header + body
	count    uint32
	firstSeq uint64
	ingest   int64
	minTs    int64
	maxTs    int64
}

func (b blockInfo) lastSeq() uint64 { return b.firstSeq + uint64(b.count) - 1 }

// minKey and maxKey are the positions of the block's first and last events.
func (b blockInfo) minKey() pos { return pos{b.minTs, b.firstSeq} }

// maxKey is an upper bound of the block's last event position: events are
// in (ts, seq) order, so the last one has the largest of both.
func (b blockInfo) maxKey() pos { return pos{b.maxTs, b.lastSeq()} }

// appendBlock encodes events (at least one, sorted by timestamp, their
// seqs consecutive from firstSeq) into dst.
func appendBlock(dst []byte, firstSeq uint64, ingest int64, evs []Event) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, scanSize)...)
	prev := evs[0].Timestamp
	for _, e := range evs {
		dst = binary.AppendUvarint(dst, uint64(e.Timestamp-prev))
		prev = e.Timestamp
		dst = binary.AppendUvarint(dst, uint64(len(e.Message)))
		dst = append(dst, e.Message...)
	}
	h := dst[start:]
	body := h[blockHeaderSize:]
	copy(h[0:4], blockMagic)
	binary.LittleEndian.PutUint32(h[4:], uint32(len(body)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(evs)))
	binary.LittleEndian.PutUint64(body[0:], firstSeq)
	binary.LittleEndian.PutUint64(body[8:], uint64(ingest))
	binary.LittleEndian.PutUint64(body[16:], uint64(evs[0].Timestamp))
	binary.LittleEndian.PutUint64(body[24:], uint64(evs[len(evs)-1].Timestamp))
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(body, castagnoli))
	return dst
}

// parseHeader reads a block's header and body prefix (scanSize bytes at
// off). It checks what it can without the events: the magic, a body length
// that fits in the file, and a count the body could hold.
func parseHeader(b []byte, off, fileSize int64) (blockInfo, error) {
	if len(b) < scanSize || string(b[0:4]) != blockMagic {
		return blockInfo{}, fmt.Errorf("%w at offset %d: bad magic", errCorrupt, off)
	}
	bodyLen := binary.LittleEndian.Uint32(b[4:])
	count := binary.LittleEndian.Uint32(b[12:])
	if bodyLen < blockPrefixSize || off+blockHeaderSize+int64(bodyLen) > fileSize || count == 0 ||
		uint64(count)*2 > uint64(bodyLen-blockPrefixSize) {
		return blockInfo{}, fmt.Errorf("%w at offset %d: bad length %d or count %d", errCorrupt, off, bodyLen, count)
	}
	body := b[blockHeaderSize:]
	bi := blockInfo{
		off:      off,
		size:     blockHeaderSize + bodyLen,
		count:    count,
		firstSeq: binary.LittleEndian.Uint64(body[0:]),
		ingest:   int64(binary.LittleEndian.Uint64(body[8:])),
		minTs:    int64(binary.LittleEndian.Uint64(body[16:])),
		maxTs:    int64(binary.LittleEndian.Uint64(body[24:])),
	}
	if bi.maxTs < bi.minTs {
		return blockInfo{}, fmt.Errorf("%w at offset %d: timestamps out of order", errCorrupt, off)
	}
	return bi, nil
}

// checkBlock verifies a whole block read into b (header and body).
func checkBlock(b []byte, off int64) error {
	if len(b) < scanSize {
		return fmt.Errorf("%w at offset %d: short block", errCorrupt, off)
	}
	body := b[blockHeaderSize:]
	if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(b[8:]) {
		return fmt.Errorf("%w at offset %d: checksum mismatch", errCorrupt, off)
	}
	return nil
}

// decodeBlock checks and decodes a whole block. Messages alias b.
func decodeBlock(b []byte, bi blockInfo) ([]event, error) {
	if err := checkBlock(b, bi.off); err != nil {
		return nil, err
	}
	p := b[scanSize:]
	evs := make([]event, 0, bi.count)
	ts := bi.minTs
	for i := uint32(0); i < bi.count; i++ {
		d, n := binary.Uvarint(p)
		if n <= 0 {
			return nil, fmt.Errorf("%w at offset %d: event %d", errCorrupt, bi.off, i)
		}
		p = p[n:]
		l, n := binary.Uvarint(p)
		if n <= 0 || uint64(len(p)-n) < l {
			return nil, fmt.Errorf("%w at offset %d: event %d", errCorrupt, bi.off, i)
		}
		p = p[n:]
		ts += int64(d)
		evs = append(evs, event{ts: ts, seq: bi.firstSeq + uint64(i), msg: p[:l:l]})
		p = p[l:]
	}
	if len(p) != 0 || ts != bi.maxTs {
		return nil, fmt.Errorf("%w at offset %d: trailing bytes", errCorrupt, bi.off)
	}
	return evs, nil
}

// pos is a position in a stream or group: events are ordered by timestamp,
// then by sequence number (the order they were accepted in).
type pos struct {
	ts  int64
	seq uint64
}

func (p pos) less(q pos) bool {
	if p.ts != q.ts {
		return p.ts < q.ts
	}
	return p.seq < q.seq
}
