package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/cwmetrics"
)

var treatMissing = []string{"breaching", "notBreaching", "ignore", "missing"}

// putMetricAlarm creates or replaces an alarm on a metric or a math
// expression. A new alarm starts INSUFFICIENT_DATA; an updated one keeps
// its state, and its tags (as in CloudWatch, Tags apply only at creation).
func (s *Service) putMetricAlarm(ctx context.Context, body []byte) (any, error) {
	var in struct {
		alarm
		ThresholdMetricId  string
		EvaluationCriteria any
		EvaluationInterval *int
		Threshold          *float64
		ActionsEnabled     *bool
	}
	if err := s.decode("PutMetricAlarm", body, &in); err != nil {
		return nil, err
	}
	al := in.alarm
	switch {
	case in.ThresholdMetricId != "" || strings.Contains(al.ComparisonOperator, "Lower") || strings.Contains(al.ComparisonOperator, "Upper"):
		return nil, invalidValue("Anomaly detection alarms (ThresholdMetricId, %s) are not supported by hydrant.", al.ComparisonOperator)
	case in.EvaluationCriteria != nil || in.EvaluationInterval != nil:
		return nil, invalidValue("EvaluationCriteria and EvaluationInterval (PromQL alarms) are not supported by hydrant.")
	case al.ComparisonOperator == "":
		return nil, missingParameter("The parameter ComparisonOperator is required.")
	case al.EvaluationPeriods == 0:
		return nil, missingParameter("The parameter EvaluationPeriods is required.")
	case in.Threshold == nil:
		return nil, missingParameter("The parameter Threshold is required.")
	}
	al.Threshold = *in.Threshold
	al.ActionsEnabled = in.ActionsEnabled == nil || *in.ActionsEnabled
	if al.DatapointsToAlarm > al.EvaluationPeriods {
		return nil, invalidValue("DatapointsToAlarm (%d) must be less than or equal to EvaluationPeriods (%d).", al.DatapointsToAlarm, al.EvaluationPeriods)
	}
	if al.TreatMissingData != "" && !slices.Contains(treatMissing, al.TreatMissingData) {
		return nil, invalidValue("The value %s for parameter TreatMissingData is invalid (breaching, notBreaching, ignore or missing).", al.TreatMissingData)
	}
	if v := al.EvaluateLowSampleCountPercentile; v != "" && v != "evaluate" && v != "ignore" {
		return nil, invalidValue("The value %s for parameter EvaluateLowSampleCountPercentile is invalid (evaluate or ignore).", v)
	}
	period := al.Period
	switch {
	case len(al.Metrics) > 0:
		if al.MetricName != "" || al.Namespace != "" || al.Statistic != "" || al.ExtendedStatistic != "" || len(al.Dimensions) > 0 || al.Period != 0 || al.Unit != "" {
			return nil, invalidCombination("The parameters Metrics and MetricName, Namespace, Statistic, ExtendedStatistic, Dimensions, Period and Unit are mutually exclusive.")
		}
		c, err := s.compileQueries(al.Metrics, "Metrics")
		if err != nil {
			return nil, err
		}
		ret := -1
		for i, q := range al.Metrics {
			if q.returns() {
				if ret >= 0 {
					return nil, invalidValue("Exactly one element of the Metrics list must have ReturnData set to true.")
				}
				ret = i
			}
		}
		if ret < 0 {
			return nil, invalidValue("Exactly one element of the Metrics list must have ReturnData set to true.")
		}
		al.compiled = c
		period = int(c.period(ret))
		for i := range al.Metrics {
			if ms := al.Metrics[i].MetricStat; ms != nil && ms.Metric.Dimensions == nil {
				ms.Metric.Dimensions = []cwmetrics.Dimension{}
			}
		}
	default:
		if al.MetricName == "" || al.Namespace == "" {
			return nil, missingParameter("The parameters MetricName and Namespace are required (or Metrics, for a math alarm).")
		}
		if (al.Statistic == "") == (al.ExtendedStatistic == "") {
			return nil, invalidCombination("Exactly one of the parameters Statistic and ExtendedStatistic must be specified.")
		}
		if al.ExtendedStatistic != "" {
			st, err := cwmetrics.ParseStat(al.ExtendedStatistic)
			if err != nil || !st.IsPercentile() {
				return nil, invalidValue("The value %s for parameter ExtendedStatistic is not supported: %v.", al.ExtendedStatistic, errText(err, "not a percentile"))
			}
		} else if al.EvaluateLowSampleCountPercentile != "" {
			return nil, invalidCombination("EvaluateLowSampleCountPercentile applies only to percentile (ExtendedStatistic) alarms.")
		}
		if err := checkPeriod(al.Period, "Period"); err != nil {
			return nil, err
		}
		if al.Period < 60 {
			return nil, invalidValue("The parameter Period must be a multiple of 60: hydrant keeps 1-minute resolution, so high-resolution alarms (10 s, 30 s) are not supported.")
		}
		if err := checkDimensions(al.Dimensions, "Dimensions"); err != nil {
			return nil, err
		}
		al.Dimensions = al.metric().Dims
	}
	limit := 24 * 3600
	if period >= 3600 {
		limit = 7 * 24 * 3600
	}
	if period*al.EvaluationPeriods > limit {
		return nil, invalidValue("The evaluation range (Period × EvaluationPeriods = %d seconds) must not exceed %d seconds.", period*al.EvaluationPeriods, limit)
	}
	for _, list := range []struct {
		name string
		arns []string
	}{{"AlarmActions", al.AlarmActions}, {"OKActions", al.OKActions}, {"InsufficientDataActions", al.InsufficientDataActions}} {
		for _, arn := range list.arns {
			if !strings.HasPrefix(arn, "arn:aws:sns:") || strings.Count(arn, ":") != 5 {
				return nil, invalidValue("Invalid %s: %s. hydrant runs SNS topic actions (arn:aws:sns:region:account:topic) only.", list.name, arn)
			}
		}
	}
	now := s.opts.Now()
	al.AlarmArn = s.alarmARN(al.AlarmName)
	al.AlarmConfigurationUpdatedTimestamp = now
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	old := a.alarms[al.AlarmName]
	summary := fmt.Sprintf("Alarm %q updated", al.AlarmName)
	if old != nil {
		al.StateValue, al.StateReason, al.StateReasonData = old.StateValue, old.StateReason, old.StateReasonData
		al.StateUpdatedTimestamp, al.StateTransitionedTimestamp = old.StateUpdatedTimestamp, old.StateTransitionedTimestamp
		al.Tags = old.Tags
	} else {
		if len(a.alarms) >= maxAlarms {
			return nil, limitExceeded("The maximum number of alarms (%d) has been reached.", maxAlarms)
		}
		summary = fmt.Sprintf("Alarm %q created", al.AlarmName)
		al.StateValue, al.StateReason = StateInsufficient, "Unchecked: Initial alarm creation"
		al.StateUpdatedTimestamp, al.StateTransitionedTimestamp = now, now
	}
	stored := al
	a.alarms[al.AlarmName] = &stored
	if err := a.save(); err != nil {
		return nil, err
	}
	data, _ := json.Marshal(map[string]any{"version": "1.0", "type": map[bool]string{true: "Update", false: "Create"}[old != nil],
		"updatedAlarm": s.describe(&stored)})
	_ = a.record(historyItem{AlarmName: al.AlarmName, AlarmType: "MetricAlarm", Timestamp: now, HistoryItemType: "ConfigurationUpdate",
		HistorySummary: summary, HistoryData: string(data)})
	return nil, nil
}

