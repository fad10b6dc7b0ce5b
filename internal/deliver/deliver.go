// Package deliver runs one delivery loop per stream: it watches the stream's
// log, cuts a batch when the buffering hints say so, plans the object (key
// and range, stored durably first), writes it compressed to the object store
// and only then commits the log past it. A crash at any point therefore
// redoes the same object under the same key: nothing acknowledged is lost and
// nothing is delivered twice.
package deliver

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// Config is what a delivery loop needs.
type Config struct {
	// Stream is the stream's resolved configuration.
	Stream streamspec.Stream
	Log    buffer.Log
	Store  objstore.Store
	Logger *slog.Logger
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// Observer is told about each delivered object; nil means none.
	Observer Observer
	// Stages builds the stream's processing pipeline and record format;
	// nil means records are delivered as they are.
	Stages Stages
	// PartitionLog is where a dynamically partitioned stream buffers its
	// records by partition (see partition.go); it is required for such a
	// stream and unused otherwise. MaxPartitions is the active-partition
	// limit; zero means DefaultMaxPartitions.
	PartitionLog  buffer.Log
	MaxPartitions int
	// Partitions receives the partitioning metrics; nil means the Observer
	// if it implements PartitionObserver.
	Partitions PartitionObserver
	// ErrorLog receives the error records of a stream whose destination
	// has CloudWatchLoggingOptions enabled; nil means none are written.
	ErrorLog ErrorLog
}

// Deliverer is a running delivery loop.
type Deliverer struct {
	cfg    Config
	log    *slog.Logger
	now    func() time.Time
	stream atomic.Pointer[streamspec.Stream]
	wake   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	// window is how many bytes the stream's pipeline takes at once, as the
	// last move of a partitioned stream found it (owned by the loop).
	window int64

	mu        sync.Mutex
	flushed   []chan struct{} // Idle waiters
	flushReqs []chan struct{} // Flush requests the loop has not seen yet
	pstats    PartitionStats

	status status
}

// Start starts the loop for one stream. It first redoes the plan an earlier
// run left unfinished, if any.
func Start(cfg Config) *Deliverer {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &Deliverer{
		cfg:    cfg,
		log:    log.With("stream", cfg.Stream.Name),
		now:    cfg.Now,
		wake:   make(chan struct{}, 1),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	info := cfg.Stream
	d.stream.Store(&info)
	if info.Partitioning.Enabled {
		go d.runPartitioned(ctx)
	} else {
		go d.run(ctx)
	}
	return d
}

// Update hands the loop a changed stream configuration; it applies to the
// next object cut.
func (d *Deliverer) Update(st streamspec.Stream) {
	d.stream.Store(&st)
	d.poke()
}

// Stop ends the loop and waits for it. An object being written is abandoned;
// its plan stays in the log and is redone by the next Start.
func (d *Deliverer) Stop() {
	d.cancel()
	<-d.done
}

func (d *Deliverer) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *Deliverer) run(ctx context.Context) {
	defer close(d.done)
	upto, state := d.cfg.Log.Committed()
	// done is the object last stored whose range is not committed yet. Its
	// commit is folded into the next plan's commit, so a busy stream pays
	// one cursor write per object instead of two; until then a restart
	// redoes it from the plan still in the log (same key, same bytes).
	var done *delivered
	if len(state) > 0 {
		p, err := decodePlan(state)
		if err != nil {
			d.log.Error("unreadable delivery plan; cutting a new batch instead", "err", err)
		} else {
			d.log.Info("redoing planned object after restart", "key", p.Key, "from", p.From, "to", p.To)
			if done = d.deliver(ctx, p); done == nil {
				return
			}
			upto = p.To
		}
	}
	cursor := upto
	var flush flushState
	// settle commits done on its own, when no plan follows it right away.
	settle := func() bool {
		for done != nil {
			if err := d.cfg.Log.Commit(ctx, done.plan.To, nil); err != nil {
				if ctx.Err() != nil {
					return false
				}
				d.log.Error("commit delivered range", "to", done.plan.To, "err", err)
				if !d.sleep(ctx, nil, time.Second) {
					return false
				}
				continue
			}
			d.committed(done)
			done = nil
		}
		flush.advance(cursor)
		return true
	}
	for {
		st := d.stream.Load()
		size, interval := st.Destination.Buffering.Bytes, st.Destination.Buffering.Interval
		appended := d.cfg.Log.Appended()
		b := d.cfg.Log.Backlog(cursor)
		end := cursor
		if !b.Empty() {
			end = b.To
		}
		// Waiters are told by advance once the records are committed
		// (settle, or the next plan's commit), not when merely stored.
		flush.take(d, end)
		if b.Empty() {
			if !settle() {
				return
			}
			d.notifyFlushed()
			if !d.sleep(ctx, appended, 0) {
				return
			}
			continue
		}
		due := b.Oldest.Add(interval)
		if b.Bytes < size && d.now().Before(due) && !flush.due(cursor) {
			if !settle() || !d.sleep(ctx, appended, due.Sub(d.now())) {
				return
			}
			continue
		}
		span, err := d.cfg.Log.Cut(cursor, size)
		if err != nil {
			d.log.Error("cut batch", "err", err)
			if !settle() || !d.sleep(ctx, nil, time.Second) {
				return
			}
			continue
		}
		p, err := d.plan(st, span)
		if err != nil {
			d.log.Error("plan object", "err", err)
			if !settle() || !d.sleep(ctx, nil, time.Second) {
				return
			}
			continue
		}
		// One commit both records that done is delivered (cursor is its end)
		// and saves the plan of the next object.
		if err := d.cfg.Log.Commit(ctx, cursor, encodePlan(p)); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.log.Error("record delivery plan", "err", err)
			if !d.sleep(ctx, nil, time.Second) {
				return
			}
			continue
		}
		if done != nil {
			d.committed(done)
			done = nil
		}
		flush.advance(cursor)
		if done = d.deliver(ctx, p); done == nil {
			return
		}
		cursor = p.To
	}
}

