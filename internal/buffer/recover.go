package buffer

import (
	"bufio"
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

// badSpot is where a segment stops being valid.
type badSpot struct {
	off    int64
	reason string
	// followed is set when a valid frame follows the bad one: the disk
	// damaged synced data, which a torn write cannot explain.
	followed bool
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

	found, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	removed := false
	// A segment followed by one starting at or below the cursor holds only
	// delivered records; a crash came between the commit and its deletion.
	for len(found) > 1 && found[1].first <= committed {
		if err := os.Remove(found[0].path); err != nil {
			return fmt.Errorf("buffer: remove delivered segment: %w", err)
		}
		found, removed = found[1:], true
	}

	var next uint64 // end of the previous segment; 0 before the first
	for i, sf := range found {
		last := i == len(found)-1
		seg, end, bad, err := l.scanSegment(sf, next)
		if err != nil {
			return err
		}
		if bad == nil {
			l.segs = append(l.segs, seg)
			next = end
			continue
		}
		kept, err := l.cutAt(seg, sf, bad, last, next)
		if err != nil {
			return err
		}
		switch {
		case bad.off > 0:
			next = end
		case kept:
			next = sf.first // header rewritten: an empty segment
		}
		dropped := sf.size - min(bad.off, sf.size)
		for _, later := range found[i+1:] {
			if err := os.Remove(later.path); err != nil {
				return fmt.Errorf("buffer: remove segment after corruption: %w", err)
			}
			dropped += later.size
		}
		removed = removed || !last
		attrs := []any{"segment", sf.path, "offset", bad.off, "found", bad.reason, "dropped_bytes", dropped}
		if last && !bad.followed && (bad.off > 0 || sf.size <= segHeaderSize) {
			l.log.Warn("buffer: cut torn tail", attrs...)
		} else {
			attrs = append(attrs, "dropped_segments", len(found)-1-i)
			l.log.Error("buffer: corrupt log, dropped everything after the damage", attrs...)
		}
		break
	}
	if removed {
		if err := syncDir(l.dir); err != nil {
			return fmt.Errorf("buffer: sync log dir: %w", err)
		}
	}
	return l.finishRecovery(next)
}

// finishRecovery makes sure there is an active segment that continues at
// the right sequence number, and trims the index to the committed cursor.
func (l *SegmentLog) finishRecovery(next uint64) error {
	switch {
	case len(l.segs) == 0:
		next = l.committed
		seg, err := l.createSegment(next)
		if err != nil {
			return fmt.Errorf("buffer: %w", err)
		}
		l.segs = append(l.segs, seg)
	case next < l.committed:
		// Synced records were lost to damage, but some were delivered:
		// never hand out a delivered sequence number again.
		l.log.Error("buffer: committed cursor is beyond the end of the log", "committed", l.committed, "end", next)
		next = l.committed
		seg, err := l.createSegment(next)
		if err != nil {
			return fmt.Errorf("buffer: %w", err)
		}
		l.segs = append(l.segs, seg)
	}
	if len(l.frames) > 0 && l.frames[0].seq > l.committed {
		l.log.Error("buffer: records missing before the log's first segment", "committed", l.committed, "first", l.frames[0].seq)
	}
	k, _ := slices.BinarySearchFunc(l.frames, l.committed, func(f frame, seq uint64) int {
		if f.end() <= seq {
			return -1
		}
		return 1
	})
	l.frames = slices.Clone(l.frames[k:])
	var used int64
	for i := range l.frames {
		used += l.frames[i].diskBytes()
	}
	l.used.Store(used)
	l.next = next
	l.w.seg = l.segs[len(l.segs)-1]
	l.w.next = next
	return nil
}

// cutAt repairs a segment found bad at bad.off: it truncates the segment
// there, or, when the header itself is bad, rewrites an empty last segment
// that continues the log or removes the file. kept reports whether the
// segment stays in the log.
func (l *SegmentLog) cutAt(seg *segment, sf segFile, bad *badSpot, last bool, expect uint64) (kept bool, err error) {
	if bad.off > 0 {
		if err := seg.f.Truncate(bad.off); err != nil {
			return false, fmt.Errorf("buffer: truncate segment: %w", err)
		}
		if err := seg.f.Sync(); err != nil {
			return false, fmt.Errorf("buffer: sync truncated segment: %w", err)
		}
		seg.size = bad.off
		l.segs = append(l.segs, seg)
		return true, nil
	}
	if last && (expect == 0 || sf.first == expect) {
		var h [segHeaderSize]byte
		putSegHeader(h[:], sf.first)
		err = seg.f.Truncate(0)
		if err == nil {
			_, err = seg.f.WriteAt(h[:], 0)
		}
		if err == nil {
			err = seg.f.Sync()
		}
		if err != nil {
			return false, fmt.Errorf("buffer: rewrite segment header %s: %w", sf.path, err)
		}
		seg.size = segHeaderSize
		l.segs = append(l.segs, seg)
		return true, nil
	}
	seg.f.Close()
	if err := os.Remove(sf.path); err != nil {
		return false, fmt.Errorf("buffer: remove corrupt segment: %w", err)
	}
	return false, nil
}

// scanSegment opens a segment and checks its header and every frame,
// appending good frames to the index. It returns the sequence number after
// the last good frame and, if the segment does not end cleanly, where and
// why it went bad. expect is where the previous segment ended (0: none).
func (l *SegmentLog) scanSegment(sf segFile, expect uint64) (*segment, uint64, *badSpot, error) {
	f, err := l.opts.OpenFile(sf.path, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("buffer: open segment: %w", err)
	}
	seg := &segment{first: sf.first, path: sf.path, f: f}
	if sf.size < segHeaderSize {
		return seg, 0, &badSpot{reason: fmt.Sprintf("short segment header (%d bytes)", sf.size)}, nil
	}
	var h [segHeaderSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil {
		f.Close()
		return nil, 0, nil, fmt.Errorf("buffer: read segment %s: %w", sf.path, err)
	}
	first, reason := parseSegHeader(h[:])
	switch {
	case reason != "":
	case first != sf.first:
		reason = fmt.Sprintf("header says first sequence %d", first)
	case expect != 0 && first != expect:
		reason = fmt.Sprintf("segment starts at %d, previous one ends at %d", first, expect)
	}
	if reason != "" {
		return seg, 0, &badSpot{reason: reason}, nil
	}

	next, off := first, int64(segHeaderSize)
	br := bufio.NewReaderSize(io.NewSectionReader(f, off, sf.size-off), 1<<20)
	var hdr [frameHeader]byte
	var payload []byte
	var bad *badSpot
	for off < sf.size && bad == nil {
		left := sf.size - off
		if left < frameHeader {
			bad = &badSpot{off: off, reason: fmt.Sprintf("short frame header (%d bytes)", left)}
			break
		}
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			f.Close()
			return nil, 0, nil, fmt.Errorf("buffer: read segment %s: %w", sf.path, err)
		}
		n, reason := frameLength(hdr[:])
		if reason == "" && int64(n) > left-frameHeader {
			reason = fmt.Sprintf("short frame (length %d, %d bytes left)", n, left-frameHeader)
		}
		if reason != "" {
			bad = &badSpot{off: off, reason: reason}
			break
		}
		payload = slices.Grow(payload[:0], n)[:n]
		if _, err := io.ReadFull(br, payload); err != nil {
			f.Close()
			return nil, 0, nil, fmt.Errorf("buffer: read segment %s: %w", sf.path, err)
		}
		fi, reason := parsePayload(binary.LittleEndian.Uint32(hdr[4:]), payload)
		if reason == "" && fi.seq != next {
			reason = fmt.Sprintf("frame starts at sequence %d, expected %d", fi.seq, next)
		}
		if reason != "" {
			end := off + frameHeader + int64(n)
			bad = &badSpot{off: off, reason: reason, followed: validFrameAt(f, end, sf.size)}
			break
		}
		l.frames = append(l.frames, frame{
			seq: fi.seq, cum: l.total, data: fi.data, arrival: fi.arrival,
			off: off, seg: seg, size: uint32(n), count: fi.count,
		})
		l.total += fi.data
		next += uint64(fi.count)
		off += frameHeader + int64(n)
	}
	seg.size = off
	return seg, next, bad, nil
}

// validFrameAt reports whether a whole, valid frame starts at off.
func validFrameAt(f File, off, size int64) bool {
	var hdr [frameHeader]byte
	if size-off < frameHeader {
		return false
	}
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return false
	}
	n, reason := frameLength(hdr[:])
	if reason != "" || int64(n) > size-off-frameHeader {
		return false
	}
	p := make([]byte, n)
	if _, err := f.ReadAt(p, off+frameHeader); err != nil {
		return false
	}
	_, reason = parsePayload(binary.LittleEndian.Uint32(hdr[4:]), p)
	return reason == ""
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
