package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	"github.com/hydrant-io/hydrant/internal/compress"
)

// sdkClient is a Firehose client for s. It makes one attempt per call: a
// retried Put whose first answer was lost is a legitimate duplicate, which
// would hide a real one in the exactly-once checks; and it sends a private
// copy of each body (ownBodyClient) to dodge the SDK's own
// closed-connection race (aws/aws-sdk-go-v2#2737).
func sdkClient(s *server) *fh.Client {
	return fh.New(fh.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
		HTTPClient:       ownBodyClient{http.DefaultClient},
	})
}

func createStream(t *testing.T, c *fh.Client, name string, dest *types.ExtendedS3DestinationConfiguration) {
	t.Helper()
	if dest.RoleARN == nil {
		dest.RoleARN = aws.String("arn:aws:iam::000000000000:role/r")
	}
	_, err := c.CreateDeliveryStream(context.Background(), &fh.CreateDeliveryStreamInput{
		DeliveryStreamName:                 aws.String(name),
		ExtendedS3DestinationConfiguration: dest,
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

// TestSDKCodecsAndPrefixes sends records through every CompressionFormat with
// the Go SDK and checks object names, extensions and the exact bytes.
func TestSDKCodecsAndPrefixes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := sdkClient(s)
	ctx := context.Background()
	cases := []struct {
		format  types.CompressionFormat
		ext     string
		prefix  *string
		fileExt *string
		wantDir func(time.Time) string
	}{
		{types.CompressionFormatUncompressed, "", nil, nil, func(t time.Time) string { return t.Format("2006/01/02/15/") }},
		{types.CompressionFormatGzip, ".gz", aws.String("static-"), nil, func(t time.Time) string { return "static-" + t.Format("2006/01/02/15/") }},
		{types.CompressionFormatZip, ".zip", aws.String("z/!{firehose:random-string}/"), nil, nil},
		{types.CompressionFormatSnappy, ".snappy", aws.String("s/dt=!{timestamp:yyyy-MM-dd}/"), nil, func(t time.Time) string { return "s/dt=" + t.Format("2006-01-02") + "/" }},
		{types.CompressionFormatHadoopSnappy, ".snappy", aws.String("h/"), aws.String(".hsn"), func(t time.Time) string { return "h/" + t.Format("2006/01/02/15/") }},
	}
	for i, tc := range cases {
		name := fmt.Sprintf("codec-%d", i)
		t.Run(string(tc.format), func(t *testing.T) {
			dest := &types.ExtendedS3DestinationConfiguration{
				BucketARN:         aws.String("arn:aws:s3:::codecs"),
				Prefix:            tc.prefix,
				CompressionFormat: tc.format,
				BufferingHints:    &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
				FileExtension:     tc.fileExt,
			}
			if tc.prefix != nil && strings.Contains(*tc.prefix, "!{") {
				dest.ErrorOutputPrefix = aws.String("err/!{firehose:error-output-type}/")
			}
			createStream(t, c, name, dest)
			var want bytes.Buffer
			var recs []types.Record
			for j := 0; j < 300; j++ {
				d := []byte(fmt.Sprintf(`{"stream":%q,"n":%d,"pad":%q}`, name, j, strings.Repeat("x", j)))
				want.Write(d)
				recs = append(recs, types.Record{Data: d})
			}
			before := time.Now().UTC()
			out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String(name), Records: recs})
			if err != nil {
				t.Fatal(err)
			}
			if *out.FailedPutCount != 0 || len(out.RequestResponses) != len(recs) || out.Encrypted == nil || *out.Encrypted {
				t.Fatalf("put: %+v", out)
			}
			var got bytes.Buffer
			waitFor(t, 10*time.Second, "delivery", func() bool {
				got.Reset()
				for key, b := range s.bucketFiles("codecs") {
					if !strings.Contains(key, name+"-1-") {
						continue
					}
					wantExt := tc.ext
					if tc.fileExt != nil {
						wantExt = *tc.fileExt
					}
					if !strings.HasSuffix(key, wantExt) {
						t.Fatalf("key %q lacks extension %q", key, wantExt)
					}
					if tc.wantDir != nil && !strings.HasPrefix(key, tc.wantDir(before)) {
						t.Fatalf("key %q not under %q", key, tc.wantDir(before))
					}
					r, err := compress.NewReader(string(tc.format), bytes.NewReader(b))
					if err != nil {
						t.Fatal(err)
					}
					data, err := io.ReadAll(r)
					if err != nil {
						t.Fatalf("decode %s: %v", key, err)
					}
					got.Write(data)
				}
				return got.Len() == want.Len()
			})
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("delivered bytes differ")
			}
		})
	}
}

