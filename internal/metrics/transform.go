package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/format"
	"github.com/hydrant-io/hydrant/internal/process"
)

// The processing, partitioning and conversion metrics (reference §8), under
// the naming of docs/METRICS.md. Metrics implements process.Observer and
// deliver.PartitionObserver for them.
var (
	_ process.Observer          = (*Metrics)(nil)
	_ deliver.PartitionObserver = (*Metrics)(nil)
)

// transformMetrics are the vectors behind those observers.
type transformMetrics struct {
	execDuration       *prometheus.HistogramVec
	execAttempts       *prometheus.CounterVec
	execSuccess        *prometheus.CounterVec
	succeedRecords     *prometheus.CounterVec
	succeedBytes       *prometheus.CounterVec
	jqDuration         *prometheus.HistogramVec
	partitions         *prometheus.GaugeVec
	partitionsExceeded *prometheus.GaugeVec
}

// invokeBuckets cover a Lambda invocation: milliseconds for a warm
// function, up to Firehose's 5 minutes.
var invokeBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

func newTransformMetrics(reg *prometheus.Registry) transformMetrics {
	stream := []string{"stream"}
	m := transformMetrics{
		execDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "firehose_execute_processing_duration_seconds",
			Help: "ExecuteProcessing.Duration: time of each Lambda invocation attempt.", Buckets: invokeBuckets}, stream),
		execAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firehose_execute_processing_attempts_total",
			Help: "ExecuteProcessing.Success (divisor): Lambda invocation attempts."}, stream),
		execSuccess: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firehose_execute_processing_success_total",
			Help: "ExecuteProcessing.Success (dividend): Lambda invocations that returned an answer."}, stream),
		succeedRecords: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firehose_succeed_processing_records_total",
			Help: "SucceedProcessing.Records: records the Lambda function processed successfully (Ok or Dropped)."}, stream),
		succeedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "firehose_succeed_processing_bytes_total",
			Help: "SucceedProcessing.Bytes: bytes the Lambda function returned for successfully processed records."}, stream),
		jqDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "firehose_jq_processing_duration_seconds",
			Help: "JQProcessing.Duration: time MetadataExtraction took per chunk of records.", Buckets: prometheus.DefBuckets}, stream),
		partitions: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "firehose_partition_count",
			Help: "PartitionCount: partitions of the stream's last dynamically partitioned batch."}, stream),
		partitionsExceeded: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "firehose_partition_count_exceeded",
			Help: "PartitionCountExceeded: 1 when the last batch had records over the active-partition limit."}, stream),
	}
	reg.MustRegister(m.execDuration, m.execAttempts, m.execSuccess, m.succeedRecords, m.succeedBytes,
		m.jqDuration, m.partitions, m.partitionsExceeded)
	return m
}

// LambdaInvoked implements process.Observer.
func (m *Metrics) LambdaInvoked(stream string, took time.Duration, ok bool) {
	m.transform.execDuration.WithLabelValues(stream).Observe(took.Seconds())
	m.transform.execAttempts.WithLabelValues(stream).Inc()
	if ok {
		m.transform.execSuccess.WithLabelValues(stream).Inc()
	}
}

// Processed implements process.Observer.
func (m *Metrics) Processed(stream string, records int, bytes int64) {
	m.transform.succeedRecords.WithLabelValues(stream).Add(float64(records))
	m.transform.succeedBytes.WithLabelValues(stream).Add(float64(bytes))
}

// JQ implements process.Observer.
func (m *Metrics) JQ(stream string, took time.Duration) {
	m.transform.jqDuration.WithLabelValues(stream).Observe(took.Seconds())
}

// Partitions implements deliver.PartitionObserver.
func (m *Metrics) Partitions(stream string, count int, exceeded bool) {
	m.transform.partitions.WithLabelValues(stream).Set(float64(count))
	v := 0.0
	if exceeded {
		v = 1
	}
	m.transform.partitionsExceeded.WithLabelValues(stream).Set(v)
}

// AddConversion exposes format conversion's counters
// (SucceedConversion.Records/Bytes, FailedConversion.Records/Bytes), read
// at scrape time.
func (m *Metrics) AddConversion(c *format.Metrics) error {
	return m.reg.Register(conversionCollector{c})
}

var conversionDescs = []*prometheus.Desc{
	prometheus.NewDesc("firehose_succeed_conversion_records_total", "SucceedConversion.Records: records converted to Parquet.", []string{"stream"}, nil),
	prometheus.NewDesc("firehose_succeed_conversion_bytes_total", "SucceedConversion.Bytes: bytes of records converted to Parquet (before conversion).", []string{"stream"}, nil),
	prometheus.NewDesc("firehose_failed_conversion_records_total", "FailedConversion.Records: records that could not be converted and went to the error output.", []string{"stream"}, nil),
	prometheus.NewDesc("firehose_failed_conversion_bytes_total", "FailedConversion.Bytes: bytes of records that could not be converted.", []string{"stream"}, nil),
}

// conversionCollector reads the format counters at scrape time.
type conversionCollector struct{ m *format.Metrics }

// Describe implements prometheus.Collector.
func (c conversionCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range conversionDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the counters at scrape time.
func (c conversionCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.Each(func(stream string, n *format.Counters) {
		for i, v := range []int64{n.SucceedRecords.Load(), n.SucceedBytes.Load(), n.FailedRecords.Load(), n.FailedBytes.Load()} {
			ch <- prometheus.MustNewConstMetric(conversionDescs[i], prometheus.CounterValue, float64(v), stream)
		}
	})
}
