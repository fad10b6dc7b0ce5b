package cloudwatch

import (
	"context"
	"encoding/base64"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/cwmetrics"
)

// CloudWatch's limits.
const (
	maxMetricData       = 1000 // MetricDatum per PutMetricData
	maxValues           = 150  // Values per MetricDatum
	maxDatapointsGMS    = 1440 // datapoints per GetMetricStatistics
	maxQueries          = 500  // MetricDataQueries per GetMetricData
	maxDatapointsGMD    = 100800
	listMetricsPageSize = 500
)

type statisticSet struct {
	SampleCount, Sum, Minimum, Maximum float64
}

type metricDatum struct {
	MetricName        string
	Dimensions        []cwmetrics.Dimension
	Timestamp         *awsTime
	Value             *float64
	StatisticValues   *statisticSet
	Values            []float64
	Counts            []float64
	Unit              string
	StorageResolution *int
}

// putMetricData stores users' and functions' own metrics. High-resolution
// datapoints (StorageResolution 1) are accepted and stored at 1-minute
// resolution, the only one hydrant keeps.
func (s *Service) putMetricData(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Namespace        string
		MetricData       []metricDatum
		EntityMetricData []any
	}
	if err := s.decode("PutMetricData", body, &in); err != nil {
		return nil, err
	}
	if len(in.EntityMetricData) > 0 {
		return nil, invalidValue("EntityMetricData is not supported by hydrant; send the datapoints in MetricData.")
	}
	if strings.HasPrefix(in.Namespace, "AWS/") {
		return nil, invalidValue("The value %s for parameter Namespace is invalid: namespaces starting with AWS/ are reserved for AWS services.", in.Namespace)
	}
	if len(in.MetricData) == 0 {
		return nil, missingParameter("The parameter MetricData is required.")
	}
	if len(in.MetricData) > maxMetricData {
		return nil, invalidValue("The collection MetricData must not have a size greater than %d.", maxMetricData)
	}
	now := s.opts.Now()
	type prepared struct {
		sr   *cwmetrics.Series
		t    time.Time
		unit cwmetrics.Unit
	}
	// Check everything first: a request is stored whole or not at all.
	prep := make([]prepared, len(in.MetricData))
	for i, d := range in.MetricData {
		p := "MetricData.member." + strconv.Itoa(i+1)
		set := 0
		for _, b := range []bool{d.Value != nil, d.StatisticValues != nil, d.Values != nil} {
			if b {
				set++
			}
		}
		switch {
		case set == 0:
			return nil, missingParameter("The parameter %s.Value is required.", p)
		case set > 1:
			return nil, invalidCombination("The parameters %s.Value, %s.StatisticValues and %s.Values are mutually exclusive and you have specified more than one.", p, p, p)
		}
		if len(d.Values) > maxValues {
			return nil, invalidValue("The collection %s.Values must not have a size greater than %d.", p, maxValues)
		}
		if len(d.Counts) > 0 && len(d.Counts) != len(d.Values) {
			return nil, invalidCombination("The parameters %s.Values and %s.Counts must be of the same size.", p, p)
		}
		for _, c := range d.Counts {
			if c < 0 {
				return nil, invalidValue("The parameter %s.Counts must not contain negative values.", p)
			}
		}
		if sv := d.StatisticValues; sv != nil {
			if sv.SampleCount <= 0 {
				return nil, invalidValue("The parameter %s.StatisticValues.SampleCount must be greater than 0.", p)
			}
			if sv.Minimum > sv.Maximum {
				return nil, invalidValue("The parameter %s.StatisticValues.Maximum must be greater than or equal to %s.StatisticValues.Minimum.", p, p)
			}
		}
		if r := d.StorageResolution; r != nil && *r != 1 && *r != 60 {
			return nil, invalidValue("The value %d for parameter %s.StorageResolution is invalid (1 or 60).", *r, p)
		}
		if err := checkDimensions(d.Dimensions, p+".Dimensions"); err != nil {
			return nil, err
		}
		t := now
		if d.Timestamp != nil {
			t = d.Timestamp.Time
			if t.After(now.Add(2 * time.Hour)) {
				return nil, invalidValue("The parameter %s.Timestamp must specify a time no more than two hours in the future.", p)
			}
			if t.Before(now.Add(-14*24*time.Hour)) || t.Before(now.Add(-s.store.Retention())) {
				return nil, invalidValue("The parameter %s.Timestamp must specify a time within the past two weeks.", p)
			}
		}
		unit, _ := cwmetrics.ParseUnit(d.Unit) // the model checked the enum
		sr, err := s.store.Series(cwmetrics.NewMetric(in.Namespace, d.MetricName, d.Dimensions...))
		if err != nil {
			if errors.Is(err, cwmetrics.ErrTooManySeries) {
				return nil, invalidValue("hydrant keeps no more metrics: %v.", err)
			}
			return nil, err
		}
		prep[i] = prepared{sr, t, unit}
	}
	for i, d := range in.MetricData {
		p := prep[i]
		switch {
		case d.Value != nil:
			p.sr.Record(p.t, p.unit, *d.Value, true)
		case d.StatisticValues != nil:
			sv := d.StatisticValues
			p.sr.RecordSet(p.t, p.unit, sv.SampleCount, sv.Sum, sv.Minimum, sv.Maximum)
		default:
			p.sr.RecordValues(p.t, p.unit, d.Values, d.Counts)
		}
	}
	return nil, nil
}

