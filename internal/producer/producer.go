// Package producer sends newline-delimited records to a Firehose stream
// with PutRecordBatch: batches as full as the API allows (500 records, 4 MiB),
// several requests in flight, and retries of only the entries that failed,
// with exponential backoff and jitter. It is what `hydrant put` runs, and
// works against hydrant or Amazon Data Firehose alike.
package producer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
)

// Options configure a Run.
type Options struct {
	// Client sends the requests. It should not retry on its own
	// (aws.NopRetryer): Run retries, and only what failed.
	Client *firehose.Client
	// Stream is the DeliveryStreamName.
	Stream string
	// Concurrency is how many requests may be in flight; default 4.
	Concurrency int
	// MaxRetries bounds the retries of one batch, whether its request failed
	// as a whole (throttling, 5xx, a broken connection) or some of its
	// entries did; default 10. Negative means no retries. Entries still
	// failing then count as failed and the run goes on; a request still
	// failing stops the run.
	MaxRetries int
	// KeepNewline keeps each line's newline in its record. Firehose
	// concatenates records as they are, so without it the lines of a
	// delivered object run together.
	KeepNewline bool
	// BaseDelay and MaxDelay shape the backoff: the n-th retry waits a
	// random time between half and all of min(BaseDelay·2ⁿ, MaxDelay).
	// Defaults 100ms and 5s.
	BaseDelay, MaxDelay time.Duration
	// OnProgress, when set, is called with input bytes as the records they
	// hold are settled (delivered or given up); it is called from several
	// goroutines.
	OnProgress func(inputBytes int64)
	// Logger reports skipped and failed records; nil discards.
	Logger *slog.Logger
}

// Input is one source of records.
type Input struct {
	Name   string // for messages: a file name, or "stdin"
	Reader io.Reader
}

// Stats is what a Run did.
type Stats struct {
	Records int64 // records delivered
	Bytes   int64 // bytes delivered (record data, newlines included)
	// Failed is the records not delivered: refused by the service after
	// every retry, or Oversized.
	Failed int64
	// Oversized is the lines over MaxRecordBytes, skipped.
	Oversized int64
	// Requests is the PutRecordBatch calls made; Retries those that
	// repeated earlier records, and RetriedRecords the records they
	// repeated.
	Requests       int64
	Retries        int64
	RetriedRecords int64
	Elapsed        time.Duration
}

// RecordsPerSecond is the delivery rate over the run.
func (s Stats) RecordsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Records) / s.Elapsed.Seconds()
}

// counters are the Stats being gathered by the senders.
type counters struct {
	records, bytes, failed, oversized, requests, retries, retriedRecords atomic.Int64
}

func (c *counters) stats(elapsed time.Duration) Stats {
	return Stats{
		Records: c.records.Load(), Bytes: c.bytes.Load(), Failed: c.failed.Load(), Oversized: c.oversized.Load(),
		Requests: c.requests.Load(), Retries: c.retries.Load(), RetriedRecords: c.retriedRecords.Load(),
		Elapsed: elapsed,
	}
}

// Run reads the inputs in order, one record per line, and sends them to the
// stream. Records that cannot be delivered are counted in Stats.Failed and
// the run goes on; the error reports what stopped it early: a request the
// service refused as a whole (no such stream, bad credentials) or that kept
// failing through every retry (the service is down), a read error, or ctx
// ending.
func Run(ctx context.Context, opts Options, inputs ...Input) (Stats, error) {
	if opts.Client == nil || opts.Stream == "" {
		return Stats{}, errors.New("producer: a client and a stream are required")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = 10
	}
	if opts.BaseDelay <= 0 {
		opts.BaseDelay = 100 * time.Millisecond
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = 5 * time.Second
	}
	if opts.OnProgress == nil {
		opts.OnProgress = func(int64) {}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s := &sender{opts: opts, stop: cancel}

	batches := make(chan *batch, opts.Concurrency)
	var wg sync.WaitGroup
	for range opts.Concurrency {
		wg.Go(func() {
			for b := range batches {
				s.send(ctx, b)
			}
		})
	}
	readErr := s.read(ctx, inputs, batches)
	close(batches)
	wg.Wait()
	st := s.c.stats(time.Since(start))
	if err := context.Cause(ctx); err != nil {
		return st, err
	}
	return st, readErr
}

// read splits the inputs into batches and hands them to the senders.
func (s *sender) read(ctx context.Context, inputs []Input, out chan<- *batch) error {
	bt := newBatcher()
	emit := func(b *batch) bool {
		select {
		case out <- b:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var pending int64 // input bytes not yet attributed to a batch
	for _, in := range inputs {
		lr := newLineReader(in.Reader, s.opts.KeepNewline)
		for {
			rec, src, err := lr.next()
			pending += src
			if err == io.EOF {
				break
			}
			var over *errOversized
			if errors.As(err, &over) {
				s.c.oversized.Add(1)
				s.c.failed.Add(1)
				s.opts.Logger.Warn("record too large, skipped", "input", in.Name, "line", over.line, "bytes", over.size, "limit", MaxRecordBytes)
				continue
			}
			if err != nil {
				return fmt.Errorf("read %s: %w", in.Name, err)
			}
			if full := bt.add(rec, pending); full != nil && !emit(full) {
				return nil
			}
			pending = 0
		}
	}
	if b := bt.flush(); b != nil && !emit(b) {
		return nil
	}
	s.opts.OnProgress(pending)
	return nil
}
