package buffer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// SegmentLog is the local Log: frames of records in segment files in one
// directory, group-committed by a single writer goroutine, with an in-memory
// index of every frame after the committed cursor. The layout is in
// docs/FORMAT.md.
type SegmentLog struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *os.File // LOCK, flocked while open

	// Append hands requests to the writer through queue; kick wakes it.
	qmu    sync.Mutex
	queue  []*request
	closed bool
	// budgeted is the log's share of Options.Budget; unbudgeted is set
	// once Close has given it back. Both are guarded by qmu.
	budgeted   int64
	unbudgeted bool
	kick       chan struct{}
	done       chan struct{} // closed when the writer goroutine has exited
	reqs       sync.Pool     // *request

	// used is the bytes of undelivered frames on disk plus appends in
	// flight; it backs MaxBytes and BufferedBytes.
	used atomic.Int64
	// sticky is set while writes are failing; Append reads it without locks.
	sticky atomic.Pointer[stickyError]

	w writer // owned by the writer goroutine

	// mu guards the index and everything below it.
	mu        sync.Mutex
	segs      []*segment // oldest first; the last one is active
	frames    []frame    // every frame not wholly below committed, in order
	next      uint64     // sequence number of the next published record
	total     int64      // data bytes published since open; frame.cum base
	committed uint64
	state     []byte
	// holes are the runs of sequence numbers at or after committed that
	// recovery found lost to damage, oldest first; Read skips them.
	holes  []hole
	notify chan struct{} // closed on the next publish if notifyUsed
	taken  bool          // notify was handed out since it was made
	shut   bool          // Close has run

	cmu sync.Mutex // serialises Commit and Fence
	// fence is the highest token Fence has seen, under cmu.
	fence uint64
	// The cursor file, its slot size and the generation of its newest slot;
	// owned by Commit under cmu (and by recover before the log is shared).
	cursorFile     File
	cursorSlotSize int
	cursorGen      uint64
	rd             reader    // Read's buffers
	sz             sizeCache // per-record sizes of the last frame split by Cut/Backlog

	// lostRecords and lostBytes count what recovery found lost to damage
	// (undelivered records, and the damaged bytes quarantined); set
	// before Open returns.
	lostRecords, lostBytes int64
	// retire asks the writer to replace the active segment once
	// everything in it is delivered.
	retire atomic.Bool
}

// hole is a run [from, to) of sequence numbers whose records were lost.
type hole struct{ from, to uint64 }

var _ Log = (*SegmentLog)(nil)

// segment is one segment file.
type segment struct {
	first uint64 // first sequence number, also the file name
	path  string
	f     File
	size  int64 // end of the last durable frame; writer-owned for the active segment
}

// frame is the index entry of one frame: enough to answer Backlog and Cut
// from memory and to find the frame on disk.
type frame struct {
	seq     uint64 // first record
	cum     int64  // data bytes published before this frame
	data    int64  // data bytes of its records
	arrival int64  // Unix milliseconds
	off     int64  // offset of the frame header in its segment
	seg     *segment
	size    uint32 // payload length
	count   uint32
}

func (f *frame) end() uint64      { return f.seq + uint64(f.count) }
func (f *frame) diskBytes() int64 { return frameHeader + int64(f.size) }

// stickyError is a write failure that makes Append refuse until retryAt.
type stickyError struct {
	err     error
	retryAt int64 // Unix nanoseconds on opts.Now's clock
}

