package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// TestFlushEndpoint: POST /_hydrant/streams/{name}/flush delivers a
// stream's buffer at once, whatever its buffering hints (here 900 s), and
// answers as documented for a missing stream and a bad wait.
func TestFlushEndpoint(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := sdkClient(s)
	createStream(t, c, "slow", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::flushed"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(900)},
	})
	post := func(path string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(s.URL+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.Unmarshal(readAll(t, resp.Body), &m); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, m
	}
	if code, m := post("/_hydrant/streams/nope/flush"); code != http.StatusNotFound || m["error"] == nil {
		t.Fatalf("missing stream: %d %v", code, m)
	}
	if code, m := post("/_hydrant/streams/slow/flush?wait=forever"); code != http.StatusBadRequest || m["error"] == nil {
		t.Fatalf("bad wait: %d %v", code, m)
	}

	put := func(data string) {
		t.Helper()
		if _, err := c.PutRecord(context.Background(), &fh.PutRecordInput{
			DeliveryStreamName: aws.String("slow"), Record: &types.Record{Data: []byte(data)},
		}); err != nil {
			t.Fatal(err)
		}
	}
	put("one\n")
	put("two\n")
	code, m := post("/_hydrant/streams/slow/flush?wait=20s")
	if code != http.StatusOK || m["flushed"] != true || m["delivered"] != 2.0 || m["bufferedRecords"] != 0.0 {
		t.Fatalf("flush with wait: %d %v", code, m)
	}
	files := s.bucketFiles("flushed")
	if len(files) != 1 {
		t.Fatalf("objects after the flush: %v", files)
	}
	for _, b := range files {
		if string(b) != "one\ntwo\n" {
			t.Fatalf("object %q", b)
		}
	}

	// Without wait the answer is 202 at once; the cut still happens.
	put("three\n")
	if code, m := post("/_hydrant/streams/slow/flush"); code != http.StatusAccepted || m["name"] != "slow" {
		t.Fatalf("flush without wait: %d %v", code, m)
	}
	waitFor(t, 10*time.Second, "the second object", func() bool { return len(s.bucketFiles("flushed")) == 2 })
}