// TestSDKErrors checks that the Go SDK sees AWS's typed errors.
func TestSDKErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := sdkClient(s)
	ctx := context.Background()
	_, err := c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("missing"), Record: &types.Record{Data: []byte("x")}})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || !strings.Contains(nf.ErrorMessage(), "Firehose missing under account 000000000000 not found.") {
		t.Fatalf("want ResourceNotFoundException, got %v", err)
	}
	createStream(t, c, "errs", &types.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::bkt")})

	recs := make([]types.Record, 501)
	for i := range recs {
		recs[i] = types.Record{Data: []byte("x")}
	}
	_, err = c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("errs"), Records: recs})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), "Member must have length less than or equal to 500") {
		t.Fatalf("501 records: %v", err)
	}
	big := make([]types.Record, 5)
	for i := range big {
		big[i] = types.Record{Data: bytes.Repeat([]byte("a"), 1_000_000)}
	}
	_, err = c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("errs"), Records: big})
	var ia *types.InvalidArgumentException
	if !errors.As(err, &ia) || ia.ErrorMessage() != "Records size exceeds 4 MB limit" {
		t.Fatalf("over 4 MiB: %v", err)
	}
	_, err = c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("errs"), Record: &types.Record{Data: bytes.Repeat([]byte("a"), 1_024_001)}})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" || !strings.Contains(ae.ErrorMessage(), "at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000") {
		t.Fatalf("oversized record: %v", err)
	}
	_, err = c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("errs"), Record: &types.Record{Data: bytes.Repeat([]byte("a"), 1_024_000)}})
	if err != nil {
		t.Fatalf("a record of exactly 1,024,000 bytes must be accepted: %v", err)
	}
	_, err = c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("none")})
	if !errors.As(err, &ia) || ia.ErrorMessage() != "Exactly one destination configuration is supported for a Firehose" {
		t.Fatalf("no destination: %v", err)
	}
	_, err = c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("lambda"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), BucketARN: aws.String("arn:aws:s3:::bkt"),
			ProcessingConfiguration: &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{{Type: types.ProcessorTypeLambda}}},
		},
	})
	if !errors.As(err, &ia) || !strings.Contains(ia.ErrorMessage(), "Lambda") {
		t.Fatalf("unsupported processor: %v", err)
	}
	_, err = c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{
		DeliveryStreamName: aws.String("badbucket"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), BucketARN: aws.String("arn:aws:s3:::.."),
		},
	})
	if !errors.As(err, &ia) {
		t.Fatalf("bucket '..' must be refused: %v", err)
	}
}

// TestSDKConcurrentProducers sends from many goroutines and checks every
// record arrives exactly once.
func TestSDKConcurrentProducers(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := sdkClient(s)
	ctx := context.Background()
	createStream(t, c, "conc", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::conc"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})
	const producers, batches, per = 8, 20, 100
	var wg sync.WaitGroup
	errc := make(chan error, producers)
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				recs := make([]types.Record, per)
				for i := range recs {
					recs[i] = types.Record{Data: []byte(fmt.Sprintf("p%d-b%d-r%d\n", p, b, i))}
				}
				out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("conc"), Records: recs})
				if err != nil {
					errc <- err
					return
				}
				if *out.FailedPutCount != 0 {
					errc <- fmt.Errorf("failed puts: %d", *out.FailedPutCount)
					return
				}
			}
		}(p)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	seen := map[string]int{}
	waitFor(t, 20*time.Second, "all records", func() bool {
		seen = map[string]int{}
		for _, b := range s.bucketFiles("conc") {
			for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
				seen[line]++
			}
		}
		return len(seen) == producers*batches*per
	})
	for line, n := range seen {
		if n != 1 {
			t.Fatalf("%q delivered %d times", line, n)
		}
	}
}
