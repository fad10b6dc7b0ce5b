package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/hydrant-io/hydrant/internal/objstore/s3test"
	"github.com/hydrant-io/hydrant/internal/sns"
)

// fastClock runs hydrant's metric and alarm clock 60 times faster than
// real time (a hidden test-only flag), so that an alarm's minutes pass in
// seconds.
var fastClock = []string{"--metrics-clock-speed", "60"}

// webhook is an SNS http subscriber: it confirms subscriptions by visiting
// SubscribeURL, checks every message's signature against the certificate
// at its SigningCertURL (which must be hydrant's), and keeps the
// notifications.
type webhook struct {
	t      *testing.T
	hydURL string
	URL    string
	mu     sync.Mutex
	notes  []map[string]string
	ch     chan map[string]string
}

func newWebhook(t *testing.T, s *server) *webhook {
	w := &webhook{t: t, hydURL: s.URL, ch: make(chan map[string]string, 100)}
	hs := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(hs.Close)
	w.URL = hs.URL + "/hook"
	return w
}

func (w *webhook) serve(rw http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		w.t.Errorf("webhook: not JSON: %s", b)
		return
	}
	m := map[string]string{}
	for k, v := range doc {
		if s, ok := v.(string); ok {
			m[k] = s
		}
	}
	if r.Header.Get("x-amz-sns-message-type") != m["Type"] {
		w.t.Errorf("x-amz-sns-message-type %q for a %s", r.Header.Get("x-amz-sns-message-type"), m["Type"])
	}
	if !strings.HasPrefix(m["SigningCertURL"], w.hydURL+"/_hydrant/sns/") {
		w.t.Errorf("SigningCertURL %q is not hydrant's", m["SigningCertURL"])
		return
	}
	resp, err := http.Get(m["SigningCertURL"])
	if err != nil {
		w.t.Errorf("fetch certificate: %v", err)
		return
	}
	cert, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err := sns.Verify(m, cert); err != nil {
		w.t.Errorf("signature of %s %s: %v", m["Type"], m["MessageId"], err)
		return
	}
	switch m["Type"] {
	case "SubscriptionConfirmation":
		resp, err := http.Get(m["SubscribeURL"])
		if err != nil || resp.StatusCode != 200 {
			w.t.Errorf("confirm: %v %v", resp, err)
		}
		if resp != nil {
			resp.Body.Close()
		}
	case "Notification":
		w.mu.Lock()
		w.notes = append(w.notes, m)
		w.mu.Unlock()
		w.ch <- m
	}
}

// next waits for the next notification whose alarm message has the given
// NewStateValue, skipping others.
func (w *webhook) next(state string, timeout time.Duration) map[string]any {
	w.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case m := <-w.ch:
			var msg map[string]any
			if err := json.Unmarshal([]byte(m["Message"]), &msg); err != nil {
				w.t.Fatalf("alarm message is not JSON: %s", m["Message"])
			}
			msg["_subject"] = m["Subject"]
			if msg["NewStateValue"] == state {
				return msg
			}
		case <-deadline:
			w.t.Fatalf("no %s notification within %s", state, timeout)
			return nil
		}
	}
}

