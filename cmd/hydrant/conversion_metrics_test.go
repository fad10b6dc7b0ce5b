package main

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hydrant-io/hydrant/internal/format"
)

func TestConversionMetrics(t *testing.T) {
	m := &format.Metrics{}
	c := m.Stream("etl")
	c.SucceedRecords.Add(2)
	c.SucceedBytes.Add(40)
	c.FailedRecords.Add(1)
	c.FailedBytes.Add(7)
	reg := prometheus.NewRegistry()
	if err := (&conversion{metrics: m}).register(reg); err != nil {
		t.Fatal(err)
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, s := range f.GetMetric() {
			if s.GetLabel()[0].GetValue() == "etl" {
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
