package cwmetrics

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC)

func open(t *testing.T, dir string, c *clock) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAggregateStatistics(t *testing.T) {
	c := &clock{t: t0}
	s := open(t, "", c)
	sr, err := s.Series(NewMetric("NS", "Latency", Dimension{"B", "2"}, Dimension{"A", "1"}))
	if err != nil {
		t.Fatal(err)
	}
	// Minute 0: 1..100; minute 1: 1000; minute 3: a statistic set.
	for i := 1; i <= 100; i++ {
		sr.Record(t0.Add(time.Duration(i)*100*time.Millisecond), UnitMilliseconds, float64(i), true)
	}
	sr.Record(t0.Add(70*time.Second), UnitMilliseconds, 1000, true)
	sr.RecordSet(t0.Add(3*time.Minute), UnitMilliseconds, 4, 40, 5, 20)

	got := sr.Aggregate(Query{Start: t0, End: t0.Add(5 * time.Minute), Period: time.Minute, Sketch: true})
	if len(got) != 3 {
		t.Fatalf("buckets: %+v", got)
	}
	b := got[0]
	if b.Count != 100 || b.Sum != 5050 || b.Min != 1 || b.Max != 100 || !b.Start.Equal(t0) || b.Unit != UnitMilliseconds {
		t.Errorf("minute 0: %+v", b)
	}
	for _, c := range []struct {
		stat string
		want float64
	}{{"p50", 50}, {"p90", 90}, {"p99", 99}, {"Average", 50.5}, {"p99.9", 100}} {
		st, err := ParseStat(c.stat)
		if err != nil {
			t.Fatal(err)
		}
		v, ok := b.Value(st)
		if !ok || math.Abs(v-c.want) > c.want*0.02+0.5 {
			t.Errorf("%s = %v %v, want ~%v", c.stat, v, ok, c.want)
		}
	}
	if v, ok := got[2].Value(Stat{Name: "p50", Percentile: 50}); ok {
		t.Errorf("percentile of a statistic set: %v", v)
	}
	// A 5-minute period merges them all.
	all := sr.Aggregate(Query{Start: t0, End: t0.Add(5 * time.Minute), Period: 5 * time.Minute, Sketch: true})
	if len(all) != 1 || all[0].Count != 105 || all[0].Max != 1000 || all[0].Min != 1 {
		t.Fatalf("5-minute bucket: %+v", all)
	}
	if v, _ := all[0].Value(Stat{Name: "p100", Percentile: 100}); math.Abs(v-1000) > 10 {
		t.Errorf("p100 = %v", v)
	}
	// A unit filter.
	u := UnitBytes
	if got := sr.Aggregate(Query{Start: t0, End: t0.Add(5 * time.Minute), Period: time.Minute, Unit: &u}); len(got) != 0 {
		t.Errorf("unit filter: %+v", got)
	}
}