// TestAlarmOnDeliveryFailureReachesWebhook is the README's scenario: an
// alarm on DeliveryToS3.Success < 1 for 1 of 1 minutes, its topic
// subscribed by a local webhook. The S3 server the test started stops: the
// webhook gets ALARM; it comes back: the webhook gets OK. Driven by the
// aws CLI v2 (awsQuery) and v1 (awsJson for CloudWatch).
func TestAlarmOnDeliveryFailureReachesWebhook(t *testing.T) {
	v1 := requireTool(t, "aws")
	v2 := "/usr/bin/aws"
	if _, err := os.Stat(v2); err != nil {
		requireTool(t, "aws-cli-v2-at-/usr/bin/aws")
	}
	// Not parallel: startWithS3 sets the environment hydrant inherits.
	s, endpoint, stopS3, restartS3 := startWithS3(t, fastClock...)
	s3test.CreateBucket(t, endpoint, "alarmed")
	c := sdkClient(s)
	createStream(t, c, "clicks", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::alarmed"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := func(cli string, args ...string) string {
		t.Helper()
		out, errOut, code := s.cli(ctx, cli, args...)
		if code != 0 {
			t.Fatalf("%s %s: exit %d\n%s%s", cli, strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	hook := newWebhook(t, s)
	var topic struct{ TopicArn string }
	_ = json.Unmarshal([]byte(run(v2, "sns", "create-topic", "--name", "ops-alerts")), &topic)
	run(v1, "sns", "subscribe", "--topic-arn", topic.TopicArn, "--protocol", "http", "--notification-endpoint", hook.URL)
	waitFor(t, 10*time.Second, "the webhook's subscription confirmed", func() bool {
		var subs struct {
			Subscriptions []struct{ SubscriptionArn string }
		}
		_ = json.Unmarshal([]byte(run(v2, "sns", "list-subscriptions-by-topic", "--topic-arn", topic.TopicArn)), &subs)
		return len(subs.Subscriptions) == 1 && strings.HasPrefix(subs.Subscriptions[0].SubscriptionArn, topic.TopicArn+":")
	})

	// A producer that keeps the stream delivering.
	var sent atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		for !stop.Load() {
			// No cancellation: a request cut short could be counted by
			// hydrant and not by the test.
			_, err := c.PutRecord(context.Background(), &fh.PutRecordInput{DeliveryStreamName: aws.String("clicks"), Record: &types.Record{Data: []byte("{\"n\":1}\n")}})
			if err == nil {
				sent.Add(1)
			}
			time.Sleep(40 * time.Millisecond)
		}
	})
	defer func() { stop.Store(true); wg.Wait() }()

	run(v2, "cloudwatch", "put-metric-alarm", "--alarm-name", "clicks-delivery-failing",
		"--alarm-description", "Firehose cannot write to S3",
		"--namespace", "AWS/Firehose", "--metric-name", "DeliveryToS3.Success",
		"--dimensions", "Name=DeliveryStreamName,Value=clicks",
		"--statistic", "Average", "--period", "60", "--evaluation-periods", "1", "--datapoints-to-alarm", "1",
		"--threshold", "1", "--comparison-operator", "LessThanThreshold", "--treat-missing-data", "ignore",
		"--alarm-actions", topic.TopicArn, "--ok-actions", topic.TopicArn)
	ok := hook.next("OK", 30*time.Second)
	if ok["OldStateValue"] != "INSUFFICIENT_DATA" {
		t.Errorf("first OK notification: %v", ok)
	}

	stopS3()
	alarm := hook.next("ALARM", 30*time.Second)
	reason, _ := alarm["NewStateReason"].(string)
	trig, _ := alarm["Trigger"].(map[string]any)
	if alarm["_subject"] != `ALARM: "clicks-delivery-failing" in US East (N. Virginia)` || alarm["AlarmName"] != "clicks-delivery-failing" ||
		alarm["OldStateValue"] != "OK" || alarm["AlarmDescription"] != "Firehose cannot write to S3" ||
		!strings.HasPrefix(reason, "Threshold Crossed: 1 datapoint [") || !strings.HasSuffix(reason, "was less than the threshold (1.0).") ||
		trig["MetricName"] != "DeliveryToS3.Success" || trig["Namespace"] != "AWS/Firehose" || trig["Statistic"] != "AVERAGE" {
		t.Errorf("ALARM notification: %v", alarm)
	}
	// The CLI sees the state too (v1 speaks awsJson to CloudWatch).
	var desc struct {
		MetricAlarms []struct{ AlarmName, StateValue, StateReason string }
	}
	_ = json.Unmarshal([]byte(run(v1, "cloudwatch", "describe-alarms", "--alarm-name-prefix", "clicks-")), &desc)
	if len(desc.MetricAlarms) != 1 || desc.MetricAlarms[0].StateValue == "INSUFFICIENT_DATA" {
		t.Errorf("describe-alarms: %+v", desc)
	}

	restartS3()
	back := hook.next("OK", 60*time.Second)
	if back["OldStateValue"] != "ALARM" || !strings.Contains(back["NewStateReason"].(string), "was not less than the threshold (1.0)") {
		t.Errorf("OK notification: %v", back)
	}
	var hist struct {
		AlarmHistoryItems []struct{ HistoryItemType, HistorySummary string }
	}
	_ = json.Unmarshal([]byte(run(v2, "cloudwatch", "describe-alarm-history", "--alarm-name", "clicks-delivery-failing", "--history-item-type", "StateUpdate")), &hist)
	var summaries []string
	for _, h := range hist.AlarmHistoryItems {
		summaries = append(summaries, h.HistorySummary)
	}
	if len(summaries) != 3 || summaries[0] != "Alarm updated from ALARM to OK" || summaries[1] != "Alarm updated from OK to ALARM" {
		t.Errorf("history: %v", summaries)
	}

	// get-metric-statistics answers with what the stream did.
	stop.Store(true)
	wg.Wait()
	waitFor(t, 10*time.Second, "IncomingRecords to count every acknowledged record", func() bool {
		out, _, code := s.cli(context.Background(), v1, "cloudwatch", "get-metric-statistics", "--namespace", "AWS/Firehose",
			"--metric-name", "IncomingRecords", "--dimensions", "Name=DeliveryStreamName,Value=clicks",
			"--start-time", time.Now().Add(-2*time.Hour).UTC().Format(time.RFC3339), "--end-time", time.Now().Add(22*time.Hour).UTC().Format(time.RFC3339),
			"--period", "86400", "--statistics", "Sum")
		var st struct{ Datapoints []struct{ Sum float64 } }
		_ = json.Unmarshal([]byte(out), &st)
		total := 0.0
		for _, d := range st.Datapoints {
			total += d.Sum
		}
		return code == 0 && int64(total) == sent.Load()
	})
}

// pyFunction is a hosted python function's package.
func pyFunction(t *testing.T, code string) string {
	return fnZip(t, map[string][]byte{"index.py": []byte(code)})
}

// TestLambdaErrorsAlarmRemediates: an alarm on AWS/Lambda Errors of a
// function that raises; its topic invokes a hosted function (the
// remediation hook) that calls hydrant's own Firehose API
// (UpdateDestination), and notifies a webhook. Driven by boto3 (awsJson
// for CloudWatch, awsQuery for SNS).
//
// With --credentials the same holds: SNS's webhook URLs need no keys, and
// the remediation function calls back with the temporary keys hydrant
// gives hosted functions.
func TestLambdaErrorsAlarmRemediates(t *testing.T) {
	python := requireTool(t, "python3")
	t.Parallel()
	for _, signed := range []bool{false, true} {
		name := "open"
		if signed {
			name = "credentials"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			remediate(t, python, signed)
		})
	}
}

