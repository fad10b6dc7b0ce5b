package buffer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/sys/unix"
)

// TestDeliveredActiveSegmentReplaced checks that once everything appended
// is delivered, the active segment is deleted and an empty one started, at
// run time (no further append needed) and at open.
func TestDeliveredActiveSegmentReplaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		l := openLog(t, dir, Options{})
		mustAppend(t, l, "one", "two")
		mustAppend(t, l, "three")
		ctx := context.Background()

		// A commit that leaves something undelivered keeps the segment.
		if err := l.Commit(ctx, 3, nil); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := segFiles(t, dir); !slices.Equal(got, []string{segName(1)}) {
			t.Fatalf("segments after a partial commit: %v", got)
		}
		// Everything delivered: the writer replaces the segment on its
		// own.
		if err := l.Commit(ctx, 4, []byte("state")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if got := segFiles(t, dir); !slices.Equal(got, []string{segName(4)}) {
			t.Fatalf("segments after delivering everything: %v, want only %s", got, segName(4))
		}
		if n := fileSize(t, filepath.Join(dir, segName(4))); n != segHeaderSize {
			t.Fatalf("new active segment is %d bytes, want an empty one", n)
		}
		if s := mustAppend(t, l, "four"); s != 4 {
			t.Fatalf("Append after the replacement = %d, want 4", s)
		}
		checkRecords(t, l, 4, []string{"four"})
		if got, state := l.Committed(); got != 4 || string(state) != "state" {
			t.Fatalf("Committed = %d, %q", got, state)
		}
		l.Close()
		l = openLog(t, dir, Options{})
		checkRecords(t, l, 4, []string{"four"})
	})
}

func TestDeliveredActiveSegmentReplacedAtOpen(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Options{})
	mustAppend(t, l, "one", "two")
	old := readFile(t, filepath.Join(dir, segName(1)))
	if err := l.Commit(context.Background(), 3, nil); err != nil {
		t.Fatal(err)
	}
	l.Close()
	// As a crash before the replacement (or an older hydrant) leaves it.
	for _, s := range segFiles(t, dir) {
		os.Remove(filepath.Join(dir, s))
	}
	writeFile(t, filepath.Join(dir, segName(1)), old)

	sink := &logSink{}
	l = openLog(t, dir, Options{Logger: sink.logger()})
	if got := segFiles(t, dir); !slices.Equal(got, []string{segName(3)}) {
		t.Fatalf("segments after open: %v, want only %s", got, segName(3))
	}
	if lines := sink.lines(-8); len(lines) != 0 {
		t.Errorf("open logged %q", lines)
	}
	if s := mustAppend(t, l, "three"); s != 3 {
		t.Fatalf("Append = %d, want 3", s)
	}
}

// mountTmpfs mounts a tmpfs of size bytes on a new directory for the test,
// or skips the test where that is not permitted.
func mountTmpfs(t *testing.T, size int) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs to fill")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs to fill: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestFullDiskRecoversWhenDelivered fills a small tmpfs with one segment
// (far below SegmentBytes): appends are refused with ErrFull wrapping
// ENOSPC; once everything is delivered they are accepted again, and so they
// are after a restart on the full disk.
func TestFullDiskRecoversWhenDelivered(t *testing.T) {
	mnt := mountTmpfs(t, 1<<20)
	rec := strings.Repeat("r", 16<<10)
	for _, restart := range []bool{false, true} {
		t.Run(fmt.Sprintf("restart=%v", restart), func(t *testing.T) {
			dir := filepath.Join(mnt, fmt.Sprintf("log-%v", restart))
			defer os.RemoveAll(dir) // after Close, below
			clk := newClock()
			opts := Options{Now: clk.Now, RetryInterval: time.Second}
			l, err := Open(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { l.Close() }()
			ctx := context.Background()
			// Fill the disk to the last page: large batches, then small
			// ones, each until refused.
			var acked uint64
			for _, b := range [][]string{{rec, rec}, {"small"}} {
				for {
					clk.Advance(time.Second)
					_, err := l.Append(ctx, batchOf(b...))
					if err != nil {
						if !errors.Is(err, ErrFull) || !errors.Is(err, syscall.ENOSPC) {
							t.Fatalf("Append on a full disk = %v, want ErrFull wrapping ENOSPC", err)
						}
						break
					}
					acked += uint64(len(b))
				}
			}
			if acked == 0 {
				t.Fatal("nothing fit")
			}
			t.Logf("disk full after %d records, %d bytes free", acked, freeBytes(t, dir))
			if restart {
				l.Close()
				if l, err = Open(dir, opts); err != nil {
					t.Fatalf("Open on a full disk: %v", err)
				}
				if _, err := l.Append(ctx, batchOf(rec, rec)); !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Append after restart on a full disk = %v, want ENOSPC", err)
				}
			}
			// Deliver everything (the first commit of this log, with a
			// plan, as delivery makes it), then retry after the interval.
			bl := l.Backlog(1)
			if bl.Records != int(acked) {
				t.Fatalf("backlog %+v, %d acknowledged", bl, acked)
			}
			if err := l.Commit(ctx, 1, []byte(`{"v":1,"plan":{}}`)); err != nil {
				t.Fatalf("Commit on a full disk: %v", err)
			}
			if err := l.Commit(ctx, bl.To, nil); err != nil {
				t.Fatalf("Commit on a full disk: %v", err)
			}
			clk.Advance(time.Second)
			s, err := l.Append(ctx, batchOf(rec, rec))
			if err != nil {
				t.Fatalf("Append after everything was delivered = %v; the delivered segment still fills the disk: %v", err, segFiles(t, dir))
			}
			if s != acked+1 {
				t.Fatalf("Append = %d, want %d", s, acked+1)
			}
		})
	}
}

// freeBytes is the space left on the file system holding dir.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
