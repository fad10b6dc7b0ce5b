package deliver

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/keys"
)

func TestPartitionRecordsRoundTrip(t *testing.T) {
	h := groupHeader{move: 1 << 60, mainFrom: 7, mainTo: 1 << 40, groups: 3, index: 2, part: dataPartID([]string{"a"}, []string{"b"}, map[string]string{"a": "x/y"}, map[string]string{"b": ""})}
	got, err := parseGroupHeader(appendGroupHeader(nil, h))
	if err != nil || got != h {
		t.Fatalf("header %+v %v", got, err)
	}
	arrival := time.UnixMilli(1767225600123)
	a, seq, data, err := parseRec(appendRec(nil, arrival, 42, []byte("data")))
	if err != nil || !a.Equal(arrival) || seq != 42 || string(data) != "data" {
		t.Fatalf("record %v %d %q %v", a, seq, data, err)
	}
	f := Failure{Type: "processing-failed", Raw: []byte{0, 1, 2}, Arrival: arrival, Seq: 9, Code: "Lambda.FunctionError",
		Message: "boom", Attempts: 4, EndedAt: arrival.Add(time.Second), LambdaARN: "arn:aws:lambda:us-east-1:000000000000:function:f"}
	gf, err := parseFailure(appendFailure(nil, f))
	if err != nil || !reflect.DeepEqual(gf, f) {
		t.Fatalf("failure\n%+v\n%+v %v", gf, f, err)
	}
	lookup, err := partKeys(h.part)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := lookup(keys.NSPartitionKeyFromQuery, "a"); !ok || v != "x/y" {
		t.Fatalf("a = %q %v", v, ok)
	}
	if v, ok := lookup(keys.NSPartitionKeyFromLambda, "b"); !ok || v != "" {
		t.Fatalf("b = %q %v", v, ok)
	}
	if _, ok := lookup(keys.NSPartitionKeyFromLambda, "a"); ok {
		t.Fatal("a is a query key")
	}
	if d := describePart(h.part); d != "a=x/y,b=" {
		t.Fatalf("describePart %q", d)
	}
}

// FuzzPartitionRecords: the partition log's decoders never panic on any
// bytes and read back what the encoders wrote.
func FuzzPartitionRecords(f *testing.F) {
	f.Add([]byte("H\x01\x02\x03\x01\x00\x01d"), "part", []byte("data"), int64(1), uint64(2))
	f.Add([]byte("R\x02\x04rest"), "", []byte{}, int64(-5), uint64(0))
	f.Fuzz(func(t *testing.T, raw []byte, part string, data []byte, ms int64, seq uint64) {
		_, _ = parseGroupHeader(raw)
		_, _, _, _ = parseRec(raw)
		_, _ = parseFailure(raw)
		_, _ = partKeys(string(raw))
		_ = describePart(string(raw))
		if part != "" {
			h := groupHeader{move: seq, mainFrom: seq / 2, mainTo: seq, groups: int(ms & 0xffff), index: 1, part: part}
			if got, err := parseGroupHeader(appendGroupHeader(nil, h)); err != nil || got != h {
				t.Fatalf("header %+v -> %+v %v", h, got, err)
			}
		}
		a, s, d, err := parseRec(appendRec(nil, time.UnixMilli(ms), seq, data))
		if err != nil || a.UnixMilli() != ms || s != seq || !bytes.Equal(d, data) {
			t.Fatalf("record: %v %d %q %v", a, s, d, err)
		}
	})
}
