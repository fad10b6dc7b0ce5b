package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// scrape reads /_hydrant/metrics and returns every sample by its series as
// written, e.g. `firehose_incoming_records_total{stream="m"}`.
func (s *server) scrape() map[string]float64 {
	s.t.Helper()
	resp, err := http.Get(s.URL + "/_hydrant/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		s.t.Fatalf("GET /_hydrant/metrics: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			s.t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		s.t.Fatal(err)
	}
	return out
}

// metric returns one sample; a missing series fails the test.
func (s *server) metric(name, stream string) float64 {
	s.t.Helper()
	key := fmt.Sprintf("%s{stream=%q}", name, stream)
	v, ok := s.scrape()[key]
	if !ok {
		s.t.Fatalf("no %s in /_hydrant/metrics", key)
	}
	return v
}

// noRetryClient is an SDK client that does not retry, so each throttled
// call is seen (and counted) once, and a retry can never send acknowledged
// records twice.
func noRetryClient(s *server) *fh.Client {
	return fh.New(fh.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       ownBodyClient{http.DefaultClient},
	})
}

// ownBodyClient sends each request with a private copy of its body.
// smithy-go closes the request body as soon as the response arrives, which
// races with net/http's check for bytes past Content-Length; when a fast
// server (hydrant on tmpfs answers in well under a millisecond) wins the
// race, the transport closes the connection under the response and the SDK
// reports "deserialization failed ... use of closed network connection" for
// a request that succeeded (aws/aws-sdk-go-v2#2737; the SDK's default
// retryer retries it, which would resend acknowledged records).
type ownBodyClient struct{ c *http.Client }

func (o ownBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	return o.c.Do(r)
}

// TestMetricsEndpoint sends records with the SDK to the real binary and
// checks Firehose's metrics on /_hydrant/metrics.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := noRetryClient(s)
	ctx := context.Background()
	createStream(t, c, "m", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::metrics"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})
	recs := make([]types.Record, 250)
	for i := range recs {
		recs[i] = types.Record{Data: []byte(fmt.Sprintf("record-%03d\n", i))} // 11 bytes
	}
	for range 2 {
		out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("m"), Records: recs})
		if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
			t.Fatalf("PutRecordBatch: %v %+v", err, out)
		}
	}
	if _, err := c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("m"), Record: &types.Record{Data: []byte("single")}}); err != nil {
		t.Fatal(err)
	}
	const records, bytes = 501, 2*250*11 + 6

	want := map[string]float64{
		"firehose_incoming_records_total":                 records,
		"firehose_incoming_bytes_total":                   bytes,
		"firehose_incoming_put_requests_total":            3,
		"firehose_put_record_requests_total":              1,
		"firehose_put_record_bytes_total":                 6,
		"firehose_put_record_batch_requests_total":        2,
		"firehose_put_record_batch_records_total":         500,
		"firehose_put_record_batch_bytes_total":           500 * 11,
		"firehose_put_record_batch_latency_seconds_count": 2,
		"firehose_throttled_records_total":                0,
	}
	for name, v := range want {
		if got := s.metric(name, "m"); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	// Delivery: every record in objects, nothing left buffered.
	waitFor(t, 20*time.Second, "DeliveryToS3.Records to reach all records", func() bool {
		return s.metric("firehose_delivery_to_s3_records_total", "m") == records
	})
	if got := s.metric("firehose_delivery_to_s3_bytes_total", "m"); got != bytes {
		t.Errorf("DeliveryToS3.Bytes = %v, want %v", got, bytes)
	}
	objects := s.metric("firehose_delivery_to_s3_objects_total", "m")
	if files := len(s.bucketFiles("metrics")); objects < 1 || int(objects) != files {
		t.Errorf("DeliveryToS3.ObjectCount = %v, bucket holds %d objects", objects, files)
	}
	if a, ok := s.metric("firehose_delivery_to_s3_attempts_total", "m"), s.metric("firehose_delivery_to_s3_success_total", "m"); a != ok {
		t.Errorf("attempts %v != successes %v with a healthy store", a, ok)
	}
	waitFor(t, 5*time.Second, "an empty buffer", func() bool {
		m := s.scrape()
		return m[`hydrant_buffer_bytes{stream="m"}`] == 0 && m[`hydrant_buffer_records{stream="m"}`] == 0 &&
			m[`firehose_delivery_to_s3_data_freshness_seconds{stream="m"}`] == 0
	})
	m := s.scrape()
	if m["hydrant_buffer_stream_limit_bytes"] != 1<<30 || m["hydrant_buffer_global_limit_bytes"] != 8<<30 {
		t.Errorf("default caps = %v, %v", m["hydrant_buffer_stream_limit_bytes"], m["hydrant_buffer_global_limit_bytes"])
	}
}

