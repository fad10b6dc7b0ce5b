package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// PartitionStats describes what a dynamically partitioned stream holds in
// its partition buffers (the partition log), not yet delivered.
type PartitionStats struct {
	// Partitions is the number of destination partitions with records
	// buffered: the active partitions.
	Partitions int
	// Records and Bytes count the buffered records of every partition,
	// error output and backup included, after processing.
	Records int
	Bytes   int64
	// Oldest is the arrival of the oldest of them; zero when none.
	Oldest time.Time
}

// PartitionStats reports the partition buffers; zero for a stream without
// dynamic partitioning.
func (d *Deliverer) PartitionStats() PartitionStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.pstats
}

func (d *Deliverer) setPartitionStats(x *pindex) {
	var s PartitionStats
	s.Partitions = x.data
	s.Records, s.Bytes, s.Oldest = x.totals()
	d.mu.Lock()
	d.pstats = s
	d.mu.Unlock()
}

// pflush is Flush for a partitioned stream: the stream log is moved up to
// what was acknowledged at the request, then every partition is delivered
// up to what the partition log held at that point.
type pflush struct {
	flushState
	parts uint64 // 0 until the stream log's part is moved
}

// take merges new requests; a new one moves the partitions' target on.
func (f *pflush) take(d *Deliverer, end uint64) {
	n := len(f.waiters)
	f.flushState.take(d, end)
	if len(f.waiters) > n {
		f.parts = 0
	}
}

// target is the position before which partitions are due now, or 0.
func (f *pflush) target(cursor uint64, x *pindex) uint64 {
	if len(f.waiters) == 0 || cursor < f.upto {
		return 0
	}
	if f.parts == 0 {
		f.parts = x.next
	}
	return f.parts
}

// settle tells the waiters once everything the flushes covered is
// delivered.
func (f *pflush) settle(cursor uint64, x *pindex) {
	t := f.target(cursor, x)
	if t == 0 {
		return
	}
	for _, p := range x.parts {
		if p.runs[0].from < t {
			return
		}
	}
	for _, ch := range f.waiters {
		close(ch)
	}
	f.waiters, f.upto, f.parts = nil, 0, 0
}

