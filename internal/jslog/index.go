package jslog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// entry is the index entry of one message.
type entry struct {
	js      uint64 // JetStream sequence
	seq     uint64 // first record's number
	count   uint32
	data    int64 // data bytes of its records
	cum     int64 // data bytes indexed before it
	arrival int64 // Unix milliseconds
	payload []byte
}

func (e *entry) end() uint64 { return e.seq + uint64(e.count) }

// index is what the delivering node knows of the log: every message not
// wholly delivered, in order, with the payloads of the recent ones.
type index struct {
	entries []entry
	lastJS  uint64 // last JetStream sequence seen (or skipped as delivered)
	end     uint64 // the number after the last record; 0: nothing indexed
	total   int64  // data bytes indexed since the index started
	cached  int64  // bytes of payloads held
	// sizes caches the prefix sums of one message's record sizes, for
	// cuts that start or end inside it.
	sizesJS uint64
	sizes   []int64
}

// ensureIndexSoon is ensureIndex for callers without a context of their
// own (Backlog, Cut): it waits up to 10 s.
func (l *Log) ensureIndexSoon() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return l.ensureIndex(ctx)
}

// ensureIndex starts the index on first use and waits until it holds what
// the stream held then, or until ctx ends (then a later call tries again).
func (l *Log) ensureIndex(ctx context.Context) error {
	l.mu.Lock()
	running, closed := l.indexed, l.closed
	l.mu.Unlock()
	switch {
	case closed:
		return buffer.ErrClosed
	case running:
		return nil
	}
	l.imu.Lock() // one start at a time
	defer l.imu.Unlock()
	l.mu.Lock()
	running, upto := l.indexed, l.cur.Upto
	l.mu.Unlock()
	if running {
		return nil
	}
	// Each step gets a short timeout of its own: right after a node died
	// the stream may be electing a leader, and a request sent to the old
	// one is never answered.
	var last error
	for {
		sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		last = l.startIndex(sctx, upto)
		cancel()
		if last == nil || errors.Is(last, buffer.ErrClosed) {
			break
		}
		select {
		case <-ctx.Done():
			l.log.Warn("jslog: cannot index the log yet; delivery waits", "err", last)
			return fmt.Errorf("jslog: index %s: %w", l.name, last)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if last != nil {
		return last
	}
	return l.waitIndexed(ctx, l.idx0, false)
}

// startIndex runs an ordered consumer from the message holding upto. It
// records in l.idx0 the stream's last message when it started, which the
// index must reach to hold everything.
func (l *Log) startIndex(ctx context.Context, upto uint64) error {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	start := max(upto>>idxBits, info.State.FirstSeq, 1)
	l.mu.Lock()
	l.idx = index{lastJS: start - 1}
	if info.State.Msgs == 0 {
		l.idx.lastJS = max(l.idx.lastJS, info.State.LastSeq)
	}
	l.mu.Unlock()
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   start,
	})
	if err != nil {
		return fmt.Errorf("index consumer: %w", err)
	}
	cc, err := cons.Consume(l.indexMsg, jetstream.PullMaxBytes(32<<20))
	if err != nil {
		return fmt.Errorf("index consumer: %w", err)
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		cc.Stop()
		return buffer.ErrClosed
	}
	l.stopIdx = cc.Stop
	l.indexed = true
	l.idx0 = info.State.LastSeq
	l.mu.Unlock()
	go l.watchCursor()
	return nil
}

