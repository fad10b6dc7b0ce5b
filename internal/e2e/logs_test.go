package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwl "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func logsClient(s *server) *cwl.Client {
	return cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

// eventsFile writes a --log-events file of messages stamped now, one
// millisecond apart.
func eventsFile(t *testing.T, msgs ...string) string {
	t.Helper()
	now := time.Now().UnixMilli()
	var evs []map[string]any
	for i, m := range msgs {
		evs = append(evs, map[string]any{"timestamp": now + int64(i), "message": m})
	}
	b, _ := json.Marshal(evs)
	p := filepath.Join(t.TempDir(), "events.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return "file://" + p
}

// TestLogsCLI drives the Logs API with the aws CLI v1 and v2: the recipe's
// create-log-group, streams, put-log-events, describe with the recipe's
// query, get-log-events, filter-log-events with a JSON pattern, retention,
// and (v2) logs tail, with and without --follow.
func TestLogsCLI(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, bin string }{{"v1", "aws"}, {"v2", "/usr/bin/aws"}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			bin := requireTool(t, c.bin)
			s := startServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			run := func(args ...string) string {
				t.Helper()
				out, errOut, code := s.cli(ctx, bin, args...)
				if code != 0 {
					t.Fatalf("aws %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
				}
				return out
			}
			group := "/aws/kinesisfirehose/clicks-stream-abc123"
			// The recipe's step 10 as written: create-log-group has no
			// --retention-in-days, so both CLIs refuse it before sending
			// anything (on AWS too) and the recipe's `|| echo` hides it.
			// Corrected: create-log-group, then put-retention-policy.
			out, errOut, code := s.cli(ctx, bin, "logs", "create-log-group", "--log-group-name", group, "--retention-in-days", "14")
			if code == 0 || !strings.Contains(errOut, "Unknown options: --retention-in-days, 14") {
				t.Fatalf("the recipe's create-log-group: exit %d %s%s", code, out, errOut)
			}
			run("logs", "create-log-group", "--log-group-name", group)
			_, errOut, code = s.cli(ctx, bin, "logs", "create-log-group", "--log-group-name", group)
			if code == 0 || !strings.Contains(errOut, "ResourceAlreadyExistsException") {
				t.Fatalf("second create: %d %s", code, errOut)
			}
			run("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "S3Delivery")
			run("logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", "2026/01/01/[$LATEST]0a1b")
			run("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "S3Delivery", "--log-events",
				eventsFile(t, `{"errorCode":"Lambda.FunctionError","latency":120}`, "plain INFO line", `{"errorCode":"S3.AccessDenied","latency":5}`))
			run("logs", "put-log-events", "--log-group-name", group, "--log-stream-name", "2026/01/01/[$LATEST]0a1b", "--log-events",
				eventsFile(t, "START RequestId: 1 Version: $LATEST", "ERROR something broke"))

			// The recipe's query; with more streams than --max-items the CLI
			// also prints the truncated page's "None" on a line of its own.
			name, _, _ := strings.Cut(run("logs", "describe-log-streams", "--log-group-name", group, "--order-by", "LastEventTime",
				"--descending", "--max-items", "1", "--query", "logStreams[0].logStreamName", "--output", "text"), "\n")
			if name != "2026/01/01/[$LATEST]0a1b" {
				t.Fatalf("newest stream %q", name)
			}
			var got struct{ Events []struct{ Message string } }
			if err := json.Unmarshal([]byte(run("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", name, "--limit", "10")), &got); err != nil {
				t.Fatal(err)
			}
			if len(got.Events) != 2 || got.Events[1].Message != "ERROR something broke" {
				t.Fatalf("get-log-events: %+v", got)
			}
			var filtered struct {
				Events []struct{ LogStreamName, Message string }
			}
			if err := json.Unmarshal([]byte(run("logs", "filter-log-events", "--log-group-name", group,
				"--filter-pattern", `{ $.errorCode = "Lambda.*" || $.latency < 10 }`)), &filtered); err != nil {
				t.Fatal(err)
			}
			if len(filtered.Events) != 2 || filtered.Events[0].LogStreamName != "S3Delivery" || !strings.Contains(filtered.Events[1].Message, "S3.AccessDenied") {
				t.Fatalf("filter-log-events: %+v", filtered)
			}
			run("logs", "put-retention-policy", "--log-group-name", group, "--retention-in-days", "14")
			days := strings.TrimSpace(run("logs", "describe-log-groups", "--log-group-name-prefix", "/aws/kinesisfirehose/",
				"--query", "logGroups[0].retentionInDays", "--output", "text"))
			if days != "14" {
				t.Fatalf("retention %q", days)
			}
			if c.name == "v2" {
				tail := run("logs", "tail", group, "--since", "1h", "--filter-pattern", "ERROR")
				if !strings.Contains(tail, "2026/01/01/[$LATEST]0a1b ERROR something broke") || strings.Contains(tail, "INFO") {
					t.Fatalf("logs tail:\n%s", tail)
				}
				followTail(ctx, t, s, bin, group)
			}
			run("logs", "delete-log-group", "--log-group-name", group)
			if out := run("logs", "describe-log-groups", "--query", "length(logGroups)", "--output", "text"); strings.TrimSpace(out) != "0" {
				t.Fatalf("groups after delete: %s", out)
			}
		})
	}
}

