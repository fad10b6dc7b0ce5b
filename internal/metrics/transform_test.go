package metrics

import (
	"testing"

	"github.com/hydrant-io/hydrant/internal/format"
)

func TestConversionMetrics(t *testing.T) {
	c := &format.Metrics{}
	n := c.Stream("etl")
	n.SucceedRecords.Add(2)
	n.SucceedBytes.Add(40)
	n.FailedRecords.Add(1)
	n.FailedBytes.Add(7)
	m := New(Options{})
	if err := m.AddConversion(c); err != nil {
		t.Fatal(err)
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			if len(s.GetLabel()) > 0 && s.GetLabel()[0].GetValue() == "etl" {
				got[f.GetName()] = s.GetCounter().GetValue()
			}
		}
	}
	want := map[string]float64{
		"firehose_succeed_conversion_records_total": 2, "firehose_succeed_conversion_bytes_total": 40,
		"firehose_failed_conversion_records_total": 1, "firehose_failed_conversion_bytes_total": 7,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestTransformMetrics(t *testing.T) {
	m := New(Options{})
	m.LambdaInvoked("s", 0, true)
	m.LambdaInvoked("s", 0, false)
	m.Processed("s", 3, 30)
	m.Partitions("s", 7, true)
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			switch {
			case s.GetCounter() != nil:
				got[f.GetName()] = s.GetCounter().GetValue()
			case s.GetGauge() != nil:
				got[f.GetName()] = s.GetGauge().GetValue()
			}
		}
	}
	for k, v := range map[string]float64{"firehose_execute_processing_attempts_total": 2, "firehose_execute_processing_success_total": 1,
		"firehose_succeed_processing_records_total": 3, "firehose_succeed_processing_bytes_total": 30,
		"firehose_partition_count": 7, "firehose_partition_count_exceeded": 1} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}