// catchUp waits, briefly, until the index holds every batch an Append on
// this handle has returned for, so that Backlog reflects them: the Put
// itself does not wait for the index.
func (l *Log) catchUp() {
	a := l.acked.Load()
	l.mu.Lock()
	done := !l.indexed || l.idx.lastJS >= a
	l.mu.Unlock()
	if done {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := l.waitIndexed(ctx, a, true); err != nil {
		l.log.Warn("jslog: index behind this node's appends", "seq", a, "err", err)
	}
}

// indexMsg adds one consumed message to the index.
func (l *Log) indexMsg(m jetstream.Msg) {
	md, err := m.Metadata()
	if err != nil {
		l.log.Error("jslog: message without metadata", "err", err)
		return
	}
	h := m.Headers()
	js := md.Sequence.Stream
	e := entry{js: js, seq: js << idxBits, payload: m.Data()}
	arrival, err1 := strconv.ParseInt(h.Get(hdrArrival), 10, 64)
	count, err2 := strconv.ParseUint(h.Get(hdrRecords), 10, 32)
	data, err3 := strconv.ParseInt(h.Get(hdrBytes), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || count == 0 {
		l.log.Error("jslog: skipping a message that is not a hydrant batch", "seq", js)
		l.skip(js)
		return
	}
	e.arrival, e.count, e.data = arrival, uint32(count), data
	if p := h.Get(hdrPart); p != "" {
		var k, off uint64
		if _, err := fmt.Sscanf(p, "%d %d", &k, &off); err != nil || k >= js {
			l.log.Error("jslog: skipping a message with a bad part header", "seq", js, "part", p)
			l.skip(js)
			return
		}
		e.seq = (js-k)<<idxBits + off
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	x := &l.idx
	if l.closed || js <= x.lastJS {
		return
	}
	x.lastJS = js
	if e.end() <= l.cur.Upto {
		l.wake()
		return // delivered already; purged soon
	}
	e.cum = x.total
	x.total += e.data
	if x.cached+int64(len(e.payload)) <= l.ls.opts.CacheBytes {
		x.cached += int64(len(e.payload))
	} else {
		e.payload = nil
	}
	x.entries = append(x.entries, e)
	x.end = e.end()
	l.wake()
}

// skip records that js was seen without indexing it.
func (l *Log) skip(js uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if js > l.idx.lastJS {
		l.idx.lastJS = js
	}
	l.wake()
}

// wake tells waiters the index changed. The caller holds mu.
func (l *Log) wake() {
	if l.closed {
		return
	}
	close(l.notify)
	l.notify = make(chan struct{})
}

// find returns the index of the first entry with a record at or after seq.
// The caller holds mu.
func (x *index) find(seq uint64) int {
	i, _ := slices.BinarySearchFunc(x.entries, seq, func(e entry, seq uint64) int {
		if e.end() <= seq {
			return -1
		}
		return 1
	})
	return i
}

// endLocked is the number after the last record this handle knows of.
func (l *Log) endLocked() uint64 {
	return max(l.idx.end, l.cur.Upto)
}

// Backlog implements buffer.Log, from memory (the index).
func (l *Log) Backlog(from uint64) buffer.Span {
	_ = l.ensureIndexSoon()
	l.catchUp()
	l.mu.Lock()
	x := &l.idx
	i := x.find(from)
	if l.closed || i == len(x.entries) {
		l.mu.Unlock()
		return buffer.Span{From: from, To: from}
	}
	e := x.entries[i]
	sp := buffer.Span{From: from, To: x.end, Bytes: x.total - e.cum, Oldest: time.UnixMilli(e.arrival)}
	for _, f := range x.entries[i+1:] {
		sp.Records += int(f.count)
	}
	l.mu.Unlock()
	sp.Records += int(e.count)
	if from > e.seq {
		k := int(from - e.seq)
		sp.Records -= k
		prefix, err := l.recordSizes(context.Background(), e)
		if err != nil {
			l.log.Warn("jslog: backlog estimated", "err", err)
			sp.Bytes -= e.data * int64(k) / int64(e.count)
		} else {
			sp.Bytes -= prefix[k]
		}
	}
	return sp
}

// Cut implements buffer.Log: whole messages from the index, the messages
// where the span starts or ends inside read for their record sizes.
func (l *Log) Cut(from uint64, maxBytes int64) (buffer.Span, error) {
	if err := l.ensureIndexSoon(); err != nil {
		return buffer.Span{}, err
	}
	l.catchUp()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return buffer.Span{}, buffer.ErrClosed
	}
	x := &l.idx
	end := l.endLocked()
	if from >= end || len(x.entries) == 0 {
		l.mu.Unlock()
		if from > end {
			return buffer.Span{}, fmt.Errorf("jslog: cut from %d: %w: the log ends at %d", from, buffer.ErrOutOfRange, end)
		}
		return buffer.Span{From: from, To: from}, nil
	}
	if from < l.cur.Upto {
		l.mu.Unlock()
		return buffer.Span{}, fmt.Errorf("jslog: cut from %d: %w: delivered already (cursor %d)", from, buffer.ErrOutOfRange, l.cur.Upto)
	}
	i := x.find(from)
	entries := slices.Clone(x.entries[i:])
	l.mu.Unlock()

	sp := buffer.Span{From: from, To: from, Oldest: time.UnixMilli(entries[0].arrival)}
	for j, e := range entries {
		k := 0
		if j == 0 && from > e.seq {
			k = int(from - e.seq)
		}
		rest := e.data
		var prefix []int64
		if k > 0 {
			var err error
			if prefix, err = l.recordSizes(ctx, e); err != nil {
				return buffer.Span{}, err
			}
			rest = e.data - prefix[k]
		}
		if sp.Bytes+rest <= maxBytes {
			sp.Bytes += rest
			sp.Records += int(e.count) - k
			sp.To = e.end()
			continue
		}
		// The span ends inside e: as many records as fit, at least one.
		if prefix == nil {
			var err error
			if prefix, err = l.recordSizes(ctx, e); err != nil {
				return buffer.Span{}, err
			}
		}
		n := k
		for n < int(e.count) && sp.Bytes+prefix[n+1]-prefix[k] <= maxBytes {
			n++
		}
		if n == k && sp.Records == 0 {
			n++
		}
		sp.Bytes += prefix[n] - prefix[k]
		sp.Records += n - k
		if n > k {
			sp.To = e.seq + uint64(n)
		}
		break
	}
	return sp, nil
}

// Read implements buffer.Log: payloads come from the cache, or from the
// stream's leader one message at a time.
func (l *Log) Read(ctx context.Context, from, to uint64, fn func(buffer.Record) error) error {
	if err := l.ensureIndex(ctx); err != nil {
		return err
	}
	l.mu.Lock()
	closed, end := l.closed, l.endLocked()
	i := l.idx.find(from)
	var entries []entry
	for _, e := range l.idx.entries[i:] {
		if e.seq >= to {
			break
		}
		entries = append(entries, e)
	}
	l.mu.Unlock()
	switch {
	case closed:
		return buffer.ErrClosed
	case from > to:
		return fmt.Errorf("jslog: read [%d, %d): %w", from, to, buffer.ErrOutOfRange)
	case to > end:
		return fmt.Errorf("jslog: read [%d, %d): %w: the log ends at %d", from, to, buffer.ErrOutOfRange, end)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("jslog: read: %w", err)
		}
		p, err := l.payload(ctx, e)
		if err != nil {
			return err
		}
		arrival := time.UnixMilli(e.arrival)
		seq := e.seq
		for len(p) >= 4 && seq < to {
			n := int(binary.LittleEndian.Uint32(p))
			if 4+n > len(p) {
				return fmt.Errorf("jslog: message %d of %s: record overruns the message", e.js, l.name)
			}
			if seq >= from {
				if err := fn(buffer.Record{Seq: seq, Arrival: arrival, Data: p[4 : 4+n : 4+n]}); err != nil {
					return err
				}
			}
			p = p[4+n:]
			seq++
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("jslog: read: %w", err)
	}
	return nil
}

// payload returns a message's records, cached or fetched.
func (l *Log) payload(ctx context.Context, e entry) ([]byte, error) {
	if e.payload != nil {
		return e.payload, nil
	}
	m, err := l.stream.GetMsg(ctx, e.js)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return nil, fmt.Errorf("jslog: message %d of %s: %w: %w", e.js, l.name, buffer.ErrOutOfRange, err)
		}
		return nil, fmt.Errorf("jslog: fetch message %d of %s: %w", e.js, l.name, err)
	}
	return m.Data, nil
}

