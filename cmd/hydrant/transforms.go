package main

import (
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/lambda"
	"github.com/hydrant-io/hydrant/internal/process"
)

// transformFlags are serve's flags for processing and dynamic partitioning.
type transformFlags struct {
	maxPartitions int
}

func (t *transformFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&t.maxPartitions, "max-partitions", deliver.DefaultMaxPartitions,
		"active-partition limit of dynamically partitioned streams (Firehose's default is 500, raised to 5000 on request)")
}

func (t *transformFlags) check() error {
	if t.maxPartitions < 1 {
		return fmt.Errorf("serve: --max-partitions must be at least 1, got %d", t.maxPartitions)
	}
	return nil
}

// transformFeatures turns on, in f, what internal/process and
// internal/deliver implement: every processor type, dynamic partitioning
// and S3 backup.
func transformFeatures(f firehose.Features) firehose.Features {
	f.Processors = map[string]bool{
		firehose.ProcessorLambda:                  true,
		firehose.ProcessorMetadataExtraction:      true,
		firehose.ProcessorAppendDelimiterToRecord: true,
		firehose.ProcessorRecordDeAggregation:     true,
		firehose.ProcessorDecompression:           true,
		firehose.ProcessorCloudWatchLogProcessing: true,
	}
	f.DynamicPartitioning = true
	f.S3Backup = true
	return f
}

// newProcessing builds the processors' factory. inv runs Lambda functions
// (hosted ones and, with --lambda-endpoint, remote ones), with up to
// invocations of them outstanding per stream (as many as a hosted function
// has instances); obs receives the processing metrics.
func newProcessing(inv process.Invoker, invocations int, region string, log *slog.Logger, obs process.Observer) *process.Factory {
	return process.NewFactory(inv, process.Options{Region: region, Logger: log, Observer: obs,
		ClassifyError: classifyInvokeError, Invocations: invocations})
}

// classifyInvokeError names an invocation that got no answer from the
// function with internal/lambda's Firehose error code, and the message
// Firehose writes for it where one is known.
func classifyInvokeError(err error) (code, message string) {
	code = lambda.ErrorCode(nil, "", err)
	switch code {
	case lambda.CodeResourceNotFound:
		return process.CodeNotFound, process.MsgNotFound
	case lambda.CodeInvokeLimitExceeded:
		return process.CodeLimitExceeded, process.MsgLimitExceeded
	case lambda.CodeInvokeAccessDenied:
		return process.CodeAccessDenied, process.MsgAccessDenied
	case lambda.CodeFunctionTimedOut:
		return process.CodeTimedOut, process.MsgTimedOut
	}
	return code, "The Lambda function could not be invoked: " + err.Error()
}

// transformMetrics exports the processing and partitioning metrics
// (reference §8) under the naming of docs/METRICS.md. It implements
// process.Observer and deliver.PartitionObserver.
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

var (
	_ process.Observer          = (*transformMetrics)(nil)
	_ deliver.PartitionObserver = (*transformMetrics)(nil)
)

// invokeBuckets cover a Lambda invocation: milliseconds for a warm
// function, up to Firehose's 5 minutes.
var invokeBuckets = []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

func newTransformMetrics(reg prometheus.Registerer) (*transformMetrics, error) {
	stream := []string{"stream"}
	m := &transformMetrics{
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
	for _, c := range []prometheus.Collector{m.execDuration, m.execAttempts, m.execSuccess, m.succeedRecords, m.succeedBytes,
		m.jqDuration, m.partitions, m.partitionsExceeded} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register processing metrics: %w", err)
		}
	}
	return m, nil
}

// LambdaInvoked implements process.Observer.
func (m *transformMetrics) LambdaInvoked(stream string, took time.Duration, ok bool) {
	m.execDuration.WithLabelValues(stream).Observe(took.Seconds())
	m.execAttempts.WithLabelValues(stream).Inc()
	if ok {
		m.execSuccess.WithLabelValues(stream).Inc()
	}
}

// Processed implements process.Observer.
func (m *transformMetrics) Processed(stream string, records int, bytes int64) {
	m.succeedRecords.WithLabelValues(stream).Add(float64(records))
	m.succeedBytes.WithLabelValues(stream).Add(float64(bytes))
}

// JQ implements process.Observer.
func (m *transformMetrics) JQ(stream string, took time.Duration) {
	m.jqDuration.WithLabelValues(stream).Observe(took.Seconds())
}

// Partitions implements deliver.PartitionObserver.
func (m *transformMetrics) Partitions(stream string, count int, exceeded bool) {
	m.partitions.WithLabelValues(stream).Set(float64(count))
	v := 0.0
	if exceeded {
		v = 1
	}
	m.partitionsExceeded.WithLabelValues(stream).Set(v)
}

// deliveryObserver adds the partitioning metrics to the delivery
// observer the registry reports to.
type deliveryObserver struct {
	deliver.Observer
	*transformMetrics
}
