package deliver

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// Dynamic partitioning (reference §7). Firehose keeps one buffer per
// evaluated prefix ("partition") and writes each when that partition reaches
// its own hints. hydrant does the same with a second log per stream, the
// partition log (Config.PartitionLog, a buffer.Log like the stream's own):
//
//   - A move takes the next records of the stream log, processes them, routes
//     them by partition keys and appends them to the partition log, one
//     Append ("group") per partition, with processing failures as groups of
//     their error-output-type and, with S3 backup, the source records as a
//     backup group. Each group ends with a header naming its partition and
//     the move (its id, the stream-log range it took, how many groups it
//     has). Only when every group is appended does the stream log's cursor
//     move past the range.
//   - Each partition is then delivered on its own hints: once its buffered
//     bytes reach SizeInMBs or its oldest group has waited IntervalInSeconds
//     (counted from when the group was appended). Its object is planned
//     (partition, records, key, UUID, time), the plan is committed in the
//     partition log's state, the object is written, and the partition's
//     watermark in that state moves past it.
//
// Exactly once: a move that stopped half-way (some groups appended, not
// all) is found at the next start by its headers and voided: its groups are
// ignored, and the range is moved again, because the stream log's cursor did
// not pass it. A move whose groups are all there counts, and the stream
// log's cursor is moved past it if the crash came before that. A partition
// object is redone from its committed plan with the same records and key.
//
// Error output and S3 backup are buffered the same way, as partitions of
// their own (not counted by the active-partition limit), so that they too
// make objects of the destination's (or the backup's) hints.

// DefaultMaxPartitions is Firehose's default limit on active partitions per
// stream.
const DefaultMaxPartitions = 500

// Error output of dynamic partitioning. The type is Firehose's; the codes and
// messages are hydrant's (AWS documents none). Records over the partition
// limit get partitioning-failed too, with their own code: the type AWS uses
// for them is not documented.
const (
	PartitioningFailed          = "partitioning-failed"
	CodePartitionKeyMissing     = "DynamicPartitioning.PartitionKeyMissing"
	CodePrefixEvaluation        = "DynamicPartitioning.PrefixEvaluationFailed"
	CodePartitionCountExceeded  = "DynamicPartitioning.PartitionCountExceeded"
	partitionSampleObjectSuffix = "stream-1-2026-01-02-03-04-05-00000000-0000-0000-0000-000000000000"
)

// maxPieceBytes bounds the record data of one group: a partition that gets
// more from one move gets several groups. It keeps every Append well within
// what a log takes in one piece. Groups are also kept to a quarter of their
// partition's SizeInMBs, since objects are made of whole groups: so an
// object holds between three quarters of SizeInMBs and SizeInMBs (unless
// one record is larger).
const maxPieceBytes = 8 << 20

// pieceBytes is the group size for a partition whose objects are size
// bytes.
func pieceBytes(size int64) int64 {
	if size <= 0 {
		return maxPieceBytes
	}
	return min(max(size/4, 1), maxPieceBytes)
}

// PartitionObserver receives the dynamic partitioning metrics: after each
// move, the number of active partitions (PartitionCount: destination
// partitions with records buffered) and whether records went to the error
// output because of the limit (PartitionCountExceeded). It is
// Config.Partitions, or the Config.Observer when that implements it too.
type PartitionObserver interface {
	Partitions(stream string, count int, exceeded bool)
}

// partitionObserver is Config.Partitions, else the Observer when it also
// implements PartitionObserver, else nil.
func (d *Deliverer) partitionObserver() PartitionObserver {
	if d.cfg.Partitions != nil {
		return d.cfg.Partitions
	}
	o, _ := d.cfg.Observer.(PartitionObserver)
	return o
}

// router sends a move's processed records to their partitions' groups.
type router struct {
	tmpl     *keys.Template
	qkeys    []string
	lkeys    []string
	max      int
	x        *pindex // partitions with records buffered before this move
	env      keys.Env
	cur      map[string]*groupBatch // each partition's group being filled
	pieces   []*groupBatch          // every group, in order of creation
	piece    int64                  // group size of destination and error groups
	backup   int64                  // group size of backup groups
	fresh    int                    // destination partitions new in this move
	bad      map[string]string      // partition id → why its prefix cannot be used
	exceeded bool
	id       []byte // the id of the record being routed
	// own, when set, copies records' data (it is only valid during the
	// call otherwise) into arena.
	own   bool
	arena arena
}

