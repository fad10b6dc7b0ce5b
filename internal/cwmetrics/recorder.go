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
	_ deliver.BackupObserver    = (*Recorder)(nil)
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

func (h *handle) get(st *Store, ns, name string, dim Dimension) *Series {
	h.once.Do(func() { h.sr, _ = st.Series(NewMetric(ns, name, dim)) })
	return h.sr
}

// The AWS/Firehose metrics the recorder keeps per stream, by index.
const (
	mPutRecordRequests = iota
	mPutRecordBytes
	mPutRecordLatency
	mBatchRequests
	mBatchRecords
	mBatchBytes
	mBatchLatency
	mIncomingPutRequests
	mIncomingRecords
	mIncomingBytes
	mThrottledRecords
	mS3Success
	mS3Records
	mS3Bytes
	mS3Objects
	mPartitionCount
	mPartitionCountExceeded
	mExecDuration
	mExecSuccess
	mSucceedRecords
	mSucceedBytes
	mJQDuration
	mFreshness
	mBackupSuccess
	mBackupRecords
	mBackupBytes
	mConversion    // 4 of them: SucceedConversion.Records, .Bytes, FailedConversion.Records, .Bytes
	nStreamMetrics = mConversion + 4
)

var streamMetricNames = [nStreamMetrics]string{
	"PutRecord.Requests", "PutRecord.Bytes", "PutRecord.Latency",
	"PutRecordBatch.Requests", "PutRecordBatch.Records", "PutRecordBatch.Bytes", "PutRecordBatch.Latency",
	"IncomingPutRequests", "IncomingRecords", "IncomingBytes", "ThrottledRecords",
	"DeliveryToS3.Success", "DeliveryToS3.Records", "DeliveryToS3.Bytes", "DeliveryToS3.ObjectCount",
	"PartitionCount", "PartitionCountExceeded",
	"ExecuteProcessing.Duration", "ExecuteProcessing.Success", "SucceedProcessing.Records", "SucceedProcessing.Bytes",
	"JQProcessing.Duration", "DeliveryToS3.DataFreshness",
	"BackupToS3.Success", "BackupToS3.Records", "BackupToS3.Bytes",
	"SucceedConversion.Records", "SucceedConversion.Bytes", "FailedConversion.Records", "FailedConversion.Bytes",
}

// streamSeries are one stream's series.
type streamSeries struct {
	name string
	h    [nStreamMetrics]handle
}

func (r *Recorder) stream(name string) *streamSeries {
	if s, ok := r.streams.Load(name); ok {
		return s.(*streamSeries)
	}
	s, _ := r.streams.LoadOrStore(name, &streamSeries{name: name})
	return s.(*streamSeries)
}

// rec records v into a stream's metric; a full store drops it.
func (r *Recorder) rec(ss *streamSeries, now time.Time, metric int, unit Unit, v float64, sketch bool) {
	if sr := ss.h[metric].get(r.store, NamespaceFirehose, streamMetricNames[metric], Dimension{DimStream, ss.name}); sr != nil {
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
		r.rec(ss, now, mPutRecordRequests, UnitCount, 1, false)
		r.rec(ss, now, mPutRecordBytes, UnitBytes, float64(bytes), false)
		r.rec(ss, now, mPutRecordLatency, UnitMilliseconds, ms(took), true)
	case "PutRecordBatch":
		r.rec(ss, now, mBatchRequests, UnitCount, 1, false)
		r.rec(ss, now, mBatchRecords, UnitCount, float64(records), false)
		r.rec(ss, now, mBatchBytes, UnitBytes, float64(bytes), false)
		r.rec(ss, now, mBatchLatency, UnitMilliseconds, ms(took), true)
	}
	if records > 0 {
		r.rec(ss, now, mIncomingPutRequests, UnitCount, 1, false)
		r.rec(ss, now, mIncomingRecords, UnitCount, float64(records), false)
		r.rec(ss, now, mIncomingBytes, UnitBytes, float64(bytes), false)
	}
	r.rec(ss, now, mThrottledRecords, UnitCount, float64(throttled), false)
}

