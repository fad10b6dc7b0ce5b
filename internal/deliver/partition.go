package deliver

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// Dynamic partitioning (reference §7). Firehose keeps one buffer per
// evaluated prefix ("partition") and flushes each on its own hints. hydrant
// cuts one batch from the stream's log by the stream's hints, as without
// partitioning, and writes one object per partition of the batch: the
// processed records are routed by their partition keys into spool files
// (one per partition, under the stream's directory, so memory stays
// bounded), then each spool becomes an object, then the error output is
// written. A partition is therefore "active" for the life of one batch; the
// active-partition limit applies to the partitions of a batch.
//
// Object keys are deterministic: the UUID of a partition's object is derived
// from the plan's ObjectID and the partition's keys, and so are the
// !{firehose:random-string} values of its prefix, so a batch redone after a
// crash overwrites the same keys (as long as processing gives the same keys
// again, which a Lambda function that is not deterministic may not).

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
	partitionSpoolBufferSize    = 16 << 10
	partitionSampleObjectSuffix = "stream-1-2026-01-02-03-04-05-00000000-0000-0000-0000-000000000000"
)

// PartitionObserver receives the dynamic partitioning metrics: after each
// partitioned batch, the number of partitions it had (PartitionCount) and
// whether records went to the error output because of the limit
// (PartitionCountExceeded). It is Config.Partitions, or the Config.Observer
// when that implements it too.
type PartitionObserver interface {
	Partitions(stream string, count int, exceeded bool)
}

// partition is one evaluated prefix of a batch and its spool.
type partition struct {
	id     string // the partition's keys, joined; stable across redos
	query  map[string]string
	lambda map[string]string
	spool  *spoolWriter
	oldest Rec
	n      int
}

// router sends processed records to their partition's spool.
type router struct {
	tmpl     *keys.Template
	qkeys    []string
	lkeys    []string
	dir      string
	max      int
	env      keys.Env
	parts    map[string]*partition
	order    []*partition
	bad      map[string]string // partition id → why its prefix cannot be used
	exceeded bool
	fail     func(Failure)
}

func (rt *router) route(r Rec) error {
	var id strings.Builder
	q := make(map[string]string, len(rt.qkeys))
	l := make(map[string]string, len(rt.lkeys))
	for _, set := range []struct {
		ns   string
		ks   []string
		from map[string]string
		to   map[string]string
	}{{keys.NSPartitionKeyFromQuery, rt.qkeys, r.QueryKeys, q}, {keys.NSPartitionKeyFromLambda, rt.lkeys, r.LambdaKeys, l}} {
		for _, k := range set.ks {
			v, ok := set.from[k]
			if !ok {
				rt.reject(r, CodePartitionKeyMissing, fmt.Sprintf("The record has no value for !{%s:%s}.", set.ns, k))
				return nil
			}
			set.to[k] = v
			id.WriteString(strconv.Quote(v))
			id.WriteByte(0)
		}
	}
	p := rt.parts[id.String()]
	if p == nil {
		if why, ok := rt.bad[id.String()]; ok {
			rt.reject(r, CodePrefixEvaluation, why)
			return nil
		}
		if len(rt.order) >= rt.max {
			rt.exceeded = true
			rt.reject(r, CodePartitionCountExceeded, fmt.Sprintf("The number of active partitions reached the limit of %d; records of further partitions go to the error output.", rt.max))
			return nil
		}
		p = &partition{id: id.String(), query: q, lambda: l}
		if why := rt.check(p, r); why != "" {
			rt.bad[p.id] = why
			rt.reject(r, CodePrefixEvaluation, why)
			return nil
		}
		w, err := newSpoolWriter(filepath.Join(rt.dir, strconv.Itoa(len(rt.order))))
		if err != nil {
			return err
		}
		p.spool, p.oldest = w, r
		rt.parts[p.id] = p
		rt.order = append(rt.order, p)
	}
	if r.Arrival.Before(p.oldest.Arrival) {
		p.oldest = r
	}
	p.n++
	return p.spool.write(r)
}