// Open opens or creates the log in dir, recovering whatever a crash left
// behind (see docs/FORMAT.md, "Recovery at open"), and starts its writer.
func Open(dir string, opts Options) (*SegmentLog, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("buffer: create log dir: %w", err)
	}
	// The directory's own entry must be durable too, or a power loss
	// could take a new log, with acknowledged records, away with it.
	if err := syncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		return nil, fmt.Errorf("buffer: sync parent of log dir: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	l := &SegmentLog{
		dir:    dir,
		opts:   opts,
		log:    opts.Logger.With("log", dir),
		lock:   lock,
		kick:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		notify: make(chan struct{}),
	}
	l.reqs.New = func() any { return &request{done: make(chan struct{}, 1)} }
	if err := l.recover(); err != nil {
		l.closeFiles()
		return nil, err
	}
	if b := opts.Budget; b != nil {
		// What recovery found counts against the shared cap, even
		// when it is over it: it was acknowledged.
		l.budgeted = l.used.Load()
		b.add(l.budgeted)
	}
	go l.run()
	return l, nil
}

// lockDir takes the directory's LOCK file so that no other process (or
// second Open in this one) writes the same log.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("buffer: open lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("buffer: log %s is already open", dir)
		}
		return nil, fmt.Errorf("buffer: lock %s: %w", dir, err)
	}
	return f, nil
}

// Close waits for appends already queued to finish (or fail), stops the
// writer and closes the files. Appends after Close fail with ErrClosed, as
// do Cut, Read and Commit; Appended returns a closed channel so that a
// waiting delivery loop wakes up and finds out.
func (l *SegmentLog) Close() error {
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.qmu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	<-l.done
	if b := l.opts.Budget; b != nil {
		// The writer has answered every queued append; nothing of this
		// log is reserved any more once its files are closed.
		l.qmu.Lock()
		b.add(-l.budgeted)
		l.budgeted, l.unbudgeted = 0, true
		l.qmu.Unlock()
	}

	l.mu.Lock()
	l.shut = true
	close(l.notify)
	l.mu.Unlock()
	return l.closeFiles()
}

// closeFiles closes every segment and releases the lock.
func (l *SegmentLog) closeFiles() error {
	l.mu.Lock()
	segs := l.segs
	l.segs, l.frames = nil, nil
	l.mu.Unlock()
	var errs []error
	for _, s := range segs {
		if err := s.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close segment %s: %w", s.path, err))
		}
	}
	l.cmu.Lock()
	if l.cursorFile != nil {
		if err := l.cursorFile.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close cursor: %w", err))
		}
		l.cursorFile = nil
	}
	l.cmu.Unlock()
	if err := l.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close lock: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("buffer: %w", err)
	}
	return nil
}

// Appended returns a channel closed by the next successful append (or by
// Close).
func (l *SegmentLog) Appended() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.taken = true
	return l.notify
}

// BufferedBytes returns the bytes of undelivered frames on disk plus those
// of appends in flight: what Options.MaxBytes is compared with.
func (l *SegmentLog) BufferedBytes() int64 { return l.used.Load() }

// OldestUndelivered returns the arrival time of the oldest record not yet
// committed, or the zero time when everything is delivered. It is the basis
// of Firehose's DeliveryToS3.DataFreshness metric.
func (l *SegmentLog) OldestUndelivered() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.frames) == 0 || l.committed >= l.next {
		return time.Time{}
	}
	return time.UnixMilli(l.frames[0].arrival)
}

// Committed returns the committed cursor and a copy of its state.
func (l *SegmentLog) Committed() (uint64, []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state == nil {
		return l.committed, nil
	}
	return l.committed, append([]byte(nil), l.state...)
}

// Lost reports what recovery found lost to damage when the log was opened:
// undelivered records that could not be read back, and the damaged bytes
// that held them (quarantined beside the log; see docs/FORMAT.md).
func (l *SegmentLog) Lost() (records, bytes int64) { return l.lostRecords, l.lostBytes }

// WriteError returns the failure that makes the log refuse appends (a full
// disk, a failed write or fsync), or nil while it accepts them. The log
// retries on its own every Options.RetryInterval, so the error clears once
// the cause has, even when no append comes to try.
func (l *SegmentLog) WriteError() error {
	if s := l.sticky.Load(); s != nil {
		return s.err
	}
	return nil
}
