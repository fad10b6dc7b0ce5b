package buffer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// faults is an Options.OpenFile that injects failures into segment files.
type faults struct {
	mu        sync.Mutex
	writeErr  error         // segment writes fail with it
	half      bool          // ... after writing half their bytes
	syncErr   error         // segment syncs fail with it
	truncErr  error         // truncates fail with it
	createErr error         // creating files fails with it
	blockSync chan struct{} // when set, segment syncs wait for it to close
	attempts  int           // segment writes, truncates and file creations tried
}

func (fs *faults) set(fn func(*faults)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fn(fs)
}

func (fs *faults) clear() {
	fs.set(func(fs *faults) {
		fs.writeErr, fs.half, fs.syncErr, fs.truncErr, fs.createErr = nil, false, nil, nil, nil
	})
}

func (fs *faults) tries() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.attempts
}

func (fs *faults) open(name string, flag int, perm os.FileMode) (File, error) {
	fs.mu.Lock()
	err := fs.createErr
	if flag&os.O_CREATE != 0 {
		fs.attempts++
	}
	fs.mu.Unlock()
	if flag&os.O_CREATE != 0 && err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	f, err := openOSFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: f, fs: fs, seg: strings.HasSuffix(name, ".seg")}, nil
}

type faultFile struct {
	File
	fs  *faults
	seg bool
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	err, half := f.fs.writeErr, f.fs.half
	if f.seg {
		f.fs.attempts++
	}
	f.fs.mu.Unlock()
	if !f.seg || err == nil {
		return f.File.WriteAt(p, off)
	}
	if half {
		n, _ := f.File.WriteAt(p[:len(p)/2], off)
		return n, err
	}
	return 0, err
}

func (f *faultFile) Sync() error {
	f.fs.mu.Lock()
	err, block := f.fs.syncErr, f.fs.blockSync
	f.fs.mu.Unlock()
	if !f.seg {
		return f.File.Sync()
	}
	if block != nil {
		<-block
	}
	if err != nil {
		f.File.Sync()
		return err
	}
	return f.File.Sync()
}

