package console

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// metricAlarm is CloudWatch's MetricAlarm shape, the parts the console
// shows.
type metricAlarm struct {
	AlarmName             string            `json:"AlarmName"`
	AlarmArn              string            `json:"AlarmArn"`
	AlarmDescription      string            `json:"AlarmDescription,omitempty"`
	StateValue            string            `json:"StateValue"`
	StateReason           string            `json:"StateReason"`
	StateUpdatedTimestamp awsTime           `json:"StateUpdatedTimestamp"`
	ActionsEnabled        bool              `json:"ActionsEnabled"`
	AlarmActions          []string          `json:"AlarmActions"`
	OKActions             []string          `json:"OKActions"`
	MetricName            string            `json:"MetricName,omitempty"`
	Namespace             string            `json:"Namespace,omitempty"`
	Statistic             string            `json:"Statistic,omitempty"`
	ExtendedStatistic     string            `json:"ExtendedStatistic,omitempty"`
	Dimensions            []dimension       `json:"Dimensions"`
	Period                int64             `json:"Period,omitempty"`
	Unit                  string            `json:"Unit,omitempty"`
	EvaluationPeriods     int               `json:"EvaluationPeriods"`
	DatapointsToAlarm     int               `json:"DatapointsToAlarm,omitempty"`
	Threshold             *float64          `json:"Threshold,omitempty"`
	ComparisonOperator    string            `json:"ComparisonOperator"`
	TreatMissingData      string            `json:"TreatMissingData,omitempty"`
	Metrics               []json.RawMessage `json:"Metrics,omitempty"`
}

// maxAlarms bounds the alarms the console lists.
const maxAlarms = 500

// describeAlarms lists every metric alarm (up to maxAlarms), by name.
func (c *Console) describeAlarms(ctx context.Context) ([]metricAlarm, error) {
	var all []metricAlarm
	token := ""
	for len(all) < maxAlarms {
		in := map[string]any{"MaxRecords": 100}
		if token != "" {
			in["NextToken"] = token
		}
		var res struct {
			MetricAlarms []metricAlarm `json:"MetricAlarms"`
			NextToken    string        `json:"NextToken"`
		}
		if err := c.call(ctx, cloudwatchAPI, "DescribeAlarms", in, &res); err != nil {
			return all, err
		}
		all = append(all, res.MetricAlarms...)
		if token = res.NextToken; token == "" {
			break
		}
	}
	return all, nil
}

