package logs

import (
	"strings"
	"testing"
	"time"
)

func TestFirehoseLogsNeedGroupAndStream(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := openStore(t, t.TempDir(), c, 0)
	f := NewFirehoseLogs(s, nil)
	rec := []byte(`{"deliveryStreamARN":"arn:aws:firehose:us-east-1:000000000000:deliverystream/x","errorCode":"S3.NoSuchBucket"}`)
	// Firehose does not create the group or the stream: dropped.
	f.FirehoseErrorLog("/aws/kinesisfirehose/x", "DestinationDelivery", c.now(), rec)
	if len(s.Groups()) != 0 {
		t.Fatal("the sink created a group")
	}
	mustOK(t, s.CreateGroup(GroupConfig{Name: "/aws/kinesisfirehose/x"}))
	f.FirehoseErrorLog("/aws/kinesisfirehose/x", "DestinationDelivery", c.now(), rec)
	if sts, _ := s.Streams("/aws/kinesisfirehose/x"); len(sts) != 0 {
		t.Fatal("the sink created a stream")
	}
	mustOK(t, s.CreateStream("/aws/kinesisfirehose/x", "DestinationDelivery"))
	f.FirehoseErrorLog("/aws/kinesisfirehose/x", "DestinationDelivery", c.now(), rec)
	p, err := s.Get("/aws/kinesisfirehose/x", "DestinationDelivery", GetOptions{StartFromHead: true})
	mustOK(t, err)
	if len(p.Events) != 1 || p.Events[0].Message != string(rec) || p.Events[0].Timestamp != c.now().UnixMilli() {
		t.Fatalf("events %+v", p.Events)
	}
}

func TestFunctionLogsCreateLikeLambda(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := openStore(t, t.TempDir(), c, 0)
	f := NewFunctionLogs(s, nil)
	ts := c.now().UnixMilli()
	// Lines may come a little out of order across a clock step; they are
	// stored in timestamp order.
	f.FunctionLog("/aws/lambda/fn", "2026/03/01/[$LATEST]aa", ts+1, "second")
	f.FunctionLog("/aws/lambda/fn", "2026/03/01/[$LATEST]aa", ts, "first")
	f.FunctionLog("/aws/lambda/fn", "2026/03/01/[$LATEST]bb", ts, "other instance")
	f.Close()
	p, err := s.Get("/aws/lambda/fn", "2026/03/01/[$LATEST]aa", GetOptions{StartFromHead: true})
	mustOK(t, err)
	if got := strings.Join(messages(p.Events), "|"); got != "first\n|second\n" {
		t.Fatalf("events %q", got)
	}
	// A group deleted meanwhile is created again on the next line.
	mustOK(t, s.DeleteGroup("/aws/lambda/fn"))
	f2 := NewFunctionLogs(s, nil)
	f2.FunctionLog("/aws/lambda/fn", "2026/03/01/[$LATEST]aa", ts+time.Second.Milliseconds(), "again")
	f2.Close()
	if sts, err := s.Streams("/aws/lambda/fn"); err != nil || len(sts) != 1 || sts[0].Events != 1 {
		t.Fatalf("recreated: %v %+v", err, sts)
	}
}
