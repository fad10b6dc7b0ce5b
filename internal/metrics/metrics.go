// Package metrics exposes hydrant's metrics in the Prometheus text format
// under GET /_hydrant/metrics: Amazon Data Firehose's CloudWatch metrics
// (IncomingRecords, DeliveryToS3.DataFreshness, ...) under Prometheus names,
// labelled by stream, plus hydrant's own (buffered bytes, retries by error
// code). The full mapping is in docs/METRICS.md.
//
// Metrics live in a registry of their own (never Prometheus' global one).
// The ingest side reaches them through firehose.PutObserver, the delivery
// side through deliver.Observer; buffer gauges are read at scrape time, so
// the hot path does nothing for them.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
)

// Options configure the metrics.
type Options struct {
	// Buffers reports every stream's buffer; it is called once per scrape.
	// Nil reports no buffer gauges. Streams it no longer reports have their
	// series removed at the next scrape.
	Buffers func() []Buffer
	// Budget reports the bytes buffered across all streams and the global
	// cap (0: none); nil leaves the global gauges out.
	Budget func() (used, limit int64)
	// StreamLimit is the per-stream cap on buffered bytes (0: none).
	StreamLimit int64
	// Now is the clock for data freshness; nil means time.Now.
	Now func() time.Time
}

// Buffer is one stream's buffer at scrape time.
type Buffer struct {
	Stream string
	// Bytes is what the buffer holds on disk, frame overhead included
	// (what the per-stream cap limits); Records is how many records are
	// acknowledged but not yet delivered.
	Bytes   int64
	Records int
	// Oldest is the arrival time of the oldest undelivered record; zero
	// when everything is delivered.
	Oldest time.Time
	// LostRecords and LostBytes count what damage on disk cost when the
	// stream's log was opened (undelivered records that could not be read
	// back, and the damaged bytes quarantined).
	LostRecords, LostBytes int64
}

// Metrics is hydrant's metric set. It implements firehose.PutObserver and
// deliver.Observer; all methods are safe for concurrent use.
type Metrics struct {
	opts      Options
	reg       *prometheus.Registry
	transform transformMetrics

	incomingBytes, incomingRecords, incomingPuts, throttled *prometheus.CounterVec

	putRequests, putBytes                   *prometheus.CounterVec
	putLatency                              *prometheus.HistogramVec
	batchRequests, batchRecords, batchBytes *prometheus.CounterVec
	batchLatency                            *prometheus.HistogramVec

	s3Bytes, s3Records, s3Objects, s3Attempts, s3Success *prometheus.CounterVec
	errorRecords                                         *prometheus.CounterVec
	retries                                              *prometheus.CounterVec
	deliveryTime                                         *prometheus.HistogramVec

	// streams caches each stream's label children, so that a Put does no
	// label lookup: *streamMetrics by stream name.
	streams sync.Map
}

// streamMetrics is one stream's pre-resolved series.
type streamMetrics struct {
	incomingBytes, incomingRecords, incomingPuts, throttled prometheus.Counter

	putRequests, putBytes                   prometheus.Counter
	putLatency                              prometheus.Observer
	batchRequests, batchRecords, batchBytes prometheus.Counter
	batchLatency                            prometheus.Observer

	s3Bytes, s3Records, s3Objects, s3Attempts, s3Success prometheus.Counter
	errorRecords                                         prometheus.Counter
	deliveryTime                                         prometheus.Observer
}

var (
	_ firehose.PutObserver = (*Metrics)(nil)
	_ deliver.Observer     = (*Metrics)(nil)
)

// latencyBuckets cover a Put, which waits for an fsync: from a fraction of
// a millisecond on fast disks to seconds on a struggling one.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

