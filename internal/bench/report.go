package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// Report is what one run measured. Rates are over the wall-clock time from
// the first request to the last response; MB is 10^6 bytes of record data
// (decoded, not base64).
type Report struct {
	// Target says what was measured: "hydrant" or "baseline".
	Target      string `json:"target"`
	Endpoint    string `json:"endpoint"`
	Stream      string `json:"stream"`
	RecordSize  int    `json:"record_size"`
	Batch       int    `json:"batch"`
	Concurrency int    `json:"concurrency"`
	// Rate is the pacing in records/s; 0 means as fast as possible.
	Rate float64 `json:"rate,omitempty"`

	// Records counts acknowledged records; FailedRecords those refused
	// (per record in a 200 response, or by a failed request).
	Records        int64   `json:"records"`
	FailedRecords  int64   `json:"failed_records"`
	Requests       int64   `json:"requests"`
	FailedRequests int64   `json:"failed_requests"`
	Seconds        float64 `json:"seconds"`
	RecordsPerSec  float64 `json:"records_per_sec"`
	MBPerSec       float64 `json:"mb_per_sec"`
	MiBPerSec      float64 `json:"mib_per_sec"`
	RequestsPerSec float64 `json:"requests_per_sec"`

	// Request latency of successful requests, from sending the request to
	// reading the whole response.
	LatencyP50Millis float64 `json:"latency_p50_ms"`
	LatencyP99Millis float64 `json:"latency_p99_ms"`
	LatencyMaxMillis float64 `json:"latency_max_ms"`

	// Ack-to-visible: from reading a response to the server reporting
	// that the object holding the response's last record is stored
	// (delivered >= its sequence number). Zero samples when not measured.
	VisibleSamples   int     `json:"visible_samples"`
	VisibleLost      int     `json:"visible_lost,omitempty"`
	VisibleP50Millis float64 `json:"visible_p50_ms"`
	VisibleP99Millis float64 `json:"visible_p99_ms"`
	VisibleMaxMillis float64 `json:"visible_max_ms"`
	DrainMillis      float64 `json:"drain_ms,omitempty"`
	ServerCPUProfile string  `json:"server_cpuprofile,omitempty"`
	bytes            int64
}

// Result is the output of `hydrant bench`: hydrant's report, and with
// --baseline the baseline's and the ratio of their records/s.
type Result struct {
	Hydrant  Report  `json:"hydrant"`
	Baseline *Report `json:"baseline,omitempty"`
	// Ratio is hydrant's records/s over the baseline's.
	Ratio float64 `json:"ratio,omitempty"`
	// Compare is the run against hydrant served with Options.CompareArgs,
	// and CompareRatio its records/s over Hydrant's.
	Compare      *Report `json:"compare,omitempty"`
	CompareRatio float64 `json:"compare_ratio,omitempty"`
}

// fill computes the rates and request latency percentiles.
func (r *Report) fill(lat []time.Duration) {
	if r.Seconds > 0 {
		r.RecordsPerSec = float64(r.Records) / r.Seconds
		r.MBPerSec = float64(r.bytes) / 1e6 / r.Seconds
		r.MiBPerSec = float64(r.bytes) / (1 << 20) / r.Seconds
		r.RequestsPerSec = float64(r.Requests-r.FailedRequests) / r.Seconds
	}
	slices.Sort(lat)
	r.LatencyP50Millis = ms(percentile(lat, 0.50))
	r.LatencyP99Millis = ms(percentile(lat, 0.99))
	r.LatencyMaxMillis = ms(percentile(lat, 1))
}

// fillVisible records the ack-to-visible samples.
func (r *Report) fillVisible(lat []time.Duration, lost int) {
	slices.Sort(lat)
	r.VisibleSamples = len(lat)
	r.VisibleLost = lost
	r.VisibleP50Millis = ms(percentile(lat, 0.50))
	r.VisibleP99Millis = ms(percentile(lat, 0.99))
	r.VisibleMaxMillis = ms(percentile(lat, 1))
}

// percentile returns the nearest-rank p-quantile of sorted samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// ms converts to milliseconds with microsecond resolution.
func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

// WriteText prints the result for people.
func (res Result) WriteText(w io.Writer) {
	res.Hydrant.writeText(w)
	if res.Compare != nil {
		res.Compare.writeText(w)
		_, _ = fmt.Fprintf(w, "ratio %s / hydrant: %.3f (records/s)\n", res.Compare.Target, res.CompareRatio)
	}
	if res.Baseline != nil {
		res.Baseline.writeText(w)
		_, _ = fmt.Fprintf(w, "ratio hydrant/baseline: %.2f (records/s)\n", res.Ratio)
	}
}

func (r *Report) writeText(w io.Writer) {
	p := func(format string, args ...any) { _, _ = fmt.Fprintf(w, format, args...) }
	p("%s %s stream %s: %d records of %d B, %d per request, %d connections",
		r.Target, r.Endpoint, r.Stream, r.Records+r.FailedRecords, r.RecordSize, r.Batch, r.Concurrency)
	if r.Rate > 0 {
		p(", paced at %.0f records/s", r.Rate)
	}
	p("\n")
	p("  throughput  %.0f records/s  %.1f MB/s  %.0f requests/s  (%.2f s)\n",
		r.RecordsPerSec, r.MBPerSec, r.RequestsPerSec, r.Seconds)
	p("  latency     p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
		r.LatencyP50Millis, r.LatencyP99Millis, r.LatencyMaxMillis)
	if r.VisibleSamples > 0 {
		p("  visible     p50 %.2f ms  p99 %.2f ms  max %.2f ms  (%d samples",
			r.VisibleP50Millis, r.VisibleP99Millis, r.VisibleMaxMillis, r.VisibleSamples)
		if r.VisibleLost > 0 {
			p(", %d not visible in time", r.VisibleLost)
		}
		p(")\n")
	}
	if r.DrainMillis > 0 {
		p("  drain       %.1f ms after the last ack\n", r.DrainMillis)
	}
	p("  failed      %d records, %d requests\n", r.FailedRecords, r.FailedRequests)
	if r.ServerCPUProfile != "" {
		p("  profile     %s\n", r.ServerCPUProfile)
	}
}
