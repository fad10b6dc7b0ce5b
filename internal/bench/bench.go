// Package bench is hydrant's load generator: it sends pre-built
// PutRecordBatch requests over keep-alive connections, as cheaply as it can
// so that the server gets the CPU, and measures throughput, request latency
// and the time from an acknowledgement to the object holding the record
// being stored (ack-to-visible). It also holds the baseline the figures are
// compared with: a bare encoding/json handler with a group-commit fsync
// (baseline.go). `hydrant bench` is a thin flag layer over this package.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hydrant-io/hydrant/internal/firehose"
)

// Config describes one load run.
type Config struct {
	// Endpoint is the base URL of the server, e.g. http://127.0.0.1:4566.
	Endpoint string
	// Stream is the delivery stream written to.
	Stream string
	// Records is how many records to send in total; ignored when Duration
	// is set.
	Records int64
	// Duration, when positive, runs the load for this long instead.
	Duration time.Duration
	// RecordSize is the size of each record's data in bytes.
	RecordSize int
	// Batch is the number of records per PutRecordBatch.
	Batch int
	// Concurrency is the number of requests in flight (one connection each).
	Concurrency int
	// Rate, when positive, paces the load at this many records/s: request
	// i is not sent before start + i*Batch/Rate. A server that falls behind
	// gets the missed requests as fast as the workers can send them, and
	// latency is measured from the actual send.
	Rate float64
	// Visible turns on the ack-to-visible measurement, which needs the
	// server's GET /_hydrant/streams/{name}.
	Visible bool
	// SampleEvery is how often an acknowledged batch is sampled for
	// ack-to-visible; default 50ms.
	SampleEvery time.Duration
	// PollEvery is how often the stream's stats are polled while samples
	// are outstanding; default 1ms.
	PollEvery time.Duration
	// DrainTimeout bounds the wait, after the load, for everything
	// acknowledged to be delivered; zero skips the wait. Needs Visible.
	DrainTimeout time.Duration
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
}