// followTail runs `aws logs tail --follow` and checks that events put
// while it runs appear in its output.
func followTail(ctx context.Context, t *testing.T, s *server, bin, group string) {
	t.Helper()
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, "--endpoint-url", s.URL, "logs", "tail", group, "--follow", "--format", "short")
	cmd.Env = s.awsEnv()
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	wait := func(want string) {
		t.Helper()
		deadline := time.After(90 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("logs tail --follow ended before %q", want)
				}
				if strings.Contains(l, want) {
					return
				}
			case <-deadline:
				t.Fatalf("logs tail --follow did not print %q", want)
			}
		}
	}
	wait("ERROR something broke") // what was there
	c := logsClient(s)
	if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String("S3Delivery"),
		LogEvents: []types.InputLogEvent{{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String("arrived while following")}}}); err != nil {
		t.Fatal(err)
	}
	wait("arrived while following")
}

// TestLogsFunctionOutput: a hosted function's output lands in
// /aws/lambda/NAME, in a stream named as Lambda names them, framed by
// START, END and REPORT, and the recipe's commands find and read it.
func TestLogsFunctionOutput(t *testing.T) {
	t.Parallel()
	e := newTransformEnv(t)
	name := "logger-fn"
	e.function(t, name, "def lambda_handler(event, context):\n    print('handling', event['n'])\n    return {'ok': True}\n", 30)
	for i := 0; i < 2; i++ {
		e.run(t, "lambda", "invoke", "--function-name", name, "--payload", fmt.Sprintf(`{"n": %d}`, i), filepath.Join(t.TempDir(), "out.json"))
	}
	v2 := requireTool(t, "/usr/bin/aws")
	group := "/aws/lambda/" + name
	var events []string
	waitFor(t, 90*time.Second, "the function's log events", func() bool {
		stream, _, code := e.s.cli(t.Context(), v2, "logs", "describe-log-streams", "--log-group-name", group, "--order-by", "LastEventTime",
			"--descending", "--max-items", "1", "--query", "logStreams[0].logStreamName", "--output", "text")
		stream, _, _ = strings.Cut(stream, "\n")
		if code != 0 || stream == "None" || stream == "" {
			return false
		}
		if !strings.HasPrefix(stream, time.Now().UTC().Format("2006/01/02")+"/[$LATEST]") || len(stream) != len("2006/01/02/[$LATEST]")+32 {
			t.Fatalf("stream name %q", stream)
		}
		out, errOut, code := e.s.cli(t.Context(), v2, "logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream, "--limit", "10")
		if code != 0 {
			t.Fatalf("get-log-events: %s", errOut)
		}
		var got struct{ Events []struct{ Message string } }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		events = events[:0]
		for _, ev := range got.Events {
			events = append(events, ev.Message)
		}
		return len(events) >= 8
	})
	all := strings.Join(events, "")
	for _, want := range []string{"START RequestId: ", "handling 0\n", "handling 1\n", "END RequestId: ", "REPORT RequestId: "} {
		if !strings.Contains(all, want) {
			t.Fatalf("%q missing from the function's log:\n%s", want, all)
		}
	}
	if !strings.HasPrefix(events[0], "START RequestId: ") || !strings.HasSuffix(events[0], "Version: $LATEST\n") {
		t.Fatalf("first event %q", events[0])
	}
	// The filter syntax works on function logs too.
	out := e.run(t, "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", `"handling 1"`)
	if strings.Count(out, `"eventId"`) != 1 {
		t.Fatalf("filter: %s", out)
	}
}

// TestLogsFirehoseErrorRecords: a stream with CloudWatchLoggingOptions
// whose Lambda processor fails writes Firehose's error record to the named
// group and stream (which the user creates, as with Firehose).
func TestLogsFirehoseErrorRecords(t *testing.T) {
	t.Parallel()
	e := newTransformEnv(t)
	arn := e.function(t, "broken-fn", "def lambda_handler(event, context):\n    raise ValueError('nope')\n", 30)
	group, stream := "/aws/kinesisfirehose/errs", "DestinationDelivery"
	e.run(t, "logs", "create-log-group", "--log-group-name", group)
	e.run(t, "logs", "create-log-stream", "--log-group-name", group, "--log-stream-name", stream)
	cfg := map[string]any{
		"DeliveryStreamName": "errs",
		"ExtendedS3DestinationConfiguration": map[string]any{
			"RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::errs",
			"Prefix": "data/", "ErrorOutputPrefix": "err/!{firehose:error-output-type}/",
			"BufferingHints":           map[string]any{"SizeInMBs": 1, "IntervalInSeconds": 0},
			"CloudWatchLoggingOptions": map[string]any{"Enabled": true, "LogGroupName": group, "LogStreamName": stream},
			"ProcessingConfiguration": map[string]any{"Enabled": true, "Processors": []any{map[string]any{
				"Type": "Lambda",
				"Parameters": []any{
					map[string]any{"ParameterName": "LambdaArn", "ParameterValue": arn},
					map[string]any{"ParameterName": "NumberOfRetries", "ParameterValue": "0"},
				},
			}}},
		},
	}
	b, _ := json.Marshal(cfg)
	p := filepath.Join(t.TempDir(), "stream.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	e.run(t, "firehose", "create-delivery-stream", "--cli-input-json", "file://"+p)
	e.put(t, "errs", "eyJhIjoxfQo=")
	_, errs := e.outcome(t, "errs", 1)
	if len(errs) != 1 || errs[0]["errorCode"] != "Lambda.FunctionError" {
		t.Fatalf("error output %v", errs)
	}
	var rec map[string]any
	waitFor(t, 90*time.Second, "the error record in CloudWatch Logs", func() bool {
		out := e.run(t, "logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream)
		var got struct{ Events []struct{ Message string } }
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Events) == 0 {
			return false
		}
		if err := json.Unmarshal([]byte(got.Events[0].Message), &rec); err != nil {
			t.Fatalf("record %q: %v", got.Events[0].Message, err)
		}
		return true
	})
	want := map[string]any{
		"deliveryStreamARN":       "arn:aws:firehose:us-east-1:000000000000:deliverystream/errs",
		"destination":             "arn:aws:s3:::errs",
		"deliveryStreamVersionId": float64(1),
		"errorCode":               "Lambda.FunctionError",
		"processor":               arn,
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %v, want %v (record %v)", k, rec[k], v, rec)
		}
	}
	if msg, _ := rec["message"].(string); msg != "The Lambda function was successfully invoked but it returned an error result." {
		t.Errorf("message %q", msg)
	}
	// The same records with a filter, as an alarm's metric filter would.
	out := e.run(t, "logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", `{ $.errorCode = "Lambda.*" }`)
	if !strings.Contains(out, "Lambda.FunctionError") {
		t.Fatalf("filter: %s", out)
	}
}

// TestLogsKillKeepsAcknowledged puts events from several writers with the
// Go SDK, SIGKILLs hydrant meanwhile, and finds every acknowledged event
// after a restart.
func TestLogsKillKeepsAcknowledged(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx := context.Background()
	c := logsClient(s)
	group := "/app/kill"
	if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(group)}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		stream := fmt.Sprintf("writer-%d", w)
		if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream)}); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; ; b++ {
				select {
				case <-stop:
					return
				default:
				}
				var evs []types.InputLogEvent
				var ids []string
				for i := 0; i < 200; i++ {
					id := fmt.Sprintf("%s/%d/%d", stream, b, i)
					ids = append(ids, id)
					evs = append(evs, types.InputLogEvent{Timestamp: aws.Int64(time.Now().UnixMilli()), Message: aws.String(id)})
				}
				if _, err := c.PutLogEvents(ctx, &cwl.PutLogEventsInput{LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: evs}); err != nil {
					return // the server is gone
				}
				mu.Lock()
				for _, id := range ids {
					acked[id] = true
				}
				mu.Unlock()
			}
		}()
	}
	waitFor(t, 30*time.Second, "some acknowledged batches", func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 4000 })
	s.Kill()
	close(stop)
	wg.Wait()
	s.Restart()
	found := map[string]bool{}
	p := cwl.NewFilterLogEventsPaginator(logsClient(s), &cwl.FilterLogEventsInput{LogGroupName: aws.String(group)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			if found[*ev.Message] {
				t.Fatalf("event %s twice", *ev.Message)
			}
			found[*ev.Message] = true
		}
	}
	missing := 0
	for id := range acked {
		if !found[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged events lost", missing, len(acked))
	}
	t.Logf("%d acknowledged events, %d found after SIGKILL and restart", len(acked), len(found))
}

