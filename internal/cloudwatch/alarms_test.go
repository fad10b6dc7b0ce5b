package cloudwatch

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/cwmetrics"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type published struct{ topic, subject, message string }

type fakeSNS struct {
	mu   sync.Mutex
	msgs []published
}

func (f *fakeSNS) Publish(ctx context.Context, topic, subject, message string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = append(f.msgs, published{topic, subject, message})
	return nil
}

func (f *fakeSNS) take() []published {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.msgs
	f.msgs = nil
	return m
}

var base = time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)

type rig struct {
	t     *testing.T
	clock *testClock
	store *cwmetrics.Store
	svc   *Service
	sns   *fakeSNS
	dir   string
}

func newRig(t *testing.T, dir string, clock *testClock) *rig {
	t.Helper()
	if clock == nil {
		clock = &testClock{t: base}
	}
	st, err := cwmetrics.Open(cwmetrics.Options{Dir: dirOr(dir, "metrics"), Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	sns := &fakeSNS{}
	svc, err := New(Options{Store: st, Dir: dirOr(dir, "cloudwatch"), Notifier: sns})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, clock: clock, store: st, svc: svc, sns: sns, dir: dir}
}

func dirOr(dir, sub string) string {
	if dir == "" {
		return ""
	}
	return dir + "/" + sub
}

// call runs an operation with an awsJson body.
func (r *rig) call(op string, in any) (map[string]any, error) {
	r.t.Helper()
	b, _ := json.Marshal(in)
	res, err := r.svc.API().Ops[op](context.Background(), b)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if res != nil {
		rb, ok := res.(awsproto.RawJSON)
		if !ok {
			rb, _ = json.Marshal(res)
		}
		if err := json.Unmarshal(rb, &out); err != nil {
			r.t.Fatalf("%s answer %s: %v", op, rb, err)
		}
	}
	return out, nil
}

func (r *rig) must(op string, in any) map[string]any {
	r.t.Helper()
	out, err := r.call(op, in)
	if err != nil {
		r.t.Fatalf("%s: %v", op, err)
	}
	return out
}

func (r *rig) series(name string) *cwmetrics.Series {
	sr, err := r.store.Series(cwmetrics.NewMetric("AWS/Firehose", name, cwmetrics.Dimension{Name: "DeliveryStreamName", Value: "s"}))
	if err != nil {
		r.t.Fatal(err)
	}
	return sr
}

// at evaluates at minute m (plus 5 s) after base.
func (r *rig) evalAt(m int) {
	r.clock.Set(base.Add(time.Duration(m)*time.Minute + 5*time.Second))
	r.svc.Tick(context.Background(), nil)
}

func (r *rig) state(name string) (string, string) {
	r.t.Helper()
	out := r.must("DescribeAlarms", map[string]any{"AlarmNames": []string{name}})
	list := out["MetricAlarms"].([]any)
	if len(list) != 1 {
		r.t.Fatalf("DescribeAlarms %s: %v", name, out)
	}
	a := list[0].(map[string]any)
	return a["StateValue"].(string), a["StateReason"].(string)
}

const topic = "arn:aws:sns:us-east-1:000000000000:ops"

func TestDeliveryAlarmFiresAndClears(t *testing.T) {
	r := newRig(t, "", nil)
	r.must("PutMetricAlarm", map[string]any{
		"AlarmName": "delivery", "AlarmDescription": "S3 delivery failing",
		"Namespace": "AWS/Firehose", "MetricName": "DeliveryToS3.Success", "Statistic": "Average",
		"Dimensions": []map[string]string{{"Name": "DeliveryStreamName", "Value": "s"}},
		"Period":     60, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "LessThanThreshold",
		"AlarmActions": []string{topic}, "OKActions": []string{topic},
	})
	if st, reason := r.state("delivery"); st != StateInsufficient || reason != "Unchecked: Initial alarm creation" {
		t.Fatalf("new alarm: %s %q", st, reason)
	}
	succ := r.series("DeliveryToS3.Success")
	succ.Record(base.Add(10*time.Second), cwmetrics.UnitNone, 1, false)
	r.evalAt(1)
	if st, _ := r.state("delivery"); st != StateOK {
		t.Fatalf("after a success: %s", st)
	}
	if got := r.sns.take(); len(got) != 1 || !strings.Contains(got[0].message, `"NewStateValue":"OK"`) {
		t.Fatalf("OK notification: %+v", got)
	}
	// Minute 1: two failed attempts.
	succ.Record(base.Add(70*time.Second), cwmetrics.UnitNone, 0, false)
	succ.Record(base.Add(80*time.Second), cwmetrics.UnitNone, 0, false)
	r.evalAt(2)
	st, reason := r.state("delivery")
	want := "Threshold Crossed: 1 datapoint [0.0 (25/11/26 22:01:00)] was less than the threshold (1.0)."
	if st != StateAlarm || reason != want {
		t.Fatalf("after failures: %s %q, want %q", st, reason, want)
	}
	got := r.sns.take()
	if len(got) != 1 || got[0].topic != topic || got[0].subject != `ALARM: "delivery" in US East (N. Virginia)` {
		t.Fatalf("ALARM notification: %+v", got)
	}
	var msg map[string]any
	if err := json.Unmarshal([]byte(got[0].message), &msg); err != nil {
		t.Fatal(err)
	}
	trig := msg["Trigger"].(map[string]any)
	if msg["NewStateValue"] != "ALARM" || msg["OldStateValue"] != "OK" || msg["NewStateReason"] != want ||
		msg["AlarmDescription"] != "S3 delivery failing" || trig["MetricName"] != "DeliveryToS3.Success" || trig["Statistic"] != "AVERAGE" ||
		msg["StateChangeTime"] != "2026-11-25T22:02:05.000+0000" {
		t.Errorf("message: %s", got[0].message)
	}
	// Staying in ALARM notifies nothing more.
	succ.Record(base.Add(130*time.Second), cwmetrics.UnitNone, 0, false)
	r.evalAt(3)
	if got := r.sns.take(); len(got) != 0 {
		t.Errorf("notified again: %+v", got)
	}
	// Back to OK.
	succ.Record(base.Add(190*time.Second), cwmetrics.UnitNone, 1, false)
	r.evalAt(4)
	if st, reason := r.state("delivery"); st != StateOK || reason != "Threshold Crossed: 1 datapoint [1.0 (25/11/26 22:03:00)] was not less than the threshold (1.0)." {
		t.Fatalf("recovered: %s %q", st, reason)
	}
	if got := r.sns.take(); len(got) != 1 || !strings.Contains(got[0].subject, "OK:") {
		t.Fatalf("OK notification: %+v", got)
	}
	// History: created, four state updates, three actions.
	h := r.must("DescribeAlarmHistory", map[string]any{"AlarmName": "delivery", "HistoryItemType": "StateUpdate"})
	items := h["AlarmHistoryItems"].([]any)
	if len(items) != 3 || items[0].(map[string]any)["HistorySummary"] != "Alarm updated from ALARM to OK" {
		t.Errorf("history: %v", items)
	}
	acts := r.must("DescribeAlarmHistory", map[string]any{"AlarmName": "delivery", "HistoryItemType": "Action"})
	if n := len(acts["AlarmHistoryItems"].([]any)); n != 3 {
		t.Errorf("actions in history: %d", n)
	}
}

func TestTreatMissingData(t *testing.T) {
	// 3 of 3; the pattern is minutes 0..4, oldest first: '0' good, 'X'
	// breaching, '-' missing; evaluated at minute 5. Rows from CloudWatch's
	// documentation of missing-data treatment.
	cases := []struct {
		pattern string
		want    map[string]string // by treatment; "keep" = unchanged
	}{
		{"0-X-X", map[string]string{"missing": StateOK, "ignore": StateOK, "breaching": StateAlarm, "notBreaching": StateOK}},
		{"0----", map[string]string{"missing": StateOK, "ignore": StateOK, "breaching": StateAlarm, "notBreaching": StateOK}},
		{"-----", map[string]string{"missing": StateInsufficient, "ignore": "keep", "breaching": StateAlarm, "notBreaching": StateOK}},
		{"0XX-X", map[string]string{"missing": StateAlarm, "ignore": StateAlarm, "breaching": StateAlarm, "notBreaching": StateOK}},
		{"--X--", map[string]string{"missing": StateAlarm, "ignore": "keep", "breaching": StateAlarm, "notBreaching": StateOK}},
	}
	for _, c := range cases {
		for tmd, want := range c.want {
			r := newRig(t, "", nil)
			r.must("PutMetricAlarm", map[string]any{
				"AlarmName": "a", "Namespace": "AWS/Firehose", "MetricName": "ThrottledRecords", "Statistic": "Sum",
				"Dimensions": []map[string]string{{"Name": "DeliveryStreamName", "Value": "s"}},
				"Period":     60, "EvaluationPeriods": 3, "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
				"TreatMissingData": tmd,
			})
			sr := r.series("ThrottledRecords")
			for i, ch := range c.pattern {
				switch ch {
				case '0':
					sr.Record(base.Add(time.Duration(i)*time.Minute), cwmetrics.UnitCount, 0, false)
				case 'X':
					sr.Record(base.Add(time.Duration(i)*time.Minute), cwmetrics.UnitCount, 5, false)
				}
			}
			r.evalAt(5)
			st, reason := r.state("a")
			if want == "keep" {
				want = StateInsufficient
				if reason != "Unchecked: Initial alarm creation" {
					t.Errorf("%s %s: reason %q, want the state kept", c.pattern, tmd, reason)
				}
			}
			if st != want {
				t.Errorf("%s %s: %s (%s), want %s", c.pattern, tmd, st, reason, want)
			}
		}
	}
}

func TestMathAlarmAndRestart(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, dir, nil)
	// Error rate of a function: 100 * Errors / Invocations > 10, 2 of 3.
	r.must("PutMetricAlarm", map[string]any{
		"AlarmName": "error-rate", "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 10,
		"ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching",
		"Metrics": []map[string]any{
			{"Id": "rate", "Expression": "100 * errors / FILL(invocations, 1)", "Label": "Error rate"},
			{"Id": "errors", "ReturnData": false, "MetricStat": map[string]any{"Metric": map[string]any{"Namespace": "AWS/Lambda", "MetricName": "Errors",
				"Dimensions": []map[string]string{{"Name": "FunctionName", "Value": "f"}}}, "Period": 60, "Stat": "Sum"}},
			{"Id": "invocations", "ReturnData": false, "MetricStat": map[string]any{"Metric": map[string]any{"Namespace": "AWS/Lambda", "MetricName": "Invocations",
				"Dimensions": []map[string]string{{"Name": "FunctionName", "Value": "f"}}}, "Period": 60, "Stat": "Sum"}},
		},
		"AlarmActions": []string{topic},
	})
	rec := cwmetrics.NewRecorder(r.store)
	for m := range 3 {
		r.clock.Set(base.Add(time.Duration(m)*time.Minute + time.Second))
		for i := range 10 {
			rec.FunctionInvoked("f", time.Millisecond, m > 0 && i < 5, 1, 1)
		}
	}
	r.evalAt(3)
	st, reason := r.state("error-rate")
	if st != StateAlarm || !strings.HasPrefix(reason, "Threshold Crossed: 2 out of the last 3 datapoints [50.0 (25/11/26 22:02:00), 50.0 (25/11/26 22:01:00)] were greater than the threshold (10.0)") {
		t.Fatalf("math alarm: %s %q", st, reason)
	}
	if got := r.sns.take(); len(got) != 1 || !strings.Contains(got[0].message, `"Expression":"100 * errors / FILL(invocations, 1)"`) {
		t.Fatalf("notification: %+v", got)
	}
	// GetMetricData answers the same expression.
	out := r.must("GetMetricData", map[string]any{"StartTime": base.Unix(), "EndTime": base.Add(3 * time.Minute).Unix(), "ScanBy": "TimestampAscending",
		"MetricDataQueries": []map[string]any{
			{"Id": "rate", "Expression": "100 * SUM(METRICS(\"errors\")) / inv"},
			{"Id": "errors", "ReturnData": false, "MetricStat": map[string]any{"Metric": map[string]any{"Namespace": "AWS/Lambda", "MetricName": "Errors",
				"Dimensions": []map[string]string{{"Name": "FunctionName", "Value": "f"}}}, "Period": 60, "Stat": "Sum"}},
			{"Id": "inv", "MetricStat": map[string]any{"Metric": map[string]any{"Namespace": "AWS/Lambda", "MetricName": "Invocations",
				"Dimensions": []map[string]string{{"Name": "FunctionName", "Value": "f"}}}, "Period": 60, "Stat": "Sum"}},
		}})
	res := out["MetricDataResults"].([]any)
	if len(res) != 2 {
		t.Fatalf("results: %v", out)
	}
	rate := res[0].(map[string]any)
	if vals, _ := json.Marshal(rate["Values"]); string(vals) != "[0,50,50]" || rate["Label"] != "rate" {
		t.Errorf("rate: %v", rate)
	}
	if err := r.svc.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart keeps the state, the history and the datapoints.
	r2 := newRig(t, dir, r.clock)
	if st, _ := r2.state("error-rate"); st != StateAlarm {
		t.Fatalf("after restart: %s", st)
	}
	if h := r2.must("DescribeAlarmHistory", map[string]any{"AlarmName": "error-rate"}); len(h["AlarmHistoryItems"].([]any)) != 3 {
		t.Errorf("history after restart: %v", h)
	}
	r2.evalAt(4)
	if got := r2.sns.take(); len(got) != 0 {
		t.Errorf("re-notified after restart: %+v", got)
	}
	if st, _ := r2.state("error-rate"); st != StateAlarm {
		t.Errorf("re-evaluated after restart: %s", st)
	}
}