func remediate(t *testing.T, python string, signed bool) {
	args, keyID, secret := fastClock, "test", "test"
	if signed {
		args = append([]string{"--credentials", writeCredentials(t)}, fastClock...)
		keyID, secret = authKeyID, authSecret
	}
	s := startServer(t, args...)
	c := authClient(s, keyID, secret, nil)
	createStream(t, c, "orders", &types.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::orders"), Prefix: aws.String("raw/"),
	})
	hook := newWebhook(t, s)
	dir := t.TempDir()
	bad := pyFunction(t, "def handler(event, context):\n    raise ValueError('bad record')\n")
	fixer := pyFunction(t, `import json, boto3
def handler(event, context):
    msg = json.loads(event["Records"][0]["Sns"]["Message"])
    fh = boto3.client("firehose")
    d = fh.describe_delivery_stream(DeliveryStreamName="orders")["DeliveryStreamDescription"]
    fh.update_destination(DeliveryStreamName="orders", CurrentDeliveryStreamVersionId=d["VersionId"],
        DestinationId=d["Destinations"][0]["DestinationId"],
        ExtendedS3DestinationUpdate={"Prefix": "quarantine/" + msg["AlarmName"] + "/"})
    return {"remediated": msg["AlarmName"]}
`)
	script := `
import os, re, sys, json, time, boto3, botocore
kw = dict(endpoint_url=os.environ["HYDRANT_URL"], region_name="us-east-1", aws_access_key_id=os.environ["KEY_ID"], aws_secret_access_key=os.environ["SECRET"])
lam, cw, sns = boto3.client("lambda", **kw), boto3.client("cloudwatch", **kw), boto3.client("sns", **kw)
for name, path in (("bad", sys.argv[1]), ("fixer", sys.argv[2])):
    lam.create_function(FunctionName=name, Runtime="python3.12", Role="arn:aws:iam::000000000000:role/r",
                        Handler="index.handler", Code={"ZipFile": open(path, "rb").read()}, Timeout=30)
topic = sns.create_topic(Name="remediate")["TopicArn"]
sns.subscribe(TopicArn=topic, Protocol="lambda", Endpoint="arn:aws:lambda:us-east-1:000000000000:function:fixer")
sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=sys.argv[3])
cw.put_metric_alarm(AlarmName="bad-errors", Namespace="AWS/Lambda", MetricName="Errors",
    Dimensions=[{"Name": "FunctionName", "Value": "bad"}], Statistic="Sum", Period=60, EvaluationPeriods=1,
    Threshold=0, ComparisonOperator="GreaterThanThreshold", TreatMissingData="notBreaching", AlarmActions=[topic])
try:
    cw.put_metric_alarm(AlarmName="x", Namespace="AWS/Lambda", MetricName="Errors", Statistic="Sum", Period=45,
        EvaluationPeriods=1, Threshold=0, ComparisonOperator="GreaterThanThreshold")
    sys.exit("expected InvalidParameterValue")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidParameterValue", e.response
for i in range(3):
    r = lam.invoke(FunctionName="bad", Payload=b"{}")
    assert r.get("FunctionError") == "Unhandled", r
deadline = time.time() + 30
while time.time() < deadline:
    a = cw.describe_alarms(AlarmNames=["bad-errors"])["MetricAlarms"][0]
    if a["StateValue"] == "ALARM":
        break
    time.sleep(0.2)
else:
    sys.exit("alarm never fired: %s" % a)
# The alarm may be evaluated between two of the three invocations.
assert re.match(r"Threshold Crossed: 1 datapoint \[[123]\.0 \(", a["StateReason"]), a["StateReason"]
print("OK")
`
	cmd := exec.Command(python, "-c", script, bad, fixer, hook.URL)
	cmd.Env = append(os.Environ(), "HYDRANT_URL="+s.URL, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"KEY_ID="+keyID, "SECRET="+secret)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "OK") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	note := hook.next("ALARM", 20*time.Second)
	if trig := note["Trigger"].(map[string]any); trig["Namespace"] != "AWS/Lambda" || trig["MetricName"] != "Errors" {
		t.Errorf("notification: %v", note)
	}
	waitFor(t, 30*time.Second, "the remediation function's UpdateDestination", func() bool {
		d, err := c.DescribeDeliveryStream(context.Background(), &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("orders")})
		return err == nil && aws.ToString(d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription.Prefix) == "quarantine/bad-errors/"
	})
}

