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

// writeCursor replaces the cursor file atomically: temp file, fsync,
// rename, fsync of the directory (the commit point).
func (l *SegmentLog) writeCursor(upto uint64, state []byte) error {
	b := make([]byte, cursorFixed, cursorFixed+len(state)+4)
	copy(b, cursorMagic)
	binary.LittleEndian.PutUint32(b[4:], cursorVersion)
	binary.LittleEndian.PutUint64(b[8:], upto)
	binary.LittleEndian.PutUint32(b[16:], uint32(len(state)))
	b = append(b, state...)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))

	tmp := filepath.Join(l.dir, cursorTmpName)
	f, err := l.opts.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create cursor: %w", err)
	}
	if _, err = f.WriteAt(b, 0); err != nil {
		err = fmt.Errorf("write cursor: %w", err)
	} else if err = f.Sync(); err != nil {
		err = fmt.Errorf("sync cursor: %w", err)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close cursor: %w", cerr)
	}
	if err == nil {
		if err = os.Rename(tmp, filepath.Join(l.dir, cursorName)); err != nil {
			err = fmt.Errorf("rename cursor: %w", err)
		} else if err = syncDir(l.dir); err != nil {
			err = fmt.Errorf("sync log dir: %w", err)
		}
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// readCursor reads the cursor file; a missing one is a new log: (1, nil).
func readCursor(path string) (uint64, []byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 1, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("buffer: read cursor: %w", err)
	}
	bad := func(reason string) error {
		return fmt.Errorf("buffer: read cursor: %w", &CorruptionError{Path: path, Reason: reason})
	}
	if len(b) < cursorFixed+4 {
		return 0, nil, bad(fmt.Sprintf("short file (%d bytes)", len(b)))
	}
	n := int(binary.LittleEndian.Uint32(b[16:]))
	switch {
	case string(b[:4]) != cursorMagic:
		return 0, nil, bad("bad magic")
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
