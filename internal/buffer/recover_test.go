package buffer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
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

func TestRecoverCorruption(t *testing.T) {
	batches := [][]string{{"aaaa", "bbbb"}, {"cccc"}, {"dddd", "eeee"}}
	all := flatten(batches)
	tests := []struct {
		name    string
		segSize int64 // 0: one segment; 60: one frame per segment
		// corrupt damages the log; starts are the frame offsets in the
		// first segment (one segment) and files the segment paths.
		corrupt   func(t *testing.T, dir string, starts []int64)
		survivors []string
		level     slog.Level // of the one expected log line
		found     string     // in that line
	}{
		{
			name: "bit flip in last frame payload",
			corrupt: func(t *testing.T, dir string, starts []int64) {
				flip(t, filepath.Join(dir, segName(1)), starts[2]+frameOverhead+recordHeader+1)
			},
			survivors: all[:3], level: slog.LevelWarn, found: "checksum mismatch",
		},
		{
			name: "bit flip in last frame CRC",
			corrupt: func(t *testing.T, dir string, starts []int64) {
				flip(t, filepath.Join(dir, segName(1)), starts[2]+5)
			},
			survivors: all[:3], level: slog.LevelWarn, found: "checksum mismatch",
		},
		{
			name: "bit flip in a middle frame with good frames after it",
			corrupt: func(t *testing.T, dir string, starts []int64) {
				flip(t, filepath.Join(dir, segName(1)), starts[1]+frameOverhead+recordHeader)
			},
			survivors: all[:2], level: slog.LevelError, found: "checksum mismatch",
		},
		{
			name: "garbage after the last frame",
			corrupt: func(t *testing.T, dir string, starts []int64) {
				appendBytes(t, filepath.Join(dir, segName(1)), []byte("\x01\x02garbage that is not a frame at all"))
			},
			survivors: all, level: slog.LevelWarn, found: "bad frame length",
		},
		{
			name: "zeros after the last frame",
			corrupt: func(t *testing.T, dir string, starts []int64) {
				appendBytes(t, filepath.Join(dir, segName(1)), make([]byte, 4096))
			},
			survivors: all, level: slog.LevelWarn, found: "bad frame length 0",
		},
		{
			name: "huge length in the last frame",
			corrupt: func(t *testing.T, dir string, starts []int64) {
				patch(t, filepath.Join(dir, segName(1)), starts[2], []byte{0xff, 0xff, 0xff, 0x7f})
			},
			survivors: all[:3], level: slog.LevelWarn, found: "bad frame length",
		},
		{
			name: "record lengths that do not fill the frame",
			corrupt: func(t *testing.T, dir string, starts []int64) {
				// Valid CRC over a payload whose record count lies.
				path := filepath.Join(dir, segName(1))
				b := readFile(t, path)
				p := b[starts[2]+frameHeader:]
				p[16] = 3
				rewriteCRC(b[starts[2]:])
				writeFile(t, path, b)
			},
			survivors: all[:3], level: slog.LevelWarn, found: "frame says 3 records, holds 2",
		},
		{
			name: "torn header of a new segment",
			corrupt: func(t *testing.T, dir string, starts []int64) {
				writeFile(t, filepath.Join(dir, segName(6)), []byte("HYD"))
			},
			survivors: all, level: slog.LevelWarn, found: "short segment header",
		},
		{
			name:    "bit flip in an older segment",
			segSize: 60,
			corrupt: func(t *testing.T, dir string, starts []int64) {
				flip(t, filepath.Join(dir, segName(3)), segHeaderSize+frameOverhead+recordHeader)
			},
			survivors: all[:2], level: slog.LevelError, found: "checksum mismatch",
		},
		{
			name:    "bad header in an older segment",
			segSize: 60,
			corrupt: func(t *testing.T, dir string, starts []int64) {
				flip(t, filepath.Join(dir, segName(3)), 9)
			},
			survivors: all[:2], level: slog.LevelError, found: "header checksum mismatch",
		},
		{
			name:    "missing middle segment",
			segSize: 60,
			corrupt: func(t *testing.T, dir string, starts []int64) {
				if err := os.Remove(filepath.Join(dir, segName(3))); err != nil {
					t.Fatal(err)
				}
			},
			survivors: all[:2], level: slog.LevelError, found: "segment starts at 4, previous one ends at 3",
		},
		{
			name:    "torn tail in the last of several segments",
			segSize: 60,
			corrupt: func(t *testing.T, dir string, starts []int64) {
				path := filepath.Join(dir, segName(4))
				b := readFile(t, path)
				writeFile(t, path, b[:len(b)-3])
			},
			survivors: all[:3], level: slog.LevelWarn, found: "short frame",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			starts, _ := buildLog(t, dir, Options{SegmentBytes: tt.segSize}, batches)
			tt.corrupt(t, dir, starts)

			sink := &logSink{}
			l := openLog(t, dir, Options{SegmentBytes: tt.segSize, Logger: sink.logger()})
			checkRecords(t, l, 1, tt.survivors)
			lines := sink.lines(slog.LevelWarn)
			if len(lines) != 1 || !strings.HasPrefix(lines[0], tt.level.String()) || !strings.Contains(lines[0], tt.found) {
				t.Fatalf("log lines %q, want one %s containing %q", lines, tt.level, tt.found)
			}
			if tt.level == slog.LevelError && !strings.Contains(lines[0], "dropped_bytes=") {
				t.Fatalf("error line %q does not count the dropped bytes", lines[0])
			}
			next := uint64(len(tt.survivors) + 1)
			if s := mustAppend(t, l, "new"); s != next {
				t.Fatalf("Append after recovery = %d, want %d", s, next)
			}
			l.Close()

			// The repair is durable: a second open finds a clean log.
			sink = &logSink{}
			l = openLog(t, dir, Options{SegmentBytes: tt.segSize, Logger: sink.logger()})
			checkRecords(t, l, 1, slices.Concat(tt.survivors, []string{"new"}))
			if lines := sink.lines(slog.LevelWarn); len(lines) != 0 {
				t.Fatalf("second open logged %q", lines)
			}
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
