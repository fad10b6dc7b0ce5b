package deliver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// captured collects error log records.
type captured struct {
	mu   sync.Mutex
	recs []string
	at   []string // group/stream
}

func (c *captured) FirehoseErrorLog(group, stream string, t time.Time, rec []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, string(rec))
	c.at = append(c.at, group+"/"+stream)
}

func (c *captured) snapshot() ([]string, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.recs...), append([]string(nil), c.at...)
}

// failingOnce fails the first Put with S3.NoSuchBucket.
type failingOnce struct {
	objstore.Store
	mu     sync.Mutex
	failed bool
}

func (f *failingOnce) Put(ctx context.Context, bucket, key string, meta objstore.Meta, write func(io.Writer) error) error {
	f.mu.Lock()
	first := !f.failed
	f.failed = true
	f.mu.Unlock()
	if first {
		return &objstore.DeliveryError{Code: "S3.NoSuchBucket", Message: "gone", Err: errors.New("no such bucket")}
	}
	return f.Store.Put(ctx, bucket, key, meta, write)
}

func TestErrorLogRecords(t *testing.T) {
	st := testStream(t, "data/", "errors/!{firehose:error-output-type}/")
	st.Destination.Logging = streamspec.Logging{Enabled: true, Group: "/aws/kinesisfirehose/s", Stream: "DestinationDelivery"}
	f := newFixture(t, st)
	f.put(t, "a1,", "bad2,", "bad3,")
	el := &captured{}
	u := &upper{}
	d := Start(Config{Stream: f.info, Log: f.log, Store: &failingOnce{Store: f.store}, ErrorLog: el,
		Stages: func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error) { return u, nil, nil }})
	select {
	case <-d.Idle():
	case <-time.After(10 * time.Second):
		t.Fatal("delivery did not finish")
	}
	d.Stop()
	recs, at := el.snapshot()
	// One record for the failed attempt, one for the two records that
	// failed processing the same way.
	if len(recs) != 2 || at[0] != "/aws/kinesisfirehose/s/DestinationDelivery" {
		t.Fatalf("records %v at %v", recs, at)
	}
	want := []string{
		`{"deliveryStreamARN":"arn:aws:firehose:us-east-1:000000000000:deliverystream/s","destination":"arn:aws:s3:::bkt","deliveryStreamVersionId":1,` +
			`"message":"The specified bucket does not exist. Create the bucket or use a different bucket that does exist.","errorCode":"S3.NoSuchBucket"}`,
		`{"deliveryStreamARN":"arn:aws:firehose:us-east-1:000000000000:deliverystream/s","destination":"arn:aws:s3:::bkt","deliveryStreamVersionId":1,` +
			`"message":"ProcessingFailed status set for record","errorCode":"Lambda.ProcessingFailedStatus","processor":"arn:aws:lambda:us-east-1:000000000000:function:f"}`,
	}
	for i, w := range want {
		if recs[i] != w {
			t.Errorf("record %d:\n got %s\nwant %s", i, recs[i], w)
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(recs[i]), &m); err != nil {
			t.Fatal(err)
		}
	}
}

func TestErrorLogOffWithoutOptions(t *testing.T) {
	f := newFixture(t, testStream(t, "data/", "errors/!{firehose:error-output-type}/"))
	f.put(t, "bad1,")
	el := &captured{}
	d := Start(Config{Stream: f.info, Log: f.log, Store: f.store, ErrorLog: el,
		Stages: func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error) { return &upper{}, nil, nil }})
	<-d.Idle()
	d.Stop()
	if recs, _ := el.snapshot(); len(recs) != 0 {
		t.Fatalf("records without CloudWatchLoggingOptions: %v", recs)
	}
}
