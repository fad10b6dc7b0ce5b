//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/hydrant-io/hydrant/internal/objstore/s3test"
)

// TestDiskFullDeliveryMakesRoom proves the README's promise that a full
// disk refuses Puts only until delivery makes room. hydrant's data dir is a
// 16 MiB tmpfs, smaller than one log segment, and delivery goes to S3
// elsewhere; nothing else frees space. With S3 down, Puts fill the disk and
// get "Slow down."; once S3 is back, delivery drains the log and Puts are
// accepted again. Then the same after a restart on the full disk. Every
// acknowledged record is delivered exactly once.
func TestDiskFullDeliveryMakesRoom(t *testing.T) {
	t.Parallel()
	mnt := mountTmpfs(t, 16<<20)
	endpoint, stopS3, restartS3 := s3test.Start(t)
	s3test.CreateBucket(t, endpoint, "drain")
	s := &server{t: t, DataDir: filepath.Join(mnt, "data"), args: []string{"--s3-endpoint", endpoint, "--s3-path-style"}, Env: s3Env()}
	s.start()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("hydrant log:\n%s", s.logs.String())
		}
	})
	c := noRetryClient(s)
	ctx := context.Background()
	createStream(t, c, "drain", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::drain"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(4), IntervalInSeconds: aws.Int32(1)},
	})

	acked, sent := map[string]bool{}, map[string]bool{}
	next := 0
	// put sends 64 records of 4 KiB and reports whether any was refused;
	// a refusal must be Firehose's back-pressure answer.
	put := func() bool {
		t.Helper()
		recs := make([]types.Record, 64)
		ids := make([]string, len(recs))
		for i := range recs {
			ids[i] = fmt.Sprintf("id-%07d-%s", next, strings.Repeat("x", 4000))
			next++
			sent[ids[i]] = true
			recs[i] = types.Record{Data: []byte(ids[i] + "\n")}
		}
		out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("drain"), Records: recs})
		if err != nil {
			t.Fatalf("PutRecordBatch on a full disk must answer per record, got %v", err)
		}
		for i, r := range out.RequestResponses {
			switch {
			case r.RecordId != nil:
				acked[ids[i]] = true
			case aws.ToString(r.ErrorCode) != "ServiceUnavailableException" || aws.ToString(r.ErrorMessage) != "Slow down.":
				t.Fatalf("record refused with %s %q, want ServiceUnavailableException \"Slow down.\"", aws.ToString(r.ErrorCode), aws.ToString(r.ErrorMessage))
			}
		}
		return aws.ToInt32(out.FailedPutCount) > 0
	}
	fill := func() {
		t.Helper()
		for n := 0; !put(); n++ {
			if n > 200 {
				t.Fatalf("the disk never filled (%d records sent)", next)
			}
		}
		t.Logf("disk full: %d records acknowledged, %d MiB free", len(acked), freeBytes(t, mnt)>>20)
	}
	// Puts are refused while the disk is full, and accepted again once
	// delivery has drained the log.
	// The health check says so meanwhile, and clears once delivery has
	// made room, before any Put comes to try.
	drain := func(what string) {
		t.Helper()
		if !put() {
			t.Fatalf("%s: a Put was accepted on the full disk", what)
		}
		s.checkUnready("drain")
		restartS3()
		waitFor(t, 60*time.Second, what+": health ready again after delivery", func() bool {
			code, _ := s.health()
			return code == http.StatusOK
		})
		if put() {
			t.Fatalf("%s: a Put was refused once delivery had made room", what)
		}
	}

	stopS3()
	fill()
	drain("running")

	stopS3()
	fill()
	s.Stop()
	s.Restart()
	drain("after a restart on the full disk")

	checkExactlyOnce(t, 60*time.Second, func() (map[string][]byte, error) {
		return s3Objects(t, s3test.Client(endpoint), "drain")
	}, acked, sent)
}
