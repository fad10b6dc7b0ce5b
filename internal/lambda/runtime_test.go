package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func decodeReply(t *testing.T, b []byte) fakeReply {
	t.Helper()
	var r fakeReply
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("reply %s: %v", b, err)
	}
	return r
}

// TestRuntimeProtocol checks what a runtime sees: the Runtime API headers
// and the environment Lambda sets, and that hydrant's own AWS settings do
// not leak into it.
func TestRuntimeProtocol(t *testing.T) {
	t.Setenv("AWS_PROFILE", "hydrants-own")
	s := openService(t, Options{Region: "eu-west-1", AccountID: "123456789012", EndpointURL: "http://127.0.0.1:4566"})
	createFake(t, s, "proto", 7, map[string]string{"MY_VAR": "mine", "TZ": "Europe/Paris"})
	before := time.Now()
	res, fnErr, err := invokeJSON(t, s, "arn:aws:lambda:eu-west-1:123456789012:function:proto", fakeEvent{Op: "echo"})
	if err != nil || fnErr != "" {
		t.Fatalf("invoke: %v %q %s", err, fnErr, res)
	}
	r := decodeReply(t, res)
	if string(r.Event) != `{"op":"echo"}` {
		t.Errorf("event %s", r.Event)
	}
	h := r.Headers
	if h["Lambda-Runtime-Invoked-Function-Arn"] != "arn:aws:lambda:eu-west-1:123456789012:function:proto" {
		t.Errorf("arn header %q", h["Lambda-Runtime-Invoked-Function-Arn"])
	}
	if !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(h["Lambda-Runtime-Aws-Request-Id"]) {
		t.Errorf("request id %q", h["Lambda-Runtime-Aws-Request-Id"])
	}
	if !strings.HasPrefix(h["Lambda-Runtime-Trace-Id"], "Root=1-") {
		t.Errorf("trace id %q", h["Lambda-Runtime-Trace-Id"])
	}
	ms, _ := strconv.ParseInt(h["Lambda-Runtime-Deadline-Ms"], 10, 64)
	if d := time.UnixMilli(ms).Sub(before); d < 6*time.Second || d > 8*time.Second {
		t.Errorf("deadline %v after the call, want about 7s", d)
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME": "proto", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
		"AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/proto", "_HANDLER": "bootstrap", "MY_VAR": "mine",
		"TZ": "Europe/Paris", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
	}
	for k, v := range want {
		if r.Env[k] != v {
			t.Errorf("env %s = %q, want %q", k, r.Env[k], v)
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_LOG_STREAM_NAME", "TMPDIR"} {
		if r.Env[k] == "" {
			t.Errorf("env %s not set", k)
		}
	}
	if _, ok := r.Env["AWS_PROFILE"]; ok {
		t.Errorf("hydrant's AWS_PROFILE leaked into the function")
	}
	if !strings.HasPrefix(r.Env["AWS_LAMBDA_RUNTIME_API"], "127.0.0.1:") {
		t.Errorf("runtime API %q is not on loopback", r.Env["AWS_LAMBDA_RUNTIME_API"])
	}
	// A warm instance serves the next event.
	res2, _, _ := invokeJSON(t, s, "proto", fakeEvent{Op: "echo"})
	if decodeReply(t, res2).PID != r.PID {
		t.Errorf("second invocation did not reuse the warm instance")
	}
}

var timeoutMessage = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [0-9a-f-]{36} Task timed out after 1\.\d\d seconds$`)

// TestTimeoutKillsAndReplaces: an invocation past Timeout gets Lambda's
// timeout error, its instance is killed, and the next one starts fresh.
func TestTimeoutKillsAndReplaces(t *testing.T) {
	s := openService(t, Options{})
	createFake(t, s, "slow", 1, nil)
	first, _, _ := invokeJSON(t, s, "slow", fakeEvent{Op: "echo"})
	pid := decodeReply(t, first).PID

	start := time.Now()
	res, fnErr, err := invokeJSON(t, s, "slow", fakeEvent{Op: "sleep", MS: 20000})
	if err != nil || fnErr != "Unhandled" {
		t.Fatalf("timeout: err %v fnErr %q %s", err, fnErr, res)
	}
	if el := time.Since(start); el > 15*time.Second {
		t.Fatalf("timeout enforced after %v", el)
	}
	var doc map[string]string
	_ = json.Unmarshal(res, &doc)
	if !timeoutMessage.MatchString(doc["errorMessage"]) || len(doc) != 1 {
		t.Errorf("timeout payload %s", res)
	}
	if !IsTimeout(res) || ErrorCode(res, fnErr, err) != CodeFunctionTimedOut {
		t.Errorf("ErrorCode %q", ErrorCode(res, fnErr, err))
	}
	next, fnErr, err := invokeJSON(t, s, "slow", fakeEvent{Op: "echo"})
	if err != nil || fnErr != "" {
		t.Fatalf("after timeout: %v %q %s", err, fnErr, next)
	}
	if decodeReply(t, next).PID == pid {
		t.Errorf("the timed-out instance was reused")
	}
	if live, _ := s.Instances("slow"); live != 1 {
		t.Errorf("%d instances after replacement, want 1", live)
	}
	logs := logText(s, "slow")
	if !strings.Contains(logs, "Status: timeout") || !strings.Contains(logs, "Task timed out after 1.") {
		t.Errorf("log does not show the timeout:\n%s", logs)
	}
}

// TestCrashReplaced: a runtime that exits mid-invocation gives
// Runtime.ExitError, and the next invocation gets a new instance.
func TestCrashReplaced(t *testing.T) {
	s := openService(t, Options{})
	createFake(t, s, "crashy", 10, nil)
	res, fnErr, err := invokeJSON(t, s, "crashy", fakeEvent{Op: "crash"})
	if err != nil || fnErr != "Unhandled" {
		t.Fatalf("crash: %v %q %s", err, fnErr, res)
	}
	var doc map[string]string
	_ = json.Unmarshal(res, &doc)
	if doc["errorType"] != "Runtime.ExitError" || !regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: exit status 3$`).MatchString(doc["errorMessage"]) {
		t.Errorf("crash payload %s", res)
	}
	if ErrorCode(res, fnErr, err) != CodeFunctionError {
		t.Errorf("ErrorCode %q", ErrorCode(res, fnErr, err))
	}
	if _, fnErr, err := invokeJSON(t, s, "crashy", fakeEvent{Op: "echo"}); err != nil || fnErr != "" {
		t.Fatalf("after crash: %v %q", err, fnErr)
	}
	if !strings.Contains(logText(s, "crashy"), "about to crash") {
		t.Errorf("the crashed instance's output is not in the log")
	}
}

