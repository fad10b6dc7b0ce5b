package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/hydrant-io/hydrant/internal/objstore/s3test"
)

// startWithS3 starts fakes3 (its own process) and hydrant delivering to it,
// path style, with credentials from the environment as a user would set
// them. Extra flags go to hydrant.
func startWithS3(t *testing.T, extra ...string) (s *server, endpoint string, stopS3, restartS3 func()) {
	t.Helper()
	endpoint, stopS3, restartS3 = s3test.Start(t)
	args := append([]string{"--s3-endpoint", endpoint, "--s3-path-style"}, extra...)
	return startServerEnv(t, s3Env(), args...), endpoint, stopS3, restartS3
}

// s3Env gives a hydrant process fakes3's credentials, as a user would set
// them, and nothing else from the AWS environment.
func s3Env() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + s3test.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + s3test.SecretAccessKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_ENDPOINT_URL=",
		"AWS_ENDPOINT_URL_S3=",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// s3Objects reads every object of bucket from S3, keyed by key.
func s3Objects(t *testing.T, c *s3.Client, bucket string) (map[string][]byte, error) {
	t.Helper()
	out := map[string][]byte{}
	ctx := context.Background()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range page.Contents {
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				return nil, err
			}
			out[*o.Key] = b
		}
	}
	return out, nil
}

var keyShape = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9]`)

// TestS3DeliveryGzip delivers a GZIP stream to S3 and the same stream to a
// local bucket (--bucket-store), and checks that the S3 object is named as
// the local one is, carries Content-Encoding gzip, and holds exactly the
// records. A stream whose bucket does not exist yet logs S3.NoSuchBucket
// and delivers once the bucket is created.
func TestS3DeliveryGzip(t *testing.T) {
	s, endpoint, _, _ := startWithS3(t, "--bucket-store", "on-disk=local")
	s3test.CreateBucket(t, endpoint, "to-s3")
	c := sdkClient(s)
	sc := s3test.Client(endpoint)
	ctx := context.Background()

	var want bytes.Buffer
	var recs []types.Record
	for i := range 200 {
		d := fmt.Appendf(nil, `{"n":%d,"pad":%q}`+"\n", i, strings.Repeat("z", i))
		want.Write(d)
		recs = append(recs, types.Record{Data: d})
	}
	for _, bucket := range []string{"to-s3", "on-disk", "late"} {
		createStream(t, c, "gz-"+bucket, &types.ExtendedS3DestinationConfiguration{
			BucketARN:         aws.String("arn:aws:s3:::" + bucket),
			Prefix:            aws.String("logs/"),
			CompressionFormat: types.CompressionFormatGzip,
			BufferingHints:    &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
		})
		if _, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("gz-" + bucket), Records: recs}); err != nil {
			t.Fatal(err)
		}
	}

	var objs map[string][]byte
	waitFor(t, 15*time.Second, "the object in S3", func() bool {
		var err error
		objs, err = s3Objects(t, sc, "to-s3")
		return err == nil && len(objs) > 0
	})
	var local map[string][]byte
	waitFor(t, 15*time.Second, "the local object", func() bool {
		local = s.bucketFiles("on-disk")
		return len(local) > 0
	})
	if len(objs) != 1 || len(local) != 1 {
		t.Fatalf("%d objects in S3, %d on disk; want one each", len(objs), len(local))
	}
	var s3Key, localKey string
	for k := range objs {
		s3Key = k
	}
	for k := range local {
		localKey = k
	}
	shape := func(key, bucket string) string {
		return keyShape.ReplaceAllString(strings.Replace(key, "gz-"+bucket, "STREAM", 1), "#")
	}
	if shape(s3Key, "to-s3") != shape(localKey, "on-disk") || !strings.HasPrefix(s3Key, "logs/") || !strings.HasSuffix(s3Key, ".gz") {
		t.Errorf("S3 key %q is not laid out like the local key %q", s3Key, localKey)
	}
	head, err := sc.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("to-s3"), Key: aws.String(s3Key)})
	if err != nil {
		t.Fatal(err)
	}
	if ce, ct := aws.ToString(head.ContentEncoding), aws.ToString(head.ContentType); ce != "gzip" || ct != "application/octet-stream" {
		t.Errorf("Content-Encoding %q, Content-Type %q; want gzip, application/octet-stream", ce, ct)
	}
	for where, b := range map[string][]byte{"S3": objs[s3Key], "local": local[localKey]} {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s object: %v", where, err)
		}
		got, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%s object holds %d bytes (%v); want the %d sent", where, len(got), err, want.Len())
		}
	}

	// The stream to the missing bucket retries with S3.NoSuchBucket until
	// the bucket exists.
	waitFor(t, 10*time.Second, "error_code=S3.NoSuchBucket in hydrant's log", func() bool {
		return strings.Contains(s.logs.String(), "error_code=S3.NoSuchBucket")
	})
	s3test.CreateBucket(t, endpoint, "late")
	waitFor(t, 15*time.Second, "delivery after the bucket was created", func() bool {
		objs, err := s3Objects(t, sc, "late")
		return err == nil && len(objs) == 1
	})
}

// TestS3OutageLosesNothing sends records with unique ids from several
// producers while the S3 service goes down for a few seconds (SIGKILL; the
// port refuses connections) and comes back with its data. Every
// acknowledged record must arrive, none twice, and hydrant must have said
// why it was retrying (error_code).
func TestS3OutageLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("outage test in -short mode")
	}
	s, endpoint, stopS3, restartS3 := startWithS3(t)
	s3test.CreateBucket(t, endpoint, "outage")
	c := sdkClient(s)
	createStream(t, c, "outage", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::outage"),
		Prefix:         aws.String("out/"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})

	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		sent    = map[string]bool{}
		counter atomic.Int64
		wg      sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	const producers = 4
	for p := range producers {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := 20 + int(counter.Add(1)%100)
				recs := make([]types.Record, n)
				ids := make([]string, n)
				for i := range recs {
					ids[i] = fmt.Sprintf("p%d-%d", p, counter.Add(1))
					recs[i] = types.Record{Data: []byte(ids[i] + "\n")}
				}
				mu.Lock()
				for _, id := range ids {
					sent[id] = true
				}
				mu.Unlock()
				out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("outage"), Records: recs})
				if err == nil {
					mu.Lock()
					for i, r := range out.RequestResponses {
						if r.RecordId != nil && r.ErrorCode == nil {
							acked[ids[i]] = true
						}
					}
					mu.Unlock()
				}
				time.Sleep(10 * time.Millisecond) // leave the 2 cores some room
			}
		})
	}
	countAcked := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }

	time.Sleep(time.Second)
	stopS3()
	down := countAcked()
	waitFor(t, 15*time.Second, "error_code=InternalError in hydrant's log during the outage", func() bool {
		return strings.Contains(s.logs.String(), "error_code=InternalError")
	})
	time.Sleep(2 * time.Second)
	if countAcked() <= down {
		t.Errorf("no records acknowledged during the outage: the buffer must keep accepting them")
	}
	restartS3()
	time.Sleep(time.Second)
	cancel()
	wg.Wait()

	sc := s3test.Client(endpoint)
	delivered := checkExactlyOnce(t, 40*time.Second, func() (map[string][]byte, error) {
		return s3Objects(t, sc, "outage")
	}, acked, sent)
	t.Logf("%d sent, %d acknowledged (%d before the outage), %d delivered, no duplicates",
		len(sent), len(acked), down, len(delivered))
}
