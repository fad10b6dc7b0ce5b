package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/cwmetrics"
)

// Evaluation follows CloudWatch's rules ("Evaluating an alarm", "How
// alarm state is evaluated when data is missing"):
//
//   - the alarm looks at its last EvaluationPeriods periods, ending at the
//     last period boundary; with TreatMissingData missing or ignore it
//     looks back over an evaluation range of EvaluationPeriods + 2 periods
//     and takes the most recent EvaluationPeriods datapoints it finds;
//   - ALARM when at least DatapointsToAlarm (M) of them breach; with
//     missing, fewer than M datapoints that all breach are also ALARM
//     (ignore keeps the state instead); OK otherwise;
//   - breaching / notBreaching count a missing period as bad / good;
//   - no datapoint at all: INSUFFICIENT_DATA (missing) or the state kept
//     (ignore).

// dp is one evaluated period.
type dp struct {
	t       int64
	v       float64
	count   float64 // sample count (metric alarms)
	present bool
}

// action is a state change whose actions are still to run.
type action struct {
	al       alarm // a copy, as it was after the change
	oldState string
	arns     []string
}

// Evaluate evaluates every alarm at now and runs the actions of those
// whose state changed.
func (s *Service) Evaluate(ctx context.Context, now time.Time) {
	a := s.alarms
	a.mu.Lock()
	var acts []action
	changed := false
	for _, al := range a.sorted(func(*alarm) bool { return true }) {
		state, reason, data, ok := s.evaluate(al, now)
		if !ok || state == al.StateValue && al.StateReason != "Unchecked: Initial alarm creation" {
			continue
		}
		if state == al.StateValue {
			// The first evaluation confirms the initial state: its reason
			// changes, nothing is notified.
			al.StateReason, al.StateReasonData, al.StateUpdatedTimestamp = reason, data, now
			changed = true
			continue
		}
		if act := s.transition(al, state, reason, data, now); act != nil {
			acts = append(acts, *act)
		}
		changed = true
	}
	if changed {
		if err := a.save(); err != nil {
			s.log.Error("save alarms", "err", err)
		}
	}
	a.mu.Unlock()
	for i := range acts {
		s.runActions(ctx, &acts[i])
	}
}

// transition moves al to state and records it; a.mu is held. It returns
// the actions to run (outside the lock), nil when there are none.
func (s *Service) transition(al *alarm, state, reason, data string, now time.Time) *action {
	old := al.StateValue
	oldReason := al.StateReason
	al.StateValue, al.StateReason, al.StateReasonData, al.StateUpdatedTimestamp = state, reason, data, now
	if old != state {
		al.StateTransitionedTimestamp = now
	}
	newState := map[string]any{"stateValue": state, "stateReason": reason}
	if data != "" {
		newState["stateReasonData"] = json.RawMessage(data)
	}
	hd, _ := json.Marshal(map[string]any{"version": "1.0",
		"oldState": map[string]any{"stateValue": old, "stateReason": oldReason}, "newState": newState})
	_ = s.alarms.record(historyItem{AlarmName: al.AlarmName, AlarmType: "MetricAlarm", Timestamp: now, HistoryItemType: "StateUpdate",
		HistorySummary: fmt.Sprintf("Alarm updated from %s to %s", old, state), HistoryData: string(hd)})
	if old == state || !al.ActionsEnabled {
		return nil
	}
	var arns []string
	switch state {
	case StateAlarm:
		arns = al.AlarmActions
	case StateOK:
		arns = al.OKActions
	default:
		arns = al.InsufficientDataActions
	}
	if len(arns) == 0 {
		return nil
	}
	return &action{al: *al, oldState: old, arns: arns}
}

