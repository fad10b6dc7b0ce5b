package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Defaults of S3Options.RequestTimeout and RequestTimeoutPerMiB.
const (
	defaultRequestTimeout       = 20 * time.Second
	defaultRequestTimeoutPerMiB = time.Second
)

// guardedClient is the S3 store's HTTP client. It bounds every request by
// its progress, so that a service that accepts connections but never
// answers (a hung server, a network partition that drops packets) turns
// into an error that is logged and retried instead of a request that waits
// for minutes:
//
//   - while the request body is being sent, each chunk the transport takes
//     gives it another `stall` (a slow link is fine, a stopped one is not);
//   - once the request is sent, the answer's headers must come within
//     stall + perMiB × the request's size (S3's work grows with it);
//   - while the answer's body is read, each chunk gives it another stall.
//
// A request that stalls is cancelled (its connection closed) and logged at
// Warn; the error it returns is a timeout, which the SDK retries on a new
// connection.
type guardedClient struct {
	next   aws.HTTPClient
	stall  time.Duration
	perMiB time.Duration
	log    *slog.Logger
	// active counts the requests whose guard is running (tests).
	active atomic.Int64
}

// StallError is returned for an S3 request that made no progress in time.
type StallError struct {
	// Op is the S3 operation (PutObject, UploadPart, ...).
	Op string
	// Phase is what it was doing: "sending the request", "waiting for the
	// answer" or "reading the answer".
	Phase string
	// After is how long it had been stalled.
	After time.Duration
}

// Error implements error.
func (e *StallError) Error() string {
	return fmt.Sprintf("objstore: S3 %s stalled %s: no progress for %s", e.Op, e.Phase, e.After)
}

// Timeout reports true: a stall is a timeout (the SDK retries those).
func (e *StallError) Timeout() bool { return true }

// Do sends req with the guard described on guardedClient.
func (c *guardedClient) Do(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	c.active.Add(1)
	g := &guard{c: c, cancel: cancel, op: middleware.GetOperationName(req.Context()), req: req}
	if g.op == "" {
		g.op = req.Method + " " + req.URL.Path
	}
	size := max(req.ContentLength, 0)
	g.answerWait = c.stall + time.Duration(float64(c.perMiB)*float64(size)/(1<<20))
	req = req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		g.arm("sending the request", c.stall)
		req.Body = &sendBody{ReadCloser: req.Body, g: g}
		if req.GetBody != nil {
			get := req.GetBody
			req.GetBody = func() (io.ReadCloser, error) {
				b, err := get()
				if err != nil {
					return nil, err
				}
				return &sendBody{ReadCloser: b, g: g}, nil
			}
		}
	} else {
		g.arm("waiting for the answer", g.answerWait)
	}
	resp, err := c.next.Do(req)
	if err != nil {
		g.stop()
		if se := g.stalled(); se != nil {
			return nil, fmt.Errorf("%w: %w", se, err)
		}
		return nil, err
	}
	g.arm("reading the answer", c.stall)
	resp.Body = &answerBody{ReadCloser: resp.Body, g: g}
	return resp, nil
}

// guard is the timer of one request.
type guard struct {
	c          *guardedClient
	cancel     context.CancelCauseFunc
	op         string
	req        *http.Request
	answerWait time.Duration

	mu    sync.Mutex
	timer *time.Timer
	phase string
	wait  time.Duration
	err   *StallError // set when the timer fired
	done  bool
}

// arm (re)starts the timer: the request must progress within d.
func (g *guard) arm(phase string, d time.Duration) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil || g.done {
		return
	}
	g.phase, g.wait = phase, d
	if g.timer == nil {
		g.timer = time.AfterFunc(d, g.fire)
	} else {
		g.timer.Reset(d)
	}
}

// progress notes that bytes moved in the current phase.
func (g *guard) progress() {
	g.mu.Lock()
	phase, wait := g.phase, g.wait
	g.mu.Unlock()
	g.arm(phase, wait)
}

// sent notes that the whole request body is sent.
func (g *guard) sent() { g.arm("waiting for the answer", g.answerWait) }

func (g *guard) fire() {
	g.mu.Lock()
	if g.done || g.err != nil {
		g.mu.Unlock()
		return
	}
	g.err = &StallError{Op: g.op, Phase: g.phase, After: g.wait}
	err := g.err
	g.mu.Unlock()
	g.c.log.Warn("objstore: S3 request stalled; cancelled, it will be retried", "op", err.Op, "phase", err.Phase,
		"no_progress_for", err.After, "host", g.req.URL.Host, "bytes", max(g.req.ContentLength, 0))
	g.cancel(err)
}

// stalled returns the stall that cancelled the request, if any.
func (g *guard) stalled() *StallError {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// stop ends the guard: the request is over.
func (g *guard) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.done {
		return
	}
	g.done = true
	if g.timer != nil {
		g.timer.Stop()
	}
	g.c.active.Add(-1)
}

// sendBody is a request body that reports progress to its guard.
type sendBody struct {
	io.ReadCloser
	g *guard
}

func (b *sendBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.g.progress()
	}
	if errors.Is(err, io.EOF) {
		b.g.sent()
	}
	return n, err
}

// answerBody is a response body that reports progress to its guard and
// ends it when closed.
type answerBody struct {
	io.ReadCloser
	g *guard
}

func (b *answerBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.g.progress()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		if se := b.g.stalled(); se != nil {
			err = fmt.Errorf("%w: %w", se, err)
		}
	}
	return n, err
}

func (b *answerBody) Close() error {
	b.g.stop()
	err := b.ReadCloser.Close()
	b.g.cancel(nil)
	return err
}