// listMetrics lists the metrics with datapoints in the retention period,
// sorted, 500 to a page.
func (s *Service) listMetrics(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Namespace, MetricName string
		Dimensions            []struct {
			Name  string
			Value *string
		}
		NextToken             string
		RecentlyActive        string
		IncludeLinkedAccounts bool
		OwningAccount         string
	}
	if err := s.decode("ListMetrics", body, &in); err != nil {
		return nil, err
	}
	if in.OwningAccount != "" && in.OwningAccount != s.opts.AccountID {
		return nil, invalidValue("The value %s for parameter OwningAccount is invalid: hydrant has one account, %s.", in.OwningAccount, s.opts.AccountID)
	}
	now := s.opts.Now()
	var ms []cwmetrics.Metric
	s.store.Each(func(sr *cwmetrics.Series) {
		m := sr.Metric
		if in.Namespace != "" && m.Namespace != in.Namespace || in.MetricName != "" && m.Name != in.MetricName {
			return
		}
		for _, f := range in.Dimensions {
			found := false
			for _, d := range m.Dims {
				if d.Name == f.Name && (f.Value == nil || *f.Value == d.Value) {
					found = true
					break
				}
			}
			if !found {
				return
			}
		}
		if in.RecentlyActive == "PT3H" && !sr.Has(now.Add(-3*time.Hour), now.Add(time.Minute)) {
			return
		}
		if sr.LastMinute() == 0 {
			return
		}
		ms = append(ms, m)
	})
	sort.Slice(ms, func(i, j int) bool { return metricLess(ms[i], ms[j]) })
	start := 0
	if in.NextToken != "" {
		n, err := decodeToken(in.NextToken)
		if err != nil || n > len(ms) {
			return nil, invalidValue("The value for parameter NextToken is invalid.")
		}
		start = n
	}
	end := min(start+listMetricsPageSize, len(ms))
	out := struct {
		Metrics   []metricJSON
		NextToken string `json:",omitempty"`
	}{Metrics: []metricJSON{}}
	for _, m := range ms[start:end] {
		out.Metrics = append(out.Metrics, toMetricJSON(m))
	}
	if end < len(ms) {
		out.NextToken = encodeToken(end)
	}
	return out, nil
}

func metricLess(a, b cwmetrics.Metric) bool {
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	for i := 0; i < len(a.Dims) && i < len(b.Dims); i++ {
		if a.Dims[i] != b.Dims[i] {
			if a.Dims[i].Name != b.Dims[i].Name {
				return a.Dims[i].Name < b.Dims[i].Name
			}
			return a.Dims[i].Value < b.Dims[i].Value
		}
	}
	return len(a.Dims) < len(b.Dims)
}

func encodeToken(n int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("hydrant:" + strconv.Itoa(n)))
}

