//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"golang.org/x/sys/unix"
)

// mountTmpfs mounts a tmpfs of size bytes on a new directory and unmounts
// it when the test ends (after anything registered later, such as the
// server, has stopped). It skips the test where mounting is not permitted;
// CI runs as root, where it is.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs to fill (CI runs as root)")
	}
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root or CAP_SYS_ADMIN): %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, 0); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// checkUnready checks that /_hydrant/health answers 503 "unready" with a
// reason naming the stream's full disk.
func (s *server) checkUnready(stream string) {
	s.t.Helper()
	code, body := s.health()
	if code != http.StatusServiceUnavailable || body.Status != "unready" || len(body.Reasons) != 1 ||
		!strings.Contains(body.Reasons[0], "stream "+stream+" refuses records") || !strings.Contains(body.Reasons[0], "no space left on device") {
		s.t.Fatalf("health with the disk full = %d %+v; want 503 unready naming stream %s and the full disk", code, body, stream)
	}
}

// checkReady checks that /_hydrant/health answers 200 "ok".
func (s *server) checkReady() {
	s.t.Helper()
	if code, body := s.health(); code != http.StatusOK || body.Status != "ok" {
		s.t.Fatalf("health = %d %+v; want 200 ok", code, body)
	}
}

// health reads /_hydrant/health.
func (s *server) health() (int, healthBody) {
	s.t.Helper()
	resp, err := http.Get(s.URL + "/_hydrant/health")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body healthBody
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		s.t.Fatalf("health body: %v", err)
	}
	return resp.StatusCode, body
}

type healthBody struct {
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
}

// freeBytes is the space left on the file system holding dir.
func freeBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// TestDiskFull runs hydrant on a small tmpfs that a ballast file nearly
// fills, produces until the disk is full, and checks Firehose's
// back-pressure: Puts refused with "Slow down.", nothing acknowledged lost,
// the server still serving; then frees the space and checks that Puts are
// accepted again and every acknowledged record is delivered exactly once.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	mnt := mountTmpfs(t, 64<<20)
	s := &server{t: t, DataDir: filepath.Join(mnt, "data")}
	s.start()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("hydrant log:\n%s", s.logs.String())
		}
	})
	c := noRetryClient(s)
	ctx := context.Background()
	// Delivery runs all along, in objects of up to 1 MiB, into a bucket on the
	// same file system, so both the log and the objects meet the full disk.
	createStream(t, c, "full", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::full"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(1)},
	})

	// Leave about 6 MiB free.
	ballast := filepath.Join(mnt, "ballast")
	if err := os.WriteFile(ballast, make([]byte, freeBytes(t, mnt)-6<<20), 0o644); err != nil {
		t.Fatalf("write ballast: %v", err)
	}

	acked := map[string]bool{}
	refused := map[string]bool{}
	next := 0
	// put sends one batch of 64 records of 4 KiB and sorts its records by
	// the answer. It reports whether any was refused.
	put := func() bool {
		t.Helper()
		recs := make([]types.Record, 64)
		ids := make([]string, len(recs))
		for i := range recs {
			ids[i] = fmt.Sprintf("id-%07d", next)
			next++
			recs[i] = types.Record{Data: []byte(ids[i] + " " + strings.Repeat("x", 4000) + "\n")}
		}
		out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("full"), Records: recs})
		if err != nil {
			t.Fatalf("PutRecordBatch on a full disk must answer per record, got %v", err)
		}
		for i, r := range out.RequestResponses {
			switch {
			case r.RecordId != nil:
				acked[ids[i]] = true
			case aws.ToString(r.ErrorCode) == "ServiceUnavailableException" && aws.ToString(r.ErrorMessage) == "Slow down.":
				refused[ids[i]] = true
			default:
				t.Fatalf("record %s: %+v", ids[i], r)
			}
		}
		return aws.ToInt32(out.FailedPutCount) > 0
	}

	for !put() {
		if next > 64*1000 {
			t.Fatalf("the disk never filled (%d records sent)", next)
		}
	}
	t.Logf("disk full after %d records: %d acknowledged, %d refused", next, len(acked), len(refused))
	if len(acked) == 0 {
		t.Fatal("nothing was accepted before the disk filled")
	}

	// Still serving, but unready, so that a load balancer sends elsewhere;
	// every acknowledged record is still buffered or delivered.
	s.checkUnready("full")
	if _, err := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("full")}); err != nil {
		t.Fatalf("DescribeDeliveryStream with the disk full: %v", err)
	}
	var st struct {
		Appended uint64 `json:"appended"`
	}
	resp, err := http.Get(s.URL + "/_hydrant/streams/full")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.Appended != uint64(len(acked)) {
		t.Fatalf("log holds %d records, %d were acknowledged (%v)", st.Appended, len(acked), err)
	}
	if got := s.metric("firehose_throttled_records_total", "full"); got != float64(len(refused)) {
		t.Errorf("ThrottledRecords = %v, want %d", got, len(refused))
	}

	// Space returns: Puts are accepted again (after the log's retry
	// interval) and everything acknowledged is delivered.
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "Puts to be accepted again", func() bool { return !put() })
	s.checkReady()
	for range 20 {
		if put() {
			t.Fatalf("a Put was refused with %d MiB free", freeBytes(t, mnt)>>20)
		}
	}
	waitFor(t, 90*time.Second, "every acknowledged record to be delivered", func() bool {
		return s.metric("firehose_delivery_to_s3_records_total", "full") >= float64(len(acked)) &&
			s.metric("hydrant_buffer_records", "full") == 0
	})

	seen := map[string]int{}
	for key, body := range s.bucketFiles("full") {
		for _, line := range bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n")) {
			id, _, ok := bytes.Cut(line, []byte(" "))
			if !ok {
				t.Fatalf("object %s holds a torn record: %.40q", key, line)
			}
			seen[string(id)]++
		}
	}
	for id := range acked {
		if seen[id] != 1 {
			t.Errorf("acknowledged record %s delivered %d times, want exactly once", id, seen[id])
		}
	}
	for id := range refused {
		if seen[id] != 0 {
			t.Errorf("refused record %s delivered %d times", id, seen[id])
		}
	}
	if len(seen) != len(acked) {
		t.Errorf("%d distinct records delivered, %d acknowledged", len(seen), len(acked))
	}
	// Objects that met the full disk were retried, logged with Firehose's
	// error code and counted by it.
	retries := 0
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, "delivery failed") {
			retries++
			if !strings.Contains(line, "error_code=InternalError") || !strings.Contains(line, "stream=full") || !strings.Contains(line, "attempt=") {
				t.Errorf("delivery failure logged without stream, attempt and error_code=InternalError: %s", line)
			}
		}
	}
	if got := s.scrape()[`hydrant_delivery_retries_total{error_code="InternalError",stream="full"}`]; got != float64(retries) {
		t.Errorf("hydrant_delivery_retries_total{InternalError} = %v, %d failures logged", got, retries)
	}
	t.Logf("%d records delivered exactly once; %d delivery attempts failed and were retried", len(acked), retries)
}
