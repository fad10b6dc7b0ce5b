package format

import (
	"fmt"
	"io"
	"os"
)

// spool holds the encoded pages of the row group being built until the row
// group is written: a column chunk's pages must be contiguous in the file,
// but pages of all columns are produced interleaved. In memory by default;
// in one temporary file when a directory is given, so that memory stays
// bounded by a page per column whatever the row group's size.
type spool struct {
	dir  string
	f    *os.File
	size int64
	mem  [][]byte
}

// segment is one page in the spool.
type segment struct {
	off, n int64
	mem    []byte
}

// add stores a page, header and body (copied), and returns where it is.
func (s *spool) add(hdr, body []byte) (segment, error) {
	if s.dir == "" {
		b := make([]byte, 0, len(hdr)+len(body))
		b = append(append(b, hdr...), body...)
		return segment{n: int64(len(b)), mem: b}, nil
	}
	if s.f == nil {
		f, err := os.CreateTemp(s.dir, ".pages-*")
		if err != nil {
			return segment{}, fmt.Errorf("page spool: %w", err)
		}
		// Unlinked at once: the file vanishes with the process, even a
		// crashed one.
		_ = os.Remove(f.Name())
		s.f = f
	}
	seg := segment{off: s.size, n: int64(len(hdr) + len(body))}
	for _, p := range [][]byte{hdr, body} {
		if _, err := s.f.WriteAt(p, s.size); err != nil {
			return segment{}, fmt.Errorf("page spool: %w", err)
		}
		s.size += int64(len(p))
	}
	return seg, nil
}

// copy writes segments to w in order.
func (s *spool) copy(w io.Writer, segs []segment) error {
	for _, g := range segs {
		if g.mem != nil {
			if _, err := w.Write(g.mem); err != nil {
				return err
			}
			continue
		}
		if _, err := io.Copy(w, io.NewSectionReader(s.f, g.off, g.n)); err != nil {
			return fmt.Errorf("page spool: %w", err)
		}
	}
	return nil
}

// reset forgets every page (after a row group is written).
func (s *spool) reset() error {
	s.mem = nil
	if s.f != nil && s.size > 0 {
		s.size = 0
		if err := s.f.Truncate(0); err != nil {
			return fmt.Errorf("page spool: %w", err)
		}
	}
	return nil
}

func (s *spool) close() {
	if s.f != nil {
		_ = s.f.Close()
		s.f = nil
	}
}
