package jslog

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// Message headers. A batch is one message unless it is too large; the
// parts of a split batch carry hdrPart.
const (
	hdrArrival = "Hydrant-Arrival" // Unix milliseconds
	hdrRecords = "Hydrant-Records" // records in the message
	hdrBytes   = "Hydrant-Bytes"   // their data bytes
	hdrPart    = "Hydrant-Part"    // "k offset": part k>0 of a batch, its first record's index in the batch
)

// idxBits is how many low bits of a sequence number index a record within
// its batch: a batch holds at most 1<<idxBits records.
const idxBits = 20

// Log is one JetStream log. Append is safe on any node; the delivery side
// (Backlog, Cut, Read, Commit) indexes the stream on first use.
type Log struct {
	ls      *Logs
	name    string
	key     string // encoded name: the cursor's key
	subject string
	stream  jetstream.Stream
	log     *slog.Logger

	// mu guards the index, the cursor and the channels below.
	mu     sync.Mutex
	closed bool
	idx    index
	notify chan struct{} // closed when the index grows, or on Close
	// The committed cursor as this handle last saw it, and the fence.
	cur     cursor
	rev     uint64 // KV revision of cur (0: none stored)
	token   uint64 // this handle's fence token
	fenced  bool   // a higher token has claimed the log
	indexed bool   // the index consumer runs
	idx0    uint64 // the stream's last message when the index started
	stopIdx func()
	imu     sync.Mutex // serialises starting the index

	cmu   sync.Mutex  // serialises Commit and Fence
	purge chan uint64 // JetStream sequence to purge below; latest wins
	done  chan struct{}

	// acked is the highest JetStream sequence an Append on this handle
	// was acknowledged at.
	acked atomic.Uint64
	// Appends waiting for a grouped publish (group.go).
	qmu     sync.Mutex
	queue   []*pendingAppend
	qclosed bool
	work    chan struct{}
}

var errTooManyRecords = fmt.Errorf("jslog: a message holds at most %d records", 1<<idxBits-1)

// Append publishes the batch and returns its first record's number once
// JetStream has acknowledged it (stored on a quorum of the replicas, synced
// as the servers' sync setting says). When this handle indexes the log it
// also waits for its index to include the batch, so that Backlog reflects
// every Append that returned.
func (l *Log) Append(ctx context.Context, b *buffer.Batch) (uint64, error) {
	n := b.Len()
	if n == 0 {
		return 0, errors.New("jslog: empty batch")
	}
	if n >= 1<<idxBits {
		return 0, fmt.Errorf("%w: a batch of %d", errTooManyRecords, n)
	}
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return 0, buffer.ErrClosed
	}
	if err := l.ready(); err != nil {
		return 0, err
	}
	var js, first uint64
	var err error
	if len(b.Bytes()) <= l.ls.opts.MaxMessageBytes {
		// Batches that fit are grouped with others into one message:
		// JetStream syncs each message, so this is hydrant's group commit.
		js, first, err = l.appendGrouped(ctx, b)
	} else {
		js, err = l.publishSplit(ctx, b, l.ls.opts.Now().UnixMilli())
		first = js << idxBits
	}
	if err != nil {
		return 0, err
	}
	// Stored. Backlog and Cut on this handle wait for the index to reach
	// it (catchUp), so the Put does not.
	for {
		a := l.acked.Load()
		if js <= a || l.acked.CompareAndSwap(a, js) {
			break
		}
	}
	return first, nil
}

// publishOne publishes records (in the batch framing) as one message,
// retried under one message ID (so it is stored once) while the stream has
// no leader.
func (l *Log) publishOne(ctx context.Context, data []byte, records int, dataBytes, arrival int64) (uint64, error) {
	m := &nats.Msg{Subject: l.subject, Data: data, Header: nats.Header{}}
	setHeaders(m.Header, arrival, records, dataBytes)
	id := newID()
	var last error
	for attempt := 0; ; attempt++ {
		ack, err := l.ls.js.PublishMsg(ctx, m, jetstream.WithMsgID(id))
		if err == nil {
			return ack.Sequence, nil
		}
		last = err
		if !retryable(err) || ctx.Err() != nil || attempt >= 20 {
			break
		}
		if err := l.ready(); err != nil {
			return 0, err
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(50*(attempt+1)) * time.Millisecond):
		}
	}
	return 0, l.publishError(last)
}

// ready asks Options.Ready whether a quorum is in reach.
func (l *Log) ready() error {
	if l.ls.opts.Ready == nil {
		return nil
	}
	if err := l.ls.opts.Ready(); err != nil {
		return fmt.Errorf("%w: %s: %w", buffer.ErrFull, l.name, err)
	}
	return nil
}

