package producer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
)

// fakeFirehose serves PutRecordBatch over HTTP the way Firehose does; fail
// decides, per request, whether it fails as a whole (an HTTP status and
// error type) and which entries fail.
type fakeFirehose struct {
	mu        sync.Mutex
	requests  [][]string     // the records of each request, in arrival order
	delivered map[string]int // record → times accepted
	seen      map[string]int // record → times received
	fail      func(call int, recs []string, seen map[string]int) (status int, errType string, failed map[int]bool)
	calls     int
}

func newFake(t *testing.T, fail func(call int, recs []string, seen map[string]int) (int, string, map[int]bool)) (*fakeFirehose, *firehose.Client) {
	f := &fakeFirehose{delivered: map[string]int{}, seen: map[string]int{}, fail: fail}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	c := firehose.New(firehose.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		Retryer:      aws.NopRetryer{},
	})
	return f, c
}

func (f *fakeFirehose) serve(w http.ResponseWriter, r *http.Request) {
	var in struct {
		DeliveryStreamName string
		Records            []struct{ Data []byte }
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || r.Header.Get("X-Amz-Target") != "Firehose_20150804.PutRecordBatch" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	recs := make([]string, len(in.Records))
	for i, rec := range in.Records {
		recs[i] = string(rec.Data)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.requests = append(f.requests, recs)
	status, errType, failed := 0, "", map[int]bool(nil)
	if f.fail != nil {
		status, errType, failed = f.fail(f.calls, recs, f.seen)
	}
	for _, rec := range recs {
		f.seen[rec]++
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if status != 0 {
		w.Header().Set("X-Amzn-Errortype", errType)
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"__type":%q,"message":"injected"}`, errType)
		return
	}
	type entry struct {
		RecordId     string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedPutCount   int
		Encrypted        bool
		RequestResponses []entry
	}{}
	for i, rec := range recs {
		if failed[i] {
			out.FailedPutCount++
			out.RequestResponses = append(out.RequestResponses, entry{ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."})
			continue
		}
		f.delivered[rec]++
		out.RequestResponses = append(out.RequestResponses, entry{RecordId: fmt.Sprint(f.calls, "-", i)})
	}
	_ = json.NewEncoder(w).Encode(out)
}

// numbered returns n lines "rec-0\n" ... as one input.
func numbered(n int) (string, []string) {
	var b strings.Builder
	recs := make([]string, n)
	for i := range recs {
		recs[i] = fmt.Sprintf("rec-%d\n", i)
		b.WriteString(recs[i])
	}
	return b.String(), recs
}

func run(t *testing.T, c *firehose.Client, input string, mod func(*Options)) (Stats, error) {
	t.Helper()
	opts := Options{Client: c, Stream: "s", KeepNewline: true, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}
	if mod != nil {
		mod(&opts)
	}
	return Run(context.Background(), opts, Input{Name: "test", Reader: strings.NewReader(input)})
}

// TestRetriesOnlyFailedEntries fails every third record with
// ServiceUnavailableException the first time it is seen: the retry must
// carry exactly those records, and every record is delivered once.
func TestRetriesOnlyFailedEntries(t *testing.T) {
	f, c := newFake(t, func(call int, recs []string, seen map[string]int) (int, string, map[int]bool) {
		failed := map[int]bool{}
		for i, r := range recs {
			var n int
			_, _ = fmt.Sscanf(r, "rec-%d", &n)
			if n%3 == 0 && seen[r] == 0 {
				failed[i] = true
			}
		}
		return 0, "", failed
	})
	input, want := numbered(30)
	st, err := run(t, c, input, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.requests) != 2 {
		t.Fatalf("%d requests, want 2", len(f.requests))
	}
	var wantRetry []string
	for i := 0; i < 30; i += 3 {
		wantRetry = append(wantRetry, want[i])
	}
	if got := strings.Join(f.requests[1], ""); got != strings.Join(wantRetry, "") {
		t.Fatalf("retry carried %q, want only the failed entries %q", f.requests[1], wantRetry)
	}
	for _, r := range want {
		if f.delivered[r] != 1 {
			t.Fatalf("%q delivered %d times", r, f.delivered[r])
		}
	}
	if st.Records != 30 || st.Failed != 0 || st.Retries != 1 || st.RetriedRecords != 10 || st.Requests != 2 || st.Bytes != int64(len(input)) {
		t.Fatalf("stats %+v", st)
	}
}

func TestWholeRequestRetries(t *testing.T) {
	tests := map[string]struct {
		status  int
		errType string
	}{
		"service unavailable": {503, "ServiceUnavailableException"},
		"throttling":          {400, "ThrottlingException"},
		"internal failure":    {500, "InternalFailure"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, c := newFake(t, func(call int, _ []string, _ map[string]int) (int, string, map[int]bool) {
				if call <= 2 {
					return tc.status, tc.errType, nil
				}
				return 0, "", nil
			})
			input, want := numbered(10)
			st, err := run(t, c, input, nil)
			if err != nil {
				t.Fatal(err)
			}
			if st.Records != 10 || st.Retries != 2 || st.Requests != 3 || len(f.delivered) != len(want) {
				t.Fatalf("stats %+v, delivered %d", st, len(f.delivered))
			}
		})
	}
}

func TestGivesUpAfterMaxRetries(t *testing.T) {
	f, c := newFake(t, func(_ int, recs []string, _ map[string]int) (int, string, map[int]bool) {
		failed := map[int]bool{}
		for i, r := range recs {
			if r == "rec-4\n" {
				failed[i] = true
			}
		}
		return 0, "", failed
	})
	input, _ := numbered(10)
	st, err := run(t, c, input, func(o *Options) { o.MaxRetries = 3 })
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 9 || st.Failed != 1 || st.Retries != 3 || st.Requests != 4 || f.seen["rec-4\n"] != 4 {
		t.Fatalf("stats %+v; rec-4 sent %d times", st, f.seen["rec-4\n"])
	}
}

func TestNonRetryableErrorStops(t *testing.T) {
	_, c := newFake(t, func(int, []string, map[string]int) (int, string, map[int]bool) {
		return 400, "ResourceNotFoundException", nil
	})
	input, _ := numbered(10)
	st, err := run(t, c, input, nil)
	if err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("want the service's error, got %v", err)
	}
	if st.Requests != 1 || st.Failed != 10 || st.Retries != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestUnavailableServiceStops checks that a service failing every request
// stops the run after one batch's retries instead of trying every batch.
func TestUnavailableServiceStops(t *testing.T) {
	_, c := newFake(t, func(int, []string, map[string]int) (int, string, map[int]bool) {
		return 503, "ServiceUnavailableException", nil
	})
	input, _ := numbered(5000)
	st, err := run(t, c, input, func(o *Options) { o.MaxRetries = 2; o.Concurrency = 1 })
	if err == nil || !strings.Contains(err.Error(), "still failing after 2 retries") || !strings.Contains(err.Error(), "ServiceUnavailableException") {
		t.Fatalf("want the run stopped with the service's error, got %v", err)
	}
	if st.Requests > 4 || st.Records != 0 || st.Failed < 500 {
		t.Fatalf("stats %+v: want one batch's 3 attempts, little more", st)
	}
}

// TestConcurrentBatches sends many batches at once and checks that every
// record arrives once, that batches respect the limits, and that progress
// accounts for the whole input.
func TestConcurrentBatches(t *testing.T) {
	f, c := newFake(t, nil)
	input, want := numbered(5000)
	var mu sync.Mutex
	var progress int64
	st, err := run(t, c, "\n"+input+"\n\n", func(o *Options) {
		o.Concurrency = 8
		o.OnProgress = func(n int64) { mu.Lock(); progress += n; mu.Unlock() }
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 5000 || len(f.delivered) != 5000 || st.Requests != 10 {
		t.Fatalf("stats %+v, %d distinct records delivered", st, len(f.delivered))
	}
	for _, r := range want {
		if f.delivered[r] != 1 {
			t.Fatalf("%q delivered %d times", r, f.delivered[r])
		}
	}
	for _, req := range f.requests {
		if len(req) > MaxBatchRecords {
			t.Fatalf("request of %d records", len(req))
		}
	}
	if progress != int64(len(input)+3) {
		t.Fatalf("progress %d, input %d bytes", progress, len(input)+3)
	}
}

func TestOversizedRecordIsCountedAndSkipped(t *testing.T) {
	f, c := newFake(t, nil)
	input := "a\n" + strings.Repeat("x", MaxRecordBytes) + "\nb\n"
	st, err := run(t, c, input, nil) // with its newline the big line is one byte over
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 2 || st.Failed != 1 || st.Oversized != 1 || f.delivered["a\n"] != 1 || f.delivered["b\n"] != 1 {
		t.Fatalf("stats %+v", st)
	}
}
