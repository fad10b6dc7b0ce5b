package cloudwatch

import (
	"context"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"

	"github.com/hydrant-io/hydrant/internal/cwmetrics"
)

// metricStat is the MetricStat shape.
type metricStat struct {
	Metric metricJSON
	Period int
	Stat   string
	Unit   string `json:",omitempty"`
}

// dataQuery is the MetricDataQuery shape (GetMetricData's queries and a
// math alarm's Metrics).
type dataQuery struct {
	Id         string
	MetricStat *metricStat `json:",omitempty"`
	Expression string      `json:",omitempty"`
	Label      string      `json:",omitempty"`
	ReturnData *bool       `json:",omitempty"`
	Period     int         `json:",omitempty"`
	AccountId  string      `json:",omitempty"`
}

func (q *dataQuery) returns() bool { return q.ReturnData == nil || *q.ReturnData }

// maxGridPoints bounds the periods all of a GetMetricData call's queries
// may span together (about 64 MB of timestamps and values at worst).
const maxGridPoints = 4_000_000

var metricIDPattern = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// compiled is a checked set of queries, ready to run.
type compiled struct {
	queries []dataQuery
	byID    map[string]int
	stats   []cwmetrics.Stat // by query index (MetricStat queries)
	exprs   []node           // by query index (Expression queries)
}