// TestLogsBoto3 pages through groups, streams and events with boto3's
// paginators.
func TestLogsBoto3(t *testing.T) {
	t.Parallel()
	python := requireTool(t, "python3")
	s := startServer(t)
	script := `
import boto3, time, json
c = boto3.client("logs")
for i in range(3):
    c.create_log_group(logGroupName=f"/boto/g{i}", tags={"n": str(i)})
try:
    c.create_log_group(logGroupName="/boto/g0")
    raise SystemExit("duplicate accepted")
except c.exceptions.ResourceAlreadyExistsException:
    pass
names = [g["logGroupName"] for p in c.get_paginator("describe_log_groups").paginate(logGroupNamePrefix="/boto/", PaginationConfig={"PageSize": 1}) for g in p["logGroups"]]
assert names == ["/boto/g0", "/boto/g1", "/boto/g2"], names
c.create_log_stream(logGroupName="/boto/g0", logStreamName="s")
now = int(time.time() * 1000)
c.put_log_events(logGroupName="/boto/g0", logStreamName="s", logEvents=[{"timestamp": now + i, "message": json.dumps({"i": i, "level": "ERROR" if i % 3 == 0 else "INFO"})} for i in range(30)])
evs = [e for p in c.get_paginator("filter_log_events").paginate(logGroupName="/boto/g0", filterPattern='{ $.level = "ERROR" }', PaginationConfig={"PageSize": 4}) for e in p["events"]]
assert [json.loads(e["message"])["i"] for e in evs] == list(range(0, 30, 3)), evs
r = c.get_log_events(logGroupName="/boto/g0", logStreamName="s", startFromHead=True, limit=5)
assert [json.loads(e["message"])["i"] for e in r["events"]] == [0, 1, 2, 3, 4]
r2 = c.get_log_events(logGroupName="/boto/g0", logStreamName="s", nextToken=r["nextForwardToken"], limit=5)
assert [json.loads(e["message"])["i"] for e in r2["events"]] == [5, 6, 7, 8, 9]
assert c.list_tags_log_group(logGroupName="/boto/g1")["tags"] == {"n": "1"}
try:
    c.get_log_events(logGroupName="/boto/g0", logStreamName="missing")
    raise SystemExit("missing stream accepted")
except c.exceptions.ResourceNotFoundException as e:
    assert "log stream does not exist" in str(e), e
print("ok")
`
	cmd := exec.Command(python, "-c", script)
	cmd.Env = s.awsEnv()
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}

