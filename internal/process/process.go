// Package process runs Firehose's record processors on delivery batches:
// the Lambda processor with its exact contract (reference §6) and the
// built-in processors (§7): Decompression and CloudWatchLogProcessing,
// RecordDeAggregation, MetadataExtraction (jq) and AppendDelimiterToRecord.
//
// A stream's ProcessingConfiguration becomes a deliver.Pipeline. Whatever the
// order of the processor list, the processors run in this order:
//
//	Decompression → CloudWatchLogProcessing → RecordDeAggregation → Lambda
//	→ MetadataExtraction → AppendDelimiterToRecord
//
// Firehose documents de-aggregation before Lambda, and Lambda before dynamic
// partitioning (MetadataExtraction feeds partitioning, so jq sees what the
// function returned). Where Decompression sits is not documented; it runs
// first here because it undoes what CloudWatch Logs did to the bytes that
// were put, and nothing else can read them before. AppendDelimiterToRecord
// runs last because it shapes the delivered object.
package process

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// Invoker calls a Lambda function synchronously (RequestResponse). It is
// implemented by internal/lambda (functions hydrant runs, and remote ones).
type Invoker interface {
	// Invoke runs the function with payload and returns what it returned.
	// functionError is Lambda's X-Amz-Function-Error ("Unhandled",
	// "Handled") when the function itself failed; result is then Lambda's
	// error document. err is set when the invocation did not happen or did
	// not finish (function not found, throttled, timed out, transport);
	// ClassifyError maps it to a Firehose error code.
	Invoke(ctx context.Context, functionARN string, payload []byte) (result []byte, functionError string, err error)
}

// Observer receives processing measurements: the CloudWatch metrics
// Firehose publishes for transformation and inline parsing. Calls come from
// delivery goroutines and must be cheap.
type Observer interface {
	// LambdaInvoked reports one invocation attempt: its duration
	// (ExecuteProcessing.Duration) and whether it succeeded
	// (ExecuteProcessing.Success).
	LambdaInvoked(stream string, took time.Duration, ok bool)
	// Processed reports records the Lambda processor handled successfully
	// (Ok and Dropped) and the bytes it returned for them
	// (SucceedProcessing.Records, SucceedProcessing.Bytes).
	Processed(stream string, records int, bytes int64)
	// JQ reports the time MetadataExtraction took for a chunk of records
	// (JQProcessing.Duration).
	JQ(stream string, took time.Duration)
}

// Options configure the processors.
type Options struct {
	// Region is the region in the Lambda event when the stream's ARN does
	// not say (it always does).
	Region string
	// Logger receives processing warnings; nil discards them.
	Logger *slog.Logger
	// Observer receives metrics; nil means none.
	Observer Observer
	// ClassifyError maps an Invoke error to a Firehose error code and
	// message; nil means DefaultClassifyError.
	ClassifyError func(err error) (code, message string)
	// RetryDelay is the first pause between invocation attempts; it doubles
	// up to 10 s. Zero means 500 ms.
	RetryDelay time.Duration
	// InvokeTimeout bounds one invocation; Firehose allows 5 minutes.
	// Zero means 5 minutes.
	InvokeTimeout time.Duration
	// MaxPayload is the largest invocation event; zero means Lambda's 6 MB
	// synchronous limit.
	MaxPayload int
	// JQTimeout bounds the evaluation of the MetadataExtractionQuery for one
	// record; zero means one second.
	JQTimeout time.Duration
	// Invocations is how many invocations of a stream's function may be
	// outstanding at once (Firehose keeps several per shard); a pipeline
	// then works on twice that many chunks of BufferSizeInMBs at once.
	// Zero means 1.
	Invocations int
}

// DefaultChunkBytes is how much input a pipeline without a Lambda processor
// takes at once.
const DefaultChunkBytes = 4 << 20

// Factory builds and caches stream pipelines. Its Pipeline method is the
// processing half of deliver.Stages.
type Factory struct {
	invoker Invoker
	opts    Options

	mu    sync.Mutex
	cache map[string]cached
}

type cached struct {
	version string
	p       deliver.Pipeline
}

// NewFactory returns a factory whose pipelines invoke Lambda functions
// through invoker (which may be nil when no stream uses a Lambda processor:
// such a stream's batches then fail with Lambda.ResourceNotFound).
func NewFactory(invoker Invoker, opts Options) *Factory {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.ClassifyError == nil {
		opts.ClassifyError = DefaultClassifyError
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = 500 * time.Millisecond
	}
	if opts.InvokeTimeout <= 0 {
		opts.InvokeTimeout = 5 * time.Minute
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = MaxLambdaPayload
	}
	if opts.JQTimeout <= 0 {
		opts.JQTimeout = time.Second
	}
	return &Factory{invoker: invoker, opts: opts, cache: map[string]cached{}}
}