func decodeToken(t string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	if err != nil || !strings.HasPrefix(string(b), "hydrant:") {
		return 0, errors.New("bad token")
	}
	return strconv.Atoi(strings.TrimPrefix(string(b), "hydrant:"))
}

// alignStart rounds a query's start down to the minute, as CloudWatch
// does for data younger than 15 days.
func alignStart(t time.Time) time.Time { return t.UTC().Truncate(time.Minute) }

type datapointJSON struct {
	Timestamp          any             `json:"Timestamp"`
	SampleCount        *jnum           `json:"SampleCount,omitempty"`
	Average            *jnum           `json:"Average,omitempty"`
	Sum                *jnum           `json:"Sum,omitempty"`
	Minimum            *jnum           `json:"Minimum,omitempty"`
	Maximum            *jnum           `json:"Maximum,omitempty"`
	Unit               string          `json:"Unit"`
	ExtendedStatistics map[string]jnum `json:"ExtendedStatistics,omitempty"`
}

func (s *Service) getMetricStatistics(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Namespace, MetricName string
		Dimensions            []cwmetrics.Dimension
		StartTime, EndTime    awsTime
		Period                int
		Statistics            []string
		ExtendedStatistics    []string
		Unit                  string
	}
	if err := s.decode("GetMetricStatistics", body, &in); err != nil {
		return nil, err
	}
	if len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0 {
		return nil, missingParameter("Must specify either Statistics or ExtendedStatistics.")
	}
	if err := checkPeriod(in.Period, "Period"); err != nil {
		return nil, err
	}
	if !in.StartTime.Before(in.EndTime.Time) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	if err := checkDimensions(in.Dimensions, "Dimensions"); err != nil {
		return nil, err
	}
	var stats []cwmetrics.Stat
	for _, n := range in.Statistics {
		st, _ := cwmetrics.ParseStat(n) // the model checked the enum
		stats = append(stats, st)
	}
	for _, n := range in.ExtendedStatistics {
		st, err := cwmetrics.ParseStat(n)
		if err != nil || !st.IsPercentile() {
			return nil, invalidValue("The value %s for parameter ExtendedStatistics is not supported: %v.", n, errText(err, "not a percentile"))
		}
		stats = append(stats, st)
	}
	start := alignStart(in.StartTime.Time)
	period := time.Duration(max(in.Period, 60)) * time.Second
	if n := (in.EndTime.Sub(start) + period - 1) / period; n > maxDatapointsGMS {
		return nil, invalidCombination("You have requested up to %s datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", thousands(int64(n)))
	}
	out := struct {
		Label      string
		Datapoints []datapointJSON
	}{Label: in.MetricName, Datapoints: []datapointJSON{}}
	sr := s.store.Lookup(cwmetrics.NewMetric(in.Namespace, in.MetricName, in.Dimensions...))
	if sr == nil {
		return out, nil
	}
	q := cwmetrics.Query{Start: start, End: in.EndTime.Time, Period: period, Sketch: len(in.ExtendedStatistics) > 0}
	if in.Unit != "" {
		u, _ := cwmetrics.ParseUnit(in.Unit)
		q.Unit = &u
	}
	for _, b := range sr.Aggregate(q) {
		dp := datapointJSON{Timestamp: epoch(b.Start), Unit: b.Unit.String()}
		for _, st := range stats {
			v, ok := b.Value(st)
			if !ok {
				continue
			}
			j := jnum(v)
			switch st.Name {
			case "SampleCount":
				dp.SampleCount = &j
			case "Sum":
				dp.Sum = &j
			case "Average":
				dp.Average = &j
			case "Minimum":
				dp.Minimum = &j
			case "Maximum":
				dp.Maximum = &j
			default:
				if dp.ExtendedStatistics == nil {
					dp.ExtendedStatistics = map[string]jnum{}
				}
				dp.ExtendedStatistics[st.Name] = j
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	return out, nil
}

func errText(err error, def string) string {
	if err != nil {
		return err.Error()
	}
	return def
}

// thousands writes n with comma separators, as CloudWatch's messages do.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func epoch(t time.Time) any { return awsproto.EpochSeconds(t) }
