package buffer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// request is one Append waiting for the writer. Requests are pooled; the
// done channel is reused, so a request goes back to the pool only once the
// writer can no longer touch it.
type request struct {
	b       *Batch
	arrival int64 // Unix milliseconds
	size    int64 // frame bytes
	state   atomic.Int32
	seq     uint64
	err     error
	done    chan struct{} // capacity 1; receives once per use
}

// Request states: the writer claims a queued request before reading its
// batch; Append may cancel it only while it is still queued, so that the
// caller never gets its Batch back while the writer is copying it.
const (
	reqQueued int32 = iota
	reqTaken
	reqCancelled
)

// writer is the state owned by the writer goroutine.
type writer struct {
	reqs   []*request // taken from the queue, not yet answered
	group  []*request // the group being written
	frames []frame    // index entries of the group
	buf    []byte     // the group's frames, written with one pwrite
	seg    *segment   // active segment
	next   uint64     // next sequence number to assign
	err    error      // sticky failure, wrapping ErrFull; nil when healthy
	need   int64      // bytes the failed write needed (for the free-space check)
	repair bool       // the active segment may hold bytes past seg.size
}

// maxKeptBuf bounds the write buffer kept between groups after a burst.
const maxKeptBuf = 64 << 20

var errEmptyBatch = errors.New("buffer: empty batch")

// Append queues the batch for the writer and waits until its group is
// fsynced. It does no per-record work: the writer copies the batch bytes
// verbatim into its frame. Canceling ctx abandons the wait only while the
// batch is still queued; once the writer has it, Append waits for the fsync
// (milliseconds) so that b is never reused while being copied.
func (l *SegmentLog) Append(ctx context.Context, b *Batch) (uint64, error) {
	if b.Len() == 0 {
		return 0, errEmptyBatch
	}
	payload := payloadHeader + len(b.Bytes())
	if payload > maxPayload {
		return 0, fmt.Errorf("buffer: batch of %d bytes exceeds the frame limit of %d", payload, maxPayload)
	}
	now := l.opts.Now()
	if s := l.sticky.Load(); s != nil && now.UnixNano() < s.retryAt {
		return 0, s.err
	}
	size := int64(frameHeader + payload)
	used := l.used.Add(size)
	if max := l.opts.MaxBytes; max > 0 && used > max && used > size {
		l.used.Add(-size)
		return 0, fmt.Errorf("%w: %d bytes buffered, limit %d", ErrFull, used-size, max)
	}

	r := l.reqs.Get().(*request)
	r.b, r.arrival, r.size = b, now.UnixMilli(), size
	r.state.Store(reqQueued)
	l.qmu.Lock()
	if l.closed {
		l.qmu.Unlock()
		l.used.Add(-size)
		r.b = nil
		l.reqs.Put(r)
		return 0, ErrClosed
	}
	if b := l.opts.Budget; b != nil {
		// Reserved under qmu, so that Close returns exactly the log's
		// share of the budget (see unreserve).
		if err := b.reserve(size); err != nil {
			l.qmu.Unlock()
			l.used.Add(-size)
			r.b = nil
			l.reqs.Put(r)
			return 0, err
		}
		l.budgeted += size
	}
	l.queue = append(l.queue, r)
	l.qmu.Unlock()
	l.wake()

	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqCancelled) {
			// The writer will skip it; it still holds the pointer, so
			// the request is left to the garbage collector.
			l.unreserve(size)
			return 0, fmt.Errorf("buffer: append: %w", ctx.Err())
		}
		<-r.done
	}
	seq, err := r.seq, r.err
	r.b, r.err = nil, nil
	l.reqs.Put(r)
	return seq, err
}

