package logs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/hydrant-io/hydrant/internal/logs"
	"github.com/hydrant-io/hydrant/internal/server"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// serve runs the Logs API over a store in dir with the given clock and
// returns an SDK client for it.
func serve(t *testing.T, dir string, clock *testClock) (*cwl.Client, *logs.Store) {
	t.Helper()
	st, err := logs.Open(logs.Options{Dir: dir, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc, err := logs.NewService(st, logs.ServiceOptions{Region: "us-east-1", AccountID: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(nil)
	srv.AddService(svc.API())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	c := cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	return c, st
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestAPIGroupsAndStreams(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	c, _ := serve(t, t.TempDir(), clock)
	for _, g := range []string{"/aws/lambda/b", "/aws/lambda/a", "/aws/kinesisfirehose/s", "app"} {
		if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g), Tags: map[string]string{"team": "data"}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("app")})
	if got := apiCode(err); got != "ResourceAlreadyExistsException: The specified log group already exists" {
		t.Fatalf("duplicate group: %s", got)
	}
	_, err = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("bad name!")})
	if got := apiCode(err); !strings.HasPrefix(got, "InvalidParameterException: 1 validation error detected: Value 'bad name!' at 'logGroupName'") {
		t.Fatalf("bad name: %s", got)
	}
	_, err = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("k"), KmsKeyId: aws.String("arn:aws:kms:us-east-1:123456789012:key/x")})
	if got := apiCode(err); !strings.Contains(got, "kmsKeyId") {
		t.Fatalf("kms: %s", got)
	}

	// Prefix, pattern and pages of one.
	out, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/aws/lambda/")})
	if err != nil || len(out.LogGroups) != 2 || *out.LogGroups[0].LogGroupName != "/aws/lambda/a" {
		t.Fatalf("prefix: %v %+v", err, out)
	}
	g := out.LogGroups[0]
	if *g.Arn != "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/a:*" || *g.LogGroupArn != "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/a" ||
		*g.CreationTime != clock.Now().UnixMilli() || g.RetentionInDays != nil || g.LogGroupClass != types.LogGroupClassStandard {
		t.Fatalf("group %+v", g)
	}
	out, err = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePattern: aws.String("LAMBDA")})
	if err != nil || len(out.LogGroups) != 2 {
		t.Fatalf("pattern: %v %d", err, len(out.LogGroups))
	}
	var names []string
	p := cwl.NewDescribeLogGroupsPaginator(c, &cwl.DescribeLogGroupsInput{Limit: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range page.LogGroups {
			names = append(names, *g.LogGroupName)
		}
	}
	if strings.Join(names, ",") != "/aws/kinesisfirehose/s,/aws/lambda/a,/aws/lambda/b,app" {
		t.Fatalf("pages: %v", names)
	}

	// Retention.
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("app"), RetentionInDays: aws.Int32(2)}); !strings.Contains(apiCode(err), "Member must satisfy enum value set: [1, 3, 5") {
		t.Fatalf("bad retention: %v", err)
	}
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: aws.String("app"), RetentionInDays: aws.Int32(14)}); err != nil {
		t.Fatal(err)
	}
	out, _ = c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("app")})
	if out.LogGroups[0].RetentionInDays == nil || *out.LogGroups[0].RetentionInDays != 14 {
		t.Fatalf("retention not shown: %+v", out.LogGroups[0])
	}
	if _, err := c.DeleteRetentionPolicy(ctx, &cwl.DeleteRetentionPolicyInput{LogGroupName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}

	// Tags, by ARN and by name.
	arn := "arn:aws:logs:us-east-1:123456789012:log-group:app"
	if _, err := c.TagResource(ctx, &cwl.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"env": "dev"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &cwl.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
	if err != nil || len(tags.Tags) != 1 || tags.Tags["env"] != "dev" {
		t.Fatalf("tags %v %v", err, tags)
	}
	if _, err := c.ListTagsForResource(ctx, &cwl.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:logs:us-east-1:123456789012:log-group:nope")}); !strings.HasPrefix(apiCode(err), "ResourceNotFoundException") {
		t.Fatalf("tags of a missing group: %v", err)
	}

	// Streams: ordering by name and by last event time, descending, pages.
	for i, name := range []string{"2026/05/01/[$LATEST]c", "2026/05/01/[$LATEST]a", "2026/05/01/[$LATEST]b"} {
		if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if i < 2 {
			ts := clock.Now().UnixMilli() - int64(i)*1000
			if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String("app"), LogStreamName: aws.String(name),
				LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(ts), Message: aws.String("hello " + name)}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("2026/05/01/[$LATEST]a")})
	if got := apiCode(err); got != "ResourceAlreadyExistsException: The specified log stream already exists" {
		t.Fatalf("duplicate stream: %s", got)
	}
	_, err = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String("nope"), LogStreamName: aws.String("x")})
	if got := apiCode(err); got != "ResourceNotFoundException: The specified log group does not exist." {
		t.Fatalf("stream in a missing group: %s", got)
	}
	streams := func(in *cwl.DescribeLogStreamsInput) string {
		t.Helper()
		var names []string
		p := cwl.NewDescribeLogStreamsPaginator(c, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.LogStreams {
				names = append(names, (*s.LogStreamName)[len("2026/05/01/[$LATEST]"):])
			}
		}
		return strings.Join(names, ",")
	}
	if got := streams(&cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), Limit: aws.Int32(1)}); got != "a,b,c" {
		t.Fatalf("by name: %s", got)
	}
	if got := streams(&cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), Descending: aws.Bool(true), Limit: aws.Int32(2)}); got != "c,b,a" {
		t.Fatalf("by name descending: %s", got)
	}
	if got := streams(&cwl.DescribeLogStreamsInput{LogGroupIdentifier: aws.String(arn), OrderBy: types.OrderByLastEventTime, Descending: aws.Bool(true), Limit: aws.Int32(1)}); got != "c,a,b" {
		t.Fatalf("by last event time: %s", got)
	}
	_, err = c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), OrderBy: types.OrderByLastEventTime, LogStreamNamePrefix: aws.String("2026")})
	if got := apiCode(err); got != "InvalidParameterException: Cannot order by LastEventTime with a logStreamNamePrefix." {
		t.Fatalf("order with prefix: %s", got)
	}
	ds, err := c.DescribeLogStreams(ctx, &cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app"), LogStreamNamePrefix: aws.String("2026/05/01/[$LATEST]c")})
	if err != nil || len(ds.LogStreams) != 1 {
		t.Fatal(err)
	}
	s0 := ds.LogStreams[0]
	if *s0.LastEventTimestamp != clock.Now().UnixMilli() || *s0.FirstEventTimestamp != *s0.LastEventTimestamp || *s0.LastIngestionTime != clock.Now().UnixMilli() ||
		*s0.Arn != "arn:aws:logs:us-east-1:123456789012:log-group:app:log-stream:2026/05/01/[$LATEST]c" {
		t.Fatalf("stream %+v", s0)
	}

	// Deletes.
	if _, err := c.DeleteLogStream(ctx, &cwl.DeleteLogStreamInput{LogGroupName: aws.String("app"), LogStreamName: aws.String("2026/05/01/[$LATEST]c")}); err != nil {
		t.Fatal(err)
	}
	if got := streams(&cwl.DescribeLogStreamsInput{LogGroupName: aws.String("app")}); got != "a,b" {
		t.Fatalf("after delete: %s", got)
	}
	if _, err := c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("app")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteLogGroup(ctx, &cwl.DeleteLogGroupInput{LogGroupName: aws.String("app")})
	if got := apiCode(err); got != "ResourceNotFoundException: The specified log group does not exist." {
		t.Fatalf("delete twice: %s", got)
	}
	// An operation hydrant does not implement is named.
	_, err = c.PutSubscriptionFilter(ctx, &cwl.PutSubscriptionFilterInput{LogGroupName: aws.String("/aws/lambda/a"), FilterName: aws.String("f"),
		FilterPattern: aws.String(""), DestinationArn: aws.String("arn:aws:firehose:us-east-1:123456789012:deliverystream/x")})
	if got := apiCode(err); !strings.Contains(got, "PutSubscriptionFilter") {
		t.Fatalf("unimplemented: %s", got)
	}
}

func TestAPIPutLogEventsRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	c, _ := serve(t, t.TempDir(), clock)
	g, s := aws.String("g"), aws.String("s")
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: s}); err != nil {
		t.Fatal(err)
	}
	now := clock.Now().UnixMilli()
	ev := func(ts int64, msg string) types.InputLogEvent {
		return types.InputLogEvent{Timestamp: aws.Int64(ts), Message: aws.String(msg)}
	}
	put := func(evs ...types.InputLogEvent) (*cwl.PutLogEventsOutput, error) {
		return c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: s, LogEvents: evs, SequenceToken: aws.String("whatever")})
	}
	cases := []struct {
		name string
		evs  []types.InputLogEvent
		want string
	}{
		{"out of order", []types.InputLogEvent{ev(now, "b"), ev(now-1, "a")}, "InvalidParameterException: Log events in a single PutLogEvents request must be in chronological order."},
		{"span over 24h", []types.InputLogEvent{ev(now-25*3600_000, "a"), ev(now, "b")}, "InvalidParameterException: The batch of log events in a single PutLogEvents request cannot span more than 24 hours."},
		{"too large", []types.InputLogEvent{ev(now, strings.Repeat("x", 600_000)), ev(now, strings.Repeat("y", 448_551))}, "InvalidParameterException: Upload too large: 1048603 bytes exceeds limit of 1048576"},
	}
	for _, tc := range cases {
		_, err := put(tc.evs...)
		if got := apiCode(err); got != tc.want {
			t.Errorf("%s: %s", tc.name, got)
		}
	}
	// Exactly 1 MiB with the 26-byte overhead is accepted.
	if _, err := put(ev(now, strings.Repeat("x", 600_000)), ev(now, strings.Repeat("y", 448_524))); err != nil {
		t.Fatalf("1 MiB batch: %v", err)
	}
	// Too old, too new: reported and not stored.
	day := int64(86_400_000)
	out, err := put(ev(now-14*day-3600_000, "too old"), ev(now-14*day+3600_000, "ten days"))
	if err != nil {
		t.Fatal(err)
	}
	ri := out.RejectedLogEventsInfo
	if ri == nil || *ri.TooOldLogEventEndIndex != 0 || ri.TooNewLogEventStartIndex != nil || ri.ExpiredLogEventEndIndex != nil || out.NextSequenceToken == nil {
		t.Fatalf("rejected %+v", ri)
	}
	out, err = put(ev(now, "now"), ev(now+3*3600_000, "too new"), ev(now+4*3600_000, "newer"))
	if err != nil {
		t.Fatal(err)
	}
	ri = out.RejectedLogEventsInfo
	if ri == nil || ri.TooOldLogEventEndIndex != nil || *ri.TooNewLogEventStartIndex != 1 || ri.ExpiredLogEventEndIndex != nil {
		t.Fatalf("rejected %+v", ri)
	}
	// Past retention: expired.
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: g, RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	if _, err := put(ev(now-8*day, "expired"), ev(now-8*day+3600_000, "expired too"), ev(now-6*day, "kept")); err == nil {
		t.Fatal("a 2-day span was accepted")
	}
	out, err = put(ev(now-7*day-3600_000, "expired"), ev(now-7*day+3600_000, "kept"))
	if err != nil || out.RejectedLogEventsInfo == nil || *out.RejectedLogEventsInfo.ExpiredLogEventEndIndex != 0 {
		t.Fatalf("expired: %v %+v", err, out)
	}
	got, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g, FilterPattern: aws.String("-xxxxxxxxxx -yyyyyyyyyy")})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, e := range got.Events {
		if len(*e.Message) < 20 {
			msgs = append(msgs, *e.Message)
		}
	}
	// "ten days" is now past the 7-day retention and no longer shown.
	if strings.Join(msgs, ",") != "kept,now" {
		t.Fatalf("stored %v", msgs)
	}
	_, err = c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: aws.String("nope"), LogEvents: []types.InputLogEvent{ev(now, "x")}})
	if got := apiCode(err); got != "ResourceNotFoundException: The specified log stream does not exist." {
		t.Fatalf("missing stream: %s", got)
	}
}