// runPartitioned is the loop of a dynamically partitioned stream: it moves
// records from the stream log into the partition log and delivers each
// partition on its own hints (see partition.go).
func (d *Deliverer) runPartitioned(ctx context.Context) {
	defer close(d.done)
	pl := d.cfg.PartitionLog
	if pl == nil {
		d.log.Error("dynamically partitioned stream without a partition log; nothing is delivered")
		<-ctx.Done()
		return
	}
	var (
		sc     scanned
		cursor uint64
	)
	for {
		upto, state := d.cfg.Log.Committed()
		if len(state) > 0 {
			// A plan of the batch-at-a-time partitioning of earlier
			// versions: its range is moved again (objects it wrote before
			// the upgrade may be written a second time).
			d.log.Warn("stream log holds a delivery plan of an earlier version; its records are partitioned again", "from", upto)
		}
		var err error
		if sc, err = scanPartitions(ctx, pl, upto); err == nil {
			cursor = upto
			break
		}
		if ctx.Err() != nil {
			return
		}
		d.log.Error("read partition log; retrying", "err", err)
		if !d.sleep(ctx, nil, time.Second) {
			return
		}
	}
	x := sc.index
	if sc.orphans > 0 {
		d.log.Error("partition log ends with records of no group; they are not delivered", "records", sc.orphans)
	}
	if sc.bad > 0 {
		d.log.Error("partition log holds records that cannot be read; they and their groups are not delivered", "records", sc.bad)
	}
	if sc.voided {
		d.log.Warn("a move into the partition log was cut short; its records are moved again")
		if !d.commitParts(ctx, x, sc.plan) {
			return
		}
	}
	if sc.mainTo > cursor {
		d.log.Info("moved records found in the partition log; the stream log's cursor moves past them", "from", cursor, "to", sc.mainTo)
		if !d.commitMain(ctx, sc.mainTo) {
			return
		}
		cursor = sc.mainTo
	}
	d.setPartitionStats(x)
	var done *partDone
	if sc.plan != nil {
		p := *sc.plan
		d.log.Info("redoing planned partition object after restart", "partition", describePart(string(p.Part)), "key", p.Key)
		if done = d.deliverPart(ctx, x, p); done == nil {
			return
		}
		d.setPartitionStats(x)
	}
	var (
		flush      pflush
		preferMove bool
		exceeded   bool
	)
	// settle commits done on its own, when no plan follows it right away.
	settle := func() bool {
		if done == nil {
			return true
		}
		if !d.commitParts(ctx, x, nil) {
			return false
		}
		d.partCommitted(done)
		done = nil
		return true
	}
	for {
		st := d.stream.Load()
		appended := d.cfg.Log.Appended()
		b := d.cfg.Log.Backlog(cursor)
		end := cursor
		if !b.Empty() {
			end = b.To
		}
		flush.take(d, end)
		if done == nil {
			// Waiters hear of what is delivered and committed, even
			// while the loop stays busy.
			flush.settle(cursor, x)
		}
		now := d.now()
		moveBytes, moveWait := moveHints(st, d.window)
		moveDue := !b.Empty() && (b.Bytes >= moveBytes || !now.Before(b.Oldest.Add(moveWait)) || flush.due(cursor))
		part, wake := duePartition(st, x, now, flush.target(cursor, x))
		if !b.Empty() && !moveDue {
			wake = earliest(wake, b.Oldest.Add(moveWait))
		}
		switch {
		case moveDue && (part == nil || preferMove):
			preferMove = false
			// A move takes what is there, up to maxMoveBytes: a backlog
			// (a flush, catching up) moves in few, large steps.
			span, err := d.cfg.Log.Cut(cursor, maxMoveBytes)
			if err == nil {
				exceeded, err = d.move(ctx, st, x, span)
			}
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				d.log.Warn("moving records into the partition buffers failed; they stay in the stream log and will be retried",
					"from", cursor, "error_code", ErrorCode(err), "err", err)
				// A void move must be on record before the next one.
				if !d.commitParts(ctx, x, nil) || !d.sleep(ctx, nil, time.Second) {
					return
				}
				if done != nil {
					d.partCommitted(done)
					done = nil
				}
				continue
			}
			d.setPartitionStats(x)
			if !d.commitMain(ctx, span.To) {
				return
			}
			cursor = span.To
			if o := d.partitionObserver(); o != nil {
				o.Partitions(st.Name, x.data, exceeded)
			}
		case part != nil:
			preferMove = true
			p, err := d.planPart(st, x, part)
			if err != nil {
				d.log.Error("plan partition object", "partition", describePart(part.id), "err", err)
				if !settle() || !d.sleep(ctx, nil, time.Second) {
					return
				}
				continue
			}
			// One commit records done and saves the next plan.
			if !d.commitParts(ctx, x, &p) {
				return
			}
			if done != nil {
				d.partCommitted(done)
				done = nil
				flush.settle(cursor, x)
			}
			if done = d.deliverPart(ctx, x, p); done == nil {
				return
			}
			d.setPartitionStats(x)
			if o := d.partitionObserver(); o != nil {
				o.Partitions(st.Name, x.data, exceeded)
			}
		default:
			if !settle() {
				return
			}
			flush.settle(cursor, x)
			if b.Empty() && len(x.parts) == 0 {
				d.notifyFlushed()
			}
			var wait time.Duration
			if !wake.IsZero() {
				wait = max(wake.Sub(d.now()), time.Millisecond)
			}
			if !d.sleep(ctx, appended, wait) {
				return
			}
		}
	}
}

// earliest returns the earlier of two times, zero meaning none.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// partHints returns the buffering hints of a partition: the backup's for
// the backup, the destination's for the others.
func partHints(st *streamspec.Stream, id string) streamspec.Buffering {
	if id == backupPartID {
		return st.Backup.Buffering
	}
	return st.Destination.Buffering
}

// duePartition returns the partition to deliver now (of those due, the
// one buffering longest), and when the next of the others falls due.
// flushTo, when not 0, makes every partition with records before it due.
func duePartition(st *streamspec.Stream, x *pindex, now time.Time, flushTo uint64) (due *bpart, wake time.Time) {
	for _, p := range x.parts {
		h := partHints(st, p.id)
		at := p.bufferedAt().Add(h.Interval)
		if p.bytes >= h.Bytes || !now.Before(at) || p.runs[0].from < flushTo {
			if due == nil || p.runs[0].buffered < due.runs[0].buffered {
				due = p
			}
			continue
		}
		wake = earliest(wake, at)
	}
	return due, wake
}

// commitMain moves the stream log's cursor to upto, retrying until it is
// done; false means the loop must stop.
func (d *Deliverer) commitMain(ctx context.Context, upto uint64) bool {
	for {
		err := d.cfg.Log.Commit(ctx, upto, nil)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d.log.Error("commit moved records", "to", upto, "err", err)
		if !d.sleep(ctx, nil, time.Second) {
			return false
		}
	}
}

// commitParts commits the partition log's state, with plan when not nil,
// retrying until it is done; false means the loop must stop.
func (d *Deliverer) commitParts(ctx context.Context, x *pindex, plan *pplan) bool {
	for {
		upto := x.upto()
		err := d.cfg.PartitionLog.Commit(ctx, upto, x.state(upto, plan))
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d.log.Error("commit partition state", "err", err)
		if !d.sleep(ctx, nil, time.Second) {
			return false
		}
	}
}

