package cwmetrics

import (
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/process"
)

// Namespaces and dimensions of the metrics hydrant records about itself,
// as the AWS services publish them.
const (
	NamespaceFirehose = "AWS/Firehose"
	NamespaceLambda   = "AWS/Lambda"
	NamespaceSNS      = "AWS/SNS"
	DimStream         = "DeliveryStreamName"
	DimFunction       = "FunctionName"
	DimTopic          = "TopicName"
)

// Recorder turns hydrant's observer events into AWS/Firehose and
// AWS/Lambda datapoints. Its methods match firehose.PutObserver,
// deliver.Observer, deliver.PartitionObserver, process.Observer and
// lambda.Observer (cmd/hydrant fans the events out to it and to the
// Prometheus metrics). A call costs a few uncontended locks on series
// resolved once per stream or function.
type Recorder struct {
	store *Store
	// streams and functions cache resolved series: *streamSeries and
	// *functionSeries by name.
	streams   sync.Map
	functions sync.Map

	// prev holds the conversion counters at the last Sample, by stream.
	mu   sync.Mutex
	prev map[string][4]int64
}

var (
	_ firehose.PutObserver      = (*Recorder)(nil)
	_ deliver.Observer          = (*Recorder)(nil)
	_ deliver.PartitionObserver = (*Recorder)(nil)
	_ process.Observer          = (*Recorder)(nil)
)

// NewRecorder records into store.
func NewRecorder(store *Store) *Recorder {
	return &Recorder{store: store, prev: map[string][4]int64{}}
}

// Store is where the recorder records.
func (r *Recorder) Store() *Store { return r.store }

// handle is one lazily resolved series.
type handle struct {
	once sync.Once
	sr   *Series
}

func (h *handle) get(st *Store, m Metric) *Series {
	h.once.Do(func() { h.sr, _ = st.Series(m) })
	return h.sr
}

// streamSeries are one stream's series, by CloudWatch name.
type streamSeries struct {
	name string
	mu   sync.Mutex
	m    map[string]*handle
}

func (r *Recorder) stream(name string) *streamSeries {
	if s, ok := r.streams.Load(name); ok {
		return s.(*streamSeries)
	}
	s, _ := r.streams.LoadOrStore(name, &streamSeries{name: name, m: map[string]*handle{}})
	return s.(*streamSeries)
}

func (ss *streamSeries) series(st *Store, metric string) *Series {
	ss.mu.Lock()
	h := ss.m[metric]
	if h == nil {
		h = &handle{}
		ss.m[metric] = h
	}
	ss.mu.Unlock()
	return h.get(st, NewMetric(NamespaceFirehose, metric, Dimension{DimStream, ss.name}))
}

