package buffer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// openLog opens a log in dir and closes it when the test ends.
func openLog(t testing.TB, dir string, opts Options) *SegmentLog {
	t.Helper()
	l, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// batchOf builds a batch holding the given records.
func batchOf(recs ...string) *Batch {
	var b Batch
	for _, r := range recs {
		b.Add([]byte(r))
	}
	return &b
}

// mustAppend appends recs and fails the test on error.
func mustAppend(t testing.TB, l Log, recs ...string) uint64 {
	t.Helper()
	seq, err := l.Append(context.Background(), batchOf(recs...))
	if err != nil {
		t.Fatalf("Append(%q): %v", recs, err)
	}
	return seq
}

// readAll returns a copy of every record in [from, to).
func readAll(t testing.TB, l Log, from, to uint64) []Record {
	t.Helper()
	var out []Record
	err := l.Read(context.Background(), from, to, func(r Record) error {
		r.Data = append([]byte(nil), r.Data...)
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Read(%d, %d): %v", from, to, err)
	}
	return out
}

// dataOf returns the records' data as strings.
func dataOf(recs []Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Data)
	}
	return out
}

// checkRecords reads the whole backlog from from and compares it with want.
func checkRecords(t testing.TB, l *SegmentLog, from uint64, want []string) {
	t.Helper()
	bl := l.Backlog(from)
	got := dataOf(readAll(t, l, bl.From, bl.To))
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("records from %d:\n got %q\nwant %q", from, got, want)
	}
	if bl.From != from || bl.Records != len(want) {
		t.Fatalf("Backlog(%d) = %+v, want %d records", from, bl, len(want))
	}
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.UnixMilli(1_700_000_000_123)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logSink collects log records so tests can check what was reported.
type logSink struct {
	mu   sync.Mutex
	recs []string // "LEVEL message key=value ..."
}

func (s *logSink) logger() *slog.Logger { return slog.New(s) }

func (s *logSink) Enabled(context.Context, slog.Level) bool { return true }
func (s *logSink) WithAttrs([]slog.Attr) slog.Handler       { return s }
func (s *logSink) WithGroup(string) slog.Handler            { return s }

func (s *logSink) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	s.mu.Lock()
	s.recs = append(s.recs, b.String())
	s.mu.Unlock()
	return nil
}

// lines returns the collected lines at level or above.
func (s *logSink) lines(level slog.Level) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.recs {
		var lv slog.Level
		if err := lv.UnmarshalText([]byte(strings.Fields(l)[0])); err == nil && lv >= level {
			out = append(out, l)
		}
	}
	return out
}

// segFiles lists the segment file names in dir.
func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

// fileSize returns the size of a file, failing the test if it is missing.
func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// isErr reports whether err matches target, for table tests.
func isErr(err, target error) bool {
	if target == nil {
		return err == nil
	}
	return errors.Is(err, target)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
