package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// scrapeCollector computes the buffer gauges when Prometheus scrapes, from
// Options.Buffers and Options.Budget, so that nothing on the ingest or
// delivery path has to keep them up to date.
type scrapeCollector struct{ m *Metrics }

var (
	descFreshness = prometheus.NewDesc("firehose_delivery_to_s3_data_freshness_seconds",
		"DeliveryToS3.DataFreshness: age of the oldest record not yet delivered, in seconds (0 when everything is delivered).",
		[]string{"stream"}, nil)
	descBufferBytes = prometheus.NewDesc("hydrant_buffer_bytes",
		"Bytes the stream's buffer holds on disk, frame overhead included: what --max-stream-buffer-bytes caps.",
		[]string{"stream"}, nil)
	descBufferRecords = prometheus.NewDesc("hydrant_buffer_records",
		"Records acknowledged but not yet delivered.",
		[]string{"stream"}, nil)
	descLostRecords = prometheus.NewDesc("hydrant_buffer_lost_records_total",
		"Acknowledged, undelivered records that damage on disk made unreadable, found when the stream's log was opened (each also logged at Error with its sequence range).",
		[]string{"stream"}, nil)
	descLostBytes = prometheus.NewDesc("hydrant_buffer_lost_bytes_total",
		"Damaged bytes that held lost records, found when the stream's log was opened and copied into quarantine files beside the log.",
		[]string{"stream"}, nil)
	descStreamLimit = prometheus.NewDesc("hydrant_buffer_stream_limit_bytes",
		"The per-stream cap on buffered bytes (--max-stream-buffer-bytes); 0 means none.",
		nil, nil)
	descGlobalBytes = prometheus.NewDesc("hydrant_buffer_global_bytes",
		"Bytes buffered on disk across all streams: what --max-buffer-bytes caps.",
		nil, nil)
	descGlobalLimit = prometheus.NewDesc("hydrant_buffer_global_limit_bytes",
		"The cap on bytes buffered across all streams (--max-buffer-bytes); 0 means none.",
		nil, nil)
)

// Describe implements prometheus.Collector.
func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descFreshness
	ch <- descBufferBytes
	ch <- descBufferRecords
	ch <- descLostRecords
	ch <- descLostBytes
	ch <- descStreamLimit
	ch <- descGlobalBytes
	ch <- descGlobalLimit
}

// Collect implements prometheus.Collector. It also drops the series of
// streams that no longer exist.
func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	ch <- prometheus.MustNewConstMetric(descStreamLimit, prometheus.GaugeValue, float64(m.opts.StreamLimit))
	if m.opts.Budget != nil {
		used, limit := m.opts.Budget()
		ch <- prometheus.MustNewConstMetric(descGlobalBytes, prometheus.GaugeValue, float64(used))
		ch <- prometheus.MustNewConstMetric(descGlobalLimit, prometheus.GaugeValue, float64(limit))
	}
	if m.opts.Buffers == nil {
		return
	}
	now := m.opts.Now()
	live := map[string]bool{}
	for _, b := range m.opts.Buffers() {
		live[b.Stream] = true
		age := 0.0
		if !b.Oldest.IsZero() {
			age = max(now.Sub(b.Oldest).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(descFreshness, prometheus.GaugeValue, age, b.Stream)
		ch <- prometheus.MustNewConstMetric(descBufferBytes, prometheus.GaugeValue, float64(b.Bytes), b.Stream)
		ch <- prometheus.MustNewConstMetric(descBufferRecords, prometheus.GaugeValue, float64(b.Records), b.Stream)
		ch <- prometheus.MustNewConstMetric(descLostRecords, prometheus.CounterValue, float64(b.LostRecords), b.Stream)
		ch <- prometheus.MustNewConstMetric(descLostBytes, prometheus.CounterValue, float64(b.LostBytes), b.Stream)
	}
	m.streams.Range(func(k, _ any) bool {
		if name := k.(string); !live[name] {
			m.forget(name)
		}
		return true
	})
}