// runActions publishes the alarm's notification to each topic and
// records the outcome in the history.
func (s *Service) runActions(ctx context.Context, act *action) {
	if act == nil {
		return
	}
	al := &act.al
	msg := s.notification(al, act.oldState)
	subject := fmt.Sprintf("%s: %q in %s", al.StateValue, al.AlarmName, regionName(s.opts.Region))
	if len(subject) > 100 {
		subject = subject[:100]
	}
	for _, arn := range act.arns {
		var err error
		if s.opts.Notifier == nil {
			err = fmt.Errorf("no SNS service")
		} else {
			err = s.opts.Notifier.Publish(ctx, arn, subject, msg)
		}
		item := historyItem{AlarmName: al.AlarmName, AlarmType: "MetricAlarm", Timestamp: s.opts.Now(), HistoryItemType: "Action"}
		if err != nil {
			s.log.Warn("alarm action failed", "alarm", al.AlarmName, "action", arn, "err", err)
			item.HistorySummary = "Failed to execute action " + arn
			d, _ := json.Marshal(map[string]any{"actionState": "Failed", "notificationResource": arn, "stateUpdateTimestamp": al.StateUpdatedTimestamp.UnixMilli(), "error": err.Error()})
			item.HistoryData = string(d)
		} else {
			item.HistorySummary = "Successfully executed action " + arn
			d, _ := json.Marshal(map[string]any{"actionState": "Succeeded", "notificationResource": arn, "stateUpdateTimestamp": al.StateUpdatedTimestamp.UnixMilli(), "publishedMessage": msg})
			item.HistoryData = string(d)
		}
		s.alarms.mu.Lock()
		_ = s.alarms.record(item)
		s.alarms.mu.Unlock()
	}
}

// evaluate computes al's state at now; ok is false when the state is to
// be kept as it is.
func (s *Service) evaluate(al *alarm, now time.Time) (state, reason, data string, ok bool) {
	n := al.EvaluationPeriods
	m := al.DatapointsToAlarm
	if m == 0 {
		m = n
	}
	tmd := al.TreatMissingData
	if tmd == "" {
		tmd = "missing"
	}
	period := int64(al.Period)
	if al.compiled == nil && len(al.Metrics) > 0 {
		c, err := s.compileQueries(al.Metrics, "Metrics")
		if err != nil {
			return StateInsufficient, "Insufficient Data: the alarm's expression cannot be evaluated: " + err.Error(), "", true
		}
		al.compiled = c
	}
	ret := 0
	if al.compiled != nil {
		for i, q := range al.Metrics {
			if q.returns() {
				ret = i
			}
		}
		period = al.compiled.period(ret)
	}
	rangeN := n
	if tmd == "missing" || tmd == "ignore" {
		rangeN = n + 2
	}
	end := now.Unix() / period * period
	start := end - int64(rangeN)*period
	pts, err := s.datapoints(al, ret, time.Unix(start, 0), time.Unix(end, 0), period)
	if err != nil {
		return StateInsufficient, "Insufficient Data: " + err.Error(), "", true
	}
	// Newest first: the periods of the range, present or not.
	var window []dp
	if tmd == "missing" || tmd == "ignore" {
		for i := len(pts) - 1; i >= 0 && len(window) < n; i-- {
			if pts[i].present {
				window = append(window, pts[i])
			}
		}
	} else {
		for i := len(pts) - 1; i >= len(pts)-n; i-- {
			window = append(window, pts[i])
		}
	}
	if al.EvaluateLowSampleCountPercentile == "ignore" && al.ExtendedStatistic != "" {
		st, _ := cwmetrics.ParseStat(al.ExtendedStatistic)
		for _, d := range window {
			if d.present && st.Percentile < 100 && d.count < 10/(1-st.Percentile/100) {
				return "", "", "", false
			}
		}
	}
	var breaching, notBreaching []dp
	missing := 0
	for _, d := range window {
		switch {
		case !d.present:
			missing++
		case s.breaches(al, d.v):
			breaching = append(breaching, d)
		default:
			notBreaching = append(notBreaching, d)
		}
	}
	// The reason and its data are written only when the state changes (or
	// the initial one is confirmed): most evaluations change nothing.
	explain := al.StateReason == "Unchecked: Initial alarm creation"
	result := func(state string, reason func() string) (string, string, string, bool) {
		if state == al.StateValue && !explain {
			return state, "", "", true
		}
		return state, reason(), s.reasonData(al, now, time.Unix(start, 0), window), true
	}
	crossed := func(alarmState bool, dps []dp, missing int, treatedAs string) func() string {
		return func() string { return s.reason(al, alarmState, dps, missing, treatedAs, n, m) }
	}
	switch tmd {
	case "breaching":
		if len(breaching)+missing >= m {
			return result(StateAlarm, crossed(true, breaching, missing, "Breaching"))
		}
		return result(StateOK, crossed(false, notBreaching, 0, ""))
	case "notBreaching":
		if len(breaching) >= m {
			return result(StateAlarm, crossed(true, breaching, 0, ""))
		}
		return result(StateOK, crossed(false, notBreaching, missing, "NonBreaching"))
	}
	present := len(breaching) + len(notBreaching)
	switch {
	case present == 0 && tmd == "ignore":
		return "", "", "", false
	case present == 0:
		return result(StateInsufficient, func() string {
			return fmt.Sprintf("Insufficient Data: %s %s unknown.", plural(n, "datapoint"), wasWere(n))
		})
	case len(breaching) >= m:
		return result(StateAlarm, crossed(true, breaching, 0, ""))
	case present < m && len(breaching) == present:
		if tmd == "ignore" {
			return "", "", "", false
		}
		return result(StateAlarm, crossed(true, breaching, 0, ""))
	}
	return result(StateOK, crossed(false, notBreaching, 0, ""))
}

