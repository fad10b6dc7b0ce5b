package awsproto

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
)

// Request bodies are read into buffers charged to the in-flight Budget by
// the bytes they can hold, as they grow: a client is charged for what it
// has sent (plus one read-ahead chunk), never for what its Content-Length
// promises. A client that trickles a byte a second holds firstChunk bytes,
// not 16 MiB; a request that cannot get budget for its next chunk in time
// is answered "Slow down." and gives back what it held.
const (
	// firstChunk is the first charge of a body of unknown or large size.
	firstChunk = 16 << 10
	// maxChunk caps one growth step, so a large body is charged in steps
	// as it arrives.
	maxChunk = 4 << 20
	// poolMax is the largest buffer kept for reuse; bigger ones go to the
	// garbage collector, so idle pooled memory stays small.
	poolMax = 1 << 20
)

// bodyPool recycles body buffers of up to poolMax bytes.
var bodyPool = sync.Pool{}

// ErrSlowDown is returned by ReadBody when the budget had no room in time.
var ErrSlowDown = Unavailable("Slow down.")

// ReadBody reads r's whole body, at most maxBody bytes (a larger body is
// refused by its Content-Length before it is read, and while reading
// otherwise), charging the buffer to the budget as it grows. hold is what
// the request's handler will hold besides the body, per body byte (a
// decoded copy, say): it is charged with each step, so the handler never
// has to wait for more budget while holding some (which could deadlock
// requests against each other). release gives the charge back and
// recycles the buffer: call it once the body and what was decoded from it
// are no longer used (always, even on error). A nil *Budget charges
// nothing.
func (b *Budget) ReadBody(r *http.Request, maxBody int64, hold float64) (body []byte, release func(), err error) {
	var held int64
	var buf []byte
	release = func() {
		b.Release(held)
		held = 0
		if buf != nil && cap(buf) <= poolMax {
			bp := buf[:0]
			bodyPool.Put(&bp)
		}
		buf = nil
	}
	if maxBody > 0 && r.ContentLength > maxBody {
		return nil, release, tooLarge(maxBody)
	}
	if r.Body == nil || r.ContentLength == 0 {
		return nil, release, nil
	}
	limit := maxBody
	if limit <= 0 {
		limit = 1<<63 - 2
	}
	// want is how many bytes the body may still need, plus one to see EOF
	// without another growth step.
	want := func() int64 {
		if r.ContentLength > 0 && int64(len(buf)) <= r.ContentLength {
			return r.ContentLength - int64(len(buf)) + 1
		}
		return limit - int64(len(buf)) + 1
	}
	if bp, _ := bodyPool.Get().(*[]byte); bp != nil {
		if n := int64(cap(*bp)); n <= want() || n <= firstChunk {
			if got := b.charge(r, n+int64(float64(n)*hold), &held); got < n {
				bodyPool.Put(bp)
				return nil, release, ErrSlowDown
			}
			buf = (*bp)[:0]
		} else {
			bodyPool.Put(bp)
		}
	}
	rd := io.LimitReader(r.Body, limit+1)
	for {
		if len(buf) == cap(buf) {
			grow := min(max(int64(cap(buf)), firstChunk), maxChunk, want())
			got := b.charge(r, grow+int64(float64(grow)*hold), &held)
			if got == 0 {
				return nil, release, ErrSlowDown
			}
			got = min(grow, got)
			nb := make([]byte, len(buf), int64(len(buf))+got)
			copy(nb, buf)
			buf = nb
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, release, tooLarge(maxBody)
		}
		if errors.Is(err, io.EOF) {
			return buf, release, nil
		}
		if err != nil {
			return nil, release, err
		}
	}
}

// charge acquires n more bytes for a request (fewer when n exceeds the
// whole budget), adds them to *held and returns them; 0 when the budget
// had no room in time. A nil budget grants everything.
func (b *Budget) charge(r *http.Request, n int64, held *int64) int64 {
	if b == nil {
		return n
	}
	got, ok := b.Acquire(r.Context(), n)
	if !ok {
		return 0
	}
	*held += got
	return got
}

func tooLarge(max int64) *Error {
	return &Error{Type: RequestEntityTooLarge, Message: "Request body exceeds the limit of " + strconv.FormatInt(max, 10) + " bytes", Status: http.StatusRequestEntityTooLarge}
}
