package buffer

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

const (
	cursorName    = "cursor"
	cursorTmpName = "cursor.tmp"
)

// Commit durably records that every record before upto is delivered,
// together with state, by replacing the cursor file atomically. Then it
// drops the delivered frames from the index and deletes segments that hold
// only delivered records. upto may equal the current cursor (to save a new
// plan) but never go back or past the last appended record.
func (l *SegmentLog) Commit(ctx context.Context, upto uint64, state []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("buffer: commit: %w", err)
	}
	if len(state) > maxCursorState {
		return fmt.Errorf("buffer: commit: state of %d bytes exceeds %d", len(state), maxCursorState)
	}
	l.cmu.Lock()
	defer l.cmu.Unlock()
	l.mu.Lock()
	shut, cur, next := l.shut, l.committed, l.next
	l.mu.Unlock()
	switch {
	case shut:
		return ErrClosed
	case upto < cur:
		return fmt.Errorf("buffer: commit %d: %w: behind the committed cursor %d", upto, ErrOutOfRange, cur)
	case upto > next:
		return fmt.Errorf("buffer: commit %d: %w: past the last appended record %d", upto, ErrOutOfRange, next-1)
	}
	if err := l.writeCursor(upto, state); err != nil {
		return fmt.Errorf("buffer: commit: %w", err)
	}

	l.mu.Lock()
	l.committed = upto
	l.state = slices.Clone(state)
	// Frames wholly below upto are delivered: drop them from the index.
	k := 0
	var freed int64
	for k < len(l.frames) && l.frames[k].end() <= upto {
		freed += l.frames[k].diskBytes()
		k++
	}
	clear(l.frames[:k]) // release their segments
	l.frames = l.frames[k:]
	for len(l.holes) > 0 && l.holes[0].to <= upto {
		l.holes = l.holes[1:]
	}
	if len(l.holes) > 0 {
		l.holes[0].from = max(l.holes[0].from, upto)
	}
	// Everything appended is delivered: the writer replaces the active
	// segment, so that its space comes back (on a full disk, the only
	// way Appends can succeed again).
	retire := upto == l.next && len(l.frames) == 0
	// A segment followed by one starting at or below upto is delivered;
	// the last (active) segment always stays.
	var dead []*segment
	for len(l.segs) > 1 && l.segs[1].first <= upto {
		dead = append(dead, l.segs[0])
		l.segs[0] = nil
		l.segs = l.segs[1:]
	}
	l.mu.Unlock()
	l.unreserve(freed)
	if retire {
		l.retire.Store(true)
		l.wake()
	}

	for _, s := range dead {
		// A failure here costs disk space only: recovery deletes the
		// segment again at the next open.
		if err := s.f.Close(); err != nil {
			l.log.Warn("buffer: close delivered segment", "segment", s.path, "err", err)
		}
		if err := os.Remove(s.path); err != nil {
			l.log.Warn("buffer: delete delivered segment", "segment", s.path, "err", err)
		}
	}
	return nil
}

// The cursor file holds two slots and every commit overwrites the older one
// in place, then fdatasyncs: one flush per commit, no file creation, rename
// or directory sync (the delivery loop commits once per object, so this is
// on the path from acknowledgement to a visible object). A write torn by a
// crash leaves the other slot, the previous commit, which is exactly what
// an unfinished commit must fall back to. The file is only replaced
// atomically (temp file, rename) when it does not exist yet, is in the
// older single-record format, or a state outgrows its slots.

// cursorSlot returns the slot bytes of one commit.
func cursorSlot(gen, upto uint64, state []byte) []byte {
	b := make([]byte, cursorSlotFixed, cursorSlotFixed+len(state)+4)
	binary.LittleEndian.PutUint64(b[0:], gen)
	binary.LittleEndian.PutUint64(b[8:], upto)
	binary.LittleEndian.PutUint32(b[16:], uint32(len(state)))
	b = append(b, state...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// writeCursor durably records (upto, state) as the next commit.
func (l *SegmentLog) writeCursor(upto uint64, state []byte) error {
	gen := l.cursorGen + 1
	slot := cursorSlot(gen, upto, state)
	if l.cursorFile != nil && len(slot) <= l.cursorSlotSize {
		off := int64(cursorHeaderSize) + int64(gen%2)*int64(l.cursorSlotSize)
		if _, err := l.cursorFile.WriteAt(slot, off); err != nil {
			return fmt.Errorf("write cursor: %w", err)
		}
		if err := l.cursorFile.Sync(); err != nil {
			return fmt.Errorf("sync cursor: %w", err)
		}
		l.cursorGen = gen
		return nil
	}
	if err := l.replaceCursor(gen, slot); err != nil {
		return err
	}
	l.cursorGen = gen
	return nil
}

// replaceCursor writes a new two-slot cursor file holding slot, atomically:
// temp file, fsync, rename, fsync of the directory.
func (l *SegmentLog) replaceCursor(gen uint64, slot []byte) error {
	size := defaultCursorSlot
	for size < len(slot) {
		size *= 2
	}
	b := make([]byte, cursorHeaderSize+2*size)
	copy(b, cursorFileMagic)
	binary.LittleEndian.PutUint32(b[4:], cursorFileVersion)
	binary.LittleEndian.PutUint32(b[8:], uint32(size))
	binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[:12], castagnoli))
	copy(b[cursorHeaderSize+int(gen%2)*size:], slot)

	if l.cursorFile != nil {
		_ = l.cursorFile.Close()
		l.cursorFile = nil
	}
	tmp := filepath.Join(l.dir, cursorTmpName)
	f, err := l.opts.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create cursor: %w", err)
	}
	if _, err = f.WriteAt(b, 0); err != nil {
		err = fmt.Errorf("write cursor: %w", err)
	} else if err = f.Sync(); err != nil {
		err = fmt.Errorf("sync cursor: %w", err)
	} else if err = os.Rename(tmp, filepath.Join(l.dir, cursorName)); err != nil {
		err = fmt.Errorf("rename cursor: %w", err)
	} else if err = syncDir(l.dir); err != nil {
		err = fmt.Errorf("sync log dir: %w", err)
	}
	if err != nil {
		_ = f.Close()
		os.Remove(tmp)
		return err
	}
	// The open file now has the name cursor: later commits write into it.
	l.cursorFile, l.cursorSlotSize = f, size
	return nil
}

