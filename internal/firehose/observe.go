package firehose

import "time"

// PutObserver is told about every PutRecord and PutRecordBatch that reached
// an existing stream, accepted or throttled (metrics). Requests refused
// before that (validation errors, unknown streams) are not reported, so a
// caller cannot grow the set of stream names it sees. It is called on the
// ingest hot path, once per request, and must be cheap and non-blocking.
type PutObserver interface {
	// ObservePut reports one request of op ("PutRecord" or
	// "PutRecordBatch") to stream: records and bytes (record data) it
	// accepted, records it refused with "Slow down.", and how long the
	// request took from decoding to the durable append.
	ObservePut(stream, op string, records int, bytes int64, throttled int, took time.Duration)
}

// observePut reports a request to the configured PutObserver, if any.
func (s *Service) observePut(stream, op string, records int, bytes int64, throttled int, start time.Time) {
	if o := s.opts.Metrics; o != nil {
		o.ObservePut(stream, op, records, bytes, throttled, time.Since(start))
	}
}