// TestLogsRequireSignature: with --credentials, the Logs API answers only
// requests signed with a configured key, and keeps names in the data dir.
func TestLogsRequireSignature(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--credentials", writeCredentials(t))
	ctx := context.Background()
	signed := func(id, secret string) *cwl.Client {
		return cwl.New(cwl.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")})
	}
	_, err := signed(authKeyID, "wrong").CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String("g")})
	if code, _ := apiErrorCode(err); code != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v", err)
	}
	req, _ := http.NewRequest("POST", s.URL+"/", strings.NewReader(`{"logGroupName":"g"}`))
	req.Header.Set("X-Amz-Target", "Logs_20140328.CreateLogGroup")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if st, typ, _ := awsError(t, req); st != 400 || typ != "MissingAuthenticationTokenException" {
		t.Fatalf("unsigned: %d %s", st, typ)
	}
	c := signed(authKeyID, authSecret)
	for _, g := range []string{"../..", "/../../etc", "a/./b#c"} {
		if _, err := c.CreateLogGroup(ctx, &cwl.CreateLogGroupInput{LogGroupName: aws.String(g)}); err != nil {
			t.Fatalf("%s: %v", g, err)
		}
		if _, err := c.CreateLogStream(ctx, &cwl.CreateLogStreamInput{LogGroupName: aws.String(g), LogStreamName: aws.String("../../../x")}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.DescribeLogGroups(ctx, &cwl.DescribeLogGroupsInput{})
	if err != nil || len(out.LogGroups) != 3 {
		t.Fatalf("groups: %v %+v", err, out)
	}
	for _, p := range []string{filepath.Join(s.DataDir, "..", "x"), filepath.Join(s.DataDir, "x"), filepath.Join(s.DataDir, "logs", "x"),
		filepath.Join(s.DataDir, "..", "etc"), filepath.Join(s.DataDir, "etc")} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("a name escaped its directory: %s exists", p)
		}
	}
}
