package lambda

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/google/uuid"
)

// invocation is one event on its way through an instance.
type invocation struct {
	id            string
	arn           string
	payload       []byte
	clientContext string
	traceID       string
	timeout       time.Duration
	queuedAt      time.Time
	wantTail      bool

	started   chan struct{} // closed by the runtime's GET /next
	startedAt time.Time     // set before started is closed
	deadline  time.Time     // set before started is closed
	done      chan result   // the runtime's answer (capacity 1)
	once      sync.Once

	endLines []string      // written by the logPipe's reader
	logged   chan struct{} // closed when END and REPORT are in the log

	tailMu sync.Mutex
	tail   []byte
}

// result is how an invocation ended.
type result struct {
	payload []byte
	fnErr   string // "" or "Unhandled"
	errType string // the error type, for the log
	status  string // REPORT's Status: "timeout", "error", or ""
	healthy bool   // the instance may serve another invocation
	// cancelled: the caller's context ended first.
	cancelled bool
}

func newInvocation(arn string, payload []byte, timeout time.Duration) *invocation {
	return &invocation{
		id: uuid.NewString(), arn: arn, payload: payload, timeout: timeout,
		traceID:  newTraceID(),
		queuedAt: time.Now(),
		started:  make(chan struct{}),
		done:     make(chan result, 1),
		logged:   make(chan struct{}),
	}
}

// newTraceID makes an X-Ray trace header like Lambda passes to functions.
func newTraceID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("Root=1-%08x-%s;Parent=%s;Sampled=0", time.Now().Unix(), hex.EncodeToString(b[:12]), hex.EncodeToString(b[12:]))
}

// begin fixes the invocation's deadline when the runtime takes it. The
// timeout runs from now, except that initialization longer than
// initTimeout eats into it, as it does in Lambda.
func (inv *invocation) begin(now time.Time, initTimeout time.Duration) {
	start := now
	if limit := inv.queuedAt.Add(initTimeout); start.After(limit) {
		start = limit
	}
	inv.startedAt = now
	inv.deadline = start.Add(inv.timeout)
}

// finish records the runtime's answer; only the first counts.
func (inv *invocation) finish(r result) {
	inv.once.Do(func() { inv.done <- r })
}

func (inv *invocation) addTail(line string) {
	if !inv.wantTail {
		return
	}
	inv.tailMu.Lock()
	inv.tail = append(append(inv.tail, line...), '\n')
	if len(inv.tail) > 2*tailSize {
		inv.tail = append(inv.tail[:0], inv.tail[len(inv.tail)-tailSize:]...)
	}
	inv.tailMu.Unlock()
}

// logTail is the last 4 KB of the invocation's log, for LogType Tail.
func (inv *invocation) logTail() []byte {
	inv.tailMu.Lock()
	defer inv.tailMu.Unlock()
	t := inv.tail
	if len(t) > tailSize {
		t = t[len(t)-tailSize:]
	}
	return append([]byte(nil), t...)
}

// run sends inv to the instance and waits for its answer, enforcing the
// function's timeout. It always returns a result: failures of the function
// or its process are function errors, as Lambda reports them; a cancelled
// ctx kills the instance. The log gets START, END and REPORT around
// whatever the function printed.
func (inst *instance) run(ctx context.Context, inv *invocation) result {
	initLimit := inst.svc.opts.InitTimeout
	handoff := time.NewTimer(initLimit + inv.timeout)
	defer handoff.Stop()
	var r result
	select {
	case inst.next <- inv:
	case <-inst.initFailed:
		r = result{payload: inst.initErr, fnErr: "Unhandled", errType: errorTypeOf(inst.initErr), status: "error"}
	case <-inst.exited:
		select {
		case <-inst.initFailed: // reported its init error, then exited
			r = result{payload: inst.initErr, fnErr: "Unhandled", errType: errorTypeOf(inst.initErr), status: "error"}
		default:
			r = inst.exitResult(inv)
		}
	case <-handoff.C:
		inst.kill()
		r = inst.timeoutResult(inv, inv.timeout)
	case <-ctx.Done():
		// The runtime never saw the event: the instance is still good.
		return result{healthy: true, cancelled: true}
	}
	if r.fnErr != "" {
		// Failed before the runtime took the event: log the attempt.
		inv.startedAt = time.Now()
		inst.pipe.begin(inv)
		inst.finishLog(inv, r, 0)
		return r
	}
	<-inv.started
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	select {
	case r = <-inv.done:
		r.healthy = true
	case <-inst.exited:
		select {
		case r = <-inv.done: // answered, then exited
		default:
			r = inst.exitResult(inv)
		}
	case <-timer.C:
		select {
		case r = <-inv.done: // answered just in time
			r.healthy = true
		default:
			inst.memoryUsedMB()
			inst.kill()
			r = inst.timeoutResult(inv, time.Since(inv.startedAt))
		}
	case <-ctx.Done():
		inst.kill()
		r = result{payload: errorDoc("RequestId: "+inv.id+" Error: invocation cancelled", "Runtime.Cancelled"), fnErr: "Unhandled",
			errType: "Runtime.Cancelled", status: "error", cancelled: true}
	}
	inst.finishLog(inv, r, time.Since(inv.startedAt))
	return r
}

func (inst *instance) exitResult(inv *invocation) result {
	msg := "RequestId: " + inv.id + " Error: " + inst.exitMessage()
	return result{payload: errorDoc(msg, "Runtime.ExitError"), fnErr: "Unhandled", errType: "Runtime.ExitError", status: "error"}
}

// timeoutResult is Lambda's answer for an invocation that ran out of time.
func (inst *instance) timeoutResult(inv *invocation, elapsed time.Duration) result {
	msg := fmt.Sprintf("%s %s Task timed out after %.2f seconds", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.id, elapsed.Seconds())
	return result{payload: errorDoc(msg, ""), fnErr: "Unhandled", errType: "Sandbox.Timedout", status: "timeout"}
}

// finishLog writes END and REPORT (and the error line of a timeout or a
// crash) after everything the function printed.
func (inst *instance) finishLog(inv *invocation, r result, d time.Duration) {
	ms := float64(d.Microseconds()) / 1000
	report := fmt.Sprintf("REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB",
		inv.id, ms, int64(math.Ceil(ms)), inst.snap.memory, inst.memoryUsedMB())
	if !inst.coldReported {
		select {
		case <-inst.ready:
			inst.coldReported = true
			report += fmt.Sprintf("\tInit Duration: %.2f ms", float64(inst.initDuration.Microseconds())/1000)
		default:
		}
	}
	if r.status != "" {
		report += "\tStatus: " + r.status
		if r.status == "error" && r.errType != "" {
			report += "\tError Type: " + r.errType
		}
	}
	lines := []string{"END RequestId: " + inv.id, report}
	switch {
	case r.status == "timeout":
		lines = append(lines, errorMessageOf(r.payload))
	case r.errType == "Runtime.ExitError":
		lines = append(lines, errorMessageOf(r.payload), "Runtime.ExitError")
	}
	inst.pipe.end(inv, lines)
}

// errorTypeOf and errorMessageOf read a Lambda error document.
func errorTypeOf(doc []byte) string {
	var e struct {
		ErrorType string `json:"errorType"`
	}
	_ = json.Unmarshal(doc, &e)
	return e.ErrorType
}

func errorMessageOf(doc []byte) string {
	var e struct {
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(doc, &e)
	return e.ErrorMessage
}
