package buffer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// TestWriteErrorClearsWithoutAppends checks that a failing log reports its
// error until the cause is gone, and then clears it on its own, without an
// append to try: a load balancer that stops sending because of the error
// must see the log healthy again.
func TestWriteErrorClearsWithoutAppends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fs := &faults{}
		l := openLog(t, t.TempDir(), Options{OpenFile: fs.open, RetryInterval: time.Second})
		mustAppend(t, l, "a")
		if err := l.WriteError(); err != nil {
			t.Fatalf("WriteError of a healthy log = %v", err)
		}
		fs.set(func(f *faults) { f.syncErr = syscall.EIO })
		if _, err := l.Append(context.Background(), batchOf("b")); !errors.Is(err, syscall.EIO) {
			t.Fatalf("Append = %v, want EIO", err)
		}
		// Still failing at each probe.
		for range 3 {
			time.Sleep(time.Second)
			synctest.Wait()
			if err := l.WriteError(); !errors.Is(err, ErrFull) || !errors.Is(err, syscall.EIO) {
				t.Fatalf("WriteError while the disk fails = %v, want ErrFull wrapping EIO", err)
			}
		}
		fs.clear()
		time.Sleep(time.Second)
		synctest.Wait()
		if err := l.WriteError(); err != nil {
			t.Fatalf("WriteError a retry interval after the fault cleared = %v, want nil", err)
		}
		// Appends go through at once, and the probe left nothing behind.
		if s := mustAppend(t, l, "c"); s != 2 {
			t.Fatalf("Append = %d, want 2", s)
		}
		checkRecords(t, l, 1, []string{"a", "c"})
	})
}

// TestFullDiskClearsWhenSpaceReturns fills a tmpfs: the log reports the
// full disk until space returns, then clears without an append.
func TestFullDiskClearsWhenSpaceReturns(t *testing.T) {
	mnt := mountTmpfs(t, 1<<20)
	ballast := filepath.Join(mnt, "ballast")
	writeFile(t, ballast, make([]byte, 256<<10))
	synctest.Test(t, func(t *testing.T) {
		l := openLog(t, filepath.Join(mnt, "log"), Options{RetryInterval: time.Second})
		rec := strings.Repeat("r", 16<<10)
		for {
			if _, err := l.Append(context.Background(), batchOf(rec)); err != nil {
				break
			}
		}
		for range 2 {
			if err := l.WriteError(); !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("WriteError on a full disk = %v, want ENOSPC", err)
			}
			time.Sleep(time.Second)
			synctest.Wait()
		}
		if err := os.Remove(ballast); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if err := l.WriteError(); err != nil {
			t.Fatalf("WriteError after space returned = %v, want nil", err)
		}
		mustAppend(t, l, rec)
	})
}