// TestBackPressure fills a stream's buffer past --max-stream-buffer-bytes
// while delivery is held back by its buffering hints, and checks that
// producers get Firehose's back-pressure answers, counted as
// ThrottledRecords, and that delivery makes room again.
func TestBackPressure(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--max-stream-buffer-bytes", "64KiB")
	c := noRetryClient(s)
	ctx := context.Background()
	// 900 s and 128 MiB: nothing is delivered while the test fills it.
	createStream(t, c, "bp", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::backpressure"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(900)},
	})
	batch := func(tag string, n int) []types.Record {
		recs := make([]types.Record, n)
		for i := range recs {
			recs[i] = types.Record{Data: []byte(fmt.Sprintf("%s-%03d-%s\n", tag, i, strings.Repeat("x", 1000)))}
		}
		return recs
	}
	// The first batch (about 100 KiB) gets into the empty buffer even
	// though it is over the cap; the next one is refused.
	out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("bp"), Records: batch("a", 100)})
	if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("first batch: %v %+v", err, out)
	}
	out, err = c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("bp"), Records: batch("b", 100)})
	if err != nil {
		t.Fatalf("a throttled PutRecordBatch still succeeds as a call: %v", err)
	}
	if aws.ToInt32(out.FailedPutCount) != 100 || len(out.RequestResponses) != 100 {
		t.Fatalf("FailedPutCount = %d of %d, want every record refused", aws.ToInt32(out.FailedPutCount), len(out.RequestResponses))
	}
	for i, r := range out.RequestResponses {
		if aws.ToString(r.ErrorCode) != "ServiceUnavailableException" || aws.ToString(r.ErrorMessage) != "Slow down." || r.RecordId != nil {
			t.Fatalf("RequestResponses[%d] = %+v, want ServiceUnavailableException \"Slow down.\"", i, r)
		}
	}

	_, err = c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("bp"), Record: &types.Record{Data: []byte("c")}})
	var su *types.ServiceUnavailableException
	var re *smithyhttp.ResponseError
	if !errors.As(err, &su) || su.ErrorMessage() != "Slow down." || !errors.As(err, &re) || re.HTTPStatusCode() != 503 {
		t.Fatalf("PutRecord past the cap = %v, want HTTP 503 ServiceUnavailableException \"Slow down.\"", err)
	}

	if got := s.metric("firehose_throttled_records_total", "bp"); got != 101 {
		t.Errorf("ThrottledRecords = %v, want 101", got)
	}
	if got := s.metric("firehose_incoming_records_total", "bp"); got != 100 {
		t.Errorf("IncomingRecords = %v, want 100 (throttled records are not incoming)", got)
	}
	if got := s.metric("firehose_put_record_batch_requests_total", "bp"); got != 2 {
		t.Errorf("PutRecordBatch.Requests = %v, want 2", got)
	}
	if got := s.metric("hydrant_buffer_bytes", "bp"); got < 100*1000 {
		t.Errorf("hydrant_buffer_bytes = %v, want the first batch", got)
	}
	// Still serving: health and the control plane answer.
	if resp, err := http.Get(s.URL + "/_hydrant/health"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("health while throttling: %v %v", err, resp)
	}
	desc, err := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("bp")})
	if err != nil {
		t.Fatal(err)
	}

	// Let delivery run: the buffer drains and Puts are accepted again.
	d := desc.DeliveryStreamDescription
	_, err = c.UpdateDestination(ctx, &fh.UpdateDestinationInput{
		DeliveryStreamName:             aws.String("bp"),
		CurrentDeliveryStreamVersionId: d.VersionId,
		DestinationId:                  d.Destinations[0].DestinationId,
		ExtendedS3DestinationUpdate: &types.ExtendedS3DestinationUpdate{
			BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the buffer to drain", func() bool { return s.metric("hydrant_buffer_bytes", "bp") == 0 })
	out, err = c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("bp"), Records: batch("d", 10)})
	if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("after draining: %v %+v", err, out)
	}
}

// TestGlobalBufferCap checks --max-buffer-bytes: one stream's backlog makes
// another stream's Puts wait.
func TestGlobalBufferCap(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--max-buffer-bytes", "64KiB")
	c := noRetryClient(s)
	ctx := context.Background()
	for _, name := range []string{"g1", "g2"} {
		createStream(t, c, name, &types.ExtendedS3DestinationConfiguration{
			BucketARN:      aws.String("arn:aws:s3:::global"),
			BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(900)},
		})
	}
	big := []types.Record{{Data: []byte(strings.Repeat("g", 100_000))}}
	if out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("g1"), Records: big}); err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
		t.Fatalf("g1: %v %+v", err, out)
	}
	_, err := c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("g2"), Record: &types.Record{Data: []byte("small")}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailableException" || ae.ErrorMessage() != "Slow down." {
		t.Fatalf("g2 Put with the global cap reached = %v, want ServiceUnavailableException", err)
	}
	m := s.scrape()
	if m[`firehose_throttled_records_total{stream="g2"}`] != 1 || m["hydrant_buffer_global_limit_bytes"] != 64<<10 || m["hydrant_buffer_global_bytes"] < 100_000 {
		t.Errorf("metrics: throttled g2 = %v, global = %v of %v", m[`firehose_throttled_records_total{stream="g2"}`], m["hydrant_buffer_global_bytes"], m["hydrant_buffer_global_limit_bytes"])
	}
	// Deleting the stream that holds the bytes gives them back.
	if _, err := c.DeleteDeliveryStream(ctx, &fh.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("g1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("g2"), Record: &types.Record{Data: []byte("small")}}); err != nil {
		t.Fatalf("g2 after g1 was deleted: %v", err)
	}
}