func (c *Console) handleAlarms(w http.ResponseWriter, r *http.Request) error {
	alarms, err := c.describeAlarms(r.Context())
	if err != nil {
		return err
	}
	if alarms == nil {
		alarms = []metricAlarm{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alarms": alarms})
	return nil
}

// historyItem is CloudWatch's AlarmHistoryItem shape.
type historyItem struct {
	Timestamp       awsTime `json:"Timestamp"`
	HistoryItemType string  `json:"HistoryItemType"`
	HistorySummary  string  `json:"HistorySummary"`
	HistoryData     string  `json:"HistoryData,omitempty"`
}

// alarmPage is GET /api/alarms/{name}?range=: the alarm, its history, and
// its metric's graph with the threshold across it.
type alarmPage struct {
	Alarm   metricAlarm   `json:"alarm"`
	History []historyItem `json:"history"`
	Graph   *graphs       `json:"graph"`
}

func (c *Console) alarm(ctx context.Context, name string) (metricAlarm, error) {
	var res struct {
		MetricAlarms []metricAlarm `json:"MetricAlarms"`
	}
	if err := c.call(ctx, cloudwatchAPI, "DescribeAlarms", map[string]any{"AlarmNames": []string{name}}, &res); err != nil {
		return metricAlarm{}, err
	}
	if len(res.MetricAlarms) == 0 {
		return metricAlarm{}, errorf(http.StatusNotFound, "no alarm %q", name)
	}
	return res.MetricAlarms[0], nil
}

func (c *Console) handleAlarm(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	al, err := c.alarm(ctx, r.PathValue("name"))
	if err != nil {
		return err
	}
	page := alarmPage{Alarm: al, History: []historyItem{}}
	var hist struct {
		AlarmHistoryItems []historyItem `json:"AlarmHistoryItems"`
	}
	if err := c.call(ctx, cloudwatchAPI, "DescribeAlarmHistory", map[string]any{"AlarmName": al.AlarmName, "MaxRecords": 100}, &hist); err != nil {
		return err
	}
	page.History = append(page.History, hist.AlarmHistoryItems...)
	if page.Graph, err = c.alarmGraph(ctx, r.URL.Query().Get("range"), al); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// alarmGraph charts what the alarm evaluates: its metric and statistic at
// its period (or its metric math, whose returned expression is the
// alarm's), with the threshold across.
func (c *Console) alarmGraph(ctx context.Context, rangeName string, al metricAlarm) (*graphs, error) {
	rangeName, _, start, end, err := c.window(rangeName)
	if err != nil {
		return nil, err
	}
	var queries []json.RawMessage
	period := al.Period
	label := al.MetricName
	if len(al.Metrics) > 0 {
		queries = al.Metrics
		for _, m := range al.Metrics {
			var q metricDataQuery
			if json.Unmarshal(m, &q) == nil && q.MetricStat != nil && period == 0 {
				period = q.MetricStat.Period
			}
		}
		label = "expression"
	} else {
		stat := al.Statistic
		if stat == "" {
			stat = al.ExtendedStatistic
		}
		q := metricDataQuery{ID: "m", Label: al.MetricName, MetricStat: &metricStat{Period: al.Period, Stat: stat, Unit: al.Unit}}
		q.MetricStat.Metric.Namespace, q.MetricStat.Metric.MetricName, q.MetricStat.Metric.Dimensions = al.Namespace, al.MetricName, al.Dimensions
		b, _ := json.Marshal(q)
		queries = []json.RawMessage{b}
	}
	if period <= 0 {
		period = 60
	}
	// Start and end on the alarm's period grid.
	p := time.Duration(period) * time.Second
	start, end = start.Truncate(p), end.Truncate(p).Add(p)
	var res struct {
		MetricDataResults []metricResult `json:"MetricDataResults"`
	}
	in := map[string]any{"MetricDataQueries": queries, "StartTime": epochSeconds(start), "EndTime": epochSeconds(end), "ScanBy": "TimestampAscending"}
	if err := c.call(ctx, cloudwatchAPI, "GetMetricData", in, &res); err != nil {
		return nil, err
	}
	g := newGraphs(rangeName, start, end, period)
	ch := chart{Title: al.AlarmName, Unit: al.Unit, Threshold: al.Threshold}
	for i := range res.MetricDataResults {
		line := g.align(&res.MetricDataResults[i])
		line.Label = res.MetricDataResults[i].Label
		if line.Label == "" {
			line.Label = label
		}
		ch.Lines = append(ch.Lines, line)
	}
	g.Charts = append(g.Charts, ch)
	return g, nil
}

// alarmStates are SetAlarmState's StateValue values.
var alarmStates = []string{"OK", "ALARM", "INSUFFICIENT_DATA"}

// handleAlarmState is SetAlarmState: the alarm takes the state until its
// next evaluation, as in CloudWatch (a way to test its actions).
func (c *Console) handleAlarmState(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		State  string `json:"state"`
		Reason string `json:"reason"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	if !slices.Contains(alarmStates, in.State) {
		return errorf(http.StatusBadRequest, "state must be OK, ALARM or INSUFFICIENT_DATA, got %s", strconv.Quote(in.State))
	}
	if in.Reason == "" {
		in.Reason = "Set from the hydrant console"
	}
	name := r.PathValue("name")
	if err := c.call(r.Context(), cloudwatchAPI, "SetAlarmState", map[string]string{"AlarmName": name, "StateValue": in.State, "StateReason": in.Reason}, nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"alarm": name, "state": in.State})
	return nil
}
