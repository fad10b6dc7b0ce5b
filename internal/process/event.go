package process

import (
	"encoding/base64"
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

// add appends one record. id is a digit string and needs no escaping.
func (e *event) add(id string, r deliver.Rec) {
	if e.n > 0 {
		e.buf = append(e.buf, ',')
	}
	e.buf = append(e.buf, `{"recordId":"`...)
	e.buf = append(e.buf, id...)
	e.buf = append(e.buf, `","approximateArrivalTimestamp":`...)
	e.buf = strconv.AppendInt(e.buf, r.Arrival.UnixMilli(), 10)
	e.buf = append(e.buf, `,"data":"`...)
	e.buf = base64.StdEncoding.AppendEncode(e.buf, r.Data)
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