func newRouter(st *streamspec.Stream, x *pindex, maxParts int) *router {
	tmpl := st.Destination.Prefix
	if maxParts <= 0 {
		maxParts = DefaultMaxPartitions
	}
	return &router{
		tmpl: tmpl, qkeys: tmpl.QueryKeys(), lkeys: tmpl.LambdaKeys(), max: maxParts, x: x,
		env: keys.Env{Location: location(st)}, cur: map[string]*groupBatch{}, bad: map[string]string{},
		piece: pieceBytes(st.Destination.Buffering.Bytes), backup: pieceBytes(st.Backup.Buffering.Bytes),
	}
}

// group returns the group of partition id that takes the next record.
func (rt *router) group(id string) *groupBatch {
	limit := rt.piece
	if id == backupPartID {
		limit = rt.backup
	}
	g := rt.cur[id]
	if g == nil || g.bytes >= limit {
		g = &groupBatch{part: id}
		rt.cur[id] = g
		rt.pieces = append(rt.pieces, g)
	}
	return g
}

func (rt *router) route(r Rec) error {
	rt.id = append(rt.id[:0], kindData)
	for _, k := range rt.qkeys {
		v, ok := r.QueryKeys[k]
		if !ok {
			rt.reject(r, CodePartitionKeyMissing, fmt.Sprintf("The record has no value for !{%s:%s}.", keys.NSPartitionKeyFromQuery, k))
			return nil
		}
		rt.id = appendPartKey(rt.id, 'q', k, v)
	}
	for _, k := range rt.lkeys {
		v, ok := r.LambdaKeys[k]
		if !ok {
			rt.reject(r, CodePartitionKeyMissing, fmt.Sprintf("The record has no value for !{%s:%s}.", keys.NSPartitionKeyFromLambda, k))
			return nil
		}
		rt.id = appendPartKey(rt.id, 'l', k, v)
	}
	g := rt.cur[string(rt.id)]
	if g == nil {
		id := string(rt.id)
		if why, ok := rt.bad[id]; ok {
			rt.reject(r, CodePrefixEvaluation, why)
			return nil
		}
		if rt.x.parts[id] == nil {
			// A partition with nothing buffered becomes active.
			if rt.x.data+rt.fresh >= rt.max {
				rt.exceeded = true
				rt.reject(r, CodePartitionCountExceeded, fmt.Sprintf("The number of active partitions reached the limit of %d; records of further partitions go to the error output.", rt.max))
				return nil
			}
			if why := rt.check(id, r); why != "" {
				rt.bad[id] = why
				rt.reject(r, CodePrefixEvaluation, why)
				return nil
			}
			rt.fresh++
		}
		g = rt.group(id)
	} else if g.bytes >= rt.piece {
		g = rt.group(g.part)
	}
	rt.add(g, r.Arrival, r.Seq, r.Data)
	return nil
}

// add adds a record to a group, copying its data when the router owns it.
func (rt *router) add(g *groupBatch, arrival time.Time, seq uint64, data []byte) {
	if rt.own {
		data = rt.arena.copy(data, maxPieceBytes)
	}
	g.addRec(arrival, seq, data)
}

// check evaluates a new partition's prefix once, at its first record, so
// that keys that cannot be evaluated or stored (too long, '..' segments)
// fail their records instead of blocking delivery.
func (rt *router) check(id string, r Rec) string {
	lookup, err := partKeys(id)
	if err != nil {
		return err.Error()
	}
	env := rt.env
	env.Time = r.Arrival.In(env.Location)
	env.PartitionKey = lookup
	env.Random = zeroReader{}
	prefix, err := rt.tmpl.Eval(env)
	if err == nil {
		err = objstore.ValidKey(prefix + partitionSampleObjectSuffix)
	}
	if err != nil {
		return "The prefix of the record's partition cannot be used: " + err.Error()
	}
	return ""
}