// check evaluates the partition's prefix once, at its first record, so that
// keys that cannot be evaluated or stored (too long, '..' segments) fail
// their records instead of blocking delivery.
func (rt *router) check(p *partition, r Rec) string {
	env := rt.env
	env.Time = r.Arrival.In(env.Location)
	env.PartitionKey = p.lookup
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

func (p *partition) lookup(ns, k string) (string, bool) {
	m := p.query
	if ns == keys.NSPartitionKeyFromLambda {
		m = p.lambda
	}
	v, ok := m[k]
	return v, ok
}

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// partitionResult is what writePartitioned wrote: objects to the
// destination, the records and bytes (after processing) they hold, and the
// records sent to the error output.
type partitionResult struct {
	objects, records, errorRecords int
	bytes                          int64
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

// writePartitioned delivers a partitioned plan: route, one object per
// partition, then the error output.
func (d *Deliverer) writePartitioned(ctx context.Context, st *streamspec.Stream, p Plan, pl Pipeline, fm Format) (out partitionResult, err error) {
	tmpl := st.Destination.Prefix
	dir, err := d.spoolDir()
	if err != nil {
		return out, err
	}
	defer os.RemoveAll(dir)
	var failures []Failure
	loc := location(st)
	rt := &router{
		tmpl: tmpl, qkeys: tmpl.QueryKeys(), lkeys: tmpl.LambdaKeys(), dir: dir,
		max: d.cfg.MaxPartitions, env: keys.Env{Location: loc},
		parts: map[string]*partition{}, bad: map[string]string{},
		fail: func(f Failure) { failures = append(failures, f) },
	}
	if rt.max <= 0 {
		rt.max = DefaultMaxPartitions
	}
	defer func() {
		for _, part := range rt.order {
			_ = part.spool.close()
		}
	}()
	if err := d.produce(ctx, p, pl, rt.route, func(f []Failure) { failures = append(failures, f...) }); err != nil {
		return out, err
	}
	if o := d.partitionObserver(); o != nil {
		o.Partitions(st.Name, len(rt.order), rt.exceeded)
	}
	for _, part := range rt.order {
		n, nb, conv, err := d.writePartition(ctx, st, p, rt, part, fm)
		if err != nil {
			return out, fmt.Errorf("write partition object: %w", err)
		}
		failures = append(failures, conv...)
		if n > 0 {
			out.objects++
			out.records += n
			out.bytes += nb
		}
	}
	if len(failures) > 0 {
		if err := d.writeFailures(ctx, st, p, failures); err != nil {
			return out, fmt.Errorf("write error output: %w", err)
		}
		out.errorRecords = len(failures)
	}
	return out, nil
}

// writePartition writes one partition's object. Its key is the prefix
// evaluated with the partition's keys and the arrival of its oldest record,
// and an object name whose UUID derives from the plan and the partition.
func (d *Deliverer) writePartition(ctx context.Context, st *streamspec.Stream, p Plan, rt *router, part *partition, fm Format) (n int, nb int64, conv []Failure, err error) {
	if err := part.spool.flush(); err != nil {
		return 0, 0, nil, err
	}
	seed := sha256.Sum256([]byte(p.ObjectID + "\x00" + part.id))
	env := rt.env
	env.Time = part.oldest.Arrival.In(env.Location)
	env.PartitionKey = part.lookup
	env.Random = rand.NewChaCha8(seed)
	prefix, err := rt.tmpl.Eval(env)
	if err != nil {
		return 0, 0, nil, err
	}
	id := uuid.NewSHA1(uuid.MustParse(p.ObjectID), []byte("partition:"+part.id)).String()
	key := prefix + keys.ObjectName(st.Name, strconv.Itoa(st.VersionID), env.Time, id, st.Destination.Extension)
	meta := objstore.Meta{ContentType: "application/octet-stream", ContentEncoding: compress.ContentEncoding(p.Compression)}
	err = d.cfg.Store.Put(ctx, p.Bucket, key, meta, func(w io.Writer) error {
		n, nb, conv = 0, 0, conv[:0]
		cw, err := compress.NewWriter(p.Compression, w, compress.Options{EntryName: id, ModTime: part.oldest.Arrival})
		if err != nil {
			return err
		}
		var enc Encoder = rawEncoder{cw}
		if fm != nil {
			if enc, err = fm.NewEncoder(cw); err != nil {
				return err
			}
		}
		err = part.spool.replay(func(r Rec) error {
			err := enc.Encode(r)
			var ce *ConversionError
			if errors.As(err, &ce) {
				conv = append(conv, Failure{Type: "format-conversion-failed", Raw: append([]byte(nil), r.Data...), Arrival: r.Arrival, Seq: r.Seq,
					Code: ce.Code, Message: ce.Message, Attempts: 1, Table: ce.Table})
				return nil
			}
			if err == nil {
				n++
				nb += int64(len(r.Data))
			}
			return err
		})
		if err != nil {
			_ = enc.Close()
			_ = cw.Close()
			return err
		}
		if n == 0 {
			return errEmptyObject
		}
		if err := enc.Close(); err != nil {
			return err
		}
		return cw.Close()
	})
	if errors.Is(err, errEmptyObject) {
		err = nil
	}
	if err == nil && n > 0 {
		d.log.Debug("partition object delivered", "key", key, "records", n)
	}
	return n, nb, conv, err
}

// spoolDir returns an empty directory for this batch's partition spools:
// <SpoolDir> when configured (the stream's own directory; leftovers of an
// earlier run are removed), else a new temporary directory.
func (d *Deliverer) spoolDir() (string, error) {
	if d.cfg.SpoolDir == "" {
		return os.MkdirTemp("", "hydrant-spool-")
	}
	if err := os.RemoveAll(d.cfg.SpoolDir); err != nil {
		return "", fmt.Errorf("clean partition spool: %w", err)
	}
	if err := os.MkdirAll(d.cfg.SpoolDir, 0o755); err != nil {
		return "", fmt.Errorf("create partition spool: %w", err)
	}
	return d.cfg.SpoolDir, nil
}