// recordSizes returns the prefix sums of e's record sizes.
func (l *Log) recordSizes(ctx context.Context, e entry) ([]int64, error) {
	l.mu.Lock()
	if l.idx.sizesJS == e.js && l.idx.sizes != nil {
		s := l.idx.sizes
		l.mu.Unlock()
		return s, nil
	}
	l.mu.Unlock()
	p, err := l.payload(ctx, e)
	if err != nil {
		return nil, err
	}
	prefix := make([]int64, 1, e.count+1)
	var sum int64
	for len(p) >= 4 {
		n := int64(binary.LittleEndian.Uint32(p))
		sum += n
		prefix = append(prefix, sum)
		p = p[4+n:]
	}
	if len(prefix) != int(e.count)+1 {
		return nil, fmt.Errorf("jslog: message %d of %s holds %d records, its header says %d", e.js, l.name, len(prefix)-1, e.count)
	}
	l.mu.Lock()
	l.idx.sizesJS, l.idx.sizes = e.js, prefix
	l.mu.Unlock()
	return prefix, nil
}

// trim drops the entries wholly below upto and returns the JetStream
// sequence below which every message is delivered. The caller holds mu.
func (l *Log) trim(upto uint64) uint64 {
	x := &l.idx
	k := 0
	for k < len(x.entries) && x.entries[k].end() <= upto {
		x.cached -= int64(len(x.entries[k].payload))
		k++
	}
	clear(x.entries[:k])
	x.entries = x.entries[k:]
	if len(x.entries) > 0 {
		return x.entries[0].js
	}
	return x.lastJS + 1
}
