package buffer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// segFile is a segment file found in the log directory.
type segFile struct {
	first uint64
	path  string
	size  int64
}

// region is a run of bytes in a segment that holds no valid frame.
type region struct {
	path     string
	off, end int64
	reason   string
}

// loss is a run of sequence numbers recovery could not find, with the
// damaged bytes that held them (none when a whole segment is missing).
type loss struct {
	from, to uint64
	regions  []region
}

// scanState is what recovery carries from one segment to the next.
type scanState struct {
	// expect is the sequence number the next frame should start at.
	expect uint64
	// pending is damage not yet followed by a valid frame: its range ends
	// where the next valid frame starts.
	pending *loss
	losses  []loss
	// removed is set when a file was deleted, so the directory is synced.
	removed bool
}

// accept notes a valid frame: a frame starting past expect closes a loss.
func (st *scanState) accept(fi frameInfo) {
	if st.pending != nil || fi.seq > st.expect {
		ls := loss{from: st.expect, to: fi.seq}
		if st.pending != nil {
			ls.regions = st.pending.regions
		}
		st.losses = append(st.losses, ls)
		st.pending = nil
	}
	st.expect = fi.seq + uint64(fi.count)
}

// damaged notes a region that holds no valid frame.
func (st *scanState) damaged(r region) {
	if st.pending == nil {
		st.pending = &loss{from: st.expect}
	}
	st.pending.regions = append(st.pending.regions, r)
}