// wake tells the writer there is something to do.
func (l *SegmentLog) wake() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// run is the writer goroutine: it takes everything queued, writes it as one
// group, and repeats until Close, answering what was queued before exiting.
// While writes are failing and nothing is queued, it probes the disk every
// RetryInterval; when asked, it replaces a delivered active segment.
func (l *SegmentLog) run() {
	defer close(l.done)
	w := &l.w
	var retry *time.Timer
	for {
		l.qmu.Lock()
		w.reqs = append(w.reqs, l.queue...)
		clear(l.queue)
		l.queue = l.queue[:0]
		closed := l.closed
		l.qmu.Unlock()
		if l.retire.Swap(false) && !closed {
			l.retireActive()
		}
		if len(w.reqs) == 0 {
			if closed {
				return
			}
			if w.err == nil {
				<-l.kick
				continue
			}
			if retry == nil {
				retry = time.NewTimer(l.opts.RetryInterval)
			} else {
				retry.Reset(l.opts.RetryInterval)
			}
			select {
			case <-l.kick:
				retry.Stop()
			case <-retry.C:
				l.probe()
			}
			continue
		}
		n := l.writeGroup(w.reqs)
		rest := copy(w.reqs, w.reqs[n:])
		clear(w.reqs[rest:])
		w.reqs = w.reqs[:rest]
	}
}

// writeGroup writes the longest prefix of reqs that fits in the active
// segment (at least one, after rolling to a new segment if needed) with one
// write and one fsync, publishes it and answers its appends. It returns how
// many requests it consumed.
func (l *SegmentLog) writeGroup(reqs []*request) int {
	w := &l.w
	if w.err != nil {
		now := l.opts.Now()
		if now.UnixNano() < l.sticky.Load().retryAt {
			l.reject(reqs, w.err)
			return len(reqs)
		}
		if err := l.repairActive(); err != nil {
			l.fail(err)
			l.reject(reqs, w.err)
			return len(reqs)
		}
	}
	if w.seg == nil {
		// Replacing a delivered active segment could not create the
		// new one.
		if err := l.roll(w.next); err != nil {
			w.need = segHeaderSize
			l.fail(err)
			l.reject(reqs, w.err)
			return len(reqs)
		}
	}

	buf, frames, group := w.buf[:0], w.frames[:0], w.group[:0]
	seq := w.next
	i := 0
	for ; i < len(reqs); i++ {
		r := reqs[i]
		end := w.seg.size + int64(len(buf)) + r.size
		if len(group) > 0 && end > l.opts.SegmentBytes {
			break // the rest goes to the next segment, in the next group
		}
		if len(group) == 0 && w.seg.size > segHeaderSize && end > l.opts.SegmentBytes {
			if err := l.roll(seq); err != nil {
				w.need = segHeaderSize
				l.fail(err)
				l.reject(reqs, w.err)
				return len(reqs)
			}
		}
		if !r.state.CompareAndSwap(reqQueued, reqTaken) {
			continue // canceled while queued
		}
		frames = append(frames, frame{
			seq:     seq,
			data:    r.b.DataBytes(),
			arrival: r.arrival,
			off:     w.seg.size + int64(len(buf)),
			seg:     w.seg,
			size:    uint32(r.size - frameHeader),
			count:   uint32(r.b.Len()),
		})
		buf = appendFrame(buf, seq, r.arrival, r.b)
		r.seq = seq
		seq += uint64(r.b.Len())
		group = append(group, r)
	}
	w.frames, w.group = frames, group
	if cap(buf) <= maxKeptBuf {
		w.buf = buf
	} else {
		w.buf = nil
	}
	if len(group) == 0 {
		return i
	}

	err := l.writeSync(buf)
	if err != nil {
		w.need = int64(len(buf))
		l.fail(err)
		// Nothing of the group is acknowledged: cut it off again.
		if rerr := l.repairActive(); rerr != nil {
			l.log.Error("buffer: cannot cut failed write off the segment", "segment", w.seg.path, "offset", w.seg.size, "err", rerr)
		}
		for _, r := range group {
			l.answer(r, 0, w.err)
		}
		clear(group)
		return i
	}
	w.seg.size += int64(len(buf))
	w.next = seq
	if w.err != nil {
		l.log.Info("buffer: writes succeed again, accepting appends", "segment", w.seg.path)
		w.err = nil
		l.sticky.Store(nil)
	}
	l.publish(frames, seq)
	for _, r := range group {
		l.answer(r, r.seq, nil)
	}
	clear(group)
	clear(frames)
	return i
}