// deliveryBuckets cover writing one object: milliseconds locally, up to
// minutes for a large object to a slow S3.
var deliveryBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// New builds the metrics in a registry of their own, with the Go runtime
// and process collectors.
func New(opts Options) *Metrics {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Metrics{opts: opts, reg: prometheus.NewRegistry()}
	m.transform = newTransformMetrics(m.reg)
	stream := []string{"stream"}
	counter := func(name, help string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, stream)
		m.reg.MustRegister(v)
		return v
	}
	histogram := func(name, help string, buckets []float64) *prometheus.HistogramVec {
		v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, stream)
		m.reg.MustRegister(v)
		return v
	}

	m.incomingBytes = counter("firehose_incoming_bytes_total", "IncomingBytes: bytes of record data accepted by PutRecord and PutRecordBatch.")
	m.incomingRecords = counter("firehose_incoming_records_total", "IncomingRecords: records accepted by PutRecord and PutRecordBatch.")
	m.incomingPuts = counter("firehose_incoming_put_requests_total", "IncomingPutRequests: PutRecord and PutRecordBatch requests that were accepted.")
	m.throttled = counter("firehose_throttled_records_total", "ThrottledRecords: records refused with ServiceUnavailableException \"Slow down.\" (buffer caps, disk full).")

	m.putRequests = counter("firehose_put_record_requests_total", "PutRecord.Requests: PutRecord requests, accepted or throttled.")
	m.putBytes = counter("firehose_put_record_bytes_total", "PutRecord.Bytes: bytes of record data accepted by PutRecord.")
	m.putLatency = histogram("firehose_put_record_latency_seconds", "PutRecord.Latency: time to answer a PutRecord, in seconds (CloudWatch reports milliseconds).", latencyBuckets)
	m.batchRequests = counter("firehose_put_record_batch_requests_total", "PutRecordBatch.Requests: PutRecordBatch requests, accepted or throttled.")
	m.batchRecords = counter("firehose_put_record_batch_records_total", "PutRecordBatch.Records: records accepted by PutRecordBatch.")
	m.batchBytes = counter("firehose_put_record_batch_bytes_total", "PutRecordBatch.Bytes: bytes of record data accepted by PutRecordBatch.")
	m.batchLatency = histogram("firehose_put_record_batch_latency_seconds", "PutRecordBatch.Latency: time to answer a PutRecordBatch, in seconds (CloudWatch reports milliseconds).", latencyBuckets)

	m.s3Bytes = counter("firehose_delivery_to_s3_bytes_total", "DeliveryToS3.Bytes: bytes of records delivered, before format conversion and compression.")
	m.s3Records = counter("firehose_delivery_to_s3_records_total", "DeliveryToS3.Records: records delivered, after processing.")
	m.s3Objects = counter("firehose_delivery_to_s3_objects_total", "DeliveryToS3.ObjectCount: objects delivered.")
	m.s3Attempts = counter("firehose_delivery_to_s3_attempts_total", "DeliveryToS3.Success denominator: attempts to deliver an object, successful or not.")
	m.s3Success = counter("firehose_delivery_to_s3_success_total", "DeliveryToS3.Success numerator: successful attempts; the ratio is rate(success)/rate(attempts).")
	m.errorRecords = counter("hydrant_delivery_error_output_records_total", "Records written to the error output (processing or format conversion failed).")
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hydrant_delivery_retries_total",
		Help: "Failed delivery attempts, each retried with backoff, by Firehose error code (S3.NoSuchBucket, InternalError, ...).",
	}, []string{"stream", "error_code"})
	m.reg.MustRegister(m.retries)
	m.deliveryTime = histogram("hydrant_delivery_duration_seconds", "Time to write and commit one delivered object (the successful attempt), in seconds.", deliveryBuckets)

	m.reg.MustRegister(&scrapeCollector{m: m})
	m.reg.MustRegister(collectors.NewGoCollector())
	m.reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for tests and for exposing it elsewhere.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// stream returns the cached series of a stream, creating them on its first