// openCursor opens the existing two-slot cursor file for in-place commits;
// other formats are replaced at the next commit.
func (l *SegmentLog) openCursor(slotSize int) error {
	if slotSize == 0 {
		return nil
	}
	f, err := l.opts.OpenFile(filepath.Join(l.dir, cursorName), os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("buffer: open cursor: %w", err)
	}
	l.cursorFile, l.cursorSlotSize = f, slotSize
	return nil
}

// cursorFile is what readCursor found.
type cursorFile struct {
	upto  uint64
	state []byte
	// gen is the generation of the newest slot; slotSize is 0 when the file
	// is missing or in the single-record format of version 1.
	gen      uint64
	slotSize int
}

// readCursor reads the cursor file; a missing one is a new log: (1, nil).
func readCursor(path string) (cursorFile, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cursorFile{upto: 1}, nil
	}
	if err != nil {
		return cursorFile{}, fmt.Errorf("buffer: read cursor: %w", err)
	}
	bad := func(reason string) error {
		return fmt.Errorf("buffer: read cursor: %w", &CorruptionError{Path: path, Reason: reason})
	}
	if len(b) >= 4 && string(b[:4]) == cursorMagic {
		upto, state, err := readCursorV1(b, bad)
		return cursorFile{upto: upto, state: state}, err
	}
	if len(b) < cursorHeaderSize || string(b[:4]) != cursorFileMagic {
		return cursorFile{}, bad("bad magic")
	}
	if binary.LittleEndian.Uint32(b[12:]) != crc32.Checksum(b[:12], castagnoli) {
		return cursorFile{}, bad("header checksum mismatch")
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != cursorFileVersion {
		return cursorFile{}, bad(fmt.Sprintf("unknown version %d", v))
	}
	size := int(binary.LittleEndian.Uint32(b[8:]))
	if size < cursorSlotFixed+4 || len(b) != cursorHeaderSize+2*size {
		return cursorFile{}, bad(fmt.Sprintf("slot size %d does not match file size %d", size, len(b)))
	}
	var best cursorFile
	found := false
	for i := 0; i < 2; i++ {
		s := b[cursorHeaderSize+i*size : cursorHeaderSize+(i+1)*size]
		n := int(binary.LittleEndian.Uint32(s[16:]))
		if n > size-cursorSlotFixed-4 {
			continue // torn or never written
		}
		if binary.LittleEndian.Uint32(s[cursorSlotFixed+n:]) != crc32.Checksum(s[:cursorSlotFixed+n], castagnoli) {
			continue
		}
		gen, upto := binary.LittleEndian.Uint64(s[0:]), binary.LittleEndian.Uint64(s[8:])
		if upto == 0 || (found && gen <= best.gen) {
			continue
		}
		var state []byte
		if n > 0 {
			state = slices.Clone(s[cursorSlotFixed : cursorSlotFixed+n])
		}
		best, found = cursorFile{upto: upto, state: state, gen: gen, slotSize: size}, true
	}
	if !found {
		return cursorFile{}, bad("no valid slot")
	}
	return best, nil
}

// readCursorV1 parses the single-record cursor of format version 1.
func readCursorV1(b []byte, bad func(string) error) (uint64, []byte, error) {
	if len(b) < cursorFixed+4 {
		return 0, nil, bad(fmt.Sprintf("short file (%d bytes)", len(b)))
	}
	n := int(binary.LittleEndian.Uint32(b[16:]))
	switch {
	case n > maxCursorState || len(b) != cursorFixed+n+4:
		return 0, nil, bad(fmt.Sprintf("state length %d does not match file size %d", n, len(b)))
	case binary.LittleEndian.Uint32(b[cursorFixed+n:]) != crc32.Checksum(b[:cursorFixed+n], castagnoli):
		return 0, nil, bad("checksum mismatch")
	case binary.LittleEndian.Uint32(b[4:]) != cursorVersion:
		return 0, nil, bad(fmt.Sprintf("unknown version %d", binary.LittleEndian.Uint32(b[4:])))
	}
	upto := binary.LittleEndian.Uint64(b[8:])
	if upto == 0 {
		return 0, nil, bad("cursor 0")
	}
	var state []byte
	if n > 0 {
		state = slices.Clone(b[cursorFixed : cursorFixed+n])
	}
	return upto, state, nil
}