func (rt *router) reject(r Rec, code, msg string) {
	rt.fail(Failure{Type: PartitioningFailed, Raw: r.Data, Arrival: r.Arrival, Seq: r.Seq, Code: code, Message: msg, Attempts: 1})
}

// fail adds a failed record to the error output group of its type.
func (rt *router) fail(f Failure) {
	rt.group(errorPartID(f.Type)).addFailure(f)
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// move takes span from the stream log into the partition log: processing,
// routing, S3 backup, then one Append per group, all at once (they share
// the log's fsyncs). When an append fails the move is voided in x (the
// caller commits that before trying again) and the error returned;
// otherwise the groups are in x and the caller commits the stream log past
// span.
func (d *Deliverer) move(ctx context.Context, st *streamspec.Stream, x *pindex, span buffer.Span) (exceeded bool, err error) {
	var pl Pipeline
	if d.cfg.Stages != nil {
		if pl, _, err = d.cfg.Stages(ctx, st); err != nil {
			return false, err
		}
	}
	d.window = 0
	if pl != nil {
		d.window = pl.ChunkBytes() * int64(max(pl.Chunks(), 1))
	}
	rt := newRouter(st, x, d.cfg.MaxPartitions)
	// Without a pipeline records come straight from the log, valid only
	// during the call.
	rt.own = pl == nil
	p := Plan{From: span.From, To: span.To}
	err = d.produce(ctx, p, pl, rt.route, func(fs []Failure) {
		for _, f := range fs {
			rt.fail(f)
		}
	})
	if err != nil {
		return false, err
	}
	if st.Backup.Enabled {
		rt.own = true
		err := d.cfg.Log.Read(ctx, span.From, span.To, func(r buffer.Record) error {
			rt.add(rt.group(backupPartID), r.Arrival, r.Seq, r.Data)
			return nil
		})
		if err != nil {
			return false, fmt.Errorf("read records for S3 backup: %w", err)
		}
	}
	if len(rt.pieces) == 0 {
		return rt.exceeded, nil // everything was dropped
	}
	id := rand.Uint64() | 1
	firsts := make([]uint64, len(rt.pieces))
	errs := make([]error, len(rt.pieces))
	var wg sync.WaitGroup
	for i, g := range rt.pieces {
		g.seal(groupHeader{move: id, mainFrom: span.From, mainTo: span.To, groups: len(rt.pieces), index: i, part: g.part})
		wg.Add(1)
		go func() {
			defer wg.Done()
			firsts[i], errs[i] = d.cfg.PartitionLog.Append(ctx, &g.b)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			x.void = append(x.void, voidMove{Move: id})
			return false, fmt.Errorf("append to partition log: %w", err)
		}
	}
	// The groups were appended at once, so the log decided their order: a
	// partition's groups go into the index in that order, as a scan of the
	// log would find them.
	order := make([]int, len(rt.pieces))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(firsts[a], firsts[b]) })
	now := d.now().UnixMilli()
	for _, i := range order {
		g := rt.pieces[i]
		x.add(g.part, prun{
			from: firsts[i], to: firsts[i] + uint64(g.records), bytes: g.bytes, records: g.records,
			oldest: g.oldest.UnixMilli(), buffered: now,
		})
	}
	x.appended(firsts[order[0]])
	return rt.exceeded, nil
}

// maxMoveBytes bounds the stream-log bytes of one move.
const maxMoveBytes = 16 << 20

// moveHints returns how much of the stream log makes a move due and how
// long the oldest record may wait for one. With a Lambda processor that is
// Firehose's pre-Lambda buffer: BufferSizeInMBs for each invocation the
// pipeline keeps in flight (window, as the last move found it), and
// BufferIntervalInSeconds. Otherwise the records wait a second, so that a
// move takes what arrived meanwhile.
func moveHints(st *streamspec.Stream, window int64) (bytes int64, wait time.Duration) {
	bytes, wait = 4<<20, time.Second
	if window > 0 {
		bytes = window
	}
	if l := st.Processing.Lambda; l.Enabled {
		wait = l.BufferInterval
	}
	return min(max(bytes, 1<<20), maxMoveBytes), wait
}

// partSeed is the seed of a partition object's random parts.
func partSeed(objectID, part string) [32]byte {
	return sha256.Sum256([]byte(objectID + "\x00" + part))
}
