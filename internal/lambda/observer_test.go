package lambda

import (
	"sync"
	"testing"
	"time"
)

// recordingObserver keeps what the service reports.
type recordingObserver struct {
	mu        sync.Mutex
	invoked   []invokedEvent
	throttled int
}

type invokedEvent struct {
	function          string
	failed            bool
	concurrent, total int
}

func (o *recordingObserver) FunctionInvoked(fn string, took time.Duration, failed bool, concurrent, total int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.invoked = append(o.invoked, invokedEvent{fn, failed, concurrent, total})
}

func (o *recordingObserver) FunctionThrottled(fn string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.throttled++
}

// TestObserver: every invocation that runs is reported with whether the
// function failed and how many ran at once; a throttled one as such
// (AWS/Lambda's Invocations, Errors, Duration, ConcurrentExecutions,
// Throttles).
func TestObserver(t *testing.T) {
	obs := &recordingObserver{}
	s := openService(t, Options{Concurrency: 1, QueueWait: 100 * time.Millisecond, Observer: obs})
	createFake(t, s, "f", 10, nil)
	if _, fnErr, err := invokeJSON(t, s, "f", fakeEvent{Op: "echo"}); err != nil || fnErr != "" {
		t.Fatalf("echo: %q %v", fnErr, err)
	}
	if _, fnErr, err := invokeJSON(t, s, "f", fakeEvent{Op: "error"}); err != nil || fnErr == "" {
		t.Fatalf("error: %q %v", fnErr, err)
	}
	// One instance busy for a while: a second invocation waits past
	// QueueWait and is throttled.
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _, _ = invokeJSON(t, s, "f", fakeEvent{Op: "sleep", MS: 1500})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		live, idle := s.Instances("f")
		if live == 1 && idle == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := invokeJSON(t, s, "f", fakeEvent{Op: "echo"}); err == nil {
		t.Fatal("second invocation not throttled")
	}
	<-done
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if len(obs.invoked) != 3 || obs.throttled != 1 {
		t.Fatalf("invoked %+v, throttled %d", obs.invoked, obs.throttled)
	}
	if obs.invoked[0].failed || !obs.invoked[1].failed || obs.invoked[2].failed {
		t.Errorf("failures: %+v", obs.invoked)
	}
	for _, e := range obs.invoked {
		if e.function != "f" || e.concurrent != 1 || e.total != 1 {
			t.Errorf("event %+v", e)
		}
	}
}