// publishSplit publishes a batch too large for one message as an atomic
// batch: parts of at most MaxMessageBytes at record boundaries, stored
// together under consecutive sequence numbers, or not at all.
func (l *Log) publishSplit(ctx context.Context, b *buffer.Batch, arrival int64) (uint64, error) {
	type part struct {
		data   []byte
		n      int
		bytes  int64
		offset int
	}
	var parts []part
	buf, max := b.Bytes(), l.ls.opts.MaxMessageBytes
	cur := part{}
	start, pos, rec := 0, 0, 0
	for pos < len(buf) {
		size := 4 + int(binary.LittleEndian.Uint32(buf[pos:]))
		if size > max {
			return 0, fmt.Errorf("jslog: a record of %d bytes exceeds the largest message (%d bytes)", size-4, max)
		}
		if pos+size-start > max {
			cur.data = buf[start:pos]
			parts = append(parts, cur)
			cur, start = part{offset: rec}, pos
		}
		cur.n++
		cur.bytes += int64(size - 4)
		pos += size
		rec++
	}
	cur.data = buf[start:pos]
	parts = append(parts, cur)

	id := newID()
	var ack *jetstream.PubAck
	for i, p := range parts {
		m := &nats.Msg{Subject: l.subject, Data: p.data, Header: nats.Header{}}
		setHeaders(m.Header, arrival, p.n, p.bytes)
		if i > 0 {
			m.Header.Set(hdrPart, fmt.Sprintf("%d %d", i, p.offset))
		}
		m.Header.Set("Nats-Batch-Id", id)
		m.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i < len(parts)-1 {
			if err := l.ls.nc.PublishMsg(m); err != nil {
				return 0, l.publishError(err)
			}
			continue
		}
		m.Header.Set("Nats-Batch-Commit", "1")
		var err error
		if ack, err = l.ls.js.PublishMsg(ctx, m); err != nil {
			return 0, l.publishError(err)
		}
	}
	// The commit's acknowledgement names the last part.
	return ack.Sequence - uint64(len(parts)-1), nil
}

func setHeaders(h nats.Header, arrival int64, n int, data int64) {
	h.Set(hdrArrival, strconv.FormatInt(arrival, 10))
	h.Set(hdrRecords, strconv.Itoa(n))
	h.Set(hdrBytes, strconv.FormatInt(data, 10))
}

// publishError maps a failed publish: limits and lost quorum are
// back-pressure (buffer.ErrFull, "Slow down."), as is a stream without a
// leader for the whole wait.
func (l *Log) publishError(err error) error {
	switch {
	case isFull(err):
		return fmt.Errorf("%w: %s: %w", buffer.ErrFull, l.name, err)
	case retryable(err):
		return fmt.Errorf("%w: %s has no JetStream leader: %w", buffer.ErrFull, l.name, err)
	}
	return fmt.Errorf("jslog: append to %s: %w", l.name, err)
}

// retryable reports whether a publish may succeed if tried again: the
// stream is between leaders.
func retryable(err error) bool {
	return errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, nats.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Appended implements buffer.Log.
func (l *Log) Appended() <-chan struct{} {
	_ = l.ensureIndexSoon()
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.notify
}

// Close stops the index and the purger. Appends after Close fail with
// buffer.ErrClosed; the stream and its cursor stay.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return buffer.ErrClosed
	}
	l.closed = true
	close(l.notify)
	stop := l.stopIdx
	l.stopIdx = nil
	l.idx = index{}
	l.mu.Unlock()
	if stop != nil {
		stop()
	}
	close(l.done)
	return nil
}

// Sync waits until the index holds every message stored before the call,
// wherever it was appended (a flush on the delivering node after Puts on
// another one).
func (l *Log) Sync(ctx context.Context) error {
	if err := l.ensureIndex(ctx); err != nil {
		return err
	}
	info, err := l.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("jslog: sync %s: %w", l.name, err)
	}
	return l.waitIndexed(ctx, info.State.LastSeq, false)
}

// waitIndexed waits until the index has seen JetStream sequence js. With
// onlyIfIndexing it returns at once when the handle does not index.
func (l *Log) waitIndexed(ctx context.Context, js uint64, onlyIfIndexing bool) error {
	for {
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			return buffer.ErrClosed
		}
		if (onlyIfIndexing && !l.indexed) || l.idx.lastJS >= js {
			l.mu.Unlock()
			return nil
		}
		ch := l.notify
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