func TestValidation(t *testing.T) {
	r := newRig(t, "", nil)
	now := base.Unix()
	for name, c := range map[string]struct {
		op   string
		in   map[string]any
		typ  string
		text string
	}{
		"gms bad period": {"GetMetricStatistics", map[string]any{"Namespace": "N", "MetricName": "M", "StartTime": now - 600, "EndTime": now, "Period": 45, "Statistics": []string{"Sum"}},
			"InvalidParameterValueException", "must be 1, 5, 10, 30, or a multiple of 60"},
		"gms too many": {"GetMetricStatistics", map[string]any{"Namespace": "N", "MetricName": "M", "StartTime": now - 86400*2, "EndTime": now, "Period": 60, "Statistics": []string{"Sum"}},
			"InvalidParameterCombinationException", "You have requested up to 2,880 datapoints, which exceeds the limit of 1,440."},
		"gms no stat": {"GetMetricStatistics", map[string]any{"Namespace": "N", "MetricName": "M", "StartTime": now - 600, "EndTime": now, "Period": 60},
			"MissingRequiredParameterException", "Statistics or ExtendedStatistics"},
		"gms bad percentile": {"GetMetricStatistics", map[string]any{"Namespace": "N", "MetricName": "M", "StartTime": now - 600, "EndTime": now, "Period": 60, "ExtendedStatistics": []string{"p101"}},
			"InvalidParameterValueException", "p101"},
		"gms unknown statistic": {"GetMetricStatistics", map[string]any{"Namespace": "N", "MetricName": "M", "StartTime": now - 600, "EndTime": now, "Period": 60, "Statistics": []string{"Median"}},
			awsproto.ValidationException, "Member must satisfy enum value set"},
		"too many dimensions": {"PutMetricData", map[string]any{"Namespace": "N", "MetricData": []map[string]any{{"MetricName": "M", "Value": 1, "Dimensions": manyDims(31)}}},
			awsproto.ValidationException, "length less than or equal to 30"},
		"reserved namespace": {"PutMetricData", map[string]any{"Namespace": "AWS/Firehose", "MetricData": []map[string]any{{"MetricName": "M", "Value": 1}}},
			"InvalidParameterValueException", "AWS/Firehose"},
		"value and values": {"PutMetricData", map[string]any{"Namespace": "N", "MetricData": []map[string]any{{"MetricName": "M", "Value": 1, "Values": []float64{1}}}},
			"InvalidParameterCombinationException", "mutually exclusive"},
		"counts size": {"PutMetricData", map[string]any{"Namespace": "N", "MetricData": []map[string]any{{"MetricName": "M", "Values": []float64{1, 2}, "Counts": []float64{1}}}},
			"InvalidParameterCombinationException", "same size"},
		"future": {"PutMetricData", map[string]any{"Namespace": "N", "MetricData": []map[string]any{{"MetricName": "M", "Value": 1, "Timestamp": now + 3*3600}}},
			"InvalidParameterValueException", "two hours in the future"},
		"gmd bad id": {"GetMetricData", map[string]any{"StartTime": now - 600, "EndTime": now, "MetricDataQueries": []map[string]any{{"Id": "M1", "Expression": "1"}}},
			"InvalidParameterValueException", "M1"},
		"gmd unknown id": {"GetMetricData", map[string]any{"StartTime": now - 600, "EndTime": now, "MetricDataQueries": []map[string]any{{"Id": "e", "Expression": "x * 2"}}},
			"InvalidParameterValueException", `Unrecognized metric id "x"`},
		"gmd too large": {"GetMetricData", map[string]any{"StartTime": now - 14*86400, "EndTime": now, "MetricDataQueries": gmdMany(250)},
			"InvalidParameterCombinationException", "hydrant computes at most 4,000,000"},
		"gmd cycle": {"GetMetricData", map[string]any{"StartTime": now - 600, "EndTime": now, "MetricDataQueries": []map[string]any{{"Id": "a", "Expression": "b"}, {"Id": "b", "Expression": "a"}}},
			"InvalidParameterValueException", "Circular"},
		"alarm m > n": {"PutMetricAlarm", map[string]any{"AlarmName": "x", "Namespace": "N", "MetricName": "M", "Statistic": "Sum", "Period": 60,
			"EvaluationPeriods": 1, "DatapointsToAlarm": 2, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"},
			"InvalidParameterValueException", "DatapointsToAlarm"},
		"alarm ec2 action": {"PutMetricAlarm", map[string]any{"AlarmName": "x", "Namespace": "N", "MetricName": "M", "Statistic": "Sum", "Period": 60,
			"EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold", "AlarmActions": []string{"arn:aws:automate:us-east-1:ec2:stop"}},
			"InvalidParameterValueException", "SNS topic actions"},
		"delete missing":    {"DeleteAlarms", map[string]any{"AlarmNames": []string{"nope"}}, "ResourceNotFound", "nope"},
		"set state missing": {"SetAlarmState", map[string]any{"AlarmName": "nope", "StateValue": "OK", "StateReason": "r"}, "ResourceNotFound", "nope"},
	} {
		_, err := r.call(c.op, c.in)
		ae, ok := err.(*awsproto.Error)
		if !ok || ae.Type != c.typ || !strings.Contains(ae.Message, c.text) {
			t.Errorf("%s: %v, want %s containing %q", name, err, c.typ, c.text)
		}
	}
}

func gmdMany(n int) []map[string]any {
	var out []map[string]any
	for i := range n {
		out = append(out, map[string]any{"Id": "m" + string(rune('a'+i%26)) + string(rune('a'+i/26)), "MetricStat": map[string]any{
			"Metric": map[string]any{"Namespace": "N", "MetricName": "M"}, "Period": 60, "Stat": "Sum"}})
	}
	return out
}

func manyDims(n int) []map[string]string {
	var out []map[string]string
	for i := range n {
		out = append(out, map[string]string{"Name": "d" + string(rune('a'+i%26)) + string(rune('a'+i/26)), "Value": "v"})
	}
	return out
}

func TestPutAndGetCustomMetrics(t *testing.T) {
	r := newRig(t, "", nil)
	r.clock.Set(base.Add(5 * time.Minute))
	now := r.clock.Now().Unix()
	r.must("PutMetricData", map[string]any{"Namespace": "App", "MetricData": []map[string]any{
		{"MetricName": "Latency", "Unit": "Milliseconds", "Values": []float64{10, 20, 30}, "Counts": []float64{1, 1, 2}, "Timestamp": now - 60,
			"Dimensions": []map[string]string{{"Name": "Svc", "Value": "api"}}},
		{"MetricName": "Latency", "Unit": "Milliseconds", "StatisticValues": map[string]float64{"SampleCount": 2, "Sum": 10, "Minimum": 4, "Maximum": 6}, "Timestamp": now,
			"Dimensions": []map[string]string{{"Name": "Svc", "Value": "api"}}},
		{"MetricName": "Hits", "Value": 3, "StorageResolution": 1},
	}})
	out := r.must("GetMetricStatistics", map[string]any{"Namespace": "App", "MetricName": "Latency", "StartTime": now - 120, "EndTime": now + 60,
		"Period": 60, "Statistics": []string{"Sum", "SampleCount", "Average"}, "ExtendedStatistics": []string{"p50"},
		"Dimensions": []map[string]string{{"Name": "Svc", "Value": "api"}}})
	dps := out["Datapoints"].([]any)
	if len(dps) != 2 {
		t.Fatalf("datapoints: %v", out)
	}
	first := dps[0].(map[string]any)
	if first["Sum"] != 90.0 || first["SampleCount"] != 4.0 || first["Unit"] != "Milliseconds" || first["ExtendedStatistics"].(map[string]any)["p50"].(float64) < 19 {
		t.Errorf("first datapoint: %v", first)
	}
	if second := dps[1].(map[string]any); second["Average"] != 5.0 || second["ExtendedStatistics"] != nil {
		t.Errorf("statistic-set datapoint: %v", second)
	}
	lm := r.must("ListMetrics", map[string]any{"Namespace": "App"})
	if n := len(lm["Metrics"].([]any)); n != 2 {
		t.Errorf("ListMetrics: %v", lm)
	}
	lm = r.must("ListMetrics", map[string]any{"Dimensions": []map[string]string{{"Name": "Svc"}}})
	if n := len(lm["Metrics"].([]any)); n != 1 {
		t.Errorf("ListMetrics by dimension: %v", lm)
	}
}

// TestPercentileAlarmsAndActions: a p99 alarm with
// EvaluateLowSampleCountPercentile ignore keeps its state on too few
// samples and moves with enough; disabled actions publish nothing; the
// alarm is found by its metric.
func TestPercentileAlarmsAndActions(t *testing.T) {
	r := newRig(t, "", nil)
	for _, low := range []string{"ignore", "evaluate"} {
		r.must("PutMetricAlarm", map[string]any{
			"AlarmName": "p99-" + low, "Namespace": "AWS/Firehose", "MetricName": "PutRecordBatch.Latency", "ExtendedStatistic": "p99",
			"Dimensions": []map[string]string{{"Name": "DeliveryStreamName", "Value": "s"}},
			"Period":     60, "EvaluationPeriods": 1, "Threshold": 100, "ComparisonOperator": "GreaterThanThreshold",
			"EvaluateLowSampleCountPercentile": low, "AlarmActions": []string{topic}, "ActionsEnabled": low == "ignore",
		})
	}
	lat := r.series("PutRecordBatch.Latency")
	for i := range 5 { // 5 samples: too few for p99 (10/(1-0.99) = 1000)
		lat.Record(base.Add(time.Duration(i)*time.Second), cwmetrics.UnitMilliseconds, 500, true)
	}
	r.evalAt(1)
	if st, reason := r.state("p99-ignore"); st != StateInsufficient || reason != "Unchecked: Initial alarm creation" {
		t.Errorf("ignore, few samples: %s %q", st, reason)
	}
	if st, _ := r.state("p99-evaluate"); st != StateAlarm {
		t.Errorf("evaluate, few samples: %s", st)
	}
	if got := r.sns.take(); len(got) != 0 {
		t.Errorf("an alarm with actions disabled notified: %+v", got)
	}
	for i := range 1000 {
		lat.Record(base.Add(time.Minute+time.Duration(i)*time.Millisecond), cwmetrics.UnitMilliseconds, 500, true)
	}
	r.evalAt(2)
	if st, reason := r.state("p99-ignore"); st != StateAlarm || !strings.Contains(reason, "was greater than the threshold (100.0)") {
		t.Errorf("ignore, enough samples: %s %q", st, reason)
	}
	if got := r.sns.take(); len(got) != 1 || !strings.Contains(got[0].message, `"ExtendedStatistic":"p99"`) {
		t.Errorf("notification: %+v", got)
	}
	out := r.must("DescribeAlarmsForMetric", map[string]any{"Namespace": "AWS/Firehose", "MetricName": "PutRecordBatch.Latency",
		"ExtendedStatistic": "p99", "Dimensions": []map[string]string{{"Name": "DeliveryStreamName", "Value": "s"}}})
	if n := len(out["MetricAlarms"].([]any)); n != 2 {
		t.Errorf("DescribeAlarmsForMetric: %d alarms", n)
	}
	r.must("DisableAlarmActions", map[string]any{"AlarmNames": []string{"p99-ignore"}})
	if out := r.must("DescribeAlarms", map[string]any{"StateValue": "ALARM"}); len(out["MetricAlarms"].([]any)) != 2 {
		t.Errorf("DescribeAlarms by state: %v", out)
	}
	r.must("DeleteAlarms", map[string]any{"AlarmNames": []string{"p99-ignore", "p99-evaluate"}})
	if out := r.must("DescribeAlarms", map[string]any{"AlarmNamePrefix": "p99-"}); len(out["MetricAlarms"].([]any)) != 0 {
		t.Errorf("after DeleteAlarms: %v", out)
	}
}