func limitExceeded(format string, args ...any) error {
	return errorf("LimitExceededFault", format, args...).Error
}

func (s *Service) alarmARN(name string) string {
	return "arn:aws:cloudwatch:" + s.opts.Region + ":" + s.opts.AccountID + ":alarm:" + name
}

func (al *alarm) metric() cwmetrics.Metric {
	return cwmetrics.NewMetric(al.Namespace, al.MetricName, al.Dimensions...)
}

// describe is the MetricAlarm shape of al.
func (s *Service) describe(al *alarm) map[string]any {
	m := map[string]any{
		"AlarmName": al.AlarmName, "AlarmArn": al.AlarmArn,
		"AlarmConfigurationUpdatedTimestamp": epoch(al.AlarmConfigurationUpdatedTimestamp),
		"ActionsEnabled":                     al.ActionsEnabled,
		"OKActions":                          orEmpty(al.OKActions), "AlarmActions": orEmpty(al.AlarmActions),
		"InsufficientDataActions": orEmpty(al.InsufficientDataActions),
		"StateValue":              al.StateValue, "StateReason": al.StateReason,
		"StateUpdatedTimestamp":      epoch(al.StateUpdatedTimestamp),
		"StateTransitionedTimestamp": epoch(al.StateTransitionedTimestamp),
		"EvaluationPeriods":          al.EvaluationPeriods, "Threshold": jnum(al.Threshold),
		"ComparisonOperator": al.ComparisonOperator,
		"Dimensions":         orEmptyDims(al.Dimensions),
	}
	if al.AlarmDescription != nil {
		m["AlarmDescription"] = *al.AlarmDescription
	}
	if al.StateReasonData != "" {
		m["StateReasonData"] = al.StateReasonData
	}
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	set("MetricName", al.MetricName)
	set("Namespace", al.Namespace)
	set("Statistic", al.Statistic)
	set("ExtendedStatistic", al.ExtendedStatistic)
	set("Unit", al.Unit)
	set("TreatMissingData", al.TreatMissingData)
	set("EvaluateLowSampleCountPercentile", al.EvaluateLowSampleCountPercentile)
	if al.Period > 0 {
		m["Period"] = al.Period
	}
	if al.DatapointsToAlarm > 0 {
		m["DatapointsToAlarm"] = al.DatapointsToAlarm
	}
	if len(al.Metrics) > 0 {
		m["Metrics"] = al.Metrics
	}
	return m
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orEmptyDims(d []cwmetrics.Dimension) []cwmetrics.Dimension {
	if d == nil {
		return []cwmetrics.Dimension{}
	}
	return d
}

// sortedAlarms returns the alarms matching keep, by name; a.mu is held.
func (a *alarmSet) sorted(keep func(*alarm) bool) []*alarm {
	var out []*alarm
	for _, al := range a.alarms {
		if keep(al) {
			out = append(out, al)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AlarmName < out[j].AlarmName })
	return out
}

func (s *Service) describeAlarms(ctx context.Context, body []byte) (any, error) {
	var in struct {
		AlarmNames                              []string
		AlarmNamePrefix                         string
		AlarmTypes                              []string
		ChildrenOfAlarmName, ParentsOfAlarmName string
		StateValue                              string
		ActionPrefix                            string
		MaxRecords                              int
		NextToken                               string
	}
	if err := s.decode("DescribeAlarms", body, &in); err != nil {
		return nil, err
	}
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != "" {
		return nil, invalidCombination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive.")
	}
	metricAlarms := len(in.AlarmTypes) == 0 || slices.Contains(in.AlarmTypes, "MetricAlarm")
	// hydrant has no composite alarms, so no alarm has children or parents.
	if in.ChildrenOfAlarmName != "" || in.ParentsOfAlarmName != "" {
		metricAlarms = false
	}
	maxRecords := 50
	if in.MaxRecords > 0 {
		maxRecords = in.MaxRecords
	}
	a := s.alarms
	a.mu.Lock()
	list := a.sorted(func(al *alarm) bool {
		if !metricAlarms {
			return false
		}
		if len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, al.AlarmName) {
			return false
		}
		if in.AlarmNamePrefix != "" && !strings.HasPrefix(al.AlarmName, in.AlarmNamePrefix) {
			return false
		}
		if in.StateValue != "" && al.StateValue != in.StateValue {
			return false
		}
		if in.ActionPrefix != "" && !slices.ContainsFunc(slices.Concat(al.AlarmActions, al.OKActions, al.InsufficientDataActions),
			func(s string) bool { return strings.HasPrefix(s, in.ActionPrefix) }) {
			return false
		}
		return true
	})
	page, next, err := paginate(list, in.NextToken, maxRecords)
	if err != nil {
		a.mu.Unlock()
		return nil, err
	}
	out := struct {
		MetricAlarms    []map[string]any
		CompositeAlarms []any
		NextToken       string `json:",omitempty"`
	}{MetricAlarms: []map[string]any{}, CompositeAlarms: []any{}, NextToken: next}
	for _, al := range page {
		out.MetricAlarms = append(out.MetricAlarms, s.describe(al))
	}
	a.mu.Unlock()
	return out, nil
}