// delivered is an object stored but not yet committed past.
type delivered struct {
	plan Plan
	out  Delivery
}

// committed reports a delivered object once its range is committed.
func (d *Deliverer) committed(o *delivered) {
	d.log.Debug("object delivered", "key", o.plan.Key, "records", o.plan.Records, "bytes", o.plan.Bytes)
	d.noteDelivered()
	if obs := d.cfg.Observer; obs != nil {
		obs.Delivered(d.cfg.Stream.Name, o.out)
	}
}

// plan decides the key and framing of the next object.
func (d *Deliverer) plan(st *streamspec.Stream, span buffer.Span) (Plan, error) {
	dest := &st.Destination
	loc := location(st)
	t := span.Oldest.In(loc)
	id := uuid.NewString()
	prefix, err := dest.Prefix.Eval(keys.Env{Time: t, Location: loc})
	if err != nil {
		return Plan{}, err
	}
	return Plan{
		From:        span.From,
		To:          span.To,
		Bucket:      dest.Bucket,
		Key:         prefix + keys.ObjectName(st.Name, strconv.Itoa(st.VersionID), t, id, dest.Extension),
		Compression: dest.Compression,
		ObjectID:    id,
		Time:        span.Oldest,
		Records:     span.Records,
		Bytes:       span.Bytes,
	}, nil
}

// deliver writes the planned object, retrying with backoff until it is
// stored or ctx ends. It returns nil when the loop must stop; the caller
// commits the range.
func (d *Deliverer) deliver(ctx context.Context, p Plan) *delivered {
	out, ok := d.retry(ctx, p, func() (Delivery, error) { return d.write(ctx, p) })
	if !ok {
		return nil
	}
	return &delivered{plan: p, out: out}
}

// retry runs write until it succeeds, with backoff and jitter between
// attempts, reporting each failure. It returns false when ctx ended first.
func (d *Deliverer) retry(ctx context.Context, p Plan, write func() (Delivery, error)) (Delivery, bool) {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := d.now()
		out, err := write()
		if err == nil {
			out.Plan, out.Took = p, d.now().Sub(start)
			d.noteAttemptOK()
			return out, true
		}
		if ctx.Err() != nil {
			return Delivery{}, false
		}
		d.noteFailed(p, err)
		if o := d.cfg.Observer; o != nil {
			o.Failed(d.cfg.Stream.Name, p, err)
		}
		d.log.Warn("delivery failed; the records stay buffered and will be retried",
			"key", p.Key, "attempt", attempt, "retry_in", backoff, "error_code", ErrorCode(err), "err", err)
		d.logError(d.stream.Load(), ErrorCode(err), err.Error(), "")
		jitter := time.Duration(rand.Int64N(int64(backoff)/2 + 1))
		if !d.sleep(ctx, nil, backoff/2+jitter) {
			return Delivery{}, false
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// location is the stream's CustomTimeZone (UTC when unset).
func location(st *streamspec.Stream) *time.Location {
	if l := st.Destination.Location; l != nil {
		return l
	}
	return time.UTC
}

// sleep waits for d, a wake-up, an append (when ch is set) or the end of
// ctx. d == 0 means no timeout. It reports false when ctx ended.
func (d *Deliverer) sleep(ctx context.Context, ch <-chan struct{}, dur time.Duration) bool {
	var timer <-chan time.Time
	if dur > 0 {
		t := time.NewTimer(dur)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-ch:
	case <-d.wake:
	case <-timer:
	}
	return true
}

// Idle returns a channel closed the next time the loop finds nothing left to
// deliver. Tests and graceful shutdown use it.
func (d *Deliverer) Idle() <-chan struct{} {
	ch := make(chan struct{})
	d.mu.Lock()
	d.flushed = append(d.flushed, ch)
	d.mu.Unlock()
	d.poke()
	return ch
}

func (d *Deliverer) notifyFlushed() {
	d.mu.Lock()
	for _, ch := range d.flushed {
		close(ch)
	}
	d.flushed = nil
	d.mu.Unlock()
}