// Delivered implements deliver.Observer: it records DeliveryToS3.Success (1), .Records, .Bytes and
// .ObjectCount.
func (r *Recorder) Delivered(stream string, d deliver.Delivery) {
	ss := r.stream(stream)
	now := r.store.Now()
	r.rec(ss, now, mS3Success, UnitNone, 1, false)
	r.rec(ss, now, mS3Records, UnitCount, float64(d.Records), false)
	r.rec(ss, now, mS3Bytes, UnitBytes, float64(d.Bytes), false)
	r.rec(ss, now, mS3Objects, UnitCount, float64(d.Objects), false)
}

// Failed implements deliver.Observer: DeliveryToS3.Success (0), an
// attempt failed.
func (r *Recorder) Failed(stream string, _ deliver.Plan, _ error) {
	r.rec(r.stream(stream), r.store.Now(), mS3Success, UnitNone, 0, false)
}

// BackedUp records BackupToS3.Success (1 or 0) and, for a written backup
// object, BackupToS3.Records and .Bytes.
func (r *Recorder) BackedUp(stream string, records int, bytes int64, err error) {
	ss := r.stream(stream)
	now := r.store.Now()
	if err != nil {
		r.rec(ss, now, mBackupSuccess, UnitNone, 0, false)
		return
	}
	r.rec(ss, now, mBackupSuccess, UnitNone, 1, false)
	r.rec(ss, now, mBackupRecords, UnitCount, float64(records), false)
	r.rec(ss, now, mBackupBytes, UnitBytes, float64(bytes), false)
}

// Partitions records PartitionCount and PartitionCountExceeded.
func (r *Recorder) Partitions(stream string, count int, exceeded bool) {
	ss := r.stream(stream)
	now := r.store.Now()
	r.rec(ss, now, mPartitionCount, UnitCount, float64(count), false)
	v := 0.0
	if exceeded {
		v = 1
	}
	r.rec(ss, now, mPartitionCountExceeded, UnitCount, v, false)
}

// LambdaInvoked records ExecuteProcessing.Duration and .Success.
func (r *Recorder) LambdaInvoked(stream string, took time.Duration, ok bool) {
	ss := r.stream(stream)
	now := r.store.Now()
	r.rec(ss, now, mExecDuration, UnitMilliseconds, ms(took), true)
	v := 0.0
	if ok {
		v = 1
	}
	r.rec(ss, now, mExecSuccess, UnitNone, v, false)
}

// Processed records SucceedProcessing.Records and .Bytes.
func (r *Recorder) Processed(stream string, records int, bytes int64) {
	ss := r.stream(stream)
	now := r.store.Now()
	r.rec(ss, now, mSucceedRecords, UnitCount, float64(records), false)
	r.rec(ss, now, mSucceedBytes, UnitBytes, float64(bytes), false)
}

// JQ records JQProcessing.Duration.
func (r *Recorder) JQ(stream string, took time.Duration) {
	r.rec(r.stream(stream), r.store.Now(), mJQDuration, UnitMilliseconds, ms(took), true)
}

// Gauges are the values the recorder samples once a minute rather than
// being told about: the age of each stream's oldest undelivered record
// (zero time when none), and each stream's cumulative format conversion
// counters (SucceedConversion.Records/Bytes, FailedConversion.Records/Bytes).
type Gauges struct {
	Oldest     map[string]time.Time
	Conversion map[string][4]int64
}

var conversionUnits = [4]Unit{UnitCount, UnitBytes, UnitCount, UnitBytes}

// Sample records DeliveryToS3.DataFreshness (seconds) for every stream,
// and the conversion counters' growth since the last sample.
func (r *Recorder) Sample(now time.Time, g Gauges) {
	for name, oldest := range g.Oldest {
		age := 0.0
		if !oldest.IsZero() {
			age = max(now.Sub(oldest).Seconds(), 0)
		}
		r.rec(r.stream(name), now, mFreshness, UnitSeconds, age, false)
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
			r.rec(ss, now, mConversion+i, conversionUnits[i], float64(max(c[i]-prev[i], 0)), false)
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
	return h.get(r.store, NamespaceLambda, metric, Dimension{DimFunction, name})
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
