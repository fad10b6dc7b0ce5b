package jslog

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// JetStream syncs every message it stores (SyncAlways, or the Raft log of
// a replicated stream), one after the other. Publishing each Put's batch
// as its own message would cost a sync per Put; instead concurrent Appends
// are gathered into one message, as the segment log gathers them into one
// write and one fdatasync: a few publishers each take every batch queued
// (up to a message's size) and publish them together, so that under load
// one sync covers many Puts, while an idle stream publishes at once.

// publishers is how many grouped messages may be in flight per log: with
// a replicated stream, more than one keeps the Raft pipeline busy.
const publishers = 4

// groupTimeout bounds one grouped publish, retries included.
const groupTimeout = 30 * time.Second

// pendingAppend is one Append waiting for its group's message.
type pendingAppend struct {
	b     *buffer.Batch
	state atomic.Int32
	js    uint64 // the message's JetStream sequence
	first uint64 // the batch's first record number
	err   error
	done  chan struct{}
}

// Request states, as in the segment log: a publisher claims a queued
// request before it copies its batch, and Append may give up on it only
// while it is still queued.
const (
	reqQueued int32 = iota
	reqTaken
	reqCancelled
)

// appendGrouped queues b for the publishers and waits for its message.
func (l *Log) appendGrouped(ctx context.Context, b *buffer.Batch) (js, first uint64, err error) {
	r := &pendingAppend{b: b, done: make(chan struct{})}
	l.qmu.Lock()
	if l.qclosed {
		l.qmu.Unlock()
		return 0, 0, buffer.ErrClosed
	}
	l.queue = append(l.queue, r)
	l.qmu.Unlock()
	l.kickPublisher()
	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqCancelled) {
			return 0, 0, ctx.Err()
		}
		<-r.done // taken: the batch is being published; wait for the answer
	}
	return r.js, r.first, r.err
}

func (l *Log) kickPublisher() {
	select {
	case l.work <- struct{}{}:
	default:
	}
}

// publisher publishes queued batches until the log closes.
func (l *Log) publisher() {
	var buf []byte
	for {
		select {
		case <-l.done:
			l.failQueued()
			return
		case <-l.work:
		}
		for {
			group := l.takeGroup()
			if len(group) == 0 {
				break
			}
			buf = l.publishGroup(group, buf[:0])
		}
	}
}

// takeGroup takes the queued requests that fit in one message (at least
// one), and wakes another publisher for what is left.
func (l *Log) takeGroup() []*pendingAppend {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	var group []*pendingAppend
	size, records, i := 0, 0, 0
	for ; i < len(l.queue); i++ {
		r := l.queue[i]
		n := len(r.b.Bytes())
		if len(group) > 0 && (size+n > l.ls.opts.MaxMessageBytes || records+r.b.Len() >= 1<<idxBits) {
			break
		}
		if !r.state.CompareAndSwap(reqQueued, reqTaken) {
			continue // its Append gave up
		}
		group = append(group, r)
		size += n
		records += r.b.Len()
	}
	rest := copy(l.queue, l.queue[i:])
	clear(l.queue[rest:])
	l.queue = l.queue[:rest]
	if rest > 0 {
		l.kickPublisher()
	}
	return group
}

// publishGroup publishes a group's batches as one message and answers
// their Appends. It returns buf for reuse.
func (l *Log) publishGroup(group []*pendingAppend, buf []byte) []byte {
	var records int
	var data int64
	for _, r := range group {
		buf = append(buf, r.b.Bytes()...)
		r.first = uint64(records)
		records += r.b.Len()
		data += r.b.DataBytes()
	}
	var js uint64
	var err error
	if records >= 1<<idxBits {
		err = errTooManyRecords
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
		js, err = l.publishOne(ctx, buf, records, data, l.ls.opts.Now().UnixMilli())
		cancel()
	}
	for _, r := range group {
		r.js, r.err = js, err
		r.first += js << idxBits
		r.b = nil
		close(r.done)
	}
	if cap(buf) > 2*l.ls.opts.MaxMessageBytes {
		return nil
	}
	return buf
}

// failQueued answers what is still queued when the log closes.
func (l *Log) failQueued() {
	l.qmu.Lock()
	l.qclosed = true
	q := l.queue
	l.queue = nil
	l.qmu.Unlock()
	for _, r := range q {
		if r.state.CompareAndSwap(reqQueued, reqTaken) {
			r.err = buffer.ErrClosed
			close(r.done)
		}
	}
}
