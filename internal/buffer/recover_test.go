package buffer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// buildLog appends the batches to a new log in dir and closes it, returning
// the offset where each frame starts in the first segment and its end.
func buildLog(t *testing.T, dir string, opts Options, batches [][]string) (starts []int64, end int64) {
	t.Helper()
	l := openLog(t, dir, opts)
	for _, b := range batches {
		l.mu.Lock()
		seg := l.segs[len(l.segs)-1]
		l.mu.Unlock()
		starts = append(starts, fileSize(t, seg.path))
		mustAppend(t, l, b...)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return starts, fileSize(t, filepath.Join(dir, segName(1)))
}

func flatten(batches [][]string) []string {
	var out []string
	for _, b := range batches {
		out = append(out, b...)
	}
	return out
}

func TestTornTailAtEveryOffset(t *testing.T) {
	batches := [][]string{{"first", "frame"}, {"second"}, {"t1", "t2", "t3"}}
	src := t.TempDir()
	starts, end := buildLog(t, src, Options{}, batches)
	whole := readFile(t, filepath.Join(src, segName(1)))
	last := starts[len(starts)-1]
	survivors := flatten(batches[:len(batches)-1])

	for cut := last; cut < end; cut++ {
		t.Run(fmt.Sprintf("cut at %d", cut), func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, segName(1)), whole[:cut])
			sink := &logSink{}
			l := openLog(t, dir, Options{Logger: sink.logger()})
			checkRecords(t, l, 1, survivors)

			warns := sink.lines(slog.LevelWarn)
			switch {
			case cut == last && len(warns) != 0:
				t.Fatalf("clean end logged %q", warns)
			case cut > last && (len(warns) != 1 || !strings.Contains(warns[0], "WARN buffer: cut torn tail") ||
				!strings.Contains(warns[0], fmt.Sprintf("offset=%d", last)) || !strings.Contains(warns[0], segName(1))):
				t.Fatalf("torn tail logged %q, want one Warn naming segment and offset %d", warns, last)
			}
			if got := fileSize(t, filepath.Join(dir, segName(1))); got != last {
				t.Fatalf("segment is %d bytes after recovery, want %d", got, last)
			}
			// The log continues with the right sequence numbers.
			if s := mustAppend(t, l, "again"); s != uint64(len(survivors)+1) {
				t.Fatalf("Append after recovery = %d, want %d", s, len(survivors)+1)
			}
			l.Close()
			l = openLog(t, dir, Options{Logger: sink.logger()})
			checkRecords(t, l, 1, slices.Concat(survivors, []string{"again"}))
		})
	}
}

func TestReadDetectsCorruption(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	mustAppend(t, l, "hello", "world")
	// Damage behind the log's back, after recovery checked it.
	flip(t, filepath.Join(dir, segName(1)), segHeaderSize+frameOverhead+recordHeader)
	err := l.Read(t.Context(), 1, 3, func(Record) error { return nil })
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.Offset != segHeaderSize {
		t.Fatalf("Read of a damaged frame = %v, want CorruptionError at %d", err, segHeaderSize)
	}
	if _, err := l.Cut(2, 1); err == nil {
		t.Fatal("Cut inside a damaged frame succeeded")
	}
}

// FuzzRecoverTail appends arbitrary bytes to a good segment: Open must keep
// every good frame, never panic, and leave a log that takes appends.
func FuzzRecoverTail(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{24, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, tail []byte) {
		dir := t.TempDir()
		batches := [][]string{{"one", "two"}, {"three"}}
		buildLog(t, dir, Options{}, batches)
		appendBytes(t, filepath.Join(dir, segName(1)), tail)
		l := openLog(t, dir, Options{})
		bl := l.Backlog(1)
		got := dataOf(readAll(t, l, bl.From, bl.To))
		if len(got) < 3 || strings.Join(got[:3], "|") != "one|two|three" {
			t.Fatalf("good frames lost: %q", got)
		}
		mustAppend(t, l, "more")
	})
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	b := readFile(t, path)
	b[off] ^= 0x10
	writeFile(t, path, b)
}

func patch(t *testing.T, path string, off int64, p []byte) {
	t.Helper()
	b := readFile(t, path)
	copy(b[off:], p)
	writeFile(t, path, b)
}

func appendBytes(t *testing.T, path string, p []byte) {
	t.Helper()
	writeFile(t, path, append(readFile(t, path), p...))
}

// rewriteCRC recomputes the CRC of the frame at the start of b.
func rewriteCRC(b []byte) {
	n := binary.LittleEndian.Uint32(b)
	binary.LittleEndian.PutUint32(b[4:], crc32.Checksum(b[frameHeader:frameHeader+n], castagnoli))
}