// writeSync writes buf at the end of the active segment and syncs it.
func (l *SegmentLog) writeSync(buf []byte) error {
	w := &l.w
	w.repair = true // from here the file may hold bytes past seg.size
	if _, err := w.seg.f.WriteAt(buf, w.seg.size); err != nil {
		return fmt.Errorf("write segment %s at %d: %w", w.seg.path, w.seg.size, err)
	}
	if err := w.seg.f.Sync(); err != nil {
		return fmt.Errorf("sync segment %s: %w", w.seg.path, err)
	}
	w.repair = false
	return nil
}

// repairActive truncates the active segment back to its last durable frame
// after a failed write, and syncs that, so that pages whose fsync failed are
// never trusted again.
func (l *SegmentLog) repairActive() error {
	w := &l.w
	if !w.repair || w.seg == nil {
		return nil
	}
	if err := w.seg.f.Truncate(w.seg.size); err != nil {
		return fmt.Errorf("truncate segment %s to %d: %w", w.seg.path, w.seg.size, err)
	}
	if err := w.seg.f.Sync(); err != nil {
		return fmt.Errorf("sync truncated segment %s: %w", w.seg.path, err)
	}
	w.repair = false
	return nil
}

// fail makes err sticky: appends are refused until RetryInterval has passed.
func (l *SegmentLog) fail(err error) {
	w := &l.w
	if w.err == nil {
		l.log.Error("buffer: write failed, refusing appends", "err", err, "retry", l.opts.RetryInterval)
	} else {
		l.log.Warn("buffer: retry failed", "err", err)
	}
	w.err = fmt.Errorf("%w: %w", ErrFull, err)
	retryAt := l.opts.Now().Add(l.opts.RetryInterval).UnixNano()
	l.sticky.Store(&stickyError{err: w.err, retryAt: retryAt})
}

// probe checks, while appends are refused, whether writing works again, so
// that the refusal (and the unready health check it causes) ends once the
// cause has, even when no append comes to try: it cuts a failed write off,
// makes sure there is an active segment, checks that the file system has
// room for the write that failed (when it failed for lack of space), and
// writes and syncs a block past the end of the active segment, then cuts it
// off again. Zeros left there by a crash are a torn tail to recovery.
func (l *SegmentLog) probe() {
	w := &l.w
	err := l.repairActive()
	if err == nil && w.seg == nil {
		err = l.roll(w.next)
	}
	if err == nil && noSpace(w.err) {
		err = checkRoom(l.dir, w.need+probeBytes)
	}
	if err == nil {
		err = l.probeWrite()
	}
	if err != nil {
		l.log.Debug("buffer: still failing", "err", err)
		return
	}
	l.log.Info("buffer: writes succeed again, accepting appends", "segment", w.seg.path)
	w.err = nil
	l.sticky.Store(nil)
}

// probeBytes is the size of a probe's test write: one file system block.
const probeBytes = 4096

// probeWrite writes and syncs probeBytes past the end of the active segment
// and cuts them off again.
func (l *SegmentLog) probeWrite() error {
	w := &l.w
	if err := l.writeSync(make([]byte, probeBytes)); err != nil {
		return err
	}
	w.repair = true
	return l.repairActive()
}

// noSpace reports whether err is a full file system or quota.
func noSpace(err error) bool {
	return errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT)
}

// checkRoom fails with ENOSPC unless the file system holding dir has n
// bytes available.
func checkRoom(dir string, n int64) error {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return fmt.Errorf("statfs %s: %w", dir, err)
	}
	if free := int64(st.Bavail) * int64(st.Bsize); free < n {
		return fmt.Errorf("%s: %d bytes free, %d needed: %w", dir, free, n, unix.ENOSPC)
	}
	return nil
}

