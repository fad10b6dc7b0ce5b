// Package cwmetrics is hydrant's CloudWatch metric store: per-minute
// datapoints (SampleCount, Sum, Minimum, Maximum and a DDSketch for
// percentiles) of every metric hydrant records about itself (AWS/Firehose,
// AWS/Lambda, AWS/SNS) and every metric clients send with PutMetricData.
//
// Every series lives in memory for the retention period (15 days by
// default, at CloudWatch's standard 1-minute resolution). Closed minutes
// are appended to a log of day files under the data dir (persist.go) and
// read back at start, so a restart keeps them; a crash loses at most the
// minute in progress. Size is bounded by the retention and by MaxSeries:
// a point is about 60 bytes, plus its sketch when it has one.
package cwmetrics

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/DataDog/sketches-go/ddsketch"
)

// DefaultRetention is how long datapoints are kept: CloudWatch keeps
// 1-minute data for 15 days.
const DefaultRetention = 15 * 24 * time.Hour

// DefaultMaxSeries bounds the number of distinct metrics kept.
const DefaultMaxSeries = 50000

// ErrTooManySeries is returned when a new metric would pass MaxSeries.
var ErrTooManySeries = errors.New("too many metrics")

// Dimension is one name/value pair of a metric's identity.
type Dimension struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

// Metric identifies a series: namespace, name and dimensions. Dims are
// kept sorted by name (CloudWatch treats dimension order as irrelevant).
type Metric struct {
	Namespace string
	Name      string
	Dims      []Dimension
}

// NewMetric returns m with its dimensions sorted.
func NewMetric(namespace, name string, dims ...Dimension) Metric {
	d := slices.Clone(dims)
	sort.Slice(d, func(i, j int) bool { return d[i].Name < d[j].Name })
	return Metric{Namespace: namespace, Name: name, Dims: d}
}

// key is m's identity as a map key.
func (m Metric) key() string {
	var b strings.Builder
	b.WriteString(m.Namespace)
	b.WriteByte(0)
	b.WriteString(m.Name)
	for _, d := range m.Dims {
		b.WriteByte(0)
		b.WriteString(d.Name)
		b.WriteByte(1)
		b.WriteString(d.Value)
	}
	return b.String()
}

