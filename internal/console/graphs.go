package console

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"
)

// graphRange is one of the time ranges the graphs offer, with the period
// that gives each chart a few hundred points at most.
type graphRange struct {
	span, period time.Duration
}

var graphRanges = map[string]graphRange{
	"1h":  {time.Hour, time.Minute},
	"3h":  {3 * time.Hour, time.Minute},
	"24h": {24 * time.Hour, 5 * time.Minute},
	"7d":  {7 * 24 * time.Hour, time.Hour},
}

// metricLine is one line of a chart: a CloudWatch metric and statistic.
type metricLine struct {
	Label     string
	Namespace string
	Metric    string
	Stat      string
}

// chartSpec is one chart: lines sharing a unit.
type chartSpec struct {
	Title string
	Unit  string
	Lines []metricLine
}

// graphs is a page's charts over a time range: x is the start of each
// period (epoch seconds), shared by every line; a value is null where the
// metric has no datapoint.
type graphs struct {
	Range  string  `json:"range"`
	Start  int64   `json:"start"`
	End    int64   `json:"end"`
	Period int64   `json:"period"`
	X      []int64 `json:"x"`
	Charts []chart `json:"charts"`
}

type chart struct {
	Title string   `json:"title"`
	Unit  string   `json:"unit"`
	Lines []series `json:"lines"`
	// Threshold is an alarm's threshold, drawn across the chart.
	Threshold *float64 `json:"threshold,omitempty"`
}

type series struct {
	Label  string     `json:"label"`
	Values []*float64 `json:"values"`
}

// Firehose's and Lambda's metrics as the stream and function pages chart
// them (the names CloudWatch uses; the metric store keeps them).
const (
	nsFirehose = "AWS/Firehose"
	nsLambda   = "AWS/Lambda"
)

func streamCharts(processing, conversion, partitioning bool) []chartSpec {
	fh := func(label, metric, stat string) metricLine { return metricLine{label, nsFirehose, metric, stat} }
	charts := []chartSpec{
		{"Incoming records", "Count", []metricLine{fh("IncomingRecords", "IncomingRecords", "Sum")}},
		{"Incoming bytes", "Bytes", []metricLine{fh("IncomingBytes", "IncomingBytes", "Sum")}},
		{"Delivered to S3", "Count", []metricLine{fh("DeliveryToS3.Records", "DeliveryToS3.Records", "Sum")}},
		{"Delivery success", "Ratio", []metricLine{fh("DeliveryToS3.Success", "DeliveryToS3.Success", "Average")}},
		{"Data freshness", "Seconds", []metricLine{fh("DeliveryToS3.DataFreshness", "DeliveryToS3.DataFreshness", "Maximum")}},
		{"Throttled records", "Count", []metricLine{fh("ThrottledRecords", "ThrottledRecords", "Sum")}},
	}
	if processing {
		charts = append(charts, chartSpec{"Processing", "Count", []metricLine{
			fh("SucceedProcessing.Records", "SucceedProcessing.Records", "Sum"),
			fh("ExecuteProcessing.Success", "ExecuteProcessing.Success", "Average")}},
			chartSpec{"Processing duration", "Milliseconds", []metricLine{fh("ExecuteProcessing.Duration p99", "ExecuteProcessing.Duration", "p99")}})
	}
	if conversion {
		charts = append(charts, chartSpec{"Format conversion", "Count", []metricLine{
			fh("SucceedConversion.Records", "SucceedConversion.Records", "Sum"),
			fh("FailedConversion.Records", "FailedConversion.Records", "Sum")}})
	}
	if partitioning {
		charts = append(charts, chartSpec{"Active partitions", "Count", []metricLine{fh("PartitionCount", "PartitionCount", "Maximum")}})
	}
	return charts
}

var functionCharts = []chartSpec{
	{"Invocations", "Count", []metricLine{{"Invocations", nsLambda, "Invocations", "Sum"}}},
	{"Errors", "Count", []metricLine{{"Errors", nsLambda, "Errors", "Sum"}, {"Throttles", nsLambda, "Throttles", "Sum"}}},
	{"Duration", "Milliseconds", []metricLine{{"Average", nsLambda, "Duration", "Average"}, {"p99", nsLambda, "Duration", "p99"}, {"Maximum", nsLambda, "Duration", "Maximum"}}},
	{"Concurrent executions", "Count", []metricLine{{"ConcurrentExecutions", nsLambda, "ConcurrentExecutions", "Maximum"}}},
}

