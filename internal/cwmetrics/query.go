package cwmetrics

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
)

// Unit is a CloudWatch StandardUnit, stored as a small number.
type Unit uint8

// Units are CloudWatch's StandardUnit values, in the model's order; the
// index is what the store keeps, so the order must never change.
var Units = []string{"None", "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes",
	"Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
	"Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
	"Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second"}

// The units hydrant records its own metrics in.
const (
	UnitNone         Unit = 0
	UnitSeconds      Unit = 1
	UnitMilliseconds Unit = 3
	UnitBytes        Unit = 4
	UnitCount        Unit = 15
)

// ParseUnit reads a StandardUnit name; "" is None.
func ParseUnit(s string) (Unit, bool) {
	if s == "" {
		return UnitNone, true
	}
	for i, u := range Units {
		if u == s {
			return Unit(i), true
		}
	}
	return 0, false
}

func (u Unit) String() string {
	if int(u) < len(Units) {
		return Units[u]
	}
	return "None"
}

// Bucket is the aggregate of one period of one unit.
type Bucket struct {
	Start time.Time
	Unit  Unit
	Count float64
	Sum   float64
	Min   float64
	Max   float64
	// sk merges the minutes' sketches; nil when none had one.
	sk *ddsketch.DDSketch
}

// Query selects the datapoints of a series.
type Query struct {
	Start, End time.Time // [Start, End): Start is the first bucket's start
	Period     time.Duration
	// Unit, when set, keeps only points of that unit; otherwise each unit
	// gets buckets of its own.
	Unit *Unit
	// Sketch asks for percentiles.
	Sketch bool
}

// Aggregate returns the series' buckets for q, ordered by time, empty
// periods left out. Periods shorter than a minute give one bucket per
// minute, the store's resolution.
func (sr *Series) Aggregate(q Query) []Bucket { return sr.AggregateInto(q, nil) }

// AggregateInto is Aggregate appending to out[:0], so that a caller can
// reuse one buffer across series.
func (sr *Series) AggregateInto(q Query, out []Bucket) []Bucket {
	out = out[:0]
	period := int64(q.Period / time.Second)
	if period < 60 {
		period = 60
	}
	start := q.Start.Unix()
	from, to := start/60, ceilMinute(q.End)
	sr.mu.Lock()
	defer sr.mu.Unlock()
	i := sort.Search(len(sr.pts), func(i int) bool { return sr.pts[i].minute >= from })
	// cur is where the bucket being filled starts in out: one bucket per
	// unit from there (nearly always just one).
	var curIdx int64 = -1
	cur := 0
	for ; i < len(sr.pts) && sr.pts[i].minute < to; i++ {
		p := &sr.pts[i]
		if q.Unit != nil && p.unit != *q.Unit {
			continue
		}
		sec := p.minute * 60
		if sec < start {
			continue
		}
		if sec >= q.End.Unix() {
			break
		}
		idx := (sec - start) / period
		bstart := start + idx*period
		if idx != curIdx {
			curIdx, cur = idx, len(out)
		}
		j := cur
		for j < len(out) && out[j].Unit != p.unit {
			j++
		}
		if j == len(out) {
			out = append(out, Bucket{Start: time.Unix(bstart, 0).UTC(), Unit: p.unit, Min: p.min, Max: p.max})
		}
		b := &out[j]
		b.Count += p.count
		b.Sum += p.sum
		b.Min = math.Min(b.Min, p.min)
		b.Max = math.Max(b.Max, p.max)
		if q.Sketch && (p.sk != nil || p.enc != nil) {
			if b.sk == nil {
				b.sk = newSketch()
			}
			if p.sk != nil {
				_ = b.sk.MergeWith(p.sk)
			} else {
				_ = b.sk.DecodeAndMergeWith(p.enc)
			}
		}
	}
	return out
}

// Stat is one of CloudWatch's statistics: SampleCount, Sum, Average,
// Minimum, Maximum, or an extended statistic pNN(.NN).
type Stat struct {
	Name string
	// Percentile is 0..100 for pNN; -1 for the basic statistics.
	Percentile float64
}

// ParseStat reads a statistic name. Extended statistics other than
// percentiles (tm, wm, tc, ts, PR, IQM) are refused with an error that
// names them.
func ParseStat(s string) (Stat, error) {
	switch s {
	case "SampleCount", "Sum", "Average", "Minimum", "Maximum":
		return Stat{Name: s, Percentile: -1}, nil
	}
	if len(s) > 1 && (s[0] == 'p' || s[0] == 'P') {
		f, err := strconv.ParseFloat(s[1:], 64)
		if err == nil && f >= 0 && f <= 100 && !strings.ContainsAny(s[1:], "eE+-") && decimals(s[1:]) <= 10 {
			return Stat{Name: s, Percentile: f}, nil
		}
	}
	for _, p := range []string{"tm", "wm", "tc", "ts", "PR", "TM", "WM", "TC", "TS", "IQM"} {
		if strings.HasPrefix(s, p) {
			return Stat{}, fmt.Errorf("the statistic %s is not supported by hydrant (only SampleCount, Sum, Average, Minimum, Maximum and percentiles pNN.NN)", s)
		}
	}
	return Stat{}, fmt.Errorf("unknown statistic %s", s)
}

func decimals(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(s) - i - 1
	}
	return 0
}

// IsPercentile reports whether st is an extended statistic.
func (st Stat) IsPercentile() bool { return st.Percentile >= 0 }

// Value computes st over b; ok is false when it has no value (a
// percentile of points recorded only as statistic sets).
func (b *Bucket) Value(st Stat) (float64, bool) {
	switch st.Name {
	case "SampleCount":
		return b.Count, true
	case "Sum":
		return b.Sum, true
	case "Average":
		if b.Count == 0 {
			return 0, false
		}
		return b.Sum / b.Count, true
	case "Minimum":
		return b.Min, true
	case "Maximum":
		return b.Max, true
	}
	if b.sk == nil || b.sk.IsEmpty() {
		return 0, false
	}
	v, err := b.sk.GetValueAtQuantile(st.Percentile / 100)
	if err != nil {
		return 0, false
	}
	// The sketch is exact to 1%; never answer outside what was seen.
	return math.Max(b.Min, math.Min(b.Max, v)), true
}