// compileQueries checks queries as CloudWatch does; param names the list
// in messages ("MetricDataQueries" or "Metrics").
func (s *Service) compileQueries(queries []dataQuery, param string) (*compiled, error) {
	c := &compiled{queries: queries, byID: map[string]int{}, stats: make([]cwmetrics.Stat, len(queries)), exprs: make([]node, len(queries))}
	for i := range queries {
		q := &queries[i]
		p := param + ".member." + strconv.Itoa(i+1)
		if !metricIDPattern.MatchString(q.Id) {
			return nil, invalidValue("The value %s for parameter %s.Id is invalid: it must start with a lowercase letter and contain only letters, numbers and underscores.", q.Id, p)
		}
		if _, dup := c.byID[q.Id]; dup {
			return nil, invalidValue("The value %s for parameter %s.Id is not unique.", q.Id, p)
		}
		c.byID[q.Id] = i
		if q.AccountId != "" && q.AccountId != s.opts.AccountID {
			return nil, invalidValue("The value %s for parameter %s.AccountId is invalid: hydrant has one account, %s.", q.AccountId, p, s.opts.AccountID)
		}
		switch {
		case q.MetricStat != nil && q.Expression != "":
			return nil, invalidCombination("The parameters %s.MetricStat and %s.Expression are mutually exclusive and you have specified both.", p, p)
		case q.MetricStat == nil && q.Expression == "":
			return nil, missingParameter("The parameter %s.MetricStat or %s.Expression is required.", p, p)
		case q.MetricStat != nil:
			ms := q.MetricStat
			if ms.Metric.Namespace == "" || ms.Metric.MetricName == "" {
				return nil, missingParameter("The parameters %s.MetricStat.Metric.Namespace and .MetricName are required.", p)
			}
			if err := checkPeriod(ms.Period, p+".MetricStat.Period"); err != nil {
				return nil, err
			}
			if err := checkDimensions(ms.Metric.Dimensions, p+".MetricStat.Metric.Dimensions"); err != nil {
				return nil, err
			}
			st, err := cwmetrics.ParseStat(ms.Stat)
			if err != nil {
				return nil, invalidValue("The value %s for parameter %s.MetricStat.Stat is invalid: %v.", ms.Stat, p, err)
			}
			c.stats[i] = st
		default:
			n, err := parseExpr(q.Expression)
			if err != nil {
				return nil, invalidValue("The value %s for parameter %s.Expression is invalid: %v.", q.Expression, p, err)
			}
			c.exprs[i] = n
			if q.Period != 0 {
				if err := checkPeriod(q.Period, p+".Period"); err != nil {
					return nil, err
				}
			}
		}
	}
	// Every id an expression reads exists, and no expression reads itself.
	for i, n := range c.exprs {
		if n == nil {
			continue
		}
		ids, _ := refs(n)
		for _, id := range ids {
			if _, ok := c.byID[id]; !ok {
				return nil, invalidValue("Error in expression '%s': Unrecognized metric id %q.", queries[i].Id, id)
			}
		}
	}
	for i := range queries {
		if err := c.checkCycle(i, map[int]bool{}); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *compiled) checkCycle(i int, path map[int]bool) error {
	if c.exprs[i] == nil {
		return nil
	}
	if path[i] {
		return invalidValue("Error in expression '%s': Circular dependency.", c.queries[i].Id)
	}
	path[i] = true
	defer delete(path, i)
	ids, _ := refs(c.exprs[i])
	for _, id := range ids {
		if err := c.checkCycle(c.byID[id], path); err != nil {
			return err
		}
	}
	return nil
}

// run evaluates every query over [start, end); results are by query
// index. An expression that cannot be evaluated is an error naming it.
func (s *Service) run(c *compiled, start, end time.Time) ([]value, error) {
	vals := make([]value, len(c.queries))
	done := make([]bool, len(c.queries))
	env := &evalEnv{start: start.Unix(), end: end.Unix()}
	get := func(i int) (value, error) {
		if done[i] {
			return vals[i], nil
		}
		q := &c.queries[i]
		var v value
		if ms := q.MetricStat; ms != nil {
			v = value{one: s.statSeries(ms, c.stats[i], start, end, q.label())}
		} else {
			var err error
			if v, err = env.eval(c.exprs[i]); err != nil {
				return value{}, invalidValue("Error in expression '%s': %v.", q.Id, err)
			}
			if v.scalar != nil {
				v = value{one: constant(*v.scalar, start, end, c.period(i), q.label())}
			} else if v.one != nil && q.Label != "" {
				v.one.label = q.Label
			} else if v.one != nil {
				v.one.label = q.Id
			}
		}
		vals[i], done[i] = v, true
		return v, nil
	}
	env.lookup = func(id string) (value, error) { return get(c.byID[id]) }
	env.metrics = func(filter string) []*series {
		var out []*series
		for i, q := range c.queries {
			if q.MetricStat == nil || !strings.Contains(q.Id, filter) {
				continue
			}
			if v, err := get(i); err == nil && v.one != nil {
				out = append(out, v.one)
			}
		}
		return out
	}
	for i := range c.queries {
		if _, err := get(i); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// period is the grid of query i: its Period, or for an expression the
// first metric's.
func (c *compiled) period(i int) int64 {
	q := c.queries[i]
	if q.Period > 0 {
		return int64(max(q.Period, 60))
	}
	if q.MetricStat != nil {
		return int64(max(q.MetricStat.Period, 60))
	}
	for _, o := range c.queries {
		if o.MetricStat != nil {
			return int64(max(o.MetricStat.Period, 60))
		}
	}
	return 60
}

func (q *dataQuery) label() string {
	if q.Label != "" {
		return q.Label
	}
	if q.MetricStat != nil {
		return q.MetricStat.Metric.MetricName
	}
	return q.Id
}

func constant(v float64, start, end time.Time, period int64, label string) *series {
	o := &series{label: label, period: period}
	for t := start.Unix(); t < end.Unix(); t += period {
		o.ts = append(o.ts, t)
		o.v = append(o.v, v)
	}
	return o
}

// statSeries is a MetricStat's datapoints.
func (s *Service) statSeries(ms *metricStat, st cwmetrics.Stat, start, end time.Time, label string) *series {
	period := int64(max(ms.Period, 60))
	o := &series{label: label, period: period}
	sr := s.store.Lookup(ms.Metric.metric())
	if sr == nil {
		return o
	}
	q := cwmetrics.Query{Start: start, End: end, Period: time.Duration(period) * time.Second, Sketch: st.IsPercentile()}
	if ms.Unit != "" {
		u, _ := cwmetrics.ParseUnit(ms.Unit)
		q.Unit = &u
	}
	bp := bucketPool.Get().(*[]cwmetrics.Bucket)
	buckets := sr.AggregateInto(q, *bp)
	o.ts, o.v = make([]int64, 0, len(buckets)), make([]float64, 0, len(buckets))
	for i := range buckets {
		b := &buckets[i]
		t := b.Start.Unix()
		if n := len(o.ts); n > 0 && o.ts[n-1] == t {
			continue // a second unit in the same period: the first wins
		}
		if v, ok := b.Value(st); ok {
			o.ts = append(o.ts, t)
			o.v = append(o.v, v)
		}
	}
	clear(buckets) // drop the sketches
	*bp = buckets[:0]
	bucketPool.Put(bp)
	return o
}

// bucketPool holds Aggregate buffers, one per query in flight.
var bucketPool = sync.Pool{New: func() any { return new([]cwmetrics.Bucket) }}

func (s *Service) getMetricData(ctx context.Context, body []byte) (any, error) {
	var in struct {
		MetricDataQueries []dataQuery
		StartTime         awsTime
		EndTime           awsTime
		NextToken         string
		ScanBy            string
		MaxDatapoints     *int
		LabelOptions      *struct{ Timezone string }
	}
	if err := s.decode("GetMetricData", body, &in); err != nil {
		return nil, err
	}
	if in.LabelOptions != nil && in.LabelOptions.Timezone != "" {
		return nil, invalidValue("LabelOptions.Timezone is not supported by hydrant (labels are not dynamic).")
	}
	if len(in.MetricDataQueries) == 0 {
		return nil, missingParameter("The parameter MetricDataQueries is required.")
	}
	if len(in.MetricDataQueries) > maxQueries {
		return nil, invalidValue("The collection MetricDataQueries must not have a size greater than %d.", maxQueries)
	}
	if !in.StartTime.Before(in.EndTime.Time) {
		return nil, invalidValue("The parameter StartTime must be less than the parameter EndTime.")
	}
	maxPoints := maxDatapointsGMD
	if in.MaxDatapoints != nil {
		if *in.MaxDatapoints < 1 {
			return nil, invalidValue("The parameter MaxDatapoints must be greater than 0.")
		}
		maxPoints = *in.MaxDatapoints
	}
	returned := 0
	for _, q := range in.MetricDataQueries {
		if q.returns() {
			returned++
		}
	}
	if returned == 0 {
		return nil, invalidValue("At least one of the MetricDataQueries must have ReturnData set to true.")
	}
	c, err := s.compileQueries(in.MetricDataQueries, "MetricDataQueries")
	if err != nil {
		return nil, err
	}
	skip := 0
	if in.NextToken != "" {
		n, err := decodeToken(in.NextToken)
		if err != nil {
			return nil, invalidNextToken()
		}
		skip = n
	}
	start := alignStart(in.StartTime.Time)
	// Pages bound what is sent, not what is computed: the grid of every
	// query is bounded instead, before anything is read.
	span := in.EndTime.Sub(start)
	grid := int64(0)
	for i := range c.queries {
		grid += int64(span/time.Second)/c.period(i) + 1
	}
	if grid > maxGridPoints {
		return nil, invalidCombination("The request spans up to %s datapoints across its queries; hydrant computes at most %s per call. Increase Period, narrow the time range, or split the queries.", thousands(grid), thousands(maxGridPoints))
	}
	vals, err := s.run(c, start, in.EndTime.Time)
	if err != nil {
		return nil, err
	}
	return awsproto.RawJSON(writeResults(c, vals, in.ScanBy != "TimestampAscending", skip, maxPoints)), nil
}

// writeResults encodes GetMetricData's answer by hand: it can hold
// 100,800 datapoints, which reflection would make slow. Datapoints are
// counted across the results in order; a page ends at maxPoints and its
// NextToken says how many came before the next.
func writeResults(c *compiled, vals []value, desc bool, skip, maxPoints int) []byte {
	// About 30 bytes a datapoint (value, timestamp, commas), up to a page.
	size := 0
	for i, q := range c.queries {
		if q.returns() {
			if vals[i].one != nil {
				size += len(vals[i].one.ts)
			}
			for _, sr := range vals[i].many {
				size += len(sr.ts)
			}
		}
	}
	b := make([]byte, 0, 256+30*min(size, maxPoints))
	b = append(b, `{"MetricDataResults":[`...)
	seen, taken, first := 0, 0, true
	next := ""
	var ts []byte
	for i, q := range c.queries {
		if !q.returns() || next != "" {
			continue
		}
		v := vals[i]
		list := v.many
		if v.one != nil {
			list = []*series{v.one}
		}
		for _, sr := range list {
			if next != "" {
				break
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = append(b, `{"Id":`...)
			b = appendJSONString(b, q.Id)
			b = append(b, `,"Label":`...)
			b = appendJSONString(b, sr.label)
			b = append(b, `,"Values":[`...)
			ts = append(ts[:0], `,"Timestamps":[`...)
			status := "Complete"
			n, k0 := len(sr.ts), 0
			for k := range n {
				j := k
				if desc {
					j = n - 1 - k
				}
				if math.IsNaN(sr.v[j]) || math.IsInf(sr.v[j], 0) {
					continue
				}
				seen++
				if seen <= skip {
					continue
				}
				if taken == maxPoints {
					status, next = "PartialData", encodeToken(seen-1)
					break
				}
				taken++
				if k0 > 0 {
					b, ts = append(b, ','), append(ts, ',')
				}
				k0++
				b = strconv.AppendFloat(b, sr.v[j], 'g', -1, 64)
				ts = strconv.AppendInt(ts, sr.ts[j], 10)
			}
			b = append(b, ']')
			b = append(b, ts...)
			b = append(b, `],"StatusCode":"`...)
			b = append(b, status...)
			b = append(b, `","Messages":[]}`...)
		}
	}
	b = append(b, `],"Messages":[]`...)
	if next != "" {
		b = append(b, `,"NextToken":`...)
		b = appendJSONString(b, next)
	}
	return append(b, '}')
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
