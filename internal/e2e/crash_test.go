package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// TestCrashKeepsEveryAcknowledgedRecord sends records with unique ids from
// several producers, SIGKILLs hydrant in the middle of the load (three
// times), restarts it, and proves that every record whose Put was
// acknowledged is delivered exactly once, and that nothing is delivered
// twice at all (redone objects reuse their planned key).
func TestCrashKeepsEveryAcknowledgedRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	s := startServer(t)
	c := fh.New(fh.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  aws.AnonymousCredentials{},
		// No SDK retries: a retried Put whose first answer was lost in the
		// crash is a legitimate duplicate, and would blur what is measured.
		RetryMaxAttempts: 1,
	})
	createStream(t, c, "crash", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::crash"),
		Prefix:         aws.String("out/"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})

	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		sent    = map[string]bool{}
		counter atomic.Int64
	)
	const producers = 6
	for round := 0; round < 3; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for p := 0; p < producers; p++ {
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				for ctx.Err() == nil {
					n := 50 + int(counter.Add(1)%200)
					recs := make([]types.Record, n)
					ids := make([]string, n)
					for i := range recs {
						ids[i] = fmt.Sprintf("r%d-p%d-%d", round, p, counter.Add(1))
						recs[i] = types.Record{Data: []byte(ids[i] + "\n")}
					}
					mu.Lock()
					for _, id := range ids {
						sent[id] = true
					}
					mu.Unlock()
					out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("crash"), Records: recs})
					if err != nil {
						time.Sleep(5 * time.Millisecond)
						continue
					}
					mu.Lock()
					for i, r := range out.RequestResponses {
						if r.RecordId != nil && r.ErrorCode == nil {
							acked[ids[i]] = true
						}
					}
					mu.Unlock()
				}
			}(p)
		}
		time.Sleep(700 * time.Millisecond)
		s.Kill()
		cancel()
		wg.Wait()
		s.Restart()
	}

	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 1000 {
		t.Fatalf("only %d records acknowledged; the load did not run", len(acked))
	}
	delivered := checkExactlyOnce(t, 60*time.Second, func() (map[string][]byte, error) {
		return s.bucketFiles("crash"), nil
	}, acked, sent)
	t.Logf("%d sent, %d acknowledged, %d delivered (unacknowledged ones may or may not arrive), no duplicates",
		len(sent), len(acked), len(delivered))
}