// paginate returns one page of list from token.
func paginate[T any](list []T, token string, size int) ([]T, string, error) {
	start := 0
	if token != "" {
		n, err := decodeToken(token)
		if err != nil || n > len(list) || n < 0 {
			return nil, "", invalidNextToken()
		}
		start = n
	}
	end := min(start+size, len(list))
	next := ""
	if end < len(list) {
		next = encodeToken(end)
	}
	return list[start:end], next, nil
}

func (s *Service) describeAlarmsForMetric(ctx context.Context, body []byte) (any, error) {
	var in struct {
		MetricName, Namespace, Statistic, ExtendedStatistic, Unit string
		Dimensions                                                []cwmetrics.Dimension
		Period                                                    int
	}
	if err := s.decode("DescribeAlarmsForMetric", body, &in); err != nil {
		return nil, err
	}
	want := cwmetrics.NewMetric(in.Namespace, in.MetricName, in.Dimensions...)
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	list := a.sorted(func(al *alarm) bool {
		if al.MetricName != in.MetricName || al.Namespace != in.Namespace {
			return false
		}
		if in.Dimensions != nil && !slices.Equal(al.metric().Dims, want.Dims) {
			return false
		}
		return (in.Statistic == "" || al.Statistic == in.Statistic) && (in.ExtendedStatistic == "" || al.ExtendedStatistic == in.ExtendedStatistic) &&
			(in.Period == 0 || al.Period == in.Period) && (in.Unit == "" || al.Unit == in.Unit)
	})
	out := struct{ MetricAlarms []map[string]any }{MetricAlarms: []map[string]any{}}
	for _, al := range list {
		out.MetricAlarms = append(out.MetricAlarms, s.describe(al))
	}
	return out, nil
}

