package buffer

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"slices"
	"sync"
	"time"
)

// reader holds Read's reusable buffers.
type reader struct {
	mu     sync.Mutex
	buf    []byte
	frames []frame
}

// sizeCache holds the per-record sizes of the last frame that Cut or
// Backlog had to split. The index keeps no per-record sizes (that would cost
// 4 bytes a record, more than the index itself); a split reads its frame
// once, and the next Cut starts in that same frame.
type sizeCache struct {
	mu     sync.Mutex
	seq    uint64  // first record of the cached frame; 0 when empty
	prefix []int64 // prefix[k] is the data bytes of the frame's first k records
	buf    []byte
}

// readChunk is how many bytes of consecutive frames Read fetches with one
// pread.
const readChunk = 4 << 20

// find returns the index of the frame holding seq and whether there is one.
// The caller holds mu.
func (l *SegmentLog) find(seq uint64) (int, bool) {
	i, _ := slices.BinarySearchFunc(l.frames, seq, func(f frame, seq uint64) int {
		if f.end() <= seq {
			return -1
		}
		return 1
	})
	return i, i < len(l.frames) && l.frames[i].seq <= seq
}

// missing returns how many sequence numbers in [from, to) are holes left
// by damage. The caller holds mu.
func (l *SegmentLog) missing(from, to uint64) uint64 {
	var n uint64
	for _, h := range l.holes {
		if lo, hi := max(h.from, from), min(h.to, to); lo < hi {
			n += hi - lo
		}
	}
	return n
}

// Backlog describes every appended record at or after from, or after the
// oldest record still held if from is older (or in a hole left by damage).
// It answers from memory unless from falls inside a frame other than the
// last one split (then it reads that frame; should that fail, it estimates
// the bytes from the record count and logs).
func (l *SegmentLog) Backlog(from uint64) Span {
	l.mu.Lock()
	if l.shut || from >= l.next {
		l.mu.Unlock()
		return Span{From: from, To: from}
	}
	i, _ := l.find(from)
	if i == len(l.frames) {
		// Nothing held at or after from (it is in a hole at the end).
		l.mu.Unlock()
		return Span{From: from, To: from}
	}
	f := l.frames[i]
	from = max(from, f.seq)
	sp := Span{
		From:    from,
		To:      l.next,
		Records: int(l.next - from - l.missing(from, l.next)),
		Bytes:   l.total - f.cum,
		Oldest:  time.UnixMilli(f.arrival),
	}
	l.mu.Unlock()
	if k := int(from - f.seq); k > 0 {
		prefix, err := l.recordSizes(f)
		if err != nil {
			l.log.Warn("buffer: backlog estimated", "err", err)
			sp.Bytes -= f.data * int64(k) / int64(f.count)
		} else {
			sp.Bytes -= prefix[k]
		}
	}
	return sp
}

// Cut returns the longest span from from whose data fits in maxBytes, with
// at least one record when one is available. Whole frames are summed from
// the index; only the frames where the span starts or ends inside are read.
// The span steps over holes left by damage; Records counts what it holds.
func (l *SegmentLog) Cut(from uint64, maxBytes int64) (Span, error) {
	l.mu.Lock()
	if l.shut {
		l.mu.Unlock()
		return Span{}, ErrClosed
	}
	if from >= l.next {
		next := l.next
		l.mu.Unlock()
		if from > next {
			return Span{}, fmt.Errorf("buffer: cut from %d: %w: next record is %d", from, ErrOutOfRange, next)
		}
		return Span{From: from, To: from}, nil
	}
	i, ok := l.find(from)
	if !ok && from < l.committed {
		l.mu.Unlock()
		return Span{}, fmt.Errorf("buffer: cut from %d: %w: already removed", from, ErrOutOfRange)
	}
	if i == len(l.frames) {
		// from is in a hole at the end of the log.
		l.mu.Unlock()
		return Span{From: from, To: from}, nil
	}
	f := l.frames[i]
	l.mu.Unlock()

	sp := Span{From: from, To: from, Oldest: time.UnixMilli(f.arrival)}
	if ok && from > f.seq {
		// The span starts inside f.
		k := int(from - f.seq)
		prefix, err := l.recordSizes(f)
		if err != nil {
			return Span{}, err
		}
		rest := f.data - prefix[k]
		if rest > maxBytes {
			return splitSpan(sp, f, prefix, maxBytes), nil
		}
		sp.Bytes, sp.To, sp.Records = rest, f.end(), int(f.end()-from)
	}

	// Whole frames, from memory; stop at the first that does not fit.
	l.mu.Lock()
	i, _ = l.find(sp.To)
	for ; i < len(l.frames); i++ {
		f = l.frames[i]
		if sp.Bytes+f.data > maxBytes {
			break
		}
		sp.Bytes += f.data
		sp.To = f.end()
		sp.Records += int(f.count)
	}
	split := i < len(l.frames)
	l.mu.Unlock()
	if split {
		prefix, err := l.recordSizes(f)
		if err != nil {
			return Span{}, err
		}
		sp = splitSpan(sp, f, prefix, maxBytes)
	}
	return sp, nil
}

// splitSpan extends sp, which ends at or inside frame f (or in a hole before
// it), by as many of f's records as fit in maxBytes (at least one if sp is
// empty).
func splitSpan(sp Span, f frame, prefix []int64, maxBytes int64) Span {
	k := 0
	if sp.To > f.seq {
		k = int(sp.To - f.seq)
	}
	n := k
	for n < int(f.count) && sp.Bytes+prefix[n+1]-prefix[k] <= maxBytes {
		n++
	}
	if n == k && sp.Records == 0 {
		n++
	}
	if n > k {
		sp.Bytes += prefix[n] - prefix[k]
		sp.To = f.seq + uint64(n)
		sp.Records += n - k
	}
	return sp
}

