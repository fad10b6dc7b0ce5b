package process

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

const testARN = "arn:aws:lambda:us-east-1:000000000000:function:f"

// testEvent is the invocation event as a function sees it.
type testEvent struct {
	InvocationID      string `json:"invocationId"`
	DeliveryStreamArn string `json:"deliveryStreamArn"`
	Region            string `json:"region"`
	Records           []struct {
		RecordID string `json:"recordId"`
		Arrival  int64  `json:"approximateArrivalTimestamp"`
		Data     []byte `json:"data"`
	} `json:"records"`
}

// fakeInvoker runs fn for every invocation and keeps the payloads.
type fakeInvoker struct {
	mu       sync.Mutex
	payloads [][]byte
	fn       func(call int, ev testEvent) ([]byte, string, error)
}

func (f *fakeInvoker) Invoke(ctx context.Context, arn string, payload []byte) ([]byte, string, error) {
	f.mu.Lock()
	f.payloads = append(f.payloads, append([]byte(nil), payload...))
	call := len(f.payloads)
	f.mu.Unlock()
	var ev testEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, "", fmt.Errorf("bad event: %w", err)
	}
	return f.fn(call, ev)
}

// respond builds a response with one entry per input record, decided by
// each.
func respond(ev testEvent, each func(id string, data []byte) map[string]any) []byte {
	var out []map[string]any
	for _, r := range ev.Records {
		if e := each(r.RecordID, r.Data); e != nil {
			out = append(out, e)
		}
	}
	b, _ := json.Marshal(map[string]any{"records": out})
	return b
}

func ok(id string, data []byte) map[string]any {
	return map[string]any{"recordId": id, "result": "Ok", "data": base64.StdEncoding.EncodeToString([]byte(strings.ToUpper(string(data))))}
}

func recs(data ...string) []deliver.Rec {
	out := make([]deliver.Rec, len(data))
	for i, d := range data {
		out[i] = deliver.Rec{Data: []byte(d), Arrival: time.UnixMilli(1700000000000 + int64(i)), Seq: uint64(i + 1)}
	}
	return out
}

func newTestFactory(inv Invoker) *Factory {
	return NewFactory(inv, Options{RetryDelay: time.Millisecond, InvokeTimeout: 2 * time.Second})
}