func (s *Service) describeAlarmHistory(ctx context.Context, body []byte) (any, error) {
	var in struct {
		AlarmName          string
		AlarmTypes         []string
		HistoryItemType    string
		StartDate, EndDate *awsTime
		MaxRecords         int
		NextToken          string
		ScanBy             string
		AlarmContributorId string
	}
	if err := s.decode("DescribeAlarmHistory", body, &in); err != nil {
		return nil, err
	}
	if in.AlarmContributorId != "" {
		return nil, invalidValue("AlarmContributorId is not supported by hydrant (it has no multi-contributor alarms).")
	}
	maxRecords := 100
	if in.MaxRecords > 0 {
		maxRecords = in.MaxRecords
	}
	a := s.alarms
	a.mu.Lock()
	var list []historyItem
	for _, h := range a.history {
		if in.AlarmName != "" && h.AlarmName != in.AlarmName || in.HistoryItemType != "" && h.HistoryItemType != in.HistoryItemType {
			continue
		}
		if len(in.AlarmTypes) > 0 && !slices.Contains(in.AlarmTypes, h.AlarmType) {
			continue
		}
		if in.StartDate != nil && h.Timestamp.Before(in.StartDate.Time) || in.EndDate != nil && h.Timestamp.After(in.EndDate.Time) {
			continue
		}
		list = append(list, h)
	}
	a.mu.Unlock()
	if in.ScanBy != "TimestampAscending" {
		slices.Reverse(list)
	}
	page, next, err := paginate(list, in.NextToken, maxRecords)
	if err != nil {
		return nil, err
	}
	out := struct {
		AlarmHistoryItems []map[string]any
		NextToken         string `json:",omitempty"`
	}{AlarmHistoryItems: []map[string]any{}, NextToken: next}
	for _, h := range page {
		out.AlarmHistoryItems = append(out.AlarmHistoryItems, map[string]any{"AlarmName": h.AlarmName, "AlarmType": h.AlarmType,
			"Timestamp": epoch(h.Timestamp), "HistoryItemType": h.HistoryItemType, "HistorySummary": h.HistorySummary, "HistoryData": h.HistoryData})
	}
	return out, nil
}