// TestCloudWatchMetricsBoto3AndSDK: custom metrics, GetMetricData with
// metric math, CloudWatch's error codes, SetAlarmState, and a restart
// that keeps alarm states and history; through boto3 (awsJson), the CLI
// v2 (awsQuery) and aws-sdk-go-v2 (RPC v2 CBOR).
func TestCloudWatchMetricsBoto3AndSDK(t *testing.T) {
	python := requireTool(t, "python3")
	t.Parallel()
	s := startServer(t)
	script := `
import os, sys, json, time, datetime, boto3, botocore
kw = dict(endpoint_url=os.environ["HYDRANT_URL"], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
cw = boto3.client("cloudwatch", **kw)
now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
t0 = now - datetime.timedelta(minutes=5)
data = []
for m in range(5):
    ts = t0 + datetime.timedelta(minutes=m)
    data.append({"MetricName": "Requests", "Dimensions": [{"Name": "Api", "Value": "orders"}], "Timestamp": ts, "Value": 100.0, "Unit": "Count"})
    data.append({"MetricName": "Failures", "Dimensions": [{"Name": "Api", "Value": "orders"}], "Timestamp": ts, "Value": float(m * 10), "Unit": "Count"})
    data.append({"MetricName": "Latency", "Dimensions": [{"Name": "Api", "Value": "orders"}], "Timestamp": ts, "Values": [10, 20, 30, 400], "Counts": [50, 30, 19, 1], "Unit": "Milliseconds"})
cw.put_metric_data(Namespace="Shop", MetricData=data)
r = cw.get_metric_data(StartTime=t0, EndTime=now, ScanBy="TimestampAscending", MetricDataQueries=[
    {"Id": "rate", "Expression": "100 * f / r", "Label": "Failure rate"},
    {"Id": "alarming", "Expression": "IF(rate > 15, 1, 0)"},
    {"Id": "total", "Expression": "SUM(METRICS())"},
    {"Id": "f", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Failures", "Dimensions": [{"Name": "Api", "Value": "orders"}]}, "Period": 60, "Stat": "Sum"}},
    {"Id": "r", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Requests", "Dimensions": [{"Name": "Api", "Value": "orders"}]}, "Period": 60, "Stat": "Sum"}},
])
res = {x["Id"]: x for x in r["MetricDataResults"]}
r = cw.get_metric_data(StartTime=t0, EndTime=now, MetricDataQueries=[
    {"Id": "p99", "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Latency", "Dimensions": [{"Name": "Api", "Value": "orders"}]}, "Period": 300, "Stat": "p99"}}])
res["p99"] = r["MetricDataResults"][0]
assert res["rate"]["Values"] == [0.0, 10.0, 20.0, 30.0, 40.0], res["rate"]
assert res["rate"]["Label"] == "Failure rate" and res["rate"]["StatusCode"] == "Complete", res["rate"]
assert res["alarming"]["Values"] == [0.0, 0.0, 1.0, 1.0, 1.0], res["alarming"]
assert res["total"]["Values"] == [100.0, 110.0, 120.0, 130.0, 140.0], res["total"]
assert len(res["p99"]["Values"]) == 1 and 29 <= res["p99"]["Values"][0] <= 31, res["p99"]
assert res["rate"]["Timestamps"][0] == t0, res["rate"]["Timestamps"]
st = cw.get_metric_statistics(Namespace="Shop", MetricName="Latency", Dimensions=[{"Name": "Api", "Value": "orders"}],
    StartTime=t0, EndTime=now, Period=300, Statistics=["SampleCount", "Maximum"], ExtendedStatistics=["p50", "p90"])
dp = st["Datapoints"][0]
assert dp["SampleCount"] == 500 and dp["Maximum"] == 400 and dp["Unit"] == "Milliseconds", dp
assert 9.8 <= dp["ExtendedStatistics"]["p50"] <= 10.2 and 29.4 <= dp["ExtendedStatistics"]["p90"] <= 30.6, dp
for bad, code in (
    (lambda: cw.get_metric_statistics(Namespace="Shop", MetricName="Latency", StartTime=t0, EndTime=now, Period=61, Statistics=["Sum"]), "InvalidParameterValue"),
    (lambda: cw.get_metric_statistics(Namespace="Shop", MetricName="Latency", StartTime=now - datetime.timedelta(days=3), EndTime=now, Period=60, Statistics=["Sum"]), "InvalidParameterCombination"),
    (lambda: cw.get_metric_statistics(Namespace="Shop", MetricName="Latency", StartTime=t0, EndTime=now, Period=60), "MissingParameter"),
    (lambda: cw.put_metric_data(Namespace="Shop", MetricData=[{"MetricName": "x", "Value": 1, "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}]), "InvalidParameterCombination"),
    (lambda: cw.get_metric_data(StartTime=t0, EndTime=now, MetricDataQueries=[{"Id": "e", "Expression": "nope * 2"}]), "InvalidParameterValue"),
    (lambda: cw.set_alarm_state(AlarmName="missing", StateValue="OK", StateReason="x"), "ResourceNotFound"),
):
    try:
        bad()
        sys.exit("expected " + code)
    except botocore.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == code, (code, e.response)
cw.put_metric_alarm(AlarmName="failure-rate", EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=15, TreatMissingData="ignore",
    ComparisonOperator="GreaterThanThreshold", Metrics=[
    {"Id": "rate", "Expression": "100 * f / r"},
    {"Id": "f", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Failures", "Dimensions": [{"Name": "Api", "Value": "orders"}]}, "Period": 60, "Stat": "Sum"}},
    {"Id": "r", "ReturnData": False, "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Requests", "Dimensions": [{"Name": "Api", "Value": "orders"}]}, "Period": 60, "Stat": "Sum"}}],
    Tags=[{"Key": "team", "Value": "shop"}])
cw.set_alarm_state(AlarmName="failure-rate", StateValue="ALARM", StateReason="drill", StateReasonData='{"drill": true}')
a = cw.describe_alarms(AlarmNames=["failure-rate"])["MetricAlarms"][0]
assert a["StateValue"] == "ALARM" and a["StateReason"] == "drill", a
arn = a["AlarmArn"]
assert cw.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "team", "Value": "shop"}]
m = cw.list_metrics(Namespace="Shop")["Metrics"]
assert sorted(x["MetricName"] for x in m) == ["Failures", "Latency", "Requests"], m
print("OK")
`
	py := func(src string) {
		t.Helper()
		cmd := exec.Command(python, "-c", src)
		cmd.Env = append(os.Environ(), "HYDRANT_URL="+s.URL, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "OK") {
			t.Fatalf("boto3: %v\n%s", err, out)
		}
	}
	py(script)

	// The CLI v2 (awsQuery): TagResource goes to CloudWatch by its
	// signature's scope, and the alarm is there.
	if _, err := os.Stat("/usr/bin/aws"); err == nil {
		ctx := context.Background()
		out, errOut, code := s.cli(ctx, "/usr/bin/aws", "cloudwatch", "describe-alarms", "--state-value", "ALARM")
		if code != 0 || !strings.Contains(out, `"failure-rate"`) {
			t.Errorf("v2 describe-alarms: %d %s %s", code, out, errOut)
		}
		arn := "arn:aws:cloudwatch:us-east-1:000000000000:alarm:failure-rate"
		if _, errOut, code := s.cli(ctx, "/usr/bin/aws", "cloudwatch", "tag-resource", "--resource-arn", arn, "--tags", "Key=tier,Value=1"); code != 0 {
			t.Errorf("v2 tag-resource: %s", errOut)
		}
		out, errOut, code = s.cli(ctx, "/usr/bin/aws", "cloudwatch", "get-metric-statistics", "--namespace", "Shop", "--metric-name", "Latency",
			"--dimensions", "Name=Api,Value=orders", "--start-time", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
			"--end-time", time.Now().Add(time.Minute).UTC().Format(time.RFC3339), "--period", "3600", "--statistics", "Sum", "--unit", "Milliseconds")
		if code != 0 || !strings.Contains(out, `"Sum": 10350.0`) {
			t.Errorf("v2 get-metric-statistics: %d %s %s", code, out, errOut)
		}
		_, errOut, code = s.cli(ctx, "/usr/bin/aws", "cloudwatch", "put-metric-data", "--namespace", "Shop", "--metric-name", "x", "--value", "1",
			"--dimensions", strings.TrimSuffix(strings.Repeat("a=b,", 31), ","))
		if code == 0 {
			t.Errorf("31 dimensions accepted: %s", errOut)
		}
	}

	// aws-sdk-go-v2 sends RPC v2 CBOR.
	cw := cloudwatch.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: sdkClient(s).Options().Credentials, BaseEndpoint: aws.String(s.URL)})
	got, err := cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{StateValue: cwtypes.StateValueAlarm})
	if err != nil || len(got.MetricAlarms) != 1 || aws.ToString(got.MetricAlarms[0].AlarmName) != "failure-rate" {
		t.Fatalf("CBOR DescribeAlarms: %+v %v", got, err)
	}
	tags, err := cw.ListTagsForResource(context.Background(), &cloudwatch.ListTagsForResourceInput{ResourceARN: got.MetricAlarms[0].AlarmArn})
	if err != nil || len(tags.Tags) != 2 {
		t.Errorf("tags: %+v %v", tags, err)
	}

	// A restart keeps the alarm's state, its reason and its history.
	s.Stop()
	s.Restart()
	py(`
import os, boto3
cw = boto3.client("cloudwatch", endpoint_url=os.environ["HYDRANT_URL"], region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
a = cw.describe_alarms(AlarmNames=["failure-rate"])["MetricAlarms"][0]
assert a["StateValue"] == "ALARM" and a["StateReason"] == "drill", a
h = cw.describe_alarm_history(AlarmName="failure-rate")["AlarmHistoryItems"]
assert [x["HistorySummary"] for x in h] == ["Alarm updated from INSUFFICIENT_DATA to ALARM", 'Alarm "failure-rate" created'], h
s = cw.get_metric_statistics(Namespace="Shop", MetricName="Requests", Dimensions=[{"Name": "Api", "Value": "orders"}],
    StartTime=a["StateUpdatedTimestamp"].replace(hour=0, minute=0) , EndTime=a["StateUpdatedTimestamp"].replace(hour=23, minute=59), Period=86400, Statistics=["Sum"])
assert sum(d["Sum"] for d in s["Datapoints"]) >= 500, s
print("OK")
`)
	_ = filepath.Join
	_ = fmt.Sprint
}
