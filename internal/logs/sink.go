package logs

import (
	"errors"
	"log/slog"
	"sync"
	"time"
)

// FunctionLogs receives the output of hosted Lambda functions and stores
// it as Lambda does: in the function's log group (/aws/lambda/NAME unless
// its LoggingConfig names another), one stream per instance, the group
// and stream created when missing. Lines are gathered and written every
// FlushEvery (one block and one fsync per stream), or sooner when a
// the pending lines pass 256 KiB: a crash loses at most the last
// moment of function output, as with Lambda's own asynchronous shipping,
// and an invocation never waits for a disk.
type FunctionLogs struct {
	store *Store
	log   *slog.Logger
	every time.Duration

	mu      sync.Mutex
	room    *sync.Cond // signalled when pending lines are taken
	pending map[streamKey][]Event
	bytes   int
	dropped int
	failing bool // the last write failed
	closed  bool
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

type streamKey struct{ group, stream string }

const (
	// FlushEvery is how often FunctionLogs writes what functions printed.
	FlushEvery = 200 * time.Millisecond
	// flushBytes is a stream's pending size that triggers a write at once.
	flushBytes = 256 << 10
	// maxPendingBytes bounds what waits to be written. Past it a function
	// that prints faster than the disk takes it waits (its output pipe
	// fills, as a real pipe's would); while writes fail (a full disk) new
	// lines are dropped and counted instead.
	maxPendingBytes = 16 << 20
)

// NewFunctionLogs starts the writer.
func NewFunctionLogs(st *Store, log *slog.Logger) *FunctionLogs {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f := &FunctionLogs{store: st, log: log, every: FlushEvery, pending: map[streamKey][]Event{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	f.room = sync.NewCond(&f.mu)
	go f.run()
	return f
}

// FunctionLog queues one line a function printed (lambda.LogSink). A
// newline is added, as Lambda's events carry one.
func (f *FunctionLogs) FunctionLog(group, stream string, timestamp int64, line string) {
	k := streamKey{group, stream}
	f.mu.Lock()
	for f.bytes > maxPendingBytes && !f.failing && !f.closed {
		f.poke()
		f.room.Wait()
	}
	if f.bytes > maxPendingBytes {
		f.dropped++
		f.mu.Unlock()
		return
	}
	f.pending[k] = append(f.pending[k], Event{Timestamp: timestamp, Message: line + "\n"})
	f.bytes += len(line) + 1 + eventOverhead
	big := f.bytes > flushBytes
	f.mu.Unlock()
	if big {
		f.poke()
	}
}

func (f *FunctionLogs) poke() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *FunctionLogs) run() {
	defer close(f.done)
	t := time.NewTicker(f.every)
	defer t.Stop()
	for {
		select {
		case <-f.stop:
			f.Flush()
			return
		case <-t.C:
		case <-f.wake:
		}
		f.Flush()
	}
}

// Flush writes every pending line now.
func (f *FunctionLogs) Flush() {
	f.mu.Lock()
	pending, dropped := f.pending, f.dropped
	if len(pending) == 0 && dropped == 0 {
		f.mu.Unlock()
		return
	}
	f.pending, f.bytes, f.dropped = map[streamKey][]Event{}, 0, 0
	f.room.Broadcast()
	f.mu.Unlock()
	if dropped > 0 {
		f.log.Warn("function log lines dropped: writing them has been failing", "lines", dropped)
	}
	for k, evs := range pending {
		for len(evs) > 0 {
			// One block per PutLogEvents-sized batch.
			n, size := 0, 0
			for n < len(evs) && n < 10000 && size+len(evs[n].Message)+eventOverhead <= maxBatchBytes {
				size += len(evs[n].Message) + eventOverhead
				n++
			}
			n = max(n, 1)
			err := f.store.AppendCreating(k.group, k.stream, evs[:n])
			if err != nil {
				f.log.Error("write function log", "log_group", k.group, "log_stream", k.stream, "lines", n, "err", err)
			}
			f.mu.Lock()
			f.failing = err != nil
			f.room.Broadcast()
			f.mu.Unlock()
			evs = evs[n:]
		}
	}
}

// Close writes what is pending and stops the writer; lines logged after
// it are not written.
func (f *FunctionLogs) Close() {
	select {
	case <-f.stop:
	default:
		close(f.stop)
	}
	<-f.done
	f.mu.Lock()
	f.closed = true
	f.room.Broadcast()
	f.mu.Unlock()
}

// FirehoseLogs writes delivery streams' error records (deliver.ErrorLog)
// to the group and stream their CloudWatchLoggingOptions name. Firehose
// does not create either: when one is missing the record is dropped, as
// Firehose drops it, and hydrant says so once per group and stream in its
// own log.
type FirehoseLogs struct {
	store *Store
	log   *slog.Logger

	mu     sync.Mutex
	warned map[streamKey]bool
}

// NewFirehoseLogs returns the sink.
func NewFirehoseLogs(st *Store, log *slog.Logger) *FirehoseLogs {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FirehoseLogs{store: st, log: log, warned: map[streamKey]bool{}}
}

// FirehoseErrorLog appends one record.
func (f *FirehoseLogs) FirehoseErrorLog(group, stream string, t time.Time, record []byte) {
	err := f.store.Append(group, stream, []Event{{Timestamp: t.UnixMilli(), Message: string(record)}})
	k := streamKey{group, stream}
	switch {
	case err == nil:
		f.mu.Lock()
		delete(f.warned, k)
		f.mu.Unlock()
	case errors.Is(err, ErrGroupNotFound) || errors.Is(err, ErrStreamNotFound):
		f.mu.Lock()
		first := !f.warned[k]
		f.warned[k] = true
		f.mu.Unlock()
		if first {
			f.log.Warn("delivery error log dropped: Firehose does not create the CloudWatch Logs group or stream its CloudWatchLoggingOptions name",
				"log_group", group, "log_stream", stream, "err", err)
		}
	default:
		f.log.Error("write delivery error log", "log_group", group, "log_stream", stream, "err", err)
	}
}
