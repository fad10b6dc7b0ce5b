package process

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

func datas(rs []deliver.Rec) string {
	var s []string
	for _, r := range rs {
		s = append(s, string(r.Data))
	}
	return strings.Join(s, "|")
}

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return b.String()
}

func TestBuiltins(t *testing.T) {
	cwl := func(typ string, msgs ...string) string {
		var evs []map[string]any
		for i, m := range msgs {
			evs = append(evs, map[string]any{"id": fmt.Sprint(i), "timestamp": 1, "message": m})
		}
		b, _ := json.Marshal(map[string]any{"messageType": typ, "owner": "000000000000", "logGroup": "g", "logStream": "s",
			"subscriptionFilters": []string{"f"}, "logEvents": evs})
		return gz(string(b))
	}
	tests := []struct {
		name  string
		procs []procOpt
		in    []string
		out   string
		fails map[string]string // failure code → type
		raw   string            // Raw of the (single) failure
	}{
		{name: "append delimiter", procs: []procOpt{proc("AppendDelimiterToRecord")},
			in: []string{"a", "b"}, out: "a\n|b\n"},
		{name: "deaggregate concatenated json", procs: []procOpt{proc("RecordDeAggregation", "SubRecordType", "JSON")},
			in: []string{`{"a":1}{"b":2}`, "{\"c\":3}\n{\"d\":4}\n", `[1] "x"`}, out: `{"a":1}|{"b":2}|{"c":3}|{"d":4}|[1]|"x"`},
		{name: "deaggregate malformed json", procs: []procOpt{proc("RecordDeAggregation", "SubRecordType", "JSON")},
			in: []string{`{"a":1}`, `{"a":1}{oops`}, out: `{"a":1}`,
			fails: map[string]string{CodeDeAggregation: ProcessingFailed}, raw: `{"a":1}{oops`},
		{name: "deaggregate delimited", procs: []procOpt{proc("RecordDeAggregation", "SubRecordType", "DELIMITED", "Delimiter", "IyMjIw==")},
			in: []string{"a####b####", "####c"}, out: "a|b|c"},
		{name: "fixed order whatever the list", procs: []procOpt{
			proc("AppendDelimiterToRecord"), proc("RecordDeAggregation", "SubRecordType", "DELIMITED", "Delimiter", "LA==")},
			in: []string{"x,y"}, out: "x\n|y\n"},
		{name: "decompression", procs: []procOpt{proc("Decompression", "CompressionFormat", "GZIP")},
			in: []string{gz("hello"), "not gzip"}, out: "hello",
			fails: map[string]string{CodeDecompression: DecompressionFailed}, raw: "not gzip"},
		{name: "cloudwatch logs extraction", procs: []procOpt{
			proc("CloudWatchLogProcessing", "DataMessageExtraction", "true"), proc("Decompression", "CompressionFormat", "GZIP")},
			in:  []string{cwl("DATA_MESSAGE", "m1", "m2"), cwl("CONTROL_MESSAGE", "CWL CONTROL MESSAGE: Checking health of destination Firehose."), gz("plain"), cwl("DATA_MESSAGE", "m3")},
			out: "m1|m2|m3", fails: map[string]string{CodeCWLExtraction: DecompressionFailed}, raw: gz("plain")},
		{name: "cloudwatch logs then delimiter", procs: []procOpt{
			proc("Decompression", "CompressionFormat", "GZIP"), proc("CloudWatchLogProcessing", "DataMessageExtraction", "true"), proc("AppendDelimiterToRecord")},
			in: []string{cwl("DATA_MESSAGE", "m1", "m2")}, out: "m1\n|m2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, failed := run(t, nil, streamWith(tc.procs...), recs(tc.in...))
			if got := datas(out); got != tc.out {
				t.Errorf("out %q, want %q", got, tc.out)
			}
			got := map[string]string{}
			for _, f := range failed {
				got[f.Code] = f.Type
				if string(f.Raw) != tc.raw || f.Attempts != 1 || f.Seq == 0 {
					t.Errorf("failure %+v", f)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(orEmptyS(tc.fails)) {
				t.Errorf("failures %v, want %v", got, tc.fails)
			}
		})
	}
}

func orEmptyS(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func TestMetadataExtraction(t *testing.T) {
	// 51 keys that only exist at run time (a literal object of 51 keys is
	// refused at Create).
	many := `[range(51)|{("k\(.)"):.}]|add`
	tests := []struct {
		name  string
		query string
		in    string
		keys  map[string]string
		fail  string // substring of the failure message
	}{
		{name: "strings and paths", query: `{"customer_id":.customer_id,device:.type.device}`,
			in: `{"customer_id":"c1","type":{"device":"ios"}}`, keys: map[string]string{"customer_id": "c1", "device": "ios"}},
		{name: "strftime", query: `{year:.ts|strftime("%Y"),month:.ts|strftime("%m")}`,
			in: `{"ts":1700000000}`, keys: map[string]string{"year": "2023", "month": "11"}},
		{name: "numbers as jq 1.6 prints them", query: `{i:.i,f:.f,b:.b,big:.big}`,
			in: `{"i":12,"f":1.5,"b":true,"big":12345678901234567890}`, keys: map[string]string{"i": "12", "f": "1.5", "b": "true", "big": "12345678901234567000"}},
		{name: "null is missing", query: `{a:.a,b:.b}`, in: `{"b":"x"}`, keys: map[string]string{"b": "x"}},
		{name: "no environment", query: `{e:(env|length|tostring)}`, in: `{}`, keys: map[string]string{"e": "0"}},
		{name: "trailing newline is fine", query: `{a:.a}`, in: "{\"a\":\"x\"}\n", keys: map[string]string{"a": "x"}},
		{name: "not json", query: `{a:.a}`, in: "hello", fail: MsgNonJSON},
		{name: "two json values", query: `{a:.a}`, in: `{"a":1}{"a":2}`, fail: MsgNonJSON},
		{name: "not an object", query: `.a`, in: `{"a":"x"}`, fail: "must produce a JSON object"},
		{name: "runtime error", query: `{a:(.a|tonumber)}`, in: `{"a":"x"}`, fail: "failed"},
		{name: "no result", query: `empty`, in: `{}`, fail: "no result"},
		{name: "more than 50 keys", query: many, in: `{}`, fail: "at most 50"},
		{name: "runaway query", query: `{a:(last(range(1e12))|tostring)}`, in: `{}`, fail: "failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obs := &countingObserver{}
			f := NewFactory(nil, Options{Observer: obs, JQTimeout: 50 * time.Millisecond})
			p, err := f.Pipeline(context.Background(), streamWith(proc("MetadataExtraction", "MetadataExtractionQuery", tc.query, "JsonParsingEngine", "JQ-1.6")))
			if err != nil {
				t.Fatal(err)
			}
			out, failed, err := p.Process(context.Background(), recs(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if obs.jq != 1 {
				t.Errorf("JQProcessing.Duration reported %d times", obs.jq)
			}
			if tc.fail != "" {
				if len(out) != 0 || len(failed) != 1 || failed[0].Type != PartitioningFailed || failed[0].Code != CodeExtraction ||
					!strings.Contains(failed[0].Message, tc.fail) || string(failed[0].Raw) != tc.in {
					t.Fatalf("out %v failed %+v", out, failed)
				}
				return
			}
			if len(out) != 1 || len(failed) != 0 || fmt.Sprint(out[0].QueryKeys) != fmt.Sprint(tc.keys) || string(out[0].Data) != tc.in {
				t.Fatalf("out %+v failed %+v", out, failed)
			}
		})
	}
}

// TestJQSeesLambdaOutput checks that inline parsing runs on what the
// function returned, and that both kinds of keys reach the record.
func TestJQSeesLambdaOutput(t *testing.T) {
	inv := &fakeInvoker{fn: func(_ int, ev testEvent) ([]byte, string, error) {
		return respond(ev, func(id string, d []byte) map[string]any {
			e := ok(id, []byte(`{"c":"`+string(d)+`"}`))
			e["metadata"] = map[string]any{"partitionKeys": map[string]string{"l": "v"}}
			return e
		}), "", nil
	}}
	out, failed := run(t, inv, streamWith(proc("MetadataExtraction", "MetadataExtractionQuery", "{c:.C}"), lambdaProc()), recs("x"))
	if len(failed) != 0 || len(out) != 1 || out[0].QueryKeys["c"] != "X" || out[0].LambdaKeys["l"] != "v" {
		t.Fatalf("out %+v failed %+v", out, failed)
	}
}

func TestFactoryCachesPerVersion(t *testing.T) {
	f := NewFactory(nil, Options{})
	st := streamWith(proc("AppendDelimiterToRecord"))
	p1, _ := f.Pipeline(context.Background(), st)
	p2, _ := f.Pipeline(context.Background(), st)
	if p1 != p2 {
		t.Fatal("same version built twice")
	}
	st2 := *st
	st2.VersionID = 2
	st2.Revision = "0/2"
	st2.Processing = streamspec.Processing{}
	if p3, err := f.Pipeline(context.Background(), &st2); err != nil || p3 != nil {
		t.Fatalf("disabled processing gave %v, %v", p3, err)
	}
	if p := mustPipeline(t, f, st); p == p1 {
		t.Fatal("an older version must not come from a cache of a newer one")
	}
	lst := streamWith(lambdaProc("BufferSizeInMBs", "0.5"))
	lst.VersionID = 100
	if c := mustPipeline(t, f, lst).ChunkBytes(); c != 1<<19 {
		t.Fatalf("ChunkBytes %d, want BufferSizeInMBs", c)
	}
}

func mustPipeline(t *testing.T, f *Factory, st *streamspec.Stream) deliver.Pipeline {
	t.Helper()
	st.VersionID += 10
	st.Revision = fmt.Sprintf("0/%d", st.VersionID)
	p, err := f.Pipeline(context.Background(), st)
	if err != nil || p == nil {
		t.Fatalf("pipeline: %v, %v", p, err)
	}
	return p
}