func TestParseStat(t *testing.T) {
	for _, ok := range []string{"Sum", "SampleCount", "p0", "p99", "p99.9", "p100", "p50.12345"} {
		if _, err := ParseStat(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"sum", "p101", "p-1", "pxx", "tm99", "IQM", "", "p1e1"} {
		if _, err := ParseStat(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestPersistAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: t0}
	s := open(t, dir, c)
	m := NewMetric("AWS/Firehose", "IncomingRecords", Dimension{"DeliveryStreamName", "s"})
	sr, _ := s.Series(m)
	sr.Record(t0.Add(10*time.Second), UnitCount, 5, false)
	lat, _ := s.Series(NewMetric("AWS/Firehose", "PutRecordBatch.Latency", Dimension{"DeliveryStreamName", "s"}))
	lat.Record(t0.Add(10*time.Second), UnitMilliseconds, 12, true)
	c.Add(time.Minute)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// Late data for the closed minute, and the open minute, written at Close.
	sr.Record(t0.Add(20*time.Second), UnitCount, 7, false)
	sr.Record(t0.Add(70*time.Second), UnitCount, 1, false)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s2 := open(t, dir, c)
	got := s2.Lookup(m).Aggregate(Query{Start: t0, End: t0.Add(2 * time.Minute), Period: time.Minute})
	if len(got) != 2 || got[0].Sum != 12 || got[0].Count != 2 || got[1].Sum != 1 {
		t.Fatalf("after restart: %+v", got)
	}
	lb := s2.Lookup(lat.Metric).Aggregate(Query{Start: t0, End: t0.Add(time.Minute), Period: time.Minute, Sketch: true})
	if v, ok := lb[0].Value(Stat{Name: "p99", Percentile: 99}); !ok || math.Abs(v-12) > 0.3 {
		t.Errorf("p99 after restart: %v %v", v, ok)
	}

	// A torn last write is cut off; what came before stays.
	path := filepath.Join(dir, dayName(t0)+fileExt)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte{200, 0, 0, 0, 1, 2})
	_ = f.Close()
	s3 := open(t, dir, c)
	if got := s3.Lookup(m).Aggregate(Query{Start: t0, End: t0.Add(2 * time.Minute), Period: time.Minute}); len(got) != 2 {
		t.Fatalf("after a torn write: %+v", got)
	}
	sr3 := s3.Lookup(m)
	sr3.Record(t0.Add(80*time.Second), UnitCount, 1, false)
	if err := s3.Close(); err != nil {
		t.Fatal(err)
	}
	s4 := open(t, dir, c)
	if got := s4.Lookup(m).Aggregate(Query{Start: t0, End: t0.Add(2 * time.Minute), Period: time.Minute}); len(got) != 2 || got[1].Sum != 2 {
		t.Fatalf("written after the repair: %+v", got)
	}
}

func TestRetention(t *testing.T) {
	dir := t.TempDir()
	c := &clock{t: t0}
	s, err := Open(Options{Dir: dir, Now: c.Now, Retention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetric("NS", "M")
	sr, _ := s.Series(m)
	sr.Record(t0, UnitNone, 1, false)
	c.Add(time.Minute)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	// Three days on, the point and its series are gone, and so is the file.
	c.Add(72 * time.Hour)
	if err := s.Flush(); err != nil {
		t.Fatal(err)
	}
	if s.Lookup(m) != nil {
		t.Error("expired series kept")
	}
	if _, err := os.Stat(filepath.Join(dir, dayName(t0)+fileExt)); !os.IsNotExist(err) {
		t.Errorf("expired day file kept: %v", err)
	}
	// Recording through the old handle revives the series.
	sr.Record(c.Now(), UnitNone, 3, false)
	if n := s.Lookup(m); n == nil || n.LastMinute() != c.Now().Unix()/60 {
		t.Error("dropped series not revived")
	}
}

func TestMaxSeries(t *testing.T) {
	s, err := Open(Options{MaxSeries: 2})
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"a", "b", "c"} {
		_, err := s.Series(NewMetric("NS", name))
		if (err != nil) != (i == 2) {
			t.Errorf("series %d: %v", i, err)
		}
	}
}

func TestRecorderBackup(t *testing.T) {
	c := &clock{t: t0}
	s := open(t, "", c)
	r := NewRecorder(s)
	r.BackedUp("s", 3, 300, nil)
	r.BackedUp("s", 0, 0, errors.New("S3 down"))
	dim := Dimension{DimStream, "s"}
	q := Query{Start: t0, End: t0.Add(time.Minute), Period: time.Minute}
	succ := s.Lookup(NewMetric(NamespaceFirehose, "BackupToS3.Success", dim)).Aggregate(q)
	recs := s.Lookup(NewMetric(NamespaceFirehose, "BackupToS3.Records", dim)).Aggregate(q)
	if len(succ) != 1 || succ[0].Sum != 1 || succ[0].Count != 2 || len(recs) != 1 || recs[0].Sum != 3 {
		t.Errorf("backup metrics: %+v %+v", succ, recs)
	}
}