// withDefaults fills in unset fields and checks the rest.
func (c Config) withDefaults() (Config, error) {
	if c.Endpoint == "" {
		return c, errors.New("bench: no endpoint")
	}
	c.Endpoint = strings.TrimSuffix(c.Endpoint, "/")
	if c.Stream == "" {
		c.Stream = "bench"
	}
	if c.RecordSize <= 0 || c.Batch <= 0 || c.Concurrency <= 0 {
		return c, fmt.Errorf("bench: record size (%d), batch (%d) and concurrency (%d) must be positive", c.RecordSize, c.Batch, c.Concurrency)
	}
	if c.Duration <= 0 && c.Records <= 0 {
		return c, errors.New("bench: give a number of records or a duration")
	}
	if c.Duration > 0 {
		c.Records = 0
	}
	if c.SampleEvery <= 0 {
		c.SampleEvery = 50 * time.Millisecond
	}
	if c.PollEvery <= 0 {
		c.PollEvery = time.Millisecond
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Run sends the load described by cfg and reports what it measured. Failed
// records and requests are counted, not retried; Run returns an error only
// when it cannot run at all (bad config, or every request failing).
func Run(ctx context.Context, cfg Config) (Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Report{}, err
	}
	bodies, last := buildBodies(cfg.Stream, cfg.Batch, cfg.RecordSize, cfg.Records)
	var requests int64 // total requests when counting records
	if cfg.Records > 0 {
		requests = (cfg.Records + int64(cfg.Batch) - 1) / int64(cfg.Batch)
	}
	tr := &http.Transport{
		MaxIdleConns:        cfg.Concurrency,
		MaxIdleConnsPerHost: cfg.Concurrency,
		MaxConnsPerHost:     cfg.Concurrency,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	defer tr.CloseIdleConnections()

	var vis *visibility
	if cfg.Visible {
		vis = newVisibility(cfg)
		if err := vis.check(ctx); err != nil {
			cfg.Logger.Warn("ack-to-visible not measured", "err", err)
			vis = nil
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	visDone := make(chan struct{})
	if vis != nil {
		go func() { defer close(visDone); vis.run(ctx) }()
	} else {
		close(visDone)
	}

	cfg.Logger.Info("bench starting", "endpoint", cfg.Endpoint, "stream", cfg.Stream,
		"records", cfg.Records, "duration", cfg.Duration, "record_size", cfg.RecordSize,
		"batch", cfg.Batch, "concurrency", cfg.Concurrency)
	var (
		next       atomic.Int64 // next request index
		nextSample atomic.Int64 // nanoseconds since start of the next visibility sample
		wg         sync.WaitGroup
		results    = make([]workerResult, cfg.Concurrency)
	)
	start := time.Now()
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk := worker{cfg: &cfg, tr: tr, res: &results[w], vis: vis, start: start, nextSample: &nextSample}
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				var b *body
				switch {
				case requests > 0 && i >= requests:
					return
				case requests > 0 && i == requests-1 && last != nil:
					b = last
				default:
					b = &bodies[int(i)%len(bodies)]
				}
				if cfg.Duration > 0 && time.Since(start) >= cfg.Duration {
					return
				}
				if cfg.Rate > 0 {
					due := start.Add(time.Duration(float64(i) * float64(cfg.Batch) / cfg.Rate * 1e9))
					if d := time.Until(due); d > 0 {
						time.Sleep(d)
					}
				}
				wk.do(ctx, b)
			}
		}()
	}
	wg.Wait()
	loadEnd := time.Now()
	elapsed := loadEnd.Sub(start)

	rep := Report{
		Endpoint:    cfg.Endpoint,
		Stream:      cfg.Stream,
		RecordSize:  cfg.RecordSize,
		Batch:       cfg.Batch,
		Concurrency: cfg.Concurrency,
		Rate:        cfg.Rate,
		Seconds:     elapsed.Seconds(),
	}
	var lat []time.Duration
	var firstErr string
	for _, r := range results {
		rep.Requests += r.requests
		rep.FailedRequests += r.failedRequests
		rep.Records += r.records
		rep.FailedRecords += r.failedRecords
		rep.bytes += r.bytes
		lat = append(lat, r.latencies...)
		if firstErr == "" {
			firstErr = r.firstErr
		}
	}
	if rep.Requests > 0 && rep.FailedRequests == rep.Requests {
		cancel()
		<-visDone
		return rep, fmt.Errorf("bench: every request failed: %s", firstErr)
	}
	if firstErr != "" {
		cfg.Logger.Warn("requests failed", "failed_requests", rep.FailedRequests, "failed_records", rep.FailedRecords, "first_error", firstErr)
	}
	rep.fill(lat)

	if vis != nil {
		vis.finish()
		<-visDone
		rep.fillVisible(vis.latencies(), vis.lost())
		if cfg.DrainTimeout > 0 {
			d, err := vis.drain(context.WithoutCancel(ctx), loadEnd, cfg.DrainTimeout)
			if err != nil {
				cfg.Logger.Warn("backlog not drained", "err", err)
			} else {
				rep.DrainMillis = ms(d)
			}
		}
	}
	cancel()
	return rep, nil
}

// workerResult is what one worker counted; merged after the run.
type workerResult struct {
	requests, failedRequests int64
	records, failedRecords   int64
	bytes                    int64
	latencies                []time.Duration
	firstErr                 string
}

// worker sends requests one after another on its own connection.
type worker struct {
	cfg        *Config
	tr         *http.Transport
	res        *workerResult
	vis        *visibility
	start      time.Time
	nextSample *atomic.Int64
	hdr        http.Header
	resp       []byte
}

// failedZero is how a response with no failed record starts its count;
// hydrant and the baseline both write it without spaces.
var failedZero = []byte(`"FailedPutCount":0`)

// do sends one request and accounts for it.
func (w *worker) do(ctx context.Context, b *body) {
	if w.hdr == nil {
		w.hdr = http.Header{
			"Content-Type": {"application/x-amz-json-1.1"},
			"X-Amz-Target": {firehose.TargetPrefix + ".PutRecordBatch"},
		}
		w.resp = make([]byte, 0, 64<<10)
	}
	res := w.res
	res.requests++
	// A fresh reader per request: the transport may still hold the last
	// one after RoundTrip returns.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.Endpoint+"/", bytes.NewReader(b.json))
	if err != nil {
		w.fail(b, err.Error())
		return
	}
	req.Header = w.hdr
	req.ContentLength = int64(len(b.json))
	t0 := time.Now()
	resp, err := w.tr.RoundTrip(req)
	if err != nil {
		w.fail(b, err.Error())
		return
	}
	w.resp, err = readAll(resp.Body, w.resp[:0])
	_ = resp.Body.Close()
	now := time.Now()
	if err != nil {
		w.fail(b, "read response: "+err.Error())
		return
	}
	if resp.StatusCode != http.StatusOK {
		w.fail(b, fmt.Sprintf("HTTP %d: %.300s", resp.StatusCode, w.resp))
		return
	}
	res.latencies = append(res.latencies, now.Sub(t0))
	failed := 0
	if i := bytes.Index(w.resp, failedZero); i < 0 || i+len(failedZero) < len(w.resp) && isDigit(w.resp[i+len(failedZero)]) {
		// Only a response with failures is parsed in full.
		var out struct{ FailedPutCount int }
		if err := json.Unmarshal(w.resp, &out); err != nil {
			w.fail(b, fmt.Sprintf("unreadable response: %v: %.300s", err, w.resp))
			return
		}
		failed = min(out.FailedPutCount, b.records)
		if res.firstErr == "" {
			res.firstErr = fmt.Sprintf("%d records failed: %.300s", failed, w.resp)
		}
	}
	res.records += int64(b.records - failed)
	res.failedRecords += int64(failed)
	res.bytes += b.bytes / int64(b.records) * int64(b.records-failed)
	if w.vis != nil && failed == 0 {
		w.sample(t0, now)
	}
}

// sample hands the last RecordId of this response to the visibility poller
// if a sample is due.
func (w *worker) sample(t0, now time.Time) {
	due := w.nextSample.Load()
	at := int64(now.Sub(w.start))
	if at < due || !w.nextSample.CompareAndSwap(due, at+int64(w.cfg.SampleEvery)) {
		return
	}
	i := bytes.LastIndex(w.resp, []byte(`"RecordId":"`))
	if i < 0 || len(w.resp) < i+12+48 {
		return
	}
	_, seq, ok := firehose.ParseRecordID(string(w.resp[i+12 : i+12+48]))
	if !ok {
		return
	}
	w.vis.add(sample{seq: seq, acked: now})
}

func (w *worker) fail(b *body, msg string) {
	w.res.failedRequests++
	w.res.failedRecords += int64(b.records)
	if w.res.firstErr == "" {
		w.res.firstErr = msg
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// readAll reads r to the end into buf, growing it as needed.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf)+512)
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
