package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// write produces the planned object: it reads the planned range from the log,
// runs it through the stream's processing pipeline and format (when it has
// them) and the compression codec, straight into the store, then writes the
// records that failed on the way to the error output. It is called again,
// from scratch, when an attempt fails. It reports what it wrote (Plan and
// Took are left for the caller).
func (d *Deliverer) write(ctx context.Context, p Plan) (out Delivery, err error) {
	st := d.stream.Load()
	var pl Pipeline
	var fm Format
	if d.cfg.Stages != nil {
		if pl, fm, err = d.cfg.Stages(ctx, st); err != nil {
			return out, err
		}
	}
	if err := d.writeBackup(ctx, st, p); err != nil {
		return out, err
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
		emit := func(r Rec) error {
			err := enc.Encode(r)
			var ce *ConversionError
			if errors.As(err, &ce) {
				failures = append(failures, conversionFailure(r, ce))
				return nil
			}
			if err == nil {
				n++
				nb += int64(len(r.Data))
			}
			return err
		}
		if err := d.produce(ctx, p, pl, emit, func(f []Failure) { failures = append(failures, f...) }); err != nil {
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
	if err == nil {
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

// produce feeds the planned records, processed when there is a pipeline, to
// emit; failures go to fail. Records are cut into chunks of the pipeline's
// ChunkBytes, up to Chunks of which are processed at once while the log is
// read ahead; the chunks' records and failures are passed on in the log's
// order. (A Lambda processor thus keeps its function busy: the next event
// is ready when an invocation ends.)
func (d *Deliverer) produce(ctx context.Context, p Plan, pl Pipeline, emit func(Rec) error, fail func([]Failure)) error {
	if pl == nil {
		return d.cfg.Log.Read(ctx, p.From, p.To, func(r buffer.Record) error {
			return emit(Rec{Data: r.Data, Arrival: r.Arrival, Seq: r.Seq})
		})
	}
	limit, window := pl.ChunkBytes(), max(pl.Chunks(), 1)
	// One chunk being processed: its results once done is closed.
	type job struct {
		out    []Rec
		failed []Failure
		err    error
		done   chan struct{}
	}
	var inflight []*job // oldest first
	var wg sync.WaitGroup
	defer wg.Wait()
	// next passes on the oldest chunk's results when they are ready.
	next := func() error {
		j := inflight[0]
		inflight = inflight[1:]
		<-j.done
		if j.err != nil {
			return fmt.Errorf("process records: %w", j.err)
		}
		fail(j.failed)
		for _, r := range j.out {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
	var chunk []Rec
	var size int64
	var data arena
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		if len(inflight) == window {
			if err := next(); err != nil {
				return err
			}
		}
		j := &job{done: make(chan struct{})}
		inflight = append(inflight, j)
		wg.Add(1)
		go func(recs []Rec) {
			defer wg.Done()
			defer close(j.done)
			j.out, j.failed, j.err = pl.Process(ctx, recs)
		}(chunk)
		// The goroutine owns the chunk and its bytes now.
		chunk, size, data = make([]Rec, 0, len(chunk)), 0, arena{}
		return nil
	}
	err := d.cfg.Log.Read(ctx, p.From, p.To, func(r buffer.Record) error {
		if size > 0 && size+int64(len(r.Data)) > limit {
			if err := flush(); err != nil {
				return err
			}
		}
		// The log's bytes are only valid during the call.
		chunk = append(chunk, Rec{Data: data.copy(r.Data, limit-size), Arrival: r.Arrival, Seq: r.Seq})
		size += int64(len(r.Data))
		return nil
	})
	if err == nil {
		err = flush()
	}
	for err == nil && len(inflight) > 0 {
		err = next()
	}
	return err
}

// arena copies a chunk's records into a few blocks instead of one
// allocation each. Blocks are never reused: the copies live as long as
// anything refers to them (a failed record's Raw, say).
type arena struct{ buf []byte }

// copy copies b; room is how many more bytes the chunk may take, so that
// blocks, which double, do not outgrow it by much.
func (a *arena) copy(b []byte, room int64) []byte {
	if cap(a.buf)-len(a.buf) < len(b) {
		n := min(int64(max(2*cap(a.buf), 64<<10)), room)
		a.buf = make([]byte, 0, max(int64(len(b)), n))
	}
	at := len(a.buf)
	a.buf = append(a.buf, b...)
	return a.buf[at:len(a.buf):len(a.buf)]
}

// conversionFailure is the error output of a record format conversion
// refused.
func conversionFailure(r Rec, ce *ConversionError) Failure {
	return Failure{
		Type: "format-conversion-failed", Raw: append([]byte(nil), r.Data...), Arrival: r.Arrival, Seq: r.Seq,
		Code: ce.Code, Message: ce.Message, Attempts: 1, Table: ce.Table,
	}
}

// writeFailures writes failed records under the ErrorOutputPrefix, one
// object per error-output-type, as newline-delimited JSON in Firehose's
// layout and without an extension. Their names derive from objectID (the
// object they were written with), so that a redo overwrites them.
func (d *Deliverer) writeFailures(ctx context.Context, st *streamspec.Stream, bucket, objectID string, failures []Failure) error {
	byType := map[string][]Failure{}
	for _, f := range failures {
		byType[f.Type] = append(byType[f.Type], f)
	}
	types := make([]string, 0, len(byType))
	for t := range byType {
		types = append(types, t)
	}
	sort.Strings(types)
	errs := st.Destination.ErrorPrefix
	loc := location(st)
	now := d.now()
	for _, typ := range types {
		fs := byType[typ]
		oldest := fs[0].Arrival
		for _, f := range fs {
			if f.Arrival.Before(oldest) {
				oldest = f.Arrival
			}
		}
		prefix, err := errs.Eval(keys.Env{Time: oldest.In(loc), Location: loc, ErrorOutputType: typ})
		if err != nil {
			return err
		}
		// The same plan always names its error objects the same way, so a
		// redo overwrites rather than duplicates them.
		id := uuid.NewSHA1(uuid.MustParse(objectID), []byte("error-output:"+typ)).String()
		key := prefix + keys.ObjectName(st.Name, strconv.Itoa(st.VersionID), oldest.In(loc), id, "")
		err = d.cfg.Store.Put(ctx, bucket, key, objstore.Meta{ContentType: "application/octet-stream"}, func(w io.Writer) error {
			var line []byte
			for _, f := range fs {
				line = append(renderFailure(line[:0], f, now), '\n')
				if _, err := w.Write(line); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		d.log.Warn("records written to the error output", "error_output_type", typ, "records", len(fs), "key", key, "error_code", fs[0].Code)
		d.noteRecordErrors(typ, key, fs)
	}
	d.logFailures(st, failures)
	return nil
}

// putFailures writes one error-output object, bucket/key, of the failures
// each gives (it may be called again when the store retries), and returns
// how many it holds.
func (d *Deliverer) putFailures(ctx context.Context, bucket, key string, each func(emit func(Failure) error) error) (int, error) {
	now := d.now()
	n := 0
	code := ""
	err := d.cfg.Store.Put(ctx, bucket, key, objstore.Meta{ContentType: "application/octet-stream"}, func(w io.Writer) error {
		n = 0
		var line []byte
		return each(func(f Failure) error {
			if n == 0 {
				code = f.Code
			}
			n++
			line = append(renderFailure(line[:0], f, now), '\n')
			_, err := w.Write(line)
			return err
		})
	})
	if err != nil {
		return 0, err
	}
	d.log.Warn("records written to the error output", "records", n, "key", key, "error_code", code)
	return n, nil
}