func TestAPIRetentionIsEnforced(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	c, st := serve(t, t.TempDir(), clock)
	g, s := aws.String("g"), aws.String("s")
	_, _ = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g})
	_, _ = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: s})
	if _, err := c.PutRetentionPolicy(ctx, &cwl.PutRetentionPolicyInput{LogGroupName: g, RetentionInDays: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	for day := 0; day < 3; day++ {
		ts := clock.Now().UnixMilli()
		if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: s,
			LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(ts), Message: aws.String(fmt.Sprintf("day %d", day))}}}); err != nil {
			t.Fatal(err)
		}
		clock.Add(20 * time.Hour)
	}
	// Now 60h after the first event: with a 1-day retention only the last
	// (20h old) remains.
	out, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g})
	if err != nil || len(out.Events) != 1 || *out.Events[0].Message != "day 2" {
		t.Fatalf("filter after retention: %v %+v", err, out)
	}
	st.Enforce()
	if st.StoredBytes() == 0 {
		t.Fatal("the live event's segment was dropped")
	}
	clock.Add(10 * time.Hour)
	st.Enforce()
	if st.StoredBytes() != 0 {
		t.Fatalf("%d bytes remain after every event expired", st.StoredBytes())
	}
}

func TestAPIGetAndFilter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	c, _ := serve(t, t.TempDir(), clock)
	g := aws.String("/aws/lambda/fn")
	_, _ = c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: g})
	now := clock.Now().UnixMilli()
	for i, s := range []string{"s1", "s2"} {
		_, _ = c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: g, LogStreamName: aws.String(s)})
		var evs []types.InputLogEvent
		for j := 0; j < 50; j++ {
			msg := fmt.Sprintf(`{"stream":%q,"n":%d,"level":"INFO"}`, s, j)
			if j%10 == 0 {
				msg = fmt.Sprintf(`{"stream":%q,"n":%d,"level":"ERROR","errorCode":"Lambda.FunctionError"}`, s, j)
			}
			evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(now + int64(j*2+i)), Message: aws.String(msg)})
		}
		if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: g, LogStreamName: aws.String(s), LogEvents: evs}); err != nil {
			t.Fatal(err)
		}
	}
	// GetLogEvents: newest by default, then backward.
	out, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: aws.String("s1"), Limit: aws.Int32(20)})
	if err != nil || len(out.Events) != 20 || !strings.Contains(*out.Events[19].Message, `"n":49`) {
		t.Fatalf("latest: %v %d", err, len(out.Events))
	}
	back, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: aws.String("s1"), NextToken: out.NextBackwardToken, Limit: aws.Int32(20)})
	if err != nil || len(back.Events) != 20 || !strings.Contains(*back.Events[19].Message, `"n":29`) {
		t.Fatalf("backward: %v %d", err, len(back.Events))
	}
	if !strings.HasPrefix(*out.NextForwardToken, "f/") || !strings.HasPrefix(*out.NextBackwardToken, "b/") {
		t.Fatalf("tokens %s %s", *out.NextForwardToken, *out.NextBackwardToken)
	}
	fwd, err := c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: aws.String("s1"), NextToken: out.NextForwardToken})
	if err != nil || len(fwd.Events) != 0 || *fwd.NextForwardToken != *out.NextForwardToken {
		t.Fatalf("at the end: %v %+v", err, fwd)
	}
	_, err = c.GetLogEvents(ctx, &cwl.GetLogEventsInput{LogGroupName: g, LogStreamName: aws.String("s1"), NextToken: aws.String("garbage")})
	if got := apiCode(err); got != "InvalidParameterException: The specified nextToken is invalid." {
		t.Fatalf("bad token: %s", got)
	}
	// FilterLogEvents with a JSON pattern over both streams, in pages.
	var got []string
	p := cwl.NewFilterLogEventsPaginator(c, &cwl.FilterLogEventsInput{LogGroupName: g, Limit: aws.Int32(3),
		FilterPattern: aws.String(`{ $.errorCode = "Lambda.*" && $.n >= 10 }`)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			got = append(got, fmt.Sprintf("%s:%s", *e.LogStreamName, (*e.Message)[strings.Index(*e.Message, `"n":`)+4:][:2]))
		}
	}
	if strings.Join(got, " ") != "s1:10 s2:10 s1:20 s2:20 s1:30 s2:30 s1:40 s2:40" {
		t.Fatalf("filtered: %v", got)
	}
	f, err := c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g, LogStreamNames: []string{"s2"}, FilterPattern: aws.String(`ERROR -"n\":0,"`),
		StartTime: aws.Int64(now + 30), EndTime: aws.Int64(now + 80)})
	if err != nil || len(f.Events) != 2 || *f.Events[0].LogStreamName != "s2" || len(*f.Events[0].EventId) != 56 || *f.Events[0].IngestionTime != now {
		t.Fatalf("streams and window: %v %+v", err, f.Events)
	}
	_, err = c.FilterLogEvents(ctx, &cwl.FilterLogEventsInput{LogGroupName: g, FilterPattern: aws.String(`{ $.a = `)})
	if got := apiCode(err); !strings.HasPrefix(got, "InvalidParameterException: Invalid filter pattern") {
		t.Fatalf("bad pattern: %s", got)
	}
}
