package e2e

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// TestMemoryBoundedByInflightBudget is issue 8 item 5: 128 clients sending
// ~3.6 MB PutRecordBatch requests at once must not grow the server past
// its in-flight budget plus a fixed overhead. Before, every request's
// decoded batch was held outside the budget and pooled afterwards: 1.1 GB
// of live heap against a 256 MiB budget. The peak RSS (VmHWM) is read from
// /proc after the load.
func TestMemoryBoundedByInflightBudget(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("memory load test")
	}
	const budget = 256 << 20   // the default --max-inflight-bytes
	const overhead = 256 << 20 // --memory-limit's default margin over the budget
	s := startServer(t, "--max-inflight-bytes", strconv.Itoa(budget))
	createStream(t, sdkClient(s), "mem", &types.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::mem"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)}})

	// 500 records of 5.4 KB: 2.7 MB of data, 3.6 MB of base64 in JSON.
	data := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("0123456789abcdef"), 340))
	var b strings.Builder
	b.WriteString(`{"DeliveryStreamName":"mem","Records":[`)
	for i := range 500 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"Data":"` + data + `"}`)
	}
	b.WriteString(`]}`)
	body := []byte(b.String())

	var ok, slow atomic.Int64
	deadline := time.Now().Add(4 * time.Second)
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	for range 128 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest("POST", s.URL+"/", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
				req.Header.Set("X-Amz-Target", "Firehose_20150804.PutRecordBatch")
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				resp.Body.Close()
				if resp.StatusCode == 200 {
					ok.Add(1)
				} else {
					slow.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	peak := vmHWM(t, s.cmd.Process.Pid)
	t.Logf("%d batches accepted, %d refused; peak RSS %d MiB (budget %d MiB)", ok.Load(), slow.Load(), peak>>20, budget>>20)
	if ok.Load() == 0 {
		t.Fatalf("no batch was accepted")
	}
	if limit := int64(budget + overhead + 64<<20); peak > limit {
		t.Errorf("peak RSS %d MiB is over the budget plus overhead (%d MiB)", peak>>20, limit>>20)
	}
}

// vmHWM is a process's peak resident set size in bytes.
func vmHWM(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
