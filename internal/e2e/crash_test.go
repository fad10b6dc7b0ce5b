package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strings"
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
	t.Parallel()
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

// TestCrashPartitionedExactlyOnce is the crash test for dynamic
// partitioning: records of several partitions go through the stream log
// into the partition buffers and on into one object series per partition,
// while a flusher keeps partition objects being planned and written and
// hydrant is SIGKILLed in the middle (three times). Every acknowledged
// record must be delivered exactly once: moves cut short are voided and
// moved again, complete ones are never moved twice, and planned objects are
// redone under their key.
func TestCrashPartitionedExactlyOnce(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	s := startServer(t)
	c := fh.New(fh.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.URL), Credentials: aws.AnonymousCredentials{},
		RetryMaxAttempts: 1, // see TestCrashKeepsEveryAcknowledgedRecord
	})
	param := func(n types.ProcessorParameterName, v string) types.ProcessorParameter {
		return types.ProcessorParameter{ParameterName: n, ParameterValue: aws.String(v)}
	}
	createStream(t, c, "crashdp", &types.ExtendedS3DestinationConfiguration{
		BucketARN:                        aws.String("arn:aws:s3:::crashdp"),
		Prefix:                           aws.String("p=!{partitionKeyFromQuery:p}/"),
		ErrorOutputPrefix:                aws.String("errors/!{firehose:error-output-type}/"),
		BufferingHints:                   &types.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(60)},
		DynamicPartitioningConfiguration: &types.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration: &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{
			{Type: types.ProcessorTypeMetadataExtraction, Parameters: []types.ProcessorParameter{
				param(types.ProcessorParameterNameMetadataExtractionQuery, "{p: .p}"),
				param(types.ProcessorParameterNameJsonParsingEngine, "JQ-1.6"),
			}},
			{Type: types.ProcessorTypeAppendDelimiterToRecord},
		}},
	})
	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		sent    = map[string]bool{}
		counter atomic.Int64
	)
	flushes := atomic.Int64{}
	const producers = 4
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
						k := counter.Add(1)
						ids[i] = fmt.Sprintf(`{"p":"k%d","id":"r%d-p%d-%d"}`, k%7, round, p, k)
						recs[i] = types.Record{Data: []byte(ids[i])}
					}
					mu.Lock()
					for _, id := range ids {
						sent[id] = true
					}
					mu.Unlock()
					out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("crashdp"), Records: recs})
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
		// Partition objects are written while the load runs, so that the
		// kill finds moves and object writes in progress.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/_hydrant/streams/crashdp/flush", nil)
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
					flushes.Add(1)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		time.Sleep(700 * time.Millisecond)
		s.Kill()
		cancel()
		wg.Wait()
		s.Restart()
	}
	resp, err := http.Post(s.URL+"/_hydrant/streams/crashdp/flush?wait=50s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	if len(acked) < 1000 || flushes.Load() < 3 {
		t.Fatalf("only %d records acknowledged and %d flushes; the load did not run", len(acked), flushes.Load())
	}
	delivered := checkExactlyOnce(t, 60*time.Second, func() (map[string][]byte, error) {
		files := s.bucketFiles("crashdp")
		for k := range files {
			if !strings.HasPrefix(k, "p=k") {
				return nil, fmt.Errorf("unexpected object %s", k)
			}
		}
		return files, nil
	}, acked, sent)
	logs := s.logs.String()
	t.Logf("%d sent, %d acknowledged, %d delivered, %d flushes, no duplicates; after the kills: %d objects redone, %d moves voided, %d moves completed",
		len(sent), len(acked), len(delivered), flushes.Load(), strings.Count(logs, "redoing planned partition object"),
		strings.Count(logs, "was cut short"), strings.Count(logs, "moved records found"))
}