func (c *Console) handleStreamGraphs(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	_, st, err := c.stream(r, name)
	if err != nil {
		return err
	}
	specs := streamCharts(st.Processing.Lambda.Enabled, st.Conversion.Enabled, st.Partitioning.Enabled)
	g, err := c.graphs(r.Context(), r.URL.Query().Get("range"), specs, dimension{"DeliveryStreamName", name})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

func (c *Console) handleFunctionGraphs(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if _, err := c.function(name); err != nil {
		return err
	}
	g, err := c.graphs(r.Context(), r.URL.Query().Get("range"), functionCharts, dimension{"FunctionName", name})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// dimension is CloudWatch's Dimension shape.
type dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// metricDataQuery is CloudWatch's MetricDataQuery shape (the parts the
// console sends).
type metricDataQuery struct {
	ID         string      `json:"Id"`
	Label      string      `json:"Label,omitempty"`
	MetricStat *metricStat `json:"MetricStat,omitempty"`
	Expression string      `json:"Expression,omitempty"`
	Period     int64       `json:"Period,omitempty"`
	ReturnData *bool       `json:"ReturnData,omitempty"`
}

type metricStat struct {
	Metric struct {
		Namespace  string      `json:"Namespace"`
		MetricName string      `json:"MetricName"`
		Dimensions []dimension `json:"Dimensions"`
	} `json:"Metric"`
	Period int64  `json:"Period"`
	Stat   string `json:"Stat"`
	Unit   string `json:"Unit,omitempty"`
}

// window resolves a range name (default 1h) into [start, end) on the
// period grid, end the period after now.
func (c *Console) window(name string) (string, graphRange, time.Time, time.Time, error) {
	if name == "" {
		name = "1h"
	}
	gr, ok := graphRanges[name]
	if !ok {
		return "", gr, time.Time{}, time.Time{}, errorf(http.StatusBadRequest, "range must be one of 1h, 3h, 24h, 7d; got %q", name)
	}
	end := c.now().Truncate(gr.period).Add(gr.period)
	return name, gr, end.Add(-gr.span), end, nil
}

// graphs runs every chart's metrics through CloudWatch's GetMetricData at
// once and lays them on one time axis.
func (c *Console) graphs(ctx context.Context, rangeName string, specs []chartSpec, dims ...dimension) (*graphs, error) {
	rangeName, gr, start, end, err := c.window(rangeName)
	if err != nil {
		return nil, err
	}
	period := int64(gr.period / time.Second)
	var queries []metricDataQuery
	for i, spec := range specs {
		for j, l := range spec.Lines {
			q := metricDataQuery{ID: "m" + strconv.Itoa(i) + "_" + strconv.Itoa(j), Label: l.Label, MetricStat: &metricStat{Period: period, Stat: l.Stat}}
			q.MetricStat.Metric.Namespace, q.MetricStat.Metric.MetricName, q.MetricStat.Metric.Dimensions = l.Namespace, l.Metric, dims
			queries = append(queries, q)
		}
	}
	results, err := c.metricData(ctx, queries, start, end)
	if err != nil {
		return nil, err
	}
	g := newGraphs(rangeName, start, end, period)
	k := 0
	for _, spec := range specs {
		ch := chart{Title: spec.Title, Unit: spec.Unit}
		for _, l := range spec.Lines {
			line := g.align(results[queries[k].ID])
			line.Label = l.Label
			ch.Lines = append(ch.Lines, line)
			k++
		}
		g.Charts = append(g.Charts, ch)
	}
	return g, nil
}

func newGraphs(rangeName string, start, end time.Time, period int64) *graphs {
	g := &graphs{Range: rangeName, Start: start.Unix(), End: end.Unix(), Period: period, Charts: []chart{}}
	for t := g.Start; t < g.End; t += period {
		g.X = append(g.X, t)
	}
	return g
}

// metricResult is one MetricDataResult.
type metricResult struct {
	ID         string    `json:"Id"`
	Label      string    `json:"Label"`
	Timestamps []awsTime `json:"Timestamps"`
	Values     []float64 `json:"Values"`
	StatusCode string    `json:"StatusCode"`
}

// metricData runs GetMetricData over [start, end), following NextToken,
// and returns the results by query ID.
func (c *Console) metricData(ctx context.Context, queries []metricDataQuery, start, end time.Time) (map[string]*metricResult, error) {
	out := map[string]*metricResult{}
	token := ""
	for page := 0; page < 100; page++ {
		in := map[string]any{"MetricDataQueries": queries, "StartTime": epochSeconds(start), "EndTime": epochSeconds(end), "ScanBy": "TimestampAscending"}
		if token != "" {
			in["NextToken"] = token
		}
		var res struct {
			MetricDataResults []metricResult `json:"MetricDataResults"`
			NextToken         string         `json:"NextToken"`
		}
		if err := c.call(ctx, cloudwatchAPI, "GetMetricData", in, &res); err != nil {
			return nil, err
		}
		for i := range res.MetricDataResults {
			r := &res.MetricDataResults[i]
			if prev := out[r.ID]; prev != nil {
				prev.Timestamps = append(prev.Timestamps, r.Timestamps...)
				prev.Values = append(prev.Values, r.Values...)
				continue
			}
			out[r.ID] = r
		}
		if token = res.NextToken; token == "" {
			break
		}
	}
	return out, nil
}

// align puts a result's datapoints on the graphs' periods.
func (g *graphs) align(r *metricResult) series {
	s := series{Values: make([]*float64, len(g.X))}
	if r == nil {
		return s
	}
	for i, ts := range r.Timestamps {
		if i >= len(r.Values) || math.IsNaN(r.Values[i]) || math.IsInf(r.Values[i], 0) {
			continue
		}
		idx := (ts.Time().Unix() - g.Start) / g.Period
		if idx < 0 || idx >= int64(len(s.Values)) {
			continue
		}
		v := r.Values[i]
		s.Values[idx] = &v
	}
	return s
}