// Pipeline returns the stream's pipeline, or nil when its processing is not
// enabled. Pipelines are built once per stream configuration (name and
// Revision) and reused. An error means the configuration cannot be run (it
// passed Create's checks, so this is a bug or a changed hydrant); delivery
// retries.
func (f *Factory) Pipeline(ctx context.Context, st *streamspec.Stream) (deliver.Pipeline, error) {
	version := st.Revision
	f.mu.Lock()
	c, ok := f.cache[st.Name]
	f.mu.Unlock()
	if ok && c.version == version {
		return c.p, nil
	}
	p, err := f.build(st)
	if err != nil {
		return nil, fmt.Errorf("build processing of %s: %w", st.Name, err)
	}
	f.mu.Lock()
	f.cache[st.Name] = cached{version: version, p: p}
	f.mu.Unlock()
	return p, nil
}

// Forget drops a stream's cached pipeline (the stream was deleted).
func (f *Factory) Forget(name string) {
	f.mu.Lock()
	delete(f.cache, name)
	f.mu.Unlock()
}

// build turns the stream's configuration into a pipeline.
func (f *Factory) build(st *streamspec.Stream) (deliver.Pipeline, error) {
	cfg := &st.Processing
	if !cfg.Enabled {
		return nil, nil
	}
	p := &pipeline{stream: st.Name, obs: f.opts.Observer, chunk: DefaultChunkBytes, chunks: 1}
	if cfg.Decompression != "" {
		p.stages = append(p.stages, &decompressor{cloudWatchLogs: cfg.CloudWatchLogs})
	}
	if d := cfg.DeAggregation; d.Enabled {
		p.stages = append(p.stages, &deaggregator{json: d.JSON, delim: d.Delimiter})
	}
	if l := cfg.Lambda; l.Enabled {
		// A chunk per invocation, twice as many at once as may be
		// outstanding: the next events are built while the function runs,
		// ready when an invocation ends.
		p.chunk, p.chunks = l.BufferBytes, 2*max(f.opts.Invocations, 1)
		p.stages = append(p.stages, f.newLambda(st, l))
	}
	if m := cfg.MetadataExtraction; m.Enabled {
		j, err := newExtractor(st.Name, m.Query, f.opts)
		if err != nil {
			return nil, err
		}
		p.stages = append(p.stages, j)
	}
	if cfg.AppendDelimiter {
		p.stages = append(p.stages, delimiter{})
	}
	return p, nil
}

// stage is one processor. run transforms recs, reporting failed records to
// fail; records it neither returns nor fails are dropped. An error means the
// chunk cannot be processed now (the context ended).
type stage interface {
	run(ctx context.Context, recs []deliver.Rec, fail func(deliver.Failure)) ([]deliver.Rec, error)
}

// pipeline runs its stages in order over each chunk.
type pipeline struct {
	stream string
	obs    Observer
	chunk  int64
	chunks int
	stages []stage
}

var _ deliver.Pipeline = (*pipeline)(nil)

// ChunkBytes is the Lambda processor's BufferSizeInMBs (the size of
// Firehose's pre-Lambda buffer), or DefaultChunkBytes without Lambda.
func (p *pipeline) ChunkBytes() int64 { return p.chunk }

// Chunks is twice Options.Invocations with a Lambda processor (each chunk
// is an invocation; those beyond the invocations outstanding wait with
// their event built), else 1. Every stage is safe for concurrent use.
func (p *pipeline) Chunks() int { return p.chunks }

// Process implements deliver.Pipeline.
func (p *pipeline) Process(ctx context.Context, recs []deliver.Rec) ([]deliver.Rec, []deliver.Failure, error) {
	var failed []deliver.Failure
	fail := func(f deliver.Failure) { failed = append(failed, f) }
	var err error
	for _, s := range p.stages {
		if len(recs) == 0 {
			break
		}
		if recs, err = s.run(ctx, recs, fail); err != nil {
			return nil, nil, err
		}
	}
	return recs, failed, nil
}

// delimiter is AppendDelimiterToRecord: a "\n" after every record.
type delimiter struct{}

func (delimiter) run(_ context.Context, recs []deliver.Rec, _ func(deliver.Failure)) ([]deliver.Rec, error) {
	for i := range recs {
		// The full slice expression makes append copy: the record's bytes
		// may share an array with the next record (de-aggregation).
		d := recs[i].Data
		recs[i].Data = append(d[:len(d):len(d)], '\n')
	}
	return recs, nil
}