// TestFunctionErrors: errors the runtime posts, init errors, and responses
// over Lambda's limit.
func TestFunctionErrors(t *testing.T) {
	s := openService(t, Options{})
	createFake(t, s, "errs", 10, nil)
	res, fnErr, err := invokeJSON(t, s, "errs", fakeEvent{Op: "error"})
	if err != nil || fnErr != "Unhandled" || string(res) != `{"errorMessage":"boom","errorType":"FakeError"}` {
		t.Errorf("posted error: %v %q %s", err, fnErr, res)
	}
	res, fnErr, _ = invokeJSON(t, s, "errs", fakeEvent{Op: "big", Size: MaxResponsePayload + 1})
	if fnErr != "Unhandled" || !strings.Contains(string(res), `"errorType":"Function.ResponseSizeTooLarge"`) ||
		!strings.Contains(string(res), "Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).") {
		t.Errorf("big response: %q %s", fnErr, res)
	}
	if _, fnErr, _ := invokeJSON(t, s, "errs", fakeEvent{Op: "big", Size: 1000}); fnErr != "" {
		t.Errorf("the instance did not survive its function errors: %q", fnErr)
	}

	createFake(t, s, "badinit", 10, map[string]string{"HYDRANT_FAKE_RUNTIME": "initerror"})
	res, fnErr, err = invokeJSON(t, s, "badinit", fakeEvent{Op: "echo"})
	if err != nil || fnErr != "Unhandled" || !strings.Contains(string(res), "Runtime.FakeInitError") {
		t.Errorf("init error: %v %q %s", err, fnErr, res)
	}
	if !strings.Contains(logText(s, "badinit"), "initializing and failing") {
		t.Errorf("init output missing from the log")
	}
}