// datapoints returns one dp per period of [start, end), oldest first.
func (s *Service) datapoints(al *alarm, ret int, start, end time.Time, period int64) ([]dp, error) {
	var sr *series
	var counts []float64 // sample counts, beside sr.v (metric alarms)
	if al.compiled != nil {
		vals, err := s.run(al.compiled, start, end)
		if err != nil {
			return nil, err
		}
		v := vals[ret]
		if v.one == nil {
			return nil, fmt.Errorf("the alarm's expression must return one time series")
		}
		sr = v.one
	} else {
		stat := al.Statistic
		if stat == "" {
			stat = al.ExtendedStatistic
		}
		st, err := cwmetrics.ParseStat(stat)
		if err != nil {
			return nil, err
		}
		sr = &series{period: period}
		if m := s.store.Lookup(al.metric()); m != nil {
			q := cwmetrics.Query{Start: start, End: end, Period: time.Duration(period) * time.Second, Sketch: st.IsPercentile()}
			if al.Unit != "" {
				u, _ := cwmetrics.ParseUnit(al.Unit)
				q.Unit = &u
			}
			bp := bucketPool.Get().(*[]cwmetrics.Bucket)
			buckets := m.AggregateInto(q, *bp)
			for i := range buckets {
				b := &buckets[i]
				t := b.Start.Unix()
				if n := len(sr.ts); n > 0 && sr.ts[n-1] == t {
					continue
				}
				if v, ok := b.Value(st); ok {
					sr.ts, sr.v = append(sr.ts, t), append(sr.v, v)
					counts = append(counts, b.Count)
				}
			}
			clear(buckets)
			*bp = buckets[:0]
			bucketPool.Put(bp)
		}
	}
	out := make([]dp, 0, (end.Unix()-start.Unix())/period)
	j := 0
	for t := start.Unix(); t < end.Unix(); t += period {
		for j < len(sr.ts) && sr.ts[j] < t {
			j++
		}
		d := dp{t: t}
		if j < len(sr.ts) && sr.ts[j] == t && !math.IsNaN(sr.v[j]) {
			d.v, d.present = sr.v[j], true
			if j < len(counts) {
				d.count = counts[j]
			}
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *Service) breaches(al *alarm, v float64) bool {
	switch al.ComparisonOperator {
	case "GreaterThanOrEqualToThreshold":
		return v >= al.Threshold
	case "GreaterThanThreshold":
		return v > al.Threshold
	case "LessThanThreshold":
		return v < al.Threshold
	case "LessThanOrEqualToThreshold":
		return v <= al.Threshold
	}
	return false
}

// comparison is the operator in CloudWatch's reason sentences.
var comparison = map[string]string{
	"GreaterThanOrEqualToThreshold": "greater than or equal to",
	"GreaterThanThreshold":          "greater than",
	"LessThanThreshold":             "less than",
	"LessThanOrEqualToThreshold":    "less than or equal to",
}

// reason writes CloudWatch's StateReason:
//
//	Threshold Crossed: 1 datapoint [0.0 (25/11/26 22:07:00)] was less than the threshold (1.0).
//	Threshold Crossed: 2 out of the last 3 datapoints [5.0 (...), 6.0 (...)] were greater than the threshold (4.0) (minimum 2 datapoints for OK -> ALARM transition).
//	Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching].
func (s *Service) reason(al *alarm, alarmState bool, dps []dp, missing int, treatedAs string, n, m int) string {
	cmp := comparison[al.ComparisonOperator]
	if !alarmState {
		cmp = "not " + cmp
	}
	if len(dps) == 0 && missing > 0 {
		return fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s %s treated as [%s].",
			plural(missing, "period"), plural(missing, "missing datapoint"), wasWere(missing), treatedAs)
	}
	list := make([]string, len(dps))
	for i, d := range dps {
		list[i] = javaDouble(d.v) + " (" + time.Unix(d.t, 0).UTC().Format("02/01/06 15:04:05") + ")"
	}
	var b strings.Builder
	b.WriteString("Threshold Crossed: ")
	if n == 1 {
		fmt.Fprintf(&b, "%s [%s] %s %s the threshold (%s)", plural(len(dps), "datapoint"), strings.Join(list, ", "), wasWere(len(dps)), cmp, javaDouble(al.Threshold))
	} else {
		fmt.Fprintf(&b, "%d out of the last %d datapoints [%s] %s %s the threshold (%s)", len(dps), n, strings.Join(list, ", "), wasWere(len(dps)), cmp, javaDouble(al.Threshold))
	}
	if missing > 0 && treatedAs != "" {
		fmt.Fprintf(&b, " and %s %s treated as [%s]", plural(missing, "missing datapoint"), wasWere(missing), treatedAs)
	}
	if n > 1 {
		if alarmState {
			fmt.Fprintf(&b, " (minimum %s for OK -> ALARM transition)", plural(m, "datapoint"))
		} else {
			fmt.Fprintf(&b, " (minimum %s for ALARM -> OK transition)", plural(n-m+1, "datapoint"))
		}
	}
	b.WriteString(".")
	return b.String()
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func wasWere(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// javaDouble writes v as Java's Double.toString does (1.0, 0.5, 1.0E7),
// which is how CloudWatch writes numbers in reasons.
func javaDouble(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	a := math.Abs(v)
	if a != 0 && (a < 1e-3 || a >= 1e7) {
		s := strconv.FormatFloat(v, 'E', -1, 64)
		mant, exp, _ := strings.Cut(s, "E")
		if !strings.Contains(mant, ".") {
			mant += ".0"
		}
		e, _ := strconv.Atoi(exp)
		return mant + "E" + strconv.Itoa(e)
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// jdouble encodes as javaDouble in JSON.
type jdouble float64

// MarshalJSON implements json.Marshaler.
func (d jdouble) MarshalJSON() ([]byte, error) {
	v := float64(d)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return []byte(javaDouble(v)), nil
}

// reasonData is CloudWatch's StateReasonData JSON.
func (s *Service) reasonData(al *alarm, now, start time.Time, window []dp) string {
	type evaluated struct {
		Timestamp   string   `json:"timestamp"`
		SampleCount *jdouble `json:"sampleCount,omitempty"`
		Value       *jdouble `json:"value,omitempty"`
	}
	doc := struct {
		Version             string      `json:"version"`
		QueryDate           string      `json:"queryDate"`
		StartDate           string      `json:"startDate"`
		Statistic           string      `json:"statistic,omitempty"`
		Unit                string      `json:"unit,omitempty"`
		Period              int         `json:"period,omitempty"`
		RecentDatapoints    []jdouble   `json:"recentDatapoints"`
		Threshold           jdouble     `json:"threshold"`
		EvaluatedDatapoints []evaluated `json:"evaluatedDatapoints,omitempty"`
	}{Version: "1.0", QueryDate: stamp(now), StartDate: stamp(start), Unit: al.Unit, Period: al.Period,
		RecentDatapoints: []jdouble{}, Threshold: jdouble(al.Threshold)}
	doc.Statistic = al.Statistic
	if al.ExtendedStatistic != "" {
		doc.Statistic = al.ExtendedStatistic
	}
	for i := len(window) - 1; i >= 0; i-- {
		if window[i].present {
			doc.RecentDatapoints = append(doc.RecentDatapoints, jdouble(window[i].v))
		}
	}
	for _, d := range window {
		e := evaluated{Timestamp: stamp(time.Unix(d.t, 0))}
		if d.present {
			v := jdouble(d.v)
			e.Value = &v
			if al.compiled == nil {
				c := jdouble(d.count)
				e.SampleCount = &c
			}
		}
		doc.EvaluatedDatapoints = append(doc.EvaluatedDatapoints, e)
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// notification is the JSON message CloudWatch publishes to SNS.
func (s *Service) notification(al *alarm, oldState string) string {
	type dim struct {
		Value string `json:"value"`
		Name  string `json:"name"`
	}
	trigger := map[string]any{
		"Period": al.Period, "EvaluationPeriods": al.EvaluationPeriods, "ComparisonOperator": al.ComparisonOperator,
		"Threshold": jdouble(al.Threshold), "TreatMissingData": al.TreatMissingData,
		"EvaluateLowSampleCountPercentile": al.EvaluateLowSampleCountPercentile,
	}
	if al.DatapointsToAlarm > 0 {
		trigger["DatapointsToAlarm"] = al.DatapointsToAlarm
	}
	if len(al.Metrics) > 0 {
		var ms []map[string]any
		for _, q := range al.Metrics {
			m := map[string]any{"Id": q.Id, "ReturnData": q.returns()}
			if q.Label != "" {
				m["Label"] = q.Label
			}
			if q.Expression != "" {
				m["Expression"] = q.Expression
			}
			if ms := q.MetricStat; ms != nil {
				var dims []dim
				for _, d := range ms.Metric.Dimensions {
					dims = append(dims, dim{d.Value, d.Name})
				}
				m["MetricStat"] = map[string]any{"Metric": map[string]any{"Dimensions": dims, "MetricName": ms.Metric.MetricName,
					"Namespace": ms.Metric.Namespace}, "Period": ms.Period, "Stat": ms.Stat}
			}
			ms = append(ms, m)
		}
		trigger["Metrics"] = ms
		if al.compiled != nil {
			trigger["Period"] = al.compiled.period(0)
		}
	} else {
		dims := []dim{}
		for _, d := range al.Dimensions {
			dims = append(dims, dim{d.Value, d.Name})
		}
		trigger["MetricName"] = al.MetricName
		trigger["Namespace"] = al.Namespace
		trigger["Dimensions"] = dims
		var unit any
		if al.Unit != "" {
			unit = al.Unit
		}
		trigger["Unit"] = unit
		if al.ExtendedStatistic != "" {
			trigger["StatisticType"] = "ExtendedStatistic"
			trigger["ExtendedStatistic"] = al.ExtendedStatistic
		} else {
			trigger["StatisticType"] = "Statistic"
			trigger["Statistic"] = strings.ToUpper(al.Statistic)
		}
	}
	var desc any
	if al.AlarmDescription != nil {
		desc = *al.AlarmDescription
	}
	msg := map[string]any{
		"AlarmName": al.AlarmName, "AlarmDescription": desc, "AWSAccountId": s.opts.AccountID,
		"AlarmConfigurationUpdatedTimestamp": stamp(al.AlarmConfigurationUpdatedTimestamp),
		"NewStateValue":                      al.StateValue, "NewStateReason": al.StateReason, "StateChangeTime": stamp(al.StateUpdatedTimestamp),
		"Region": regionName(s.opts.Region), "AlarmArn": al.AlarmArn, "OldStateValue": oldState,
		"OKActions": orEmpty(al.OKActions), "AlarmActions": orEmpty(al.AlarmActions),
		"InsufficientDataActions": orEmpty(al.InsufficientDataActions), "Trigger": trigger,
	}
	b, _ := json.Marshal(msg)
	return string(b)
}

// regionName is the region's name as CloudWatch writes it in
// notifications.
func regionName(code string) string {
	names := map[string]string{
		"us-east-1": "US East (N. Virginia)", "us-east-2": "US East (Ohio)", "us-west-1": "US West (N. California)",
		"us-west-2": "US West (Oregon)", "eu-west-1": "EU (Ireland)", "eu-west-2": "EU (London)", "eu-west-3": "EU (Paris)",
		"eu-central-1": "EU (Frankfurt)", "eu-north-1": "EU (Stockholm)", "ap-southeast-1": "Asia Pacific (Singapore)",
		"ap-southeast-2": "Asia Pacific (Sydney)", "ap-northeast-1": "Asia Pacific (Tokyo)", "ap-south-1": "Asia Pacific (Mumbai)",
		"ca-central-1": "Canada (Central)", "sa-east-1": "South America (Sao Paulo)",
	}
	if n, ok := names[code]; ok {
		return n
	}
	return code
}

// Run samples, flushes the store and evaluates the alarms every interval
// (a minute; shorter only in tests) until ctx ends. sample, when set, is
// called first with the clock's time (the recorder's gauges).
func (s *Service) Run(ctx context.Context, interval time.Duration, sample func(now time.Time)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.Tick(ctx, sample)
	}
}

// Tick is one pass of Run.
func (s *Service) Tick(ctx context.Context, sample func(now time.Time)) {
	now := s.opts.Now()
	if sample != nil {
		sample(now)
	}
	if err := s.store.Flush(); err != nil {
		s.log.Error("flush metrics", "err", err)
	}
	s.Evaluate(ctx, now)
}

// Close writes what the store has not and closes the history.
func (s *Service) Close() error {
	err := s.store.Close()
	if cerr := s.alarms.close(); err == nil {
		err = cerr
	}
	return err
}