// Options configure a Store.
type Options struct {
	// Dir is where the day files are kept; "" keeps everything in memory.
	Dir string
	// Retention is how long datapoints are kept (DefaultRetention if 0).
	Retention time.Duration
	// MaxSeries bounds the number of metrics (DefaultMaxSeries if 0).
	MaxSeries int
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// Store holds every series. All methods are safe for concurrent use.
type Store struct {
	opts Options
	log  *slog.Logger

	mu     sync.RWMutex
	series map[string]*Series
	nextID uint32

	// wmu serialises Flush and Close; disk is the open day file;
	// pruned is the minute of the last pass over expired points.
	wmu    sync.Mutex
	disk   *dayLog
	pruned int64
}

// sketchAccuracy is the relative accuracy of percentiles (1%), and
// sketchBins bounds a sketch's size: past it the lowest bins collapse,
// which keeps high percentiles (what latency alarms use) exact to 1%.
const (
	sketchAccuracy = 0.01
	sketchBins     = 1024
)

func newSketch() *ddsketch.DDSketch {
	s, err := ddsketch.LogCollapsingLowestDenseDDSketch(sketchAccuracy, sketchBins)
	if err != nil {
		panic(err) // constant arguments
	}
	return s
}

// Open loads the kept datapoints from opts.Dir (when set).
func Open(opts Options) (*Store, error) {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = DefaultMaxSeries
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{opts: opts, log: log, series: map[string]*Series{}}
	if opts.Dir != "" {
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.opts.Now() }

// Retention is how long datapoints are kept.
func (s *Store) Retention() time.Duration { return s.opts.Retention }

// Series returns the series of m, creating it; ErrTooManySeries when the
// store is full. m's dimensions must be sorted (NewMetric).
func (s *Store) Series(m Metric) (*Series, error) {
	k := m.key()
	s.mu.RLock()
	sr := s.series[k]
	s.mu.RUnlock()
	if sr != nil {
		return sr, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sr = s.series[k]; sr != nil {
		return sr, nil
	}
	if len(s.series) >= s.opts.MaxSeries {
		return nil, fmt.Errorf("%w: the store keeps at most %d (--metrics-max-series)", ErrTooManySeries, s.opts.MaxSeries)
	}
	s.nextID++
	sr = &Series{id: s.nextID, Metric: m, store: s}
	s.series[k] = sr
	return sr, nil
}

// Lookup returns the series of m, or nil.
func (s *Store) Lookup(m Metric) *Series {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.series[m.key()]
}

// Each calls f for every series, in no particular order.
func (s *Store) Each(f func(*Series)) {
	s.mu.RLock()
	all := make([]*Series, 0, len(s.series))
	for _, sr := range s.series {
		all = append(all, sr)
	}
	s.mu.RUnlock()
	for _, sr := range all {
		f(sr)
	}
}

// Len is the number of series.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.series)
}

// Series is one metric's datapoints, one point per minute and unit.
type Series struct {
	id     uint32
	Metric Metric
	store  *Store

	mu  sync.Mutex
	pts []point // sorted by (minute, unit)
	// dead is set when the store dropped the series (no point left within
	// the retention); recording into it goes to its replacement.
	dead bool
	// written is the day file this series was last defined in.
	written *dayLog
}

// point is one minute of one unit.
type point struct {
	minute int64 // Unix minutes
	unit   Unit
	dirty  bool
	count  float64
	sum    float64
	min    float64
	max    float64
	sk     *ddsketch.DDSketch // open point: live sketch
	enc    []byte             // closed point: encoded sketch
}

// Record adds one sample at t. With sketch, the value also goes into the
// minute's sketch, for percentiles.
func (sr *Series) Record(t time.Time, unit Unit, v float64, sketch bool) {
	minute := t.Unix() / 60
	if sr = sr.lockLive(); sr == nil {
		return
	}
	p := sr.at(minute, unit)
	p.add(v, 1)
	if sketch {
		p.sketch().Add(v)
	}
	sr.mu.Unlock()
}

// RecordValues adds values at t, each counts[i] times (1 when counts is
// empty): PutMetricData's Values and Counts.
func (sr *Series) RecordValues(t time.Time, unit Unit, values, counts []float64) {
	minute := t.Unix() / 60
	if sr = sr.lockLive(); sr == nil {
		return
	}
	p := sr.at(minute, unit)
	for i, v := range values {
		c := 1.0
		if len(counts) > 0 {
			c = counts[i]
		}
		if c <= 0 {
			continue
		}
		p.add(v, c)
		_ = p.sketch().AddWithCount(v, c)
	}
	sr.mu.Unlock()
}

// RecordSet adds a statistic set at t (PutMetricData's StatisticValues):
// no percentiles come from it.
func (sr *Series) RecordSet(t time.Time, unit Unit, count, sum, lo, hi float64) {
	minute := t.Unix() / 60
	if sr = sr.lockLive(); sr == nil {
		return
	}
	p := sr.at(minute, unit)
	if p.count == 0 {
		p.min, p.max = lo, hi
	} else {
		p.min, p.max = math.Min(p.min, lo), math.Max(p.max, hi)
	}
	p.count += count
	p.sum += sum
	p.dirty = true
	sr.mu.Unlock()
}

// lockLive locks and returns the series to record into: sr, or the
// series that replaced it after the store dropped it; nil when the store
// is full.
func (sr *Series) lockLive() *Series {
	for {
		sr.mu.Lock()
		if !sr.dead {
			return sr
		}
		sr.mu.Unlock()
		n, err := sr.store.Series(sr.Metric)
		if err != nil {
			return nil
		}
		sr = n
	}
}

func (p *point) add(v, c float64) {
	if p.count == 0 {
		p.min, p.max = v, v
	} else {
		if v < p.min {
			p.min = v
		}
		if v > p.max {
			p.max = v
		}
	}
	p.count += c
	p.sum += v * c
	p.dirty = true
}

// sketch returns the point's live sketch, decoding a closed one.
func (p *point) sketch() *ddsketch.DDSketch {
	if p.sk == nil {
		p.sk = newSketch()
		if p.enc != nil {
			if err := p.sk.DecodeAndMergeWith(p.enc); err != nil {
				p.sk = newSketch()
			}
			p.enc = nil
		}
	}
	return p.sk
}

// at returns the point of (minute, unit), inserting it; sr.mu is held. The
// common case, the last point, is checked first.
func (sr *Series) at(minute int64, unit Unit) *point {
	n := len(sr.pts)
	if n > 0 {
		if last := &sr.pts[n-1]; last.minute == minute && last.unit == unit {
			return last
		}
	}
	i := sort.Search(n, func(i int) bool {
		p := &sr.pts[i]
		return p.minute > minute || (p.minute == minute && p.unit >= unit)
	})
	if i < n && sr.pts[i].minute == minute && sr.pts[i].unit == unit {
		return &sr.pts[i]
	}
	sr.pts = slices.Insert(sr.pts, i, point{minute: minute, unit: unit})
	return &sr.pts[i]
}

// LastMinute is the minute of the newest point (0 when none).
func (sr *Series) LastMinute() int64 {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	if len(sr.pts) == 0 {
		return 0
	}
	return sr.pts[len(sr.pts)-1].minute
}

// Has reports whether the series has a point in [from, to).
func (sr *Series) Has(from, to time.Time) bool {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	a, b := from.Unix()/60, ceilMinute(to)
	i := sort.Search(len(sr.pts), func(i int) bool { return sr.pts[i].minute >= a })
	return i < len(sr.pts) && sr.pts[i].minute < b
}

func ceilMinute(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return (s + 59) / 60
}

// trim drops points before minute; it reports whether the series is now
// empty.
func (sr *Series) trim(minute int64) bool {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	i := sort.Search(len(sr.pts), func(i int) bool { return sr.pts[i].minute >= minute })
	if i > 0 {
		sr.pts = slices.Delete(sr.pts, 0, i)
	}
	return len(sr.pts) == 0
}