// TestConcurrentInstances: several invocations run at once in separate
// instances (all of them are inside a rendezvous at the same time), and
// beyond the limit callers are throttled.
func TestConcurrentInstances(t *testing.T) {
	const n = 3
	var mu sync.Mutex
	arrived := 0
	release := make(chan struct{})
	meet := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		mu.Unlock()
		select {
		case <-release:
		case <-time.After(30 * time.Second):
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	}))
	defer meet.Close()
	s := openService(t, Options{Concurrency: n, QueueWait: 200 * time.Millisecond})
	createFake(t, s, "par", 60, nil)
	var wg sync.WaitGroup
	pids := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, fnErr, err := invokeJSON(t, s, "par", fakeEvent{Op: "meet", URL: meet.URL})
			if err != nil || fnErr != "" {
				t.Errorf("invoke %d: %v %q %s", i, err, fnErr, res)
				return
			}
			pids[i] = decodeReply(t, res).PID
		}()
	}
	waitUntil(t, func() bool { mu.Lock(); defer mu.Unlock(); return arrived == n })
	// All n instances are busy at once; one more invocation is throttled.
	_, _, err := invokeJSON(t, s, "par", fakeEvent{Op: "echo"})
	var ie *InvokeError
	if !errors.As(err, &ie) || ie.Type != TooManyRequests || ie.Message != "Rate Exceeded." || ErrorCode(nil, "", err) != CodeInvokeLimitExceeded {
		t.Errorf("over the limit: %v", err)
	}
	close(release)
	wg.Wait()
	if pids[0] == pids[1] || pids[1] == pids[2] || pids[0] == pids[2] {
		t.Errorf("pids %v: not three instances", pids)
	}
	if live, idle := s.Instances("par"); live != n || idle != n {
		t.Errorf("after: %d live %d idle, want %d warm", live, idle, n)
	}
}

// TestLogFraming: START, the function's lines (a partial last line
// included), END and REPORT, in order, in the log and in LogType Tail.
func TestLogFraming(t *testing.T) {
	s := openService(t, Options{Logger: testLogger(t)})
	createFake(t, s, "logs", 10, nil)
	ref, _ := parseFunctionName("logs")
	out, err := s.invoke(context.Background(), ref, []byte(`{"op":"print","lines":["first","second"],"raw":"no newline"}`), invokeOpts{tail: true})
	if err != nil {
		t.Fatal(err)
	}
	id := out.requestID
	events, _ := s.Logs("logs")
	var got []string
	for _, ev := range events {
		if ev.RequestID == id {
			got = append(got, ev.Message)
		}
	}
	if len(got) != 6 || got[0] != "START RequestId: "+id+" Version: $LATEST" || got[1] != "first" || got[2] != "second" ||
		got[3] != "no newline" || got[4] != "END RequestId: "+id ||
		!regexp.MustCompile(`^REPORT RequestId: `+id+`\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d\d ms$`).MatchString(got[5]) {
		t.Errorf("invocation log:\n%s", strings.Join(got, "\n"))
	}
	if !strings.Contains(logText(s, "logs"), "fake runtime initialized") {
		t.Errorf("init output missing")
	}
	tail := string(out.tail)
	if !strings.HasPrefix(tail, "START RequestId: "+id) || !strings.Contains(tail, "second\nno newline\nEND") {
		t.Errorf("tail:\n%s", tail)
	}
}

func logText(s *Service, name string) string {
	events, _ := s.Logs(name)
	var b strings.Builder
	for _, ev := range events {
		b.WriteString(ev.Message + "\n")
	}
	return b.String()
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCallerCancels: when the caller's context ends mid-invocation, Invoke
// returns its error and the instance, which may be anywhere in the
// handler, is replaced.
func TestCallerCancels(t *testing.T) {
	s := openService(t, Options{})
	createFake(t, s, "cancel", 30, nil)
	first, _, _ := invokeJSON(t, s, "cancel", fakeEvent{Op: "echo"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, err := s.Invoke(ctx, "cancel", []byte(`{"op":"sleep","ms":20000}`))
	if !errors.Is(err, context.DeadlineExceeded) || ErrorCode(nil, "", err) != CodeFunctionTimedOut {
		t.Fatalf("cancelled invoke: %v", err)
	}
	next, fnErr, err := invokeJSON(t, s, "cancel", fakeEvent{Op: "echo"})
	if err != nil || fnErr != "" || decodeReply(t, next).PID == decodeReply(t, first).PID {
		t.Errorf("after cancel: %v %q", err, fnErr)
	}
}