func (f *faultFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	err := f.fs.truncErr
	f.fs.attempts++
	f.fs.mu.Unlock()
	if err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func TestWriteFaults(t *testing.T) {
	tests := []struct {
		name     string
		segBytes int64
		inject   func(*faults)
		want     error
	}{
		{name: "ENOSPC on write", inject: func(f *faults) { f.writeErr = syscall.ENOSPC }, want: syscall.ENOSPC},
		{name: "write fails halfway", inject: func(f *faults) { f.writeErr, f.half = syscall.EIO, true }, want: syscall.EIO},
		{name: "fsync fails", inject: func(f *faults) { f.syncErr = syscall.EIO }, want: syscall.EIO},
		{name: "fsync and truncate fail", inject: func(f *faults) { f.syncErr, f.truncErr = syscall.EIO, syscall.EIO }, want: syscall.EIO},
		{name: "new segment cannot be created", segBytes: 200, inject: func(f *faults) { f.createErr = syscall.ENOSPC }, want: syscall.ENOSPC},
	}
	rec := strings.Repeat("a", 100)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk, fs, sink := newClock(), &faults{}, &logSink{}
			dir := t.TempDir()
			opts := Options{Now: clk.Now, RetryInterval: time.Second, OpenFile: fs.open, SegmentBytes: tt.segBytes, Logger: sink.logger()}
			l := openLog(t, dir, opts)
			ctx := context.Background()
			mustAppend(t, l, "A"+rec)
			used := l.BufferedBytes()

			fs.set(tt.inject)
			_, err := l.Append(ctx, batchOf("B"+rec))
			if !errors.Is(err, ErrFull) || !errors.Is(err, tt.want) {
				t.Fatalf("Append during fault = %v, want ErrFull wrapping %v", err, tt.want)
			}
			if got := l.BufferedBytes(); got != used {
				t.Fatalf("BufferedBytes after failed append = %d, want %d", got, used)
			}
			if !l.Backlog(2).Empty() {
				t.Fatalf("failed append is visible: %+v", l.Backlog(2))
			}

			// Refused fast, without touching the disk, until RetryInterval.
			tries := fs.tries()
			if _, err := l.Append(ctx, batchOf("C"+rec)); !errors.Is(err, ErrFull) {
				t.Fatalf("Append right after the failure = %v, want ErrFull", err)
			}
			if fs.tries() != tries {
				t.Fatalf("Append within RetryInterval touched the disk")
			}
			// A retry after the interval tries again and fails again.
			clk.Advance(time.Second)
			if _, err := l.Append(ctx, batchOf("D"+rec)); !errors.Is(err, ErrFull) {
				t.Fatalf("retry while still failing = %v, want ErrFull", err)
			}
			if fs.tries() == tries {
				t.Fatalf("retry did not try the disk")
			}

			// The fault clears; the next retry succeeds, with no gap.
			fs.clear()
			if _, err := l.Append(ctx, batchOf("E"+rec)); !errors.Is(err, ErrFull) {
				t.Fatalf("Append before the retry time = %v, want ErrFull", err)
			}
			clk.Advance(time.Second)
			if s := mustAppend(t, l, "F"+rec); s != 2 {
				t.Fatalf("Append after recovery = %d, want 2", s)
			}
			checkRecords(t, l, 1, []string{"A" + rec, "F" + rec})
			if errs := sink.lines(slog.LevelError); len(errs) < 1 || !strings.Contains(errs[0], "write failed") {
				t.Fatalf("no error logged for the failure: %q", errs)
			}
			l.Close()

			// Nothing of the failed appends is on disk.
			l = openLog(t, dir, Options{SegmentBytes: tt.segBytes})
			checkRecords(t, l, 1, []string{"A" + rec, "F" + rec})
		})
	}
}

func TestAppendCanceledWhileQueued(t *testing.T) {
	fs := &faults{}
	l := openLog(t, t.TempDir(), Options{OpenFile: fs.open})
	fs.set(func(f *faults) { f.blockSync, f.attempts = make(chan struct{}), 0 })

	// A is taken by the writer, which blocks in fsync; B queues behind it.
	aDone := make(chan error, 1)
	go func() {
		_, err := l.Append(context.Background(), batchOf("a"))
		aDone <- err
	}()
	waitFor(t, func() bool {
		l.qmu.Lock()
		defer l.qmu.Unlock()
		return len(l.queue) == 0 && fs.tries() > 0
	})
	ctx, cancel := context.WithCancel(context.Background())
	bDone := make(chan error, 1)
	go func() {
		_, err := l.Append(ctx, batchOf("b"))
		bDone <- err
	}()
	waitFor(t, func() bool {
		l.qmu.Lock()
		defer l.qmu.Unlock()
		return len(l.queue) == 1
	})
	cancel()
	if err := <-bDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Append = %v", err)
	}
	fs.set(func(f *faults) { close(f.blockSync); f.blockSync = nil })
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
	if s := mustAppend(t, l, "c"); s != 2 {
		t.Fatalf("Append after a canceled one = %d, want 2", s)
	}
	checkRecords(t, l, 1, []string{"a", "c"})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestConcurrentAppendAndDeliver runs producers against a delivery loop
// that cuts, reads and commits while segments roll and get deleted, with
// write faults coming and going. Every acknowledged record must be read
// exactly once, in sequence order, with its data; nothing unacknowledged
// may take a sequence number that an acknowledged record has.
func TestConcurrentAppendAndDeliver(t *testing.T) {
	for _, faulty := range []bool{false, true} {
		t.Run(fmt.Sprintf("faults=%v", faulty), func(t *testing.T) {
			testConcurrent(t, faulty)
		})
	}
}

