package main

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hydrant-io/hydrant/internal/format"
)

// register exposes SucceedConversion.Records/Bytes and
// FailedConversion.Records/Bytes in reg.
func (c *conversion) register(reg prometheus.Registerer) error {
	return reg.Register(conversionCollector{c.metrics})
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
