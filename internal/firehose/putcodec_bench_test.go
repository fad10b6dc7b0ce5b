package firehose

import (
	"encoding/json"
	"testing"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// The benchmarks decode the typical full request: 500 records of 300 bytes.
// Compare BenchmarkDecodePutRecordBatch with BenchmarkDecodePutRecordBatchStdlib
// (what a reflection-based handler costs); ns/record is the figure to hold
// against the 500,000 records/s target.
const (
	pcBenchRecords = 500
	pcBenchSize    = 300
)

func BenchmarkDecodePutRecordBatch(b *testing.B) {
	body := pcRandomBody(pcBenchRecords, pcBenchSize, 1)
	var batch buffer.Batch
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		batch.Reset()
		if _, err := decodePutRecordBatch(body, &batch); err != nil {
			b.Fatal(err)
		}
	}
	pcReportPerRecord(b)
}

// BenchmarkDecodePutRecordBatchEscaped is the slow path: every record's
// base64 has a JSON escape (\/), as some encoders write it.
func BenchmarkDecodePutRecordBatchEscaped(b *testing.B) {
	var data [][]byte
	for i := range pcBenchRecords {
		d := make([]byte, pcBenchSize)
		for j := range d {
			d[j] = byte(i + j*7)
		}
		d[0], d[1], d[2] = 0xff, 0xff, 0xff // "////" in base64
		data = append(data, d)
	}
	body := pcBatchBody("bench-stream", data...)
	var escaped []byte
	for _, c := range body {
		if c == '/' {
			escaped = append(escaped, '\\')
		}
		escaped = append(escaped, c)
	}
	var batch buffer.Batch
	b.SetBytes(int64(len(escaped)))
	b.ReportAllocs()
	for b.Loop() {
		batch.Reset()
		if _, err := decodePutRecordBatch(escaped, &batch); err != nil {
			b.Fatal(err)
		}
	}
	pcReportPerRecord(b)
}

// BenchmarkDecodePutRecordBatchStdlib is the baseline: encoding/json into
// the request struct, then one copy of each record into a batch.
func BenchmarkDecodePutRecordBatchStdlib(b *testing.B) {
	body := pcRandomBody(pcBenchRecords, pcBenchSize, 1)
	var batch buffer.Batch
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		var req pcRefBatch
		if err := json.Unmarshal(body, &req); err != nil {
			b.Fatal(err)
		}
		batch.Reset()
		for _, r := range req.Records {
			batch.Add(r.Data)
		}
	}
	pcReportPerRecord(b)
}

func BenchmarkDecodePutRecord(b *testing.B) {
	body := []byte(`{"DeliveryStreamName":"bench-stream","Record":{"Data":"` +
		pcB64(string(make([]byte, pcBenchSize))) + `"}}`)
	var batch buffer.Batch
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		batch.Reset()
		if _, err := decodePutRecord(body, &batch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendPutRecordBatchResponse(b *testing.B) {
	out := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		out = appendPutRecordBatchResponse(out[:0], 0x1234, 1<<20, pcBenchRecords, nil, "", "")
	}
	b.SetBytes(int64(len(out)))
	pcReportPerRecord(b)
}

// pcReportPerRecord adds the time per record of a 500-record request.
func pcReportPerRecord(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pcBenchRecords, "ns/record")
	}
}