func testConcurrent(t *testing.T, faulty bool) {
	const producers, batchesEach = 8, 60
	fs := &faults{}
	dir := t.TempDir()
	l := openLog(t, dir, Options{SegmentBytes: 64 << 10, RetryInterval: time.Millisecond, OpenFile: fs.open})

	var acked sync.Map // seq -> record data
	var ackedCount, refused atomic.Int64
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(p), 1))
			for i := 0; i < batchesEach; {
				var b Batch
				var recs []string
				for j := range 1 + rng.IntN(40) {
					r := fmt.Sprintf("p%d-b%d-r%d-%s", p, i, j, strings.Repeat("x", rng.IntN(300)))
					b.Add([]byte(r))
					recs = append(recs, r)
				}
				first, err := l.Append(context.Background(), &b)
				if errors.Is(err, ErrFull) {
					refused.Add(1)
					time.Sleep(time.Millisecond)
					continue
				}
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				for j, r := range recs {
					if _, dup := acked.LoadOrStore(first+uint64(j), r); dup {
						t.Errorf("seq %d acknowledged twice", first+uint64(j))
					}
				}
				ackedCount.Add(int64(len(recs)))
				i++
			}
		})
	}
	stopFaults := make(chan struct{})
	if faulty {
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stopFaults:
					fs.clear()
					return
				case <-time.After(3 * time.Millisecond):
				}
				switch i % 4 {
				case 0:
					fs.set(func(f *faults) { f.writeErr, f.half = syscall.ENOSPC, true })
				case 2:
					fs.set(func(f *faults) { f.syncErr = syscall.EIO })
				default:
					fs.clear()
				}
			}
		}()
	}

	// The delivery loop.
	produced := make(chan struct{})
	go func() { wg.Wait(); close(stopFaults); close(produced) }()
	var delivered int64
	next := uint64(1)
	done := false
	for !done {
		wake := l.Appended()
		sp, err := l.Cut(next, 32<<10)
		if err != nil {
			t.Fatal(err)
		}
		if sp.Empty() {
			select {
			case <-produced:
				done = l.Backlog(next).Empty()
			case <-wake:
			}
			continue
		}
		err = l.Read(context.Background(), sp.From, sp.To, func(r Record) error {
			if r.Seq != next {
				return fmt.Errorf("read seq %d, want %d", r.Seq, next)
			}
			if want, ok := acked.Load(r.Seq); ok && want.(string) != string(r.Data) {
				return fmt.Errorf("seq %d: got %q, want %q", r.Seq, r.Data, want)
			}
			next++
			delivered++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Commit(context.Background(), sp.To, nil); err != nil {
			t.Fatal(err)
		}
	}
	if delivered != ackedCount.Load() {
		t.Fatalf("delivered %d records, acknowledged %d", delivered, ackedCount.Load())
	}
	acked.Range(func(k, v any) bool {
		if k.(uint64) >= next {
			t.Errorf("acknowledged seq %d never delivered", k)
		}
		return true
	})
	if faulty && refused.Load() == 0 {
		t.Errorf("no append was refused: the faults did not bite")
	}
	t.Logf("%d records delivered, %d appends refused", delivered, refused.Load())
	if l.BufferedBytes() != 0 {
		t.Errorf("BufferedBytes = %d after delivering everything", l.BufferedBytes())
	}
	// A fully delivered active segment is replaced by an empty one (or
	// none, until the next append), so space comes back.
	if segs := segFiles(t, dir); len(segs) > 1 {
		t.Errorf("segments left after delivering everything: %v", segs)
	}
	l.Close()
	l = openLog(t, dir, Options{SegmentBytes: 64 << 10})
	if got, _ := l.Committed(); got != next || !l.Backlog(1).Empty() {
		t.Fatalf("after reopen: committed %d (want %d), backlog %+v", got, next, l.Backlog(1))
	}
	if s := mustAppend(t, l, "last"); s != next {
		t.Fatalf("Append after reopen = %d, want %d", s, next)
	}
}