// recover rebuilds the log from its directory: cursor, segments, index. It
// runs in Open before the writer starts. The rules are in docs/FORMAT.md.
func (l *SegmentLog) recover() error {
	if err := os.Remove(filepath.Join(l.dir, cursorTmpName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("buffer: remove leftover cursor: %w", err)
	}
	cur, err := readCursor(filepath.Join(l.dir, cursorName))
	if err != nil {
		return err
	}
	committed := cur.upto
	l.committed, l.state, l.cursorGen = cur.upto, cur.state, cur.gen
	if err := l.openCursor(cur.slotSize); err != nil {
		return err
	}
	if cur.slotSize == 0 {
		// A new log, or a cursor in the single-record format: write the
		// two-slot file now, while there is room, so that no commit
		// ever needs new space. On a full disk, committing is what frees
		// it.
		if err := l.writeCursor(l.committed, l.state); err != nil {
			return fmt.Errorf("buffer: create cursor: %w", err)
		}
	}

	found, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	st := &scanState{}
	// A segment followed by one starting at or below the cursor holds only
	// delivered records; a crash came between the commit and its deletion.
	for len(found) > 1 && found[1].first <= committed {
		if err := os.Remove(found[0].path); err != nil {
			return fmt.Errorf("buffer: remove delivered segment: %w", err)
		}
		found, st.removed = found[1:], true
	}

	next := committed
	if len(found) > 0 {
		// Records from the cursor up to the first segment are missing
		// if it starts after the cursor.
		st.expect = min(committed, found[0].first)
	}
	for i, sf := range found {
		seg, err := l.scanSegment(sf, st, i == len(found)-1)
		if err != nil {
			return err
		}
		if seg != nil {
			l.segs = append(l.segs, seg)
		}
	}
	if len(l.segs) > 0 {
		// The log continues after the last frame, or at the name of an
		// empty last segment that starts later (after lost records).
		next = max(st.expect, l.segs[len(l.segs)-1].first)
	}
	if st.pending != nil || next > st.expect && len(found) > 0 {
		// Damage, or a missing segment, at the end of the log.
		ls := loss{from: st.expect, to: max(next, st.expect)}
		if st.pending != nil {
			ls.regions = st.pending.regions
		}
		st.losses = append(st.losses, ls)
	}
	for _, ls := range st.losses {
		l.reportLoss(ls)
	}
	if st.removed {
		if err := syncDir(l.dir); err != nil {
			return fmt.Errorf("buffer: sync log dir: %w", err)
		}
	}
	return l.finishRecovery(next)
}

// finishRecovery makes sure there is an active segment that continues at
// the right sequence number and holds something undelivered (a delivered
// one is replaced by an empty one, so that its space comes back), and
// trims the index to the committed cursor.
func (l *SegmentLog) finishRecovery(next uint64) error {
	if next < l.committed {
		if len(l.segs) > 0 {
			// Synced records were lost to damage, but some were
			// delivered: never hand out a delivered sequence number
			// again.
			l.log.Error("buffer: committed cursor is beyond the end of the log", "committed", l.committed, "end", next)
		}
		next = l.committed
	}
	k, _ := slices.BinarySearchFunc(l.frames, l.committed, func(f frame, seq uint64) int {
		if f.end() <= seq {
			return -1
		}
		return 1
	})
	l.frames = slices.Clone(l.frames[k:])
	l.holes = slices.DeleteFunc(l.holes, func(h hole) bool { return h.to <= l.committed })
	for i := range l.holes {
		l.holes[i].from = max(l.holes[i].from, l.committed)
	}
	var used int64
	for i := range l.frames {
		used += l.frames[i].diskBytes()
	}
	l.used.Store(used)
	l.next = next
	l.w.next = next
	if n := len(l.segs); n > 0 && len(l.frames) == 0 && (l.segs[n-1].size > segHeaderSize || l.segs[n-1].first != next) {
		// Everything in the active segment is delivered (or it starts
		// at the wrong place): start a new one, freeing its space.
		l.w.seg = l.segs[n-1]
		if err := l.replaceActive(); err != nil {
			return fmt.Errorf("buffer: %w", err)
		}
		return nil
	}
	if len(l.segs) == 0 {
		seg, err := l.createSegment(next)
		if err != nil {
			return fmt.Errorf("buffer: %w", err)
		}
		l.segs = append(l.segs, seg)
	}
	l.w.seg = l.segs[len(l.segs)-1]
	return nil
}

// scanSegment opens a segment, checks its header and every frame, and
// appends the valid frames to the index. Past a frame that fails its checks
// it resynchronises at the next valid frame (see docs/FORMAT.md), noting the
// bytes in between as damaged. A damaged tail of the last segment with
// nothing valid after it is a write torn by a crash: it is cut off. It
// returns nil when the segment was removed.
func (l *SegmentLog) scanSegment(sf segFile, st *scanState, last bool) (*segment, error) {
	f, err := l.opts.OpenFile(sf.path, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("buffer: open segment: %w", err)
	}
	seg := &segment{first: sf.first, path: sf.path, f: f, size: sf.size}
	r := &segReader{f: f, path: sf.path, size: sf.size}
	fail := func(err error) (*segment, error) {
		f.Close()
		return nil, err
	}

	bad := int64(-1) // start of the damaged run being crossed; -1: none
	why := ""
	if sf.size < segHeaderSize {
		bad, why = 0, fmt.Sprintf("short segment header (%d bytes)", sf.size)
	} else {
		h, err := r.at(0, segHeaderSize)
		if err != nil {
			return fail(err)
		}
		first, reason := parseSegHeader(h)
		if reason == "" && first != sf.first {
			reason = fmt.Sprintf("header says first sequence %d", first)
		}
		if reason != "" {
			bad, why = 0, reason
		}
	}
	off := int64(segHeaderSize)
	for off < sf.size {
		// Frames here start at the name's sequence number or later.
		lo := max(st.expect, sf.first)
		if bad < 0 {
			fi, n, reason, err := r.frame(off)
			if err != nil {
				return fail(err)
			}
			if reason == "" && fi.seq < lo {
				reason = fmt.Sprintf("frame starts at sequence %d, expected %d", fi.seq, lo)
			}
			if reason == "" {
				l.index(seg, off, n, fi)
				st.accept(fi)
				off += frameHeader + int64(n)
				continue
			}
			bad, why = off, reason
		}
		c, found, err := r.resync(bad, lo)
		if err != nil {
			return fail(err)
		}
		if !found {
			// The damaged frame may be the segment's last one.
			c = sf.size
		}
		fixed := false
		if found || bad > 0 {
			if fixed, err = l.repair(seg, r, bad, c, lo); err != nil {
				return fail(err)
			}
		}
		switch {
		case !fixed && !found:
			off = sf.size // the damage runs to the end of the segment
			continue
		case !fixed:
			st.damaged(region{path: sf.path, off: bad, end: c, reason: why})
			off = c
		case bad == 0:
			off = c // the header was rewritten
		default:
			off = bad // a repaired frame: read it again
		}
		bad = -1
	}
	if bad < 0 {
		return seg, nil
	}
	if !last {
		st.damaged(region{path: sf.path, off: bad, end: sf.size, reason: why})
		return seg, nil
	}
	return l.cutTail(seg, st, bad, why)
}

// cutTail removes a damaged tail of the last segment that no valid frame
// follows: the usual torn write of a crash, none of it acknowledged. When
// even the header is bad the segment is rewritten empty if its name
// continues the log, and removed otherwise.
func (l *SegmentLog) cutTail(seg *segment, st *scanState, bad int64, why string) (*segment, error) {
	attrs := []any{"segment", seg.path, "offset", bad, "found", why, "dropped_bytes", seg.size - min(bad, seg.size)}
	if bad > 0 {
		if err := seg.f.Truncate(bad); err != nil {
			seg.f.Close()
			return nil, fmt.Errorf("buffer: truncate segment: %w", err)
		}
		if err := seg.f.Sync(); err != nil {
			seg.f.Close()
			return nil, fmt.Errorf("buffer: sync truncated segment: %w", err)
		}
		seg.size = bad
		l.log.Warn("buffer: cut torn tail", attrs...)
		return seg, nil
	}
	if seg.size > segHeaderSize {
		// A header that was synced before any frame went bad.
		l.log.Error("buffer: corrupt header in the last segment, rewritten empty", attrs...)
	} else {
		l.log.Warn("buffer: cut torn tail", attrs...)
	}
	if seg.first < st.expect {
		seg.f.Close()
		if err := os.Remove(seg.path); err != nil {
			return nil, fmt.Errorf("buffer: remove corrupt segment: %w", err)
		}
		st.removed = true
		return nil, nil
	}
	if err := rewriteHeader(seg, true); err != nil {
		seg.f.Close()
		return nil, err
	}
	return seg, nil
}

// repair fixes damage that lost nothing, in place, when the bytes from bad
// to the valid frame at c prove it: a bad segment header followed by the
// expected first frame (the header is rewritten from the file name), or a
// frame whose length field alone is damaged (its payload from bad to c
// matches its CRC and continues the log; the length is rewritten).
func (l *SegmentLog) repair(seg *segment, r *segReader, bad, c int64, lo uint64) (bool, error) {
	if bad == 0 {
		if c != segHeaderSize {
			return false, nil
		}
		fi, _, reason, err := r.frame(c)
		if err != nil || reason != "" || fi.seq != lo {
			return false, err
		}
		if err := rewriteHeader(seg, false); err != nil {
			return false, err
		}
		r.drop()
		l.log.Warn("buffer: repaired a damaged segment header", "segment", seg.path)
		return true, nil
	}
	n := c - bad - frameHeader
	if n < payloadHeader+recordHeader || n > maxPayload {
		return false, nil
	}
	h, err := r.at(bad, frameHeader)
	if err != nil {
		return false, err
	}
	crc := binary.LittleEndian.Uint32(h[4:])
	p, err := r.at(bad+frameHeader, int(n))
	if err != nil {
		return false, err
	}
	fi, reason := parsePayload(crc, p)
	if reason != "" || fi.seq != lo {
		return false, nil
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	if _, err := seg.f.WriteAt(b[:], bad); err != nil {
		return false, fmt.Errorf("buffer: repair frame length in %s: %w", seg.path, err)
	}
	if err := seg.f.Sync(); err != nil {
		return false, fmt.Errorf("buffer: sync %s: %w", seg.path, err)
	}
	r.drop()
	l.log.Warn("buffer: repaired a damaged frame length", "segment", seg.path, "offset", bad)
	return true, nil
}

// rewriteHeader writes a valid header for the segment's name, first
// truncating the file to it when empty is set, and syncs.
func rewriteHeader(seg *segment, empty bool) error {
	var h [segHeaderSize]byte
	putSegHeader(h[:], seg.first)
	var err error
	if empty {
		err = seg.f.Truncate(0)
	}
	if err == nil {
		_, err = seg.f.WriteAt(h[:], 0)
	}
	if err == nil {
		err = seg.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("buffer: rewrite segment header %s: %w", seg.path, err)
	}
	if empty {
		seg.size = segHeaderSize
	}
	return nil
}

// index appends a valid frame to the in-memory index.
func (l *SegmentLog) index(seg *segment, off int64, n int, fi frameInfo) {
	l.frames = append(l.frames, frame{
		seq: fi.seq, cum: l.total, data: fi.data, arrival: fi.arrival,
		off: off, seg: seg, size: uint32(n), count: fi.count,
	})
	l.total += fi.data
}

// reportLoss reports a loss, quarantines its damaged bytes, counts it, and
// records the hole it leaves for Backlog, Cut and Read. Damage to records
// already delivered costs nothing and is only mentioned. The damaged bytes
// stay in their segment until delivery has passed them, so later opens
// find the same loss: its quarantine files, already there, say it was
// reported, and it is then mentioned at Warn and not counted again.
func (l *SegmentLog) reportLoss(ls loss) {
	from := max(ls.from, l.committed)
	var bytes int64
	for _, r := range ls.regions {
		bytes += r.end - r.off
	}
	if ls.to <= from {
		// Nothing undelivered was lost: the damage is in delivered
		// records, or between frames.
		if len(ls.regions) > 0 {
			l.log.Warn("buffer: damaged bytes in the log, no undelivered record lost", "segment", ls.regions[0].path,
				"offset", ls.regions[0].off, "damaged_bytes", bytes, "found", ls.regions[0].reason)
		}
		return
	}
	l.holes = append(l.holes, hole{from: from, to: ls.to})
	files, known := l.quarantine(ls)
	attrs := []any{"lost", fmt.Sprintf("%d-%d", from, ls.to-1), "lost_records", ls.to - from}
	if len(ls.regions) > 0 {
		r := ls.regions[0]
		attrs = append(attrs, "segment", r.path, "offset", r.off, "found", r.reason, "damaged_bytes", bytes)
	} else {
		attrs = append(attrs, "found", "no segment holds them")
	}
	attrs = append(attrs, "quarantine", strings.Join(files, ","))
	if known {
		l.log.Warn("buffer: damaged log, records lost (reported when first found)", attrs...)
		return
	}
	l.log.Error("buffer: damaged log, records lost", attrs...)
	l.lostRecords += int64(ls.to - from)
	l.lostBytes += bytes
}

// quarantine copies each damaged region of a loss into a file beside the
// log, named after its segment and offset, and syncs it; a loss without
// damaged bytes (a missing segment) gets an empty marker named after its
// first sequence number. It returns the files, and whether all of them
// were already there, holding the same bytes: the loss was reported by an
// earlier open. A file that cannot be written is logged and left out.
func (l *SegmentLog) quarantine(ls loss) (files []string, known bool) {
	known = true
	if len(ls.regions) == 0 {
		path := filepath.Join(l.dir, segName(ls.from)+".missing")
		if _, err := os.Stat(path); err == nil {
			return []string{path}, true
		}
		err := os.WriteFile(path, nil, 0o644)
		if err == nil {
			err = syncDir(l.dir)
		}
		if err != nil {
			l.log.Error("buffer: cannot mark missing records", "path", path, "err", err)
			return nil, false
		}
		return []string{path}, false
	}
	for _, r := range ls.regions {
		path := filepath.Join(l.dir, fmt.Sprintf("%s.%d.damaged", filepath.Base(r.path), r.off))
		if fi, err := os.Stat(path); err == nil && fi.Size() == r.end-r.off {
			files = append(files, path)
			continue
		}
		known = false
		if err := copyRegion(path, r); err != nil {
			l.log.Error("buffer: cannot quarantine damaged bytes", "segment", r.path, "offset", r.off, "err", err)
			continue
		}
		if err := syncDir(l.dir); err != nil {
			l.log.Error("buffer: cannot quarantine damaged bytes", "segment", r.path, "offset", r.off, "err", err)
			continue
		}
		files = append(files, path)
	}
	return files, known
}

// copyRegion writes the bytes of a region into a new file at path and
// syncs it.
func copyRegion(path string, r region) error {
	src, err := os.Open(r.path)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, io.NewSectionReader(src, r.off, r.end-r.off))
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}

// segReader reads a segment through a window of up to a few MiB, for both
// the sequential scan and the search for the next valid frame.
type segReader struct {
	f    File
	path string
	size int64
	buf  []byte
	base int64 // file offset of buf[0]
}

// scanWindow is how much a segReader reads at once.
const scanWindow = 1 << 20

// at returns n bytes at off, which must lie within the file. The slice is
// valid until the next call.
func (r *segReader) at(off int64, n int) ([]byte, error) {
	if off >= r.base && off+int64(n) <= r.base+int64(len(r.buf)) {
		return r.buf[off-r.base : off-r.base+int64(n)], nil
	}
	want := int(min(int64(max(n, scanWindow)), r.size-off))
	r.buf = slices.Grow(r.buf[:0], want)[:want]
	r.base = off
	if _, err := r.f.ReadAt(r.buf, off); err != nil {
		r.buf = r.buf[:0]
		return nil, fmt.Errorf("buffer: read segment %s at %d: %w", r.path, off, err)
	}
	return r.buf[:n], nil
}

// drop forgets the window after the file was changed.
func (r *segReader) drop() { r.buf = r.buf[:0] }

// frame checks the frame at off: it returns its description and payload
// length, or the reason it is not valid. Only a failed read is an error.
func (r *segReader) frame(off int64) (frameInfo, int, string, error) {
	left := r.size - off
	if left < frameHeader {
		return frameInfo{}, 0, fmt.Sprintf("short frame header (%d bytes)", left), nil
	}
	h, err := r.at(off, frameHeader)
	if err != nil {
		return frameInfo{}, 0, "", err
	}
	n, reason := frameLength(h)
	if reason == "" && int64(n) > left-frameHeader {
		reason = fmt.Sprintf("short frame (length %d, %d bytes left)", n, left-frameHeader)
	}
	if reason != "" {
		return frameInfo{}, 0, reason, nil
	}
	crc := binary.LittleEndian.Uint32(h[4:])
	p, err := r.at(off+frameHeader, n)
	if err != nil {
		return frameInfo{}, 0, "", err
	}
	fi, reason := parsePayload(crc, p)
	return fi, n, reason, nil
}

// resync finds the first offset after bad where a valid frame starts whose
// first sequence number could follow the damage: at least lo, and at most
// lo plus the records the damaged bytes could have held (each takes at
// least its 4-byte length). The sequence window makes a false match in
// random bytes as unlikely as a CRC collision, and keeps the search cheap:
// most offsets fail on their first bytes.
func (r *segReader) resync(bad int64, lo uint64) (int64, bool, error) {
	const need = frameOverhead + recordHeader // the smallest frame
	c := max(bad+1, segHeaderSize)
	for c+need <= r.size {
		n := int(min(scanWindow, r.size-c))
		w, err := r.at(c, n)
		if err != nil {
			return 0, false, err
		}
		next := c + int64(n-need+1) // where the next window starts
		for i := 0; i+need <= n; i++ {
			off := c + int64(i)
			l := binary.LittleEndian.Uint32(w[i:])
			if l < payloadHeader+recordHeader || l > maxPayload || int64(l) > r.size-off-frameHeader {
				continue
			}
			seq := binary.LittleEndian.Uint64(w[i+frameHeader:])
			if seq < lo || seq-lo > uint64(off-bad)/recordHeader {
				continue
			}
			count := binary.LittleEndian.Uint32(w[i+frameHeader+16:])
			if count == 0 || uint64(count)*recordHeader > uint64(l-payloadHeader) {
				continue
			}
			_, _, reason, err := r.frame(off)
			if err != nil {
				return 0, false, err
			}
			if reason == "" {
				return off, true, nil
			}
			// frame moved the window: go on after off with a fresh one.
			next = off + 1
			break
		}
		c = next
	}
	return 0, false, nil
}

// listSegments returns the segment files in dir, ordered by first sequence
// number. Other files are left alone.
func listSegments(dir string) ([]segFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("buffer: list log dir: %w", err)
	}
	var found []segFile
	for _, e := range entries {
		name := e.Name()
		first, err := strconv.ParseUint(strings.TrimSuffix(name, ".seg"), 10, 64)
		if !strings.HasSuffix(name, ".seg") || err != nil || segName(first) != name || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("buffer: stat segment: %w", err)
		}
		found = append(found, segFile{first: first, path: filepath.Join(dir, name), size: info.Size()})
	}
	slices.SortFunc(found, func(a, b segFile) int {
		switch {
		case a.first < b.first:
			return -1
		case a.first > b.first:
			return 1
		}
		return 0
	})
	return found, nil
}
