package process

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

// event builds the Lambda invocation event (reference §6.3) incrementally,
// so that the exact payload size is known as records are added:
//
//	{"invocationId":"<uuid>","deliveryStreamArn":"...","region":"...",
//	 "records":[{"recordId":"...","approximateArrivalTimestamp":<ms>,"data":"<base64>"},...]}
type event struct {
	buf []byte
	// header is the length of everything before the first record; idAt is
	// where the invocationId's 36 characters start.
	header, idAt int
	n            int
}

// eventMark is a point to truncate an event back to.
type eventMark struct{ len, n int }

func newEvent(streamARN, region string) *event {
	arn, _ := json.Marshal(streamARN)
	reg, _ := json.Marshal(region)
	e := &event{}
	e.buf = append(e.buf, `{"invocationId":"`...)
	e.idAt = len(e.buf)
	e.buf = append(e.buf, "00000000-0000-0000-0000-000000000000"...)
	e.buf = append(e.buf, `","deliveryStreamArn":`...)
	e.buf = append(e.buf, arn...)
	e.buf = append(e.buf, `,"region":`...)
	e.buf = append(e.buf, reg...)
	e.buf = append(e.buf, `,"records":[`...)
	e.header = len(e.buf)
	return e
}

// grow makes room for n more bytes.
func (e *event) grow(n int) { e.buf = slices.Grow(e.buf, n) }

// add appends one record, the event's e.n-th.
func (e *event) add(r deliver.Rec) {
	if e.n > 0 {
		e.buf = append(e.buf, ',')
	}
	e.buf = append(e.buf, `{"recordId":"`...)
	e.buf = appendRecordID(e.buf, r.Seq, e.n)
	e.buf = append(e.buf, `","approximateArrivalTimestamp":`...)
	e.buf = strconv.AppendInt(e.buf, r.Arrival.UnixMilli(), 10)
	e.buf = append(e.buf, `,"data":"`...)
	e.buf = appendBase64(e.buf, r.Data)
	e.buf = append(e.buf, `"}`...)
	e.n++
}

// len returns a mark for truncate.
func (e *event) len() eventMark { return eventMark{len(e.buf), e.n} }

// truncate removes the records added after m.
func (e *event) truncate(m eventMark) { e.buf, e.n = e.buf[:m.len], m.n }

// size is the size the finished event would have.
func (e *event) size() int { return len(e.buf) + 2 }

// finish closes the event with a fresh invocationId and returns it; the
// bytes stay valid until the next add or reset.
func (e *event) finish() []byte {
	copy(e.buf[e.idAt:], uuid.NewString())
	return append(e.buf, ']', '}')
}

// reset empties the event for the next invocation.
func (e *event) reset() { e.buf, e.n = e.buf[:e.header], 0 }

// appendRecordID appends the opaque recordId of the record at position i
// of an invocation: its log sequence number and position, as a digit string
// like Firehose's (unique within the invocation even when de-aggregation
// gave several records the same sequence number).
func appendRecordID(b []byte, seq uint64, i int) []byte {
	var d [20]byte
	s := strconv.AppendUint(d[:0], seq, 10)
	for n := len(s); n < 20; n++ {
		b = append(b, '0')
	}
	b = append(b, s...)
	p := strconv.AppendInt(d[:0], int64(i), 10)
	for n := len(p); n < 8; n++ {
		b = append(b, '0')
	}
	return append(b, p...)
}

// split cuts recs into invocations. A record whose event alone would exceed
// the payload limit fails at once.
func (l *lambdaStage) split(recs []deliver.Rec, fail func(deliver.Failure)) []invocation {
	var invs []invocation
	// Base64 and about 80 bytes of JSON per record.
	remaining, total := 0, 0
	for _, r := range recs {
		remaining += len(r.Data)*4/3 + 100
		total += len(r.Data)
	}
	// About how many records an invocation takes, to size its list.
	perInvocation := len(recs)
	if total > 0 {
		perInvocation = min(len(recs), int(l.cfg.BufferBytes*int64(len(recs))/int64(total))+1)
	}
	var cur invocation
	var ev *event
	var dataBytes int64
	start := func() {
		ev = newEvent(l.streamARN, l.region)
		ev.grow(min(remaining, l.opts.MaxPayload))
	}
	flush := func() {
		if len(cur.recs) > 0 {
			cur.payload = ev.finish()
			invs = append(invs, cur)
			start()
		}
		cur, dataBytes = invocation{}, 0
	}
	start()
	for _, r := range recs {
		remaining -= len(r.Data)*4/3 + 100
		if len(cur.recs) > 0 && dataBytes+int64(len(r.Data)) > l.cfg.BufferBytes {
			flush()
		}
		mark := ev.len()
		ev.add(r)
		if ev.size() > l.opts.MaxPayload && len(cur.recs) > 0 {
			ev.truncate(mark)
			flush()
			ev.add(r)
		}
		if ev.size() > l.opts.MaxPayload {
			// This record alone does not fit in an invocation.
			ev.reset()
			fail(l.failure(r, CodeTooLarge, "Request must be smaller than "+strconv.Itoa(l.opts.MaxPayload)+" bytes for the InvokeFunction operation", 1))
			continue
		}
		if cur.recs == nil {
			cur.recs = make([]deliver.Rec, 0, perInvocation)
		}
		cur.recs = append(cur.recs, r)
		dataBytes += int64(len(r.Data))
	}
	flush()
	return invs
}