func run(t *testing.T, inv Invoker, st *streamspec.Stream, in []deliver.Rec) ([]deliver.Rec, []deliver.Failure) {
	t.Helper()
	p, err := newTestFactory(inv).Pipeline(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	out, failed, err := p.Process(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out, failed
}

func TestLambdaOutcomes(t *testing.T) {
	throttled := &awsproto.Error{Type: "TooManyRequestsException", Message: "Rate Exceeded."}
	tests := []struct {
		name    string
		params  []string
		fn      func(call int, ev testEvent) ([]byte, string, error)
		out     string         // delivered records, joined with |
		codes   map[string]int // failure code → count
		attempt int            // attemptsMade of every failure
		calls   int
	}{
		{name: "ok", fn: func(_ int, ev testEvent) ([]byte, string, error) { return respond(ev, ok), "", nil },
			out: "A|BB|CCC", calls: 1},
		{name: "dropped and failed", fn: func(_ int, ev testEvent) ([]byte, string, error) {
			return respond(ev, func(id string, d []byte) map[string]any {
				switch string(d) {
				case "a":
					return map[string]any{"recordId": id, "result": "Dropped"}
				case "bb":
					return map[string]any{"recordId": id, "result": "ProcessingFailed"}
				}
				return ok(id, d)
			}), "", nil
		}, out: "CCC", codes: map[string]int{CodeFailedStatus: 1}, attempt: 1, calls: 1},
		{name: "missing duplicated unknown", fn: func(_ int, ev testEvent) ([]byte, string, error) {
			r := ev.Records
			b, _ := json.Marshal(map[string]any{"records": []map[string]any{
				ok(r[1].RecordID, r[1].Data), ok(r[1].RecordID, r[1].Data),
				ok(r[2].RecordID, r[2].Data), ok("nobody", []byte("x")),
			}})
			return b, "", nil
		}, out: "CCC", codes: map[string]int{CodeMissingID: 1, CodeDuplicatedID: 1}, attempt: 1, calls: 1},
		{name: "null data and bad base64 and bad result", fn: func(_ int, ev testEvent) ([]byte, string, error) {
			r := ev.Records
			b, _ := json.Marshal(map[string]any{"records": []map[string]any{
				{"recordId": r[0].RecordID, "result": "Ok", "data": nil},
				{"recordId": r[1].RecordID, "result": "Ok", "data": "!!notbase64"},
				{"recordId": r[2].RecordID, "result": "OK", "data": "eA=="},
			}})
			return b, "", nil
		}, codes: map[string]int{CodeJSON: 3}, attempt: 1, calls: 1},
		{name: "unpadded base64 accepted", fn: func(_ int, ev testEvent) ([]byte, string, error) {
			return respond(ev, func(id string, d []byte) map[string]any {
				return map[string]any{"recordId": id, "result": "Ok", "data": base64.RawStdEncoding.EncodeToString(d)}
			}), "", nil
		}, out: "a|bb|ccc", calls: 1},
		{name: "garbage", fn: func(int, testEvent) ([]byte, string, error) { return []byte("not json"), "", nil },
			codes: map[string]int{CodeJSON: 3}, attempt: 1, calls: 1},
		{name: "no records array", fn: func(int, testEvent) ([]byte, string, error) { return []byte(`{"recs":[]}`), "", nil },
			codes: map[string]int{CodeMissingID: 3}, attempt: 1, calls: 1},
		{name: "records not an array", fn: func(int, testEvent) ([]byte, string, error) { return []byte(`{"records":"x"}`), "", nil },
			codes: map[string]int{CodeMissingID: 3}, attempt: 1, calls: 1},
		{name: "null response", fn: func(int, testEvent) ([]byte, string, error) { return []byte(`null`), "", nil },
			codes: map[string]int{CodeMissingID: 3}, attempt: 1, calls: 1},
		{name: "wrong member types", fn: func(int, testEvent) ([]byte, string, error) { return []byte(`{"records":[{"recordId":1}]}`), "", nil },
			codes: map[string]int{CodeJSON: 3}, attempt: 1, calls: 1},
		{name: "function error retried", fn: func(int, testEvent) ([]byte, string, error) {
			return []byte(`{"errorMessage":"boom","errorType":"Exception"}`), "Unhandled", nil
		}, codes: map[string]int{CodeFunctionError: 3}, attempt: 4, calls: 4},
		{name: "function error then ok", fn: func(call int, ev testEvent) ([]byte, string, error) {
			if call == 1 {
				return []byte(`{"errorMessage":"boom"}`), "Unhandled", nil
			}
			return respond(ev, ok), "", nil
		}, out: "A|BB|CCC", calls: 2},
		{name: "error then malformed counts attempts", fn: func(call int, ev testEvent) ([]byte, string, error) {
			if call == 1 {
				return nil, "", throttled
			}
			return []byte(`{}`), "", nil
		}, codes: map[string]int{CodeMissingID: 3}, attempt: 2, calls: 2},
		{name: "function timed out", params: []string{"NumberOfRetries", "2"}, fn: func(int, testEvent) ([]byte, string, error) {
			return []byte(`{"errorMessage":"2024-01-01T00:00:00Z abc Task timed out after 3.00 seconds"}`), "Unhandled", nil
		}, codes: map[string]int{CodeTimedOut: 3}, attempt: 3, calls: 3},
		{name: "sandbox timeout", params: []string{"NumberOfRetries", "0"}, fn: func(int, testEvent) ([]byte, string, error) {
			return []byte(`{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: x Error: Task timed out after 1.00 seconds"}`), "Unhandled", nil
		}, codes: map[string]int{CodeTimedOut: 3}, attempt: 1, calls: 1},
		{name: "throttled", params: []string{"NumberOfRetries", "1"}, fn: func(int, testEvent) ([]byte, string, error) { return nil, "", throttled },
			codes: map[string]int{CodeLimitExceeded: 3}, attempt: 2, calls: 2},
		{name: "not found", fn: func(int, testEvent) ([]byte, string, error) {
			return nil, "", &awsproto.Error{Type: "ResourceNotFoundException", Message: "Function not found"}
		}, codes: map[string]int{CodeNotFound: 3}, attempt: 4, calls: 4},
		{name: "access denied", params: []string{"NumberOfRetries", "0"}, fn: func(int, testEvent) ([]byte, string, error) {
			return nil, "", &awsproto.Error{Type: "AccessDeniedException", Message: "no"}
		}, codes: map[string]int{CodeAccessDenied: 3}, attempt: 1, calls: 1},
		{name: "transport", params: []string{"NumberOfRetries", "0"}, fn: func(int, testEvent) ([]byte, string, error) {
			return nil, "", errors.New("dial tcp: connection refused")
		}, codes: map[string]int{CodeUnknown: 3}, attempt: 1, calls: 1},
		{name: "other lambda error", params: []string{"NumberOfRetries", "0"}, fn: func(int, testEvent) ([]byte, string, error) {
			return nil, "", &awsproto.Error{Type: "ResourceNotReadyException", Message: "not ready"}
		}, codes: map[string]int{"Lambda.ResourceNotReady": 3}, attempt: 1, calls: 1},
		{name: "deadline from invoker", params: []string{"NumberOfRetries", "0"}, fn: func(int, testEvent) ([]byte, string, error) {
			return nil, "", fmt.Errorf("invoke: %w", context.DeadlineExceeded)
		}, codes: map[string]int{CodeTimedOut: 3}, attempt: 1, calls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inv := &fakeInvoker{fn: tc.fn}
			before := time.Now()
			out, failed := run(t, inv, streamWith(lambdaProc(tc.params...)), recs("a", "bb", "ccc"))
			var got []string
			for _, r := range out {
				got = append(got, string(r.Data))
			}
			if strings.Join(got, "|") != tc.out {
				t.Errorf("delivered %q, want %q", strings.Join(got, "|"), tc.out)
			}
			codes := map[string]int{}
			for _, f := range failed {
				codes[f.Code]++
				if f.Type != ProcessingFailed || f.LambdaARN != testARN || f.Attempts != tc.attempt || f.EndedAt.Before(before) {
					t.Errorf("failure %+v", f)
				}
				if !strings.Contains("a|bb|ccc", string(f.Raw)) || f.Seq == 0 || f.Arrival.UnixMilli() < 1700000000000 {
					t.Errorf("failure does not carry the original record: %+v", f)
				}
			}
			if fmt.Sprint(codes) != fmt.Sprint(orEmpty(tc.codes)) {
				t.Errorf("failure codes %v, want %v", codes, tc.codes)
			}
			if len(inv.payloads) != tc.calls {
				t.Errorf("%d invocations, want %d", len(inv.payloads), tc.calls)
			}
		})
	}
}

func orEmpty(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

func TestLambdaEventShape(t *testing.T) {
	var seen testEvent
	var raw map[string]any
	inv := &fakeInvoker{fn: func(_ int, ev testEvent) ([]byte, string, error) {
		seen = ev
		return respond(ev, func(id string, d []byte) map[string]any {
			e := ok(id, d)
			e["metadata"] = map[string]any{"partitionKeys": map[string]string{"k": string(d)}}
			return e
		}), "", nil
	}}
	out, failed := run(t, inv, streamWith(lambdaProc()), recs("a", "bb"))
	if len(failed) != 0 || len(out) != 2 {
		t.Fatalf("out %v failed %v", out, failed)
	}
	if err := json.Unmarshal(inv.payloads[0], &raw); err != nil {
		t.Fatal(err)
	}
	if _, err := uuid.Parse(seen.InvocationID); err != nil {
		t.Errorf("invocationId %q", seen.InvocationID)
	}
	if seen.DeliveryStreamArn != "arn:aws:firehose:eu-west-1:000000000000:deliverystream/s" || seen.Region != "eu-west-1" {
		t.Errorf("event %+v", seen)
	}
	if len(seen.Records) != 2 || seen.Records[0].RecordID == seen.Records[1].RecordID ||
		seen.Records[1].Arrival != 1700000000001 || string(seen.Records[1].Data) != "bb" {
		t.Errorf("records %+v", seen.Records)
	}
	if out[1].LambdaKeys["k"] != "bb" || out[1].Seq != 2 || out[1].Arrival.UnixMilli() != 1700000000001 {
		t.Errorf("delivered record %+v", out[1])
	}
	if !strings.HasPrefix(string(inv.payloads[0]), `{"invocationId":"`) {
		t.Errorf("payload %s", inv.payloads[0])
	}
}

func TestLambdaInvokeTimeout(t *testing.T) {
	blocking := invokerFunc(func(ctx context.Context, arn string, p []byte) ([]byte, string, error) {
		<-ctx.Done()
		return nil, "", ctx.Err()
	})
	f := NewFactory(blocking, Options{RetryDelay: time.Millisecond, InvokeTimeout: 20 * time.Millisecond})
	p, err := f.Pipeline(context.Background(), streamWith(lambdaProc("NumberOfRetries", "1")))
	if err != nil {
		t.Fatal(err)
	}
	_, failed, err := p.Process(context.Background(), recs("a"))
	if err != nil || len(failed) != 1 || failed[0].Code != CodeTimedOut || failed[0].Attempts != 2 || failed[0].Message != MsgTimedOut {
		t.Fatalf("failed %+v err %v", failed, err)
	}
}

type invokerFunc func(ctx context.Context, arn string, p []byte) ([]byte, string, error)

func (f invokerFunc) Invoke(ctx context.Context, arn string, p []byte) ([]byte, string, error) {
	return f(ctx, arn, p)
}

func TestLambdaStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	inv := invokerFunc(func(context.Context, string, []byte) ([]byte, string, error) {
		cancel()
		return nil, "Unhandled", nil
	})
	p, err := NewFactory(inv, Options{RetryDelay: time.Hour}).Pipeline(ctx, streamWith(lambdaProc()))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Process(ctx, recs("a")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v: a stopped delivery must not fail records", err)
	}
}

func TestNoInvokerIsResourceNotFound(t *testing.T) {
	_, failed := run(t, nil, streamWith(lambdaProc("NumberOfRetries", "0")), recs("a"))
	if len(failed) != 1 || failed[0].Code != CodeNotFound {
		t.Fatalf("failed %+v", failed)
	}
}

// echo returns every record unchanged.
func echo(_ int, ev testEvent) ([]byte, string, error) {
	return respond(ev, func(id string, d []byte) map[string]any {
		return map[string]any{"recordId": id, "result": "Ok", "data": base64.StdEncoding.EncodeToString(d)}
	}), "", nil
}

func TestPayloadSplitting(t *testing.T) {
	t.Run("6 MB limit", func(t *testing.T) {
		// 3 MB of 100-byte records makes an event of about 7 MB.
		var in []deliver.Rec
		for i := 0; i < (3<<20)/100; i++ {
			in = append(in, deliver.Rec{Data: []byte(strings.Repeat("x", 96) + fmt.Sprintf("%04d", i%10000)), Seq: uint64(i + 1), Arrival: time.UnixMilli(1)})
		}
		inv := &fakeInvoker{fn: echo}
		out, failed := run(t, inv, streamWith(lambdaProc("BufferSizeInMBs", "3")), in)
		if len(failed) != 0 || len(out) != len(in) {
			t.Fatalf("%d out, %d failed of %d", len(out), len(failed), len(in))
		}
		if len(inv.payloads) < 2 {
			t.Fatalf("%d invocations: payload not split", len(inv.payloads))
		}
		for i, p := range inv.payloads {
			if len(p) > MaxLambdaPayload {
				t.Fatalf("invocation %d is %d bytes", i, len(p))
			}
		}
		for i := range in {
			if string(out[i].Data) != string(in[i].Data) {
				t.Fatalf("record %d out of order", i)
			}
		}
	})
	t.Run("buffer size", func(t *testing.T) {
		// 0.2 MB holds two 100 KB records.
		var in []deliver.Rec
		for i := 0; i < 5; i++ {
			in = append(in, deliver.Rec{Data: make([]byte, 100<<10), Seq: uint64(i + 1)})
		}
		inv := &fakeInvoker{fn: echo}
		out, _ := run(t, inv, streamWith(lambdaProc("BufferSizeInMBs", "0.2")), in)
		if len(out) != 5 || len(inv.payloads) != 3 {
			t.Fatalf("%d out in %d invocations, want 5 in 3", len(out), len(inv.payloads))
		}
	})
	t.Run("record too large alone", func(t *testing.T) {
		inv := &fakeInvoker{fn: echo}
		f := NewFactory(inv, Options{MaxPayload: 1000})
		p, _ := f.Pipeline(context.Background(), streamWith(lambdaProc()))
		out, failed, err := p.Process(context.Background(), recs("small", strings.Repeat("y", 2000), "small2"))
		if err != nil || len(out) != 2 || len(failed) != 1 || failed[0].Code != CodeTooLarge {
			t.Fatalf("out %d failed %+v err %v", len(out), failed, err)
		}
	})
}

type countingObserver struct {
	mu                       sync.Mutex
	invocations, okCalls, jq int
	records                  int
	bytes                    int64
}

func (o *countingObserver) LambdaInvoked(_ string, _ time.Duration, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.invocations++
	if ok {
		o.okCalls++
	}
}
func (o *countingObserver) Processed(_ string, n int, b int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.records += n
	o.bytes += b
}
func (o *countingObserver) JQ(string, time.Duration) { o.mu.Lock(); o.jq++; o.mu.Unlock() }

func TestLambdaMetrics(t *testing.T) {
	obs := &countingObserver{}
	inv := &fakeInvoker{fn: func(call int, ev testEvent) ([]byte, string, error) {
		if call == 1 {
			return nil, "Unhandled", nil
		}
		return respond(ev, func(id string, d []byte) map[string]any {
			if string(d) == "a" {
				return map[string]any{"recordId": id, "result": "Dropped"}
			}
			return ok(id, d)
		}), "", nil
	}}
	p, _ := NewFactory(inv, Options{Observer: obs, RetryDelay: time.Millisecond}).Pipeline(context.Background(), streamWith(lambdaProc()))
	if _, _, err := p.Process(context.Background(), recs("a", "bb")); err != nil {
		t.Fatal(err)
	}
	if obs.invocations != 2 || obs.okCalls != 1 || obs.records != 2 || obs.bytes != 2 {
		t.Fatalf("observer %+v", obs)
	}
}

// TestConcurrentInvocations checks that outstanding invocations keep the
// records' order and the failures' order.
func TestConcurrentInvocations(t *testing.T) {
	var inflight, most atomic.Int32
	inv := &fakeInvoker{fn: func(_ int, ev testEvent) ([]byte, string, error) {
		n := inflight.Add(1)
		defer inflight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		return respond(ev, func(id string, d []byte) map[string]any {
			if strings.HasPrefix(string(d), "f") {
				return map[string]any{"recordId": id, "result": "ProcessingFailed"}
			}
			return ok(id, d)
		}), "", nil
	}}
	f := NewFactory(inv, Options{Invocations: 3})
	p, err := f.Pipeline(context.Background(), streamWith(lambdaProc("BufferSizeInMBs", "0.2")))
	if err != nil {
		t.Fatal(err)
	}
	if p.ChunkBytes() != 209715 || p.Chunks() != 6 {
		t.Fatalf("ChunkBytes %d, Chunks %d", p.ChunkBytes(), p.Chunks())
	}
	var in []deliver.Rec
	for i := 0; i < 12; i++ {
		prefix := "r"
		if i%4 == 3 {
			prefix = "f"
		}
		in = append(in, deliver.Rec{Data: []byte(fmt.Sprintf("%s%02d%s", prefix, i, strings.Repeat("x", 60<<10))), Seq: uint64(i + 1)})
	}
	out, failed, err := p.Process(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.payloads) < 3 || most.Load() < 2 || most.Load() > 3 {
		t.Fatalf("%d invocations, at most %d at once", len(inv.payloads), most.Load())
	}
	var got, gotFailed []string
	for _, r := range out {
		got = append(got, string(r.Data[:3]))
	}
	for _, f := range failed {
		gotFailed = append(gotFailed, string(f.Raw[:3]))
	}
	if strings.Join(got, ",") != "R00,R01,R02,R04,R05,R06,R08,R09,R10" || strings.Join(gotFailed, ",") != "f03,f07,f11" {
		t.Fatalf("out %v failed %v", got, gotFailed)
	}
}