func (s *Service) deleteAlarms(ctx context.Context, body []byte) (any, error) {
	var in struct{ AlarmNames []string }
	if err := s.decode("DeleteAlarms", body, &in); err != nil {
		return nil, err
	}
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	var missing []string
	for _, n := range in.AlarmNames {
		if a.alarms[n] == nil {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, alarmNotFound("The following alarms were not found: [%s]", strings.Join(missing, ", "))
	}
	now := s.opts.Now()
	for _, n := range in.AlarmNames {
		delete(a.alarms, n)
		_ = a.record(historyItem{AlarmName: n, AlarmType: "MetricAlarm", Timestamp: now, HistoryItemType: "ConfigurationUpdate",
			HistorySummary: fmt.Sprintf("Alarm %q deleted", n), HistoryData: `{"version":"1.0","type":"Delete"}`})
	}
	return nil, a.save()
}

func (s *Service) setAlarmState(ctx context.Context, body []byte) (any, error) {
	var in struct{ AlarmName, StateValue, StateReason, StateReasonData string }
	if err := s.decode("SetAlarmState", body, &in); err != nil {
		return nil, err
	}
	if in.StateReasonData != "" && !json.Valid([]byte(in.StateReasonData)) {
		return nil, errorf("InvalidFormatFault", "The value for parameter StateReasonData is not valid JSON.").Error
	}
	a := s.alarms
	a.mu.Lock()
	al := a.alarms[in.AlarmName]
	if al == nil {
		a.mu.Unlock()
		return nil, alarmNotFound("Alarm %s not found", in.AlarmName)
	}
	act := s.transition(al, in.StateValue, in.StateReason, in.StateReasonData, s.opts.Now())
	err := a.save()
	a.mu.Unlock()
	s.runActions(ctx, act)
	return nil, err
}

func (s *Service) setActionsEnabled(body []byte, op string, on bool) (any, error) {
	var in struct{ AlarmNames []string }
	if err := s.decode(op, body, &in); err != nil {
		return nil, err
	}
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range in.AlarmNames {
		if al := a.alarms[n]; al != nil {
			al.ActionsEnabled = on
		}
	}
	return nil, a.save()
}

func (s *Service) enableAlarmActions(ctx context.Context, body []byte) (any, error) {
	return s.setActionsEnabled(body, "EnableAlarmActions", true)
}

func (s *Service) disableAlarmActions(ctx context.Context, body []byte) (any, error) {
	return s.setActionsEnabled(body, "DisableAlarmActions", false)
}

// alarmByARN finds the alarm an ARN names; a.mu is held.
func (s *Service) alarmByARN(arn string) (*alarm, error) {
	prefix := s.alarmARN("")
	if name, ok := strings.CutPrefix(arn, prefix); ok {
		if al := s.alarms.alarms[name]; al != nil {
			return al, nil
		}
	}
	return nil, errorf("ResourceNotFoundException", "The specified resource %s does not exist.", arn).withStatus(404)
}

func (s *Service) tagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN string
		Tags        []tag
	}
	if err := s.decode("TagResource", body, &in); err != nil {
		return nil, err
	}
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	al, err := s.alarmByARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	for _, t := range in.Tags {
		i := slices.IndexFunc(al.Tags, func(x tag) bool { return x.Key == t.Key })
		if i >= 0 {
			al.Tags[i].Value = t.Value
		} else {
			al.Tags = append(al.Tags, t)
		}
	}
	if len(al.Tags) > 50 {
		return nil, invalidValue("An alarm can have at most 50 tags.")
	}
	return nil, a.save()
}

func (s *Service) untagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN string
		TagKeys     []string
	}
	if err := s.decode("UntagResource", body, &in); err != nil {
		return nil, err
	}
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	al, err := s.alarmByARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	al.Tags = slices.DeleteFunc(al.Tags, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
	return nil, a.save()
}

func (s *Service) listTagsForResource(ctx context.Context, body []byte) (any, error) {
	var in struct{ ResourceARN string }
	if err := s.decode("ListTagsForResource", body, &in); err != nil {
		return nil, err
	}
	a := s.alarms
	a.mu.Lock()
	defer a.mu.Unlock()
	al, err := s.alarmByARN(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	tags := al.Tags
	if tags == nil {
		tags = []tag{}
	}
	return struct{ Tags []tag }{tags}, nil
}

// stamp formats a time as CloudWatch's alarm JSON does:
// 2026-11-25T22:08:30.123+0000.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000-0700") }