// retireActive replaces the active segment with an empty one when every
// record in it is delivered, so that its space comes back: without it a
// disk filled by one segment would stay full once everything is
// delivered. It runs on the writer goroutine, asked by Commit.
func (l *SegmentLog) retireActive() {
	w := &l.w
	l.mu.Lock()
	done := l.committed >= w.next && len(l.frames) == 0
	l.mu.Unlock()
	if !done || w.seg == nil || w.seg.size <= segHeaderSize {
		return
	}
	if err := l.replaceActive(); err != nil {
		if w.seg == nil {
			w.need = segHeaderSize
			l.fail(err)
		} else {
			l.log.Warn("buffer: cannot delete a delivered segment", "err", err)
		}
		return
	}
	if w.err != nil {
		// Space came back: find out now rather than at the next retry.
		l.probe()
	}
}

// replaceActive deletes the active segment, whose records are all
// delivered, and starts an empty one at the next sequence number. The old
// file goes first: on a full disk there may be no room for the new one
// until it has gone. Should the new one fail, there is no active segment
// (w.seg is nil) until the next append or probe creates it; a crash in
// between leaves no segment, which recovery handles (the cursor says where
// the log goes on).
func (l *SegmentLog) replaceActive() error {
	w := &l.w
	old := w.seg
	if err := os.Remove(old.path); err != nil {
		return fmt.Errorf("delete delivered segment %s: %w", old.path, err)
	}
	l.mu.Lock()
	if n := len(l.segs); n > 0 && l.segs[n-1] == old {
		l.segs[n-1] = nil
		l.segs = l.segs[:n-1]
	}
	l.mu.Unlock()
	if err := old.f.Close(); err != nil {
		l.log.Warn("buffer: close delivered segment", "segment", old.path, "err", err)
	}
	w.seg, w.repair = nil, false
	return l.roll(w.next)
}

// reject answers every request still queued in reqs with err.
func (l *SegmentLog) reject(reqs []*request, err error) {
	for _, r := range reqs {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			l.answer(r, 0, err)
		}
	}
}

// answer wakes the Append waiting on r. A failed request no longer counts
// towards the buffered bytes.
func (l *SegmentLog) answer(r *request, seq uint64, err error) {
	if err != nil {
		l.unreserve(r.size)
	}
	r.seq, r.err = seq, err
	r.done <- struct{}{}
}

// unreserve gives back n bytes of an append that was queued (failed,
// canceled, or delivered and committed): from the log's own count and from
// the shared budget, unless Close has already returned the log's whole share.
func (l *SegmentLog) unreserve(n int64) {
	l.used.Add(-n)
	if b := l.opts.Budget; b != nil {
		l.qmu.Lock()
		if !l.unbudgeted {
			l.budgeted -= n
			b.add(-n)
		}
		l.qmu.Unlock()
	}
}

// publish adds a durable group to the index and wakes the delivery loop.
func (l *SegmentLog) publish(frames []frame, next uint64) {
	l.mu.Lock()
	for i := range frames {
		frames[i].cum = l.total
		l.total += frames[i].data
	}
	l.frames = append(l.frames, frames...)
	l.next = next
	if l.taken {
		close(l.notify)
		l.notify = make(chan struct{})
		l.taken = false
	}
	l.mu.Unlock()
}

// roll starts a new active segment whose first record is first.
func (l *SegmentLog) roll(first uint64) error {
	seg, err := l.createSegment(first)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.segs = append(l.segs, seg)
	l.mu.Unlock()
	l.w.seg = seg
	l.w.repair = false
	return nil
}

// createSegment creates a segment file holding just its header, durably:
// the header is synced and so is the directory entry.
func (l *SegmentLog) createSegment(first uint64) (*segment, error) {
	path := filepath.Join(l.dir, segName(first))
	f, err := l.opts.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment: %w", err)
	}
	var h [segHeaderSize]byte
	putSegHeader(h[:], first)
	if _, err = f.WriteAt(h[:], 0); err != nil {
		err = fmt.Errorf("write segment header %s: %w", path, err)
	} else if err = f.Sync(); err != nil {
		err = fmt.Errorf("sync segment %s: %w", path, err)
	} else if err = syncDir(l.dir); err != nil {
		err = fmt.Errorf("sync log dir: %w", err)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return &segment{first: first, path: path, f: f, size: segHeaderSize}, nil
}