// partDone is a partition object written whose state is not committed yet.
type partDone struct {
	plan pplan
	out  Delivery
}

// partCommitted reports a partition object once its state is committed.
func (d *Deliverer) partCommitted(o *partDone) {
	d.log.Debug("partition object delivered", "partition", describePart(string(o.plan.Part)), "key", o.plan.Key,
		"records", o.plan.Records, "bytes", o.plan.Bytes)
	if o.plan.Part[0] != kindBackup && o.out.Plan.ObjectID != "" {
		d.noteDelivered()
	}
	if obs := d.cfg.Observer; obs != nil && o.plan.Part[0] != kindBackup && o.out.Plan.ObjectID != "" {
		obs.Delivered(d.cfg.Stream.Name, o.out)
	}
}

// planPart decides a partition's next object: its groups (as many as fit
// in the hints' size, at least one), the oldest arrival among them, a new
// UUID and the key. A destination partition whose prefix can no longer be
// evaluated (the Prefix was changed to keys it lacks) is planned as error
// output instead.
func (d *Deliverer) planPart(st *streamspec.Stream, x *pindex, part *bpart) (pplan, error) {
	n := x.take(part, partHints(st, part.id).Bytes)
	runs := part.runs[:n]
	p := pplan{Part: []byte(part.id), From: runs[0].from, To: runs[n-1].to + 1, ObjectID: uuid.NewString()}
	oldest := runs[0].oldest
	for _, r := range runs {
		oldest = min(oldest, r.oldest)
		p.Records += r.records
		p.Bytes += r.bytes
	}
	p.Time = time.UnixMilli(oldest)
	loc := location(st)
	t := p.Time.In(loc)
	name := func(ext string) string {
		return keys.ObjectName(st.Name, strconv.Itoa(st.VersionID), t, p.ObjectID, ext)
	}
	random := func() io.Reader {
		seed := partSeed(p.ObjectID, part.id)
		return rand.NewChaCha8(seed)
	}
	errorKey := func(typ string) (string, error) {
		prefix, err := st.Destination.ErrorPrefix.Eval(keys.Env{Time: t, Location: loc, ErrorOutputType: typ, Random: random()})
		return prefix + name(""), err
	}
	var err error
	switch part.id[0] {
	case kindData:
		p.Bucket, p.Compression = st.Destination.Bucket, st.Destination.Compression
		lookup, perr := partKeys(part.id)
		if perr != nil {
			return pplan{}, perr
		}
		missing := ""
		env := keys.Env{Time: t, Location: loc, Random: random(), PartitionKey: func(ns, k string) (string, bool) {
			v, ok := lookup(ns, k)
			if !ok && missing == "" {
				missing = "!{" + ns + ":" + k + "}"
			}
			return v, ok
		}}
		prefix, eerr := st.Destination.Prefix.Eval(env)
		if eerr == nil {
			p.Key = prefix + name(st.Destination.Extension)
			eerr = objstore.ValidKey(p.Key)
		}
		if eerr != nil {
			p.FailCode, p.FailMessage = CodePrefixEvaluation, "The prefix of the record's partition cannot be used: "+eerr.Error()
			if missing != "" {
				p.FailCode, p.FailMessage = CodePartitionKeyMissing, "The record has no value for "+missing+"."
			}
			p.Compression = ""
			p.Key, err = errorKey(PartitioningFailed)
		}
	case kindError:
		p.Bucket = st.Destination.Bucket
		p.Key, err = errorKey(part.id[1:])
	case kindBackup:
		if !st.Backup.Enabled {
			return pplan{}, errors.New("records buffered for S3 backup, which the stream no longer has")
		}
		p.Bucket, p.Compression = st.Backup.Bucket, st.Backup.Compression
		var prefix string
		prefix, err = st.Backup.Prefix.Eval(keys.Env{Time: t, Location: loc, Random: random()})
		p.Key = prefix + name(st.Backup.Extension)
	default:
		return pplan{}, fmt.Errorf("partition %q: %w", part.id, errBadPartitionRecord)
	}
	if err != nil {
		return pplan{}, err
	}
	return p, nil
}