// recordSizes returns the prefix sums of f's record sizes, reading the frame
// unless it is the cached one. The result is valid until the next call.
func (l *SegmentLog) recordSizes(f frame) ([]int64, error) {
	c := &l.sz
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seq == f.seq && c.seq != 0 {
		return c.prefix, nil
	}
	c.seq = 0
	p, err := readFrames(f.seg, f.off, f.diskBytes(), &c.buf)
	if err != nil {
		return nil, err
	}
	payload, _, err := checkFrame(f, p)
	if err != nil {
		return nil, err
	}
	c.prefix = append(c.prefix[:0], 0)
	var sum int64
	recs := payload[payloadHeader:]
	for len(recs) >= recordHeader {
		n := int(binary.LittleEndian.Uint32(recs))
		sum += int64(n)
		c.prefix = append(c.prefix, sum)
		recs = recs[recordHeader+n:]
	}
	c.seq = f.seq
	return c.prefix, nil
}

// Read calls fn with each record in [from, to), reading consecutive frames
// with one pread per few megabytes straight from the segment files, never
// from the writer, so it runs alongside appends. Every frame's CRC is
// checked again. Sequence numbers in holes left by damage are skipped.
// Record.Data points into a reused buffer.
func (l *SegmentLog) Read(ctx context.Context, from, to uint64, fn func(Record) error) error {
	l.mu.Lock()
	shut, next, committed := l.shut, l.next, l.committed
	_, ok := l.find(from)
	l.mu.Unlock()
	switch {
	case shut:
		return ErrClosed
	case from >= to:
		if from > to {
			return fmt.Errorf("buffer: read [%d, %d): %w", from, to, ErrOutOfRange)
		}
		return nil
	case to > next:
		return fmt.Errorf("buffer: read [%d, %d): %w: next record is %d", from, to, ErrOutOfRange, next)
	case !ok && from < committed:
		return fmt.Errorf("buffer: read from %d: %w: already removed", from, ErrOutOfRange)
	}

	r := &l.rd
	r.mu.Lock()
	defer r.mu.Unlock()
	pos := from
	for pos < to {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("buffer: read: %w", err)
		}
		// Consecutive frames of one segment, adjacent on disk, up to
		// readChunk bytes.
		l.mu.Lock()
		i, ok := l.find(pos)
		if !ok && pos < l.committed {
			l.mu.Unlock()
			return fmt.Errorf("buffer: read at %d: %w: removed while reading", pos, ErrOutOfRange)
		}
		r.frames = r.frames[:0]
		var n int64
		for ; i < len(l.frames); i++ {
			f := l.frames[i]
			if f.seq >= to {
				break
			}
			if k := len(r.frames); k > 0 {
				prev := r.frames[k-1]
				if f.seg != prev.seg || f.off != prev.off+prev.diskBytes() || n+f.diskBytes() > readChunk {
					break
				}
			}
			r.frames = append(r.frames, f)
			n += f.diskBytes()
		}
		l.mu.Unlock()
		if len(r.frames) == 0 {
			return nil // the rest of the range is a hole
		}
		first := r.frames[0]
		p, err := readFrames(first.seg, first.off, n, &r.buf)
		if err != nil {
			return err
		}
		for _, f := range r.frames {
			payload, rest, err := checkFrame(f, p)
			if err != nil {
				return err
			}
			p = rest
			if pos, err = emit(f, payload, pos, to, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// emit calls fn for each record of f's payload in [pos, to) and returns
// where it stopped.
func emit(f frame, payload []byte, pos, to uint64, fn func(Record) error) (uint64, error) {
	arrival := time.UnixMilli(f.arrival)
	recs := payload[payloadHeader:]
	for seq := f.seq; seq < to && len(recs) >= recordHeader; seq++ {
		n := int(binary.LittleEndian.Uint32(recs))
		data := recs[recordHeader : recordHeader+n : recordHeader+n]
		recs = recs[recordHeader+n:]
		if seq >= pos {
			if err := fn(Record{Seq: seq, Arrival: arrival, Data: data}); err != nil {
				return seq, err
			}
			pos = seq + 1
		}
	}
	return pos, nil
}

// readFrames reads n bytes at off from seg into *buf, growing it as needed.
func readFrames(seg *segment, off, n int64, buf *[]byte) ([]byte, error) {
	*buf = slices.Grow((*buf)[:0], int(n))[:n]
	if _, err := seg.f.ReadAt(*buf, off); err != nil {
		return nil, fmt.Errorf("buffer: read segment %s at %d: %w", seg.path, off, err)
	}
	return *buf, nil
}

// checkFrame verifies the frame f at the start of p against the index and
// its CRC, and returns its payload and the bytes after it. The writer and
// recovery already checked the records' layout; a frame whose CRC still
// matches has it.
func checkFrame(f frame, p []byte) (payload, rest []byte, err error) {
	bad := func(reason string) error {
		return &CorruptionError{Path: f.seg.path, Offset: f.off, Reason: reason}
	}
	if len(p) < int(f.diskBytes()) || binary.LittleEndian.Uint32(p) != f.size {
		return nil, nil, bad("frame length changed since it was indexed")
	}
	payload = p[frameHeader:f.diskBytes()]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(p[4:]) {
		return nil, nil, bad("checksum mismatch on read")
	}
	if binary.LittleEndian.Uint64(payload) != f.seq {
		return nil, nil, bad("sequence number changed since it was indexed")
	}
	return payload, p[f.diskBytes():], nil
}
