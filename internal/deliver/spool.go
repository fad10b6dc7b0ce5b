package deliver

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"time"
)

// spoolWriter is a temporary file of records (one partition of a batch):
// each record is uvarint(len(data)) varint(arrival ms) uvarint(seq) data.
// Spools live only while their batch is written and are not synced: after a
// crash the batch is processed again from the log.
type spoolWriter struct {
	f *os.File
	w *bufio.Writer
}

func newSpoolWriter(path string) (*spoolWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create partition spool: %w", err)
	}
	return &spoolWriter{f: f, w: bufio.NewWriterSize(f, partitionSpoolBufferSize)}, nil
}

func (s *spoolWriter) write(r Rec) error {
	var hdr [3 * binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(r.Data)))
	n += binary.PutVarint(hdr[n:], r.Arrival.UnixMilli())
	n += binary.PutUvarint(hdr[n:], r.Seq)
	if _, err := s.w.Write(hdr[:n]); err != nil {
		return fmt.Errorf("write partition spool: %w", err)
	}
	if _, err := s.w.Write(r.Data); err != nil {
		return fmt.Errorf("write partition spool: %w", err)
	}
	return nil
}

func (s *spoolWriter) flush() error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("write partition spool: %w", err)
	}
	return nil
}

// replay calls fn for every record, in the order written. It may be called
// again (a store that retries its write).
func (s *spoolWriter) replay(fn func(Rec) error) error {
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read partition spool: %w", err)
	}
	br := bufio.NewReaderSize(s.f, partitionSpoolBufferSize)
	for {
		size, err := binary.ReadUvarint(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read partition spool: %w", err)
		}
		ms, err := binary.ReadVarint(br)
		if err != nil {
			return fmt.Errorf("read partition spool: %w", err)
		}
		seq, err := binary.ReadUvarint(br)
		if err != nil {
			return fmt.Errorf("read partition spool: %w", err)
		}
		// A fresh slice per record: encoders may keep what they are given.
		buf := make([]byte, size)
		if _, err := io.ReadFull(br, buf); err != nil {
			return fmt.Errorf("read partition spool: %w", err)
		}
		if err := fn(Rec{Data: buf, Arrival: time.UnixMilli(ms), Seq: seq}); err != nil {
			return err
		}
	}
}

func (s *spoolWriter) close() error { return s.f.Close() }
