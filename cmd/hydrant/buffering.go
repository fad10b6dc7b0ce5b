package main

import (
	"flag"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/metrics"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// Default caps on buffered bytes. Past them Puts are answered "Slow down."
// (ServiceUnavailableException) until delivery catches up: back-pressure
// instead of loss. They are fixed rather than derived from the free space at
// start, so that a restart on a fuller disk does not silently change them;
// a disk that fills first is handled the same way (ENOSPC refuses appends
// and recovers when space returns).
const (
	defaultMaxStreamBufferBytes = 1 << 30 // 1 GiB per stream
	defaultMaxBufferBytes       = 8 << 30 // 8 GiB across all streams
)

// bufferFlags are the caps on buffered bytes.
type bufferFlags struct {
	maxStream capSize // per stream: buffer.Options.MaxBytes
	maxTotal  capSize // across all streams: a shared buffer.Budget
}

// register adds --max-stream-buffer-bytes and --max-buffer-bytes to fs.
func (f *bufferFlags) register(fs *flag.FlagSet) {
	f.maxStream, f.maxTotal = defaultMaxStreamBufferBytes, defaultMaxBufferBytes
	fs.Var(&f.maxStream, "max-stream-buffer-bytes",
		"cap on one stream's undelivered bytes on disk; past it Puts get \"Slow down.\" (0: no cap; units KiB, MiB, GiB, ...)")
	fs.Var(&f.maxTotal, "max-buffer-bytes",
		"cap on undelivered bytes on disk across all streams; past it Puts get \"Slow down.\" (0: no cap)")
}

// budget returns the shared cap handed to every stream's log, and warns
// when the data dir's file system has less room than the caps allow: the
// disk will then fill first, which is handled but worth knowing.
func (f *bufferFlags) budget(dataDir string, log *slog.Logger) *buffer.Budget {
	var st unix.Statfs_t
	if err := unix.Statfs(dataDir, &st); err == nil {
		free := int64(st.Bavail) * int64(st.Bsize)
		if limit := int64(f.maxTotal); limit == 0 || free < limit {
			log.Warn("the data dir has less free space than --max-buffer-bytes; when it fills, Puts are refused with \"Slow down.\" until delivery frees space",
				"free", formatSize(free), "max_buffer_bytes", f.maxTotal.String())
		}
	}
	return buffer.NewBudget(int64(f.maxTotal))
}

// bufferStats reports every stream's buffer for the metrics.
func bufferStats(reg *stream.Registry) []metrics.Buffer {
	names := reg.Names()
	out := make([]metrics.Buffer, 0, len(names))
	for _, n := range names {
		st, err := reg.Stats(n)
		if err != nil {
			continue // deleted since Names
		}
		b := metrics.Buffer{Stream: n, Bytes: st.LogBytes, Records: st.BufferedRecords,
			LostRecords: st.LostRecords, LostBytes: st.LostBytes}
		if st.OldestUndelivered != nil {
			b.Oldest = *st.OldestUndelivered
		}
		out = append(out, b)
	}
	return out
}

// capSize is a flag.Value for a cap in bytes, 0 meaning no cap, with an
// optional unit: B, KiB, MiB, GiB, TiB (powers of 1024; K, M, G, T and KB,
// MB, ... are read the same way, as most tools do for memory and disk),
// e.g. "512MiB" or "8G".
type capSize int64

var sizeUnits = []struct {
	suffix string
	shift  uint
}{
	{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10},
	{"TB", 40}, {"GB", 30}, {"MB", 20}, {"KB", 10},
	{"T", 40}, {"G", 30}, {"M", 20}, {"K", 10}, {"B", 0},
}

// Set parses a size.
func (b *capSize) Set(s string) error {
	v := strings.TrimSpace(s)
	shift := uint(0)
	for _, u := range sizeUnits {
		if len(v) > len(u.suffix) && strings.EqualFold(v[len(v)-len(u.suffix):], u.suffix) {
			v, shift = strings.TrimSpace(v[:len(v)-len(u.suffix)]), u.shift
			break
		}
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return fmt.Errorf("want a size such as 1073741824, 512MiB or 8GiB, got %q", s)
	}
	n *= float64(uint64(1) << shift)
	if n >= math.MaxInt64 {
		return fmt.Errorf("size %q is too large", s)
	}
	*b = capSize(n)
	return nil
}

// String prints the size in the largest binary unit that divides it.
func (b *capSize) String() string {
	if b == nil {
		return "0"
	}
	return formatSize(int64(*b))
}

// formatSize prints n bytes in the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range sizeUnits[:4] {
		if n != 0 && n%(1<<u.shift) == 0 {
			return strconv.FormatInt(n>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}