// deliverPart writes a planned partition object, retrying with backoff until
// it is stored or ctx ends, then marks its records delivered in x. It
// returns nil when the loop must stop; the caller commits the state.
func (d *Deliverer) deliverPart(ctx context.Context, x *pindex, p pplan) *partDone {
	if len(x.partRuns(p)) == 0 {
		// Only a plan redone after its records were lost (a damaged
		// partition log) gets here: nothing is left to write.
		d.log.Error("planned partition object has no records left in the partition log; skipping it",
			"partition", describePart(string(p.Part)), "key", p.Key, "from", p.From, "to", p.To)
		x.delivered(string(p.Part), p.To)
		return &partDone{plan: p}
	}
	plan := Plan{From: p.From, To: p.To, Bucket: p.Bucket, Key: p.Key, Compression: p.Compression,
		ObjectID: p.ObjectID, Time: p.Time, Records: p.Records, Bytes: p.Bytes}
	out, ok := d.retry(ctx, plan, func() (Delivery, error) { return d.writePart(ctx, x, p) })
	if !ok {
		return nil
	}
	x.delivered(string(p.Part), p.To)
	return &partDone{plan: p, out: out}
}

// partRuns returns the groups a plan covers.
func (x *pindex) partRuns(p pplan) []prun {
	part := x.parts[string(p.Part)]
	if part == nil {
		return nil
	}
	var out []prun
	for _, r := range part.runs {
		if r.from >= p.From && r.to < p.To {
			out = append(out, r)
		}
	}
	return out
}

// writePart writes a partition object: the records of its groups, read
// from the partition log, encoded for the destination (with the stream's
// format, then its compression), rendered as error output, or as they were
// put for the backup.
func (d *Deliverer) writePart(ctx context.Context, x *pindex, p pplan) (out Delivery, err error) {
	st := d.stream.Load()
	runs := x.partRuns(p)
	if len(runs) == 0 {
		return out, fmt.Errorf("partition %s: planned records %d-%d are not in the partition log", describePart(string(p.Part)), p.From, p.To)
	}
	each := func(fn func(buffer.Record) error) error {
		for _, r := range runs {
			if err := d.cfg.PartitionLog.Read(ctx, r.from, r.to, fn); err != nil {
				return err
			}
		}
		return nil
	}
	kind := p.Part[0]
	if kind == kindError || p.FailCode != "" {
		n, err := d.putFailures(ctx, p.Bucket, p.Key, func(emit func(Failure) error) error {
			return each(func(r buffer.Record) error {
				if kind == kindError {
					f, err := parseFailure(r.Data)
					if err != nil {
						return fmt.Errorf("partition log record %d: %w", r.Seq, err)
					}
					return emit(f)
				}
				arrival, seq, data, err := parseRec(r.Data)
				if err != nil {
					return fmt.Errorf("partition log record %d: %w", r.Seq, err)
				}
				return emit(Failure{Type: PartitioningFailed, Raw: data, Arrival: arrival, Seq: seq,
					Code: p.FailCode, Message: p.FailMessage, Attempts: 1})
			})
		})
		out.ErrorRecords = n
		return out, err
	}
	var fm Format
	if kind == kindData && d.cfg.Stages != nil {
		if _, fm, err = d.cfg.Stages(ctx, st); err != nil {
			return out, err
		}
	}
	var failures []Failure
	meta := objstore.Meta{ContentType: "application/octet-stream", ContentEncoding: compress.ContentEncoding(p.Compression)}
	err = d.cfg.Store.Put(ctx, p.Bucket, p.Key, meta, func(w io.Writer) error {
		failures = failures[:0]
		cw, err := compress.NewWriter(p.Compression, w, compress.Options{EntryName: p.ObjectID, ModTime: p.Time})
		if err != nil {
			return err
		}
		var enc Encoder = rawEncoder{cw}
		if fm != nil {
			if enc, err = fm.NewEncoder(cw); err != nil {
				return err
			}
		}
		n, nb := 0, int64(0)
		err = each(func(r buffer.Record) error {
			arrival, seq, data, err := parseRec(r.Data)
			if err != nil {
				return fmt.Errorf("partition log record %d: %w", r.Seq, err)
			}
			rec := Rec{Data: data, Arrival: arrival, Seq: seq}
			err = enc.Encode(rec)
			var ce *ConversionError
			if errors.As(err, &ce) {
				failures = append(failures, conversionFailure(rec, ce))
				return nil
			}
			if err == nil {
				n++
				nb += int64(len(data))
			}
			return err
		})
		if err != nil {
			_ = enc.Close()
			_ = cw.Close()
			return err
		}
		out.Records, out.Bytes = n, nb
		if n == 0 {
			return errEmptyObject
		}
		if err := enc.Close(); err != nil {
			return err
		}
		return cw.Close()
	})
	if err != nil && !errors.Is(err, errEmptyObject) {
		return out, err
	}
	if err == nil && kind == kindData {
		out.Objects = 1
	}
	if len(failures) > 0 {
		if err := d.writeFailures(ctx, st, p.Bucket, p.ObjectID, failures); err != nil {
			return out, fmt.Errorf("write error output: %w", err)
		}
		out.ErrorRecords = len(failures)
	}
	return out, nil
}