// event.
func (m *Metrics) stream(name string) *streamMetrics {
	if s, ok := m.streams.Load(name); ok {
		return s.(*streamMetrics)
	}
	s := &streamMetrics{
		incomingBytes:   m.incomingBytes.WithLabelValues(name),
		incomingRecords: m.incomingRecords.WithLabelValues(name),
		incomingPuts:    m.incomingPuts.WithLabelValues(name),
		throttled:       m.throttled.WithLabelValues(name),
		putRequests:     m.putRequests.WithLabelValues(name),
		putBytes:        m.putBytes.WithLabelValues(name),
		putLatency:      m.putLatency.WithLabelValues(name),
		batchRequests:   m.batchRequests.WithLabelValues(name),
		batchRecords:    m.batchRecords.WithLabelValues(name),
		batchBytes:      m.batchBytes.WithLabelValues(name),
		batchLatency:    m.batchLatency.WithLabelValues(name),
		s3Bytes:         m.s3Bytes.WithLabelValues(name),
		s3Records:       m.s3Records.WithLabelValues(name),
		s3Objects:       m.s3Objects.WithLabelValues(name),
		s3Attempts:      m.s3Attempts.WithLabelValues(name),
		s3Success:       m.s3Success.WithLabelValues(name),
		errorRecords:    m.errorRecords.WithLabelValues(name),
		deliveryTime:    m.deliveryTime.WithLabelValues(name),
	}
	actual, _ := m.streams.LoadOrStore(name, s)
	return actual.(*streamMetrics)
}

// ObservePut implements firehose.PutObserver: a handful of atomic adds on
// series resolved once per stream.
func (m *Metrics) ObservePut(stream, op string, records int, bytes int64, throttled int, took time.Duration) {
	s := m.stream(stream)
	secs := took.Seconds()
	switch op {
	case "PutRecord":
		s.putRequests.Inc()
		s.putBytes.Add(float64(bytes))
		s.putLatency.Observe(secs)
	case "PutRecordBatch":
		s.batchRequests.Inc()
		s.batchRecords.Add(float64(records))
		s.batchBytes.Add(float64(bytes))
		s.batchLatency.Observe(secs)
	}
	if records > 0 {
		s.incomingPuts.Inc()
		s.incomingRecords.Add(float64(records))
		s.incomingBytes.Add(float64(bytes))
	}
	if throttled > 0 {
		s.throttled.Add(float64(throttled))
	}
}

// Delivered implements deliver.Observer.
func (m *Metrics) Delivered(stream string, d deliver.Delivery) {
	s := m.stream(stream)
	s.s3Attempts.Inc()
	s.s3Success.Inc()
	s.s3Objects.Add(float64(d.Objects))
	s.s3Records.Add(float64(d.Records))
	s.s3Bytes.Add(float64(d.Bytes))
	if d.ErrorRecords > 0 {
		s.errorRecords.Add(float64(d.ErrorRecords))
	}
	s.deliveryTime.Observe(d.Took.Seconds())
}

// Failed implements deliver.Observer.
func (m *Metrics) Failed(stream string, p deliver.Plan, err error) {
	m.stream(stream).s3Attempts.Inc()
	m.retries.WithLabelValues(stream, deliver.ErrorCode(err)).Inc()
}

// forget removes a stream's series: it was deleted.
func (m *Metrics) forget(name string) {
	m.streams.Delete(name)
	for _, v := range []*prometheus.CounterVec{
		m.incomingBytes, m.incomingRecords, m.incomingPuts, m.throttled,
		m.putRequests, m.putBytes, m.batchRequests, m.batchRecords, m.batchBytes,
		m.s3Bytes, m.s3Records, m.s3Objects, m.s3Attempts, m.s3Success, m.errorRecords,
	} {
		v.DeleteLabelValues(name)
	}
	for _, v := range []*prometheus.HistogramVec{m.putLatency, m.batchLatency, m.deliveryTime} {
		v.DeleteLabelValues(name)
	}
	m.retries.DeletePartialMatch(prometheus.Labels{"stream": name})
}