// rec records v into a stream's metric; a full store drops it.
func (r *Recorder) rec(ss *streamSeries, now time.Time, metric string, unit Unit, v float64, sketch bool) {
	if sr := ss.series(r.store, metric); sr != nil {
		sr.Record(now, unit, v, sketch)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// ObservePut records IncomingBytes, IncomingRecords, IncomingPutRequests,
// ThrottledRecords and the PutRecord/PutRecordBatch request metrics.
func (r *Recorder) ObservePut(stream, op string, records int, bytes int64, throttled int, took time.Duration) {
	ss := r.stream(stream)
	now := r.store.Now()
	switch op {
	case "PutRecord":
		r.rec(ss, now, "PutRecord.Requests", UnitCount, 1, false)
		r.rec(ss, now, "PutRecord.Bytes", UnitBytes, float64(bytes), false)
		r.rec(ss, now, "PutRecord.Latency", UnitMilliseconds, ms(took), true)
	case "PutRecordBatch":
		r.rec(ss, now, "PutRecordBatch.Requests", UnitCount, 1, false)
		r.rec(ss, now, "PutRecordBatch.Records", UnitCount, float64(records), false)
		r.rec(ss, now, "PutRecordBatch.Bytes", UnitBytes, float64(bytes), false)
		r.rec(ss, now, "PutRecordBatch.Latency", UnitMilliseconds, ms(took), true)
	}
	if records > 0 {
		r.rec(ss, now, "IncomingPutRequests", UnitCount, 1, false)
		r.rec(ss, now, "IncomingRecords", UnitCount, float64(records), false)
		r.rec(ss, now, "IncomingBytes", UnitBytes, float64(bytes), false)
	}
	r.rec(ss, now, "ThrottledRecords", UnitCount, float64(throttled), false)
}

// Delivered implements deliver.Observer: it records DeliveryToS3.Success (1), .Records, .Bytes and
// .ObjectCount.
func (r *Recorder) Delivered(stream string, d deliver.Delivery) {
	ss := r.stream(stream)
	now := r.store.Now()
	r.rec(ss, now, "DeliveryToS3.Success", UnitNone, 1, false)
	r.rec(ss, now, "DeliveryToS3.Records", UnitCount, float64(d.Records), false)
	r.rec(ss, now, "DeliveryToS3.Bytes", UnitBytes, float64(d.Bytes), false)
	r.rec(ss, now, "DeliveryToS3.ObjectCount", UnitCount, float64(d.Objects), false)
}

// Failed implements deliver.Observer: DeliveryToS3.Success (0), an
// attempt failed.
func (r *Recorder) Failed(stream string, _ deliver.Plan, _ error) {
	r.rec(r.stream(stream), r.store.Now(), "DeliveryToS3.Success", UnitNone, 0, false)
}

// Partitions records PartitionCount and PartitionCountExceeded.
func (r *Recorder) Partitions(stream string, count int, exceeded bool) {
	ss := r.stream(stream)
	now := r.store.Now()
	r.rec(ss, now, "PartitionCount", UnitCount, float64(count), false)
	v := 0.0
	if exceeded {
		v = 1
	}
	r.rec(ss, now, "PartitionCountExceeded", UnitCount, v, false)
}

// LambdaInvoked records ExecuteProcessing.Duration and .Success.
func (r *Recorder) LambdaInvoked(stream string, took time.Duration, ok bool) {
	ss := r.stream(stream)
	now := r.store.Now()
	r.rec(ss, now, "ExecuteProcessing.Duration", UnitMilliseconds, ms(took), true)
	v := 0.0
	if ok {
		v = 1
	}
	r.rec(ss, now, "ExecuteProcessing.Success", UnitNone, v, false)
}

// Processed records SucceedProcessing.Records and .Bytes.
func (r *Recorder) Processed(stream string, records int, bytes int64) {
	ss := r.stream(stream)
	now := r.store.Now()
	r.rec(ss, now, "SucceedProcessing.Records", UnitCount, float64(records), false)
	r.rec(ss, now, "SucceedProcessing.Bytes", UnitBytes, float64(bytes), false)
}

// JQ records JQProcessing.Duration.
func (r *Recorder) JQ(stream string, took time.Duration) {
	r.rec(r.stream(stream), r.store.Now(), "JQProcessing.Duration", UnitMilliseconds, ms(took), true)
}

// Gauges are the values the recorder samples once a minute rather than
// being told about: the age of each stream's oldest undelivered record
// (zero time when none), and each stream's cumulative format conversion
// counters (SucceedConversion.Records/Bytes, FailedConversion.Records/Bytes).
type Gauges struct {
	Oldest     map[string]time.Time
	Conversion map[string][4]int64
}

var conversionNames = [4]string{"SucceedConversion.Records", "SucceedConversion.Bytes", "FailedConversion.Records", "FailedConversion.Bytes"}
var conversionUnits = [4]Unit{UnitCount, UnitBytes, UnitCount, UnitBytes}

// Sample records DeliveryToS3.DataFreshness (seconds) for every stream,
// and the conversion counters' growth since the last sample.
func (r *Recorder) Sample(now time.Time, g Gauges) {
	for name, oldest := range g.Oldest {
		age := 0.0
		if !oldest.IsZero() {
			age = max(now.Sub(oldest).Seconds(), 0)
		}
		r.rec(r.stream(name), now, "DeliveryToS3.DataFreshness", UnitSeconds, age, false)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for name, c := range g.Conversion {
		prev := r.prev[name]
		r.prev[name] = c
		if c == prev {
			continue
		}
		ss := r.stream(name)
		for i := range c {
			r.rec(ss, now, conversionNames[i], conversionUnits[i], float64(max(c[i]-prev[i], 0)), false)
		}
	}
}

// functionSeries are one function's series, and the account-wide
// ConcurrentExecutions.
type functionSeries struct {
	invocations, errors, duration, throttles, concurrent handle
}

func (r *Recorder) function(name string) *functionSeries {
	if f, ok := r.functions.Load(name); ok {
		return f.(*functionSeries)
	}
	f, _ := r.functions.LoadOrStore(name, &functionSeries{})
	return f.(*functionSeries)
}

func (r *Recorder) fn(h *handle, name, metric string) *Series {
	return h.get(r.store, NewMetric(NamespaceLambda, metric, Dimension{DimFunction, name}))
}

// FunctionInvoked records an invocation of a hosted function: Invocations,
// Errors (1 when the function failed or timed out), Duration, and
// ConcurrentExecutions (instances running it when it started, also
// account-wide without a dimension).
func (r *Recorder) FunctionInvoked(function string, took time.Duration, failed bool, concurrent, total int) {
	f := r.function(function)
	now := r.store.Now()
	if sr := r.fn(&f.invocations, function, "Invocations"); sr != nil {
		sr.Record(now, UnitCount, 1, false)
	}
	e := 0.0
	if failed {
		e = 1
	}
	if sr := r.fn(&f.errors, function, "Errors"); sr != nil {
		sr.Record(now, UnitCount, e, false)
	}
	if sr := r.fn(&f.duration, function, "Duration"); sr != nil {
		sr.Record(now, UnitMilliseconds, ms(took), true)
	}
	if sr := r.fn(&f.concurrent, function, "ConcurrentExecutions"); sr != nil {
		sr.Record(now, UnitCount, float64(concurrent), false)
	}
	if sr, _ := r.store.Series(NewMetric(NamespaceLambda, "ConcurrentExecutions")); sr != nil {
		sr.Record(now, UnitCount, float64(total), false)
	}
}

// FunctionThrottled records Throttles: an invocation refused because
// every instance the function may run was busy.
func (r *Recorder) FunctionThrottled(function string) {
	if sr := r.fn(&r.function(function).throttles, function, "Throttles"); sr != nil {
		sr.Record(r.store.Now(), UnitCount, 1, false)
	}
}

// Forget drops a deleted stream's cached series (its datapoints stay
// until the retention ends, as in CloudWatch).
func (r *Recorder) Forget(stream string) { r.streams.Delete(stream) }

// Published records NumberOfMessagesPublished and PublishSize of a topic
// (sns.Observer).
func (r *Recorder) Published(topic string, bytes int) {
	now := r.store.Now()
	if sr, _ := r.store.Series(NewMetric(NamespaceSNS, "NumberOfMessagesPublished", Dimension{DimTopic, topic})); sr != nil {
		sr.Record(now, UnitCount, 1, false)
	}
	if sr, _ := r.store.Series(NewMetric(NamespaceSNS, "PublishSize", Dimension{DimTopic, topic})); sr != nil {
		sr.Record(now, UnitBytes, float64(bytes), false)
	}
}

// Notified records NumberOfNotificationsDelivered or
// NumberOfNotificationsFailed (sns.Observer).
func (r *Recorder) Notified(topic string, ok bool) {
	name := "NumberOfNotificationsDelivered"
	if !ok {
		name = "NumberOfNotificationsFailed"
	}
	if sr, _ := r.store.Series(NewMetric(NamespaceSNS, name, Dimension{DimTopic, topic})); sr != nil {
		sr.Record(r.store.Now(), UnitCount, 1, false)
	}
}
