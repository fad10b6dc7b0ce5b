package deliver

import (
	"sync"
	"time"
)

// Status is what a delivery loop has done since it started: the console's
// overview and GET /_hydrant/streams/{name} show it. Counters start at zero
// with the loop (a restart resets them, as the loop's own log does).
type Status struct {
	// Objects counts the objects delivered (committed) and Attempts the
	// failed attempts to write one; each failed attempt is retried.
	Objects        uint64 `json:"objects"`
	FailedAttempts uint64 `json:"failedAttempts"`
	// LastDelivery is when the last object was committed.
	LastDelivery *time.Time `json:"lastDelivery,omitempty"`
	// Failing reports that the latest attempt failed and the loop is
	// retrying it: LastError says why.
	Failing bool `json:"failing"`
	// LastError is the latest failed attempt, kept after it is resolved.
	LastError *StatusError `json:"lastError,omitempty"`
	// ErrorRecords counts the records written to the error output, and
	// LastRecordError is the latest of them.
	ErrorRecords    uint64       `json:"errorRecords"`
	LastRecordError *StatusError `json:"lastRecordError,omitempty"`
}

// StatusError is one failure: a failed attempt (Type empty) or a record
// written to the error output (Type is its error-output-type).
type StatusError struct {
	Time time.Time `json:"time"`
	// Type is the error output type (processing-failed, ...) of a record
	// failure; empty for a failed attempt.
	Type    string `json:"type,omitempty"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Key is the object the attempt was writing, or the error output
	// object the record went to.
	Key string `json:"key,omitempty"`
}

// status is a loop's Status behind its lock. Record failures written by
// an attempt are pending until the attempt succeeds: a failed attempt is
// redone from scratch, and writes them again.
type status struct {
	mu             sync.Mutex
	s              Status
	pendingRecords uint64
	pendingLast    *StatusError
}

// Status reports what the loop has done since it started.
func (d *Deliverer) Status() Status {
	d.status.mu.Lock()
	defer d.status.mu.Unlock()
	s := d.status.s
	if s.LastError != nil {
		e := *s.LastError
		s.LastError = &e
	}
	if s.LastRecordError != nil {
		e := *s.LastRecordError
		s.LastRecordError = &e
	}
	if s.LastDelivery != nil {
		t := *s.LastDelivery
		s.LastDelivery = &t
	}
	return s
}

// maxStatusMessage bounds a kept error message.
const maxStatusMessage = 1024

func clip(s string) string {
	if len(s) > maxStatusMessage {
		return s[:maxStatusMessage] + "…"
	}
	return s
}

// noteFailed notes a failed attempt to write p.
func (d *Deliverer) noteFailed(p Plan, err error) {
	d.status.mu.Lock()
	defer d.status.mu.Unlock()
	d.status.s.FailedAttempts++
	d.status.s.Failing = true
	d.status.pendingRecords, d.status.pendingLast = 0, nil
	d.status.s.LastError = &StatusError{Time: d.now(), Code: ErrorCode(err), Message: clip(err.Error()), Key: p.Key}
}

// noteDelivered notes an object committed.
func (d *Deliverer) noteDelivered() {
	d.status.mu.Lock()
	defer d.status.mu.Unlock()
	t := d.now()
	d.status.s.Objects++
	d.status.s.Failing = false
	d.status.s.LastDelivery = &t
}

// noteAttemptOK ends a successful attempt (before its commit is counted by
// noteDelivered): the loop is no longer failing, and the record failures
// the attempt wrote count.
func (d *Deliverer) noteAttemptOK() {
	d.status.mu.Lock()
	defer d.status.mu.Unlock()
	d.status.s.Failing = false
	d.status.s.ErrorRecords += d.status.pendingRecords
	if d.status.pendingLast != nil {
		d.status.s.LastRecordError = d.status.pendingLast
	}
	d.status.pendingRecords, d.status.pendingLast = 0, nil
}

// noteRecordErrors notes records an attempt wrote to the error output.
func (d *Deliverer) noteRecordErrors(typ, key string, fs []Failure) {
	if len(fs) == 0 {
		return
	}
	last := fs[len(fs)-1]
	d.status.mu.Lock()
	defer d.status.mu.Unlock()
	d.status.pendingRecords += uint64(len(fs))
	d.status.pendingLast = &StatusError{Time: d.now(), Type: typ, Code: last.Code, Message: clip(last.Message), Key: key}
}
