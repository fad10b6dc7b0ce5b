package cloudwatch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/cwmetrics"
)

// benchRig fills a store with n streams' IncomingRecords, one point a
// minute for 24 hours, and serves CloudWatch over it.
func benchRig(b *testing.B, n int) (*Service, *testClock) {
	b.Helper()
	clock := &testClock{t: base.Add(24 * time.Hour)}
	st, err := cwmetrics.Open(cwmetrics.Options{Now: clock.Now})
	if err != nil {
		b.Fatal(err)
	}
	for i := range n {
		sr, _ := st.Series(cwmetrics.NewMetric("AWS/Firehose", "IncomingRecords", cwmetrics.Dimension{Name: "DeliveryStreamName", Value: fmt.Sprintf("s%03d", i)}))
		for m := range 24 * 60 {
			sr.Record(base.Add(time.Duration(m)*time.Minute), cwmetrics.UnitCount, float64(m%7), false)
		}
	}
	svc, err := New(Options{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	return svc, clock
}

// BenchmarkGetMetricData100Streams24h: 100 streams × 24 h at a 1-minute
// period, summed by a math expression, in one GetMetricData call (the
// 144,000 datapoints are read; 1,440 come back).
func BenchmarkGetMetricData100Streams24h(b *testing.B) {
	svc, _ := benchRig(b, 100)
	queries := []map[string]any{{"Id": "total", "Expression": "SUM(METRICS())"}}
	for i := range 100 {
		queries = append(queries, map[string]any{"Id": fmt.Sprintf("m%d", i), "ReturnData": false, "MetricStat": map[string]any{
			"Metric": map[string]any{"Namespace": "AWS/Firehose", "MetricName": "IncomingRecords",
				"Dimensions": []map[string]string{{"Name": "DeliveryStreamName", "Value": fmt.Sprintf("s%03d", i)}}},
			"Period": 60, "Stat": "Sum"}})
	}
	body, _ := json.Marshal(map[string]any{"StartTime": base.Unix(), "EndTime": base.Add(24 * time.Hour).Unix(), "MetricDataQueries": queries})
	op := svc.API().Ops["GetMetricData"]
	b.ReportAllocs()
	for b.Loop() {
		res, err := op(context.Background(), body)
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Contains(res.(awsproto.RawJSON), []byte(`"Id":"total"`)) {
			b.Fatal("no total")
		}
	}
}

// BenchmarkGetMetricData100Streams24hAll returns every datapoint: two
// pages (CloudWatch returns at most 100,800 a call).
func BenchmarkGetMetricData100Streams24hAll(b *testing.B) {
	svc, _ := benchRig(b, 100)
	var queries []map[string]any
	for i := range 100 {
		queries = append(queries, map[string]any{"Id": fmt.Sprintf("m%d", i), "MetricStat": map[string]any{
			"Metric": map[string]any{"Namespace": "AWS/Firehose", "MetricName": "IncomingRecords",
				"Dimensions": []map[string]string{{"Name": "DeliveryStreamName", "Value": fmt.Sprintf("s%03d", i)}}},
			"Period": 60, "Stat": "Sum"}})
	}
	op := svc.API().Ops["GetMetricData"]
	b.ReportAllocs()
	for b.Loop() {
		token, points := "", 0
		for {
			body, _ := json.Marshal(map[string]any{"StartTime": base.Unix(), "EndTime": base.Add(24 * time.Hour).Unix(), "MetricDataQueries": queries, "NextToken": token})
			res, err := op(context.Background(), body)
			if err != nil {
				b.Fatal(err)
			}
			out := res.(awsproto.RawJSON)
			// Count without decoding: the client's work is not measured.
			points += bytes.Count(out, []byte(",")) // roughly 2 per datapoint
			i := bytes.Index(out, []byte(`"NextToken":"`))
			if i < 0 {
				break
			}
			token = string(out[i+13 : i+13+bytes.IndexByte(out[i+13:], '"')])
		}
		if points < 2*144000 {
			b.Fatalf("%d commas", points)
		}
	}
}

// BenchmarkEvaluate1000Alarms: one minute's evaluation of 1,000 alarms,
// each on its own stream's metric, 3 of 5 periods.
func BenchmarkEvaluate1000Alarms(b *testing.B) {
	svc, clock := benchRig(b, 1000)
	for i := range 1000 {
		in, _ := json.Marshal(map[string]any{"AlarmName": fmt.Sprintf("a%04d", i), "Namespace": "AWS/Firehose", "MetricName": "IncomingRecords",
			"Dimensions": []map[string]string{{"Name": "DeliveryStreamName", "Value": fmt.Sprintf("s%03d", i)}},
			"Statistic":  "Sum", "Period": 60, "EvaluationPeriods": 5, "DatapointsToAlarm": 3, "Threshold": 3, "ComparisonOperator": "GreaterThanThreshold"})
		if _, err := svc.API().Ops["PutMetricAlarm"](context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	minute := 0
	b.ReportAllocs()
	for b.Loop() {
		// Each pass a minute later, so states change as the data does.
		minute = (minute + 1) % 600
		clock.Set(base.Add(time.Duration(12*60+minute)*time.Minute + 5*time.Second))
		svc.Evaluate(context.Background(), clock.Now())
	}
}
