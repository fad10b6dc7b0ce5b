package lambda

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// Invoker invokes a Lambda function synchronously (RequestResponse). It is
// what the Firehose Lambda processor calls for each batch.
//
// result is the function's response payload, or its error document when
// functionError is set ("Unhandled", as Lambda's X-Amz-Function-Error):
// the function ran and failed, timed out (IsTimeout tells), or its process
// crashed. err is for invocations that did not get an answer from the
// function at all: the function does not exist, the call was throttled or
// refused, the endpoint could not be reached, ctx ended. Lambda errors are
// *InvokeError; ErrorCode maps any outcome to Firehose's error codes.
// Implementations are safe for concurrent use.
type Invoker interface {
	Invoke(ctx context.Context, functionARN string, payload []byte) (result []byte, functionError string, err error)
}

// invokeOpts are the per-call options of the Invoke API.
type invokeOpts struct {
	tail          bool
	clientContext string
}

// outcome is a finished synchronous invocation.
type outcome struct {
	requestID string
	payload   []byte
	fnErr     string
	tail      []byte
}

// Invoke runs a hosted function synchronously. functionARN may be a
// function's ARN, partial ARN or name.
func (s *Service) Invoke(ctx context.Context, functionARN string, payload []byte) ([]byte, string, error) {
	ref, ok := parseFunctionName(functionARN)
	if !ok {
		return nil, "", &InvokeError{Type: ResourceNotFound, Message: "Function not found: " + functionARN, StatusCode: 404}
	}
	out, err := s.invoke(ctx, ref, payload, invokeOpts{})
	if err != nil {
		var ae *awsproto.Error
		if errors.As(err, &ae) {
			return nil, "", invokeErr(ae)
		}
		return nil, "", err
	}
	return out.payload, out.fnErr, nil
}

// resolve finds the function a reference names: hydrant's region and
// account, no qualifier or $LATEST.
func (s *Service) resolve(ref funcRef) (*function, *record, *awsproto.Error) {
	if !s.ours(ref) || (ref.Qualifier != "" && ref.Qualifier != LatestVersion) {
		return nil, nil, notFound(s.refARN(ref))
	}
	fn, rec := s.lookup(ref.Name)
	if fn == nil {
		return nil, nil, notFound(s.refARN(ref))
	}
	return fn, rec, nil
}

// invoke runs one synchronous invocation. Errors are *awsproto.Error for
// the API, or ctx's error.
func (s *Service) invoke(ctx context.Context, ref funcRef, payload []byte, o invokeOpts) (*outcome, error) {
	fn, rec, aerr := s.resolve(ref)
	if aerr != nil {
		return nil, aerr
	}
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	inst, err := fn.pool.acquire(ctx, s.opts.QueueWait)
	if err != nil {
		var se *startError
		switch {
		case errors.Is(err, errThrottled):
			if o := s.opts.Observer; o != nil {
				o.FunctionThrottled(ref.Name)
			}
			return nil, throttled()
		case errors.Is(err, errPoolClosed):
			return nil, notFound(s.refARN(ref))
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &se):
			// Lambda's answer for a runtime it cannot start.
			inv := newInvocation(rec.Config.FunctionArn, payload, 0)
			msg := "RequestId: " + inv.id + " Error: " + se.Error()
			ev := LogEvent{Timestamp: time.Now().UnixMilli(), Message: msg, RequestID: inv.id,
				LogStreamName: time.Now().UTC().Format("2006/01/02") + "/[" + LatestVersion + "]" + strings.ReplaceAll(inv.id, "-", "")}
			fn.logs.add(ev)
			if s.opts.LogSink != nil {
				s.opts.LogSink.FunctionLog(logGroupOf(rec.Config), ev.LogStreamName, ev.Timestamp, msg)
			}
			s.log.Warn("function instance did not start", "function", ref.Name, "err", se.err)
			if o := s.opts.Observer; o != nil {
				o.FunctionInvoked(ref.Name, 0, true, int(fn.running.Load())+1, int(s.running.Load())+1)
			}
			return &outcome{requestID: inv.id, payload: errorDoc(msg, "Runtime.InvalidEntrypoint"), fnErr: "Unhandled"}, nil
		}
		s.log.Error("start function instance", "function", ref.Name, "err", err)
		return nil, serviceError()
	}
	inv := newInvocation(rec.Config.FunctionArn, payload, time.Duration(rec.Config.Timeout)*time.Second)
	inv.wantTail, inv.clientContext = o.tail, o.clientContext
	concurrent, total := fn.running.Add(1), s.running.Add(1)
	start := time.Now()
	r := inst.run(ctx, inv)
	took := time.Since(start)
	fn.running.Add(-1)
	s.running.Add(-1)
	fn.pool.release(inst, r.healthy)
	if r.cancelled {
		return nil, ctx.Err()
	}
	if o := s.opts.Observer; o != nil {
		o.FunctionInvoked(ref.Name, took, r.fnErr != "", int(concurrent), int(total))
	}
	return &outcome{requestID: inv.id, payload: r.payload, fnErr: r.fnErr, tail: inv.logTail()}, nil
}

// invokeAsync queues an Event invocation: it runs in the background, and
// its failures are only logged (Lambda would retry twice and then use the
// function's dead-letter queue; hydrant does neither yet).
func (s *Service) invokeAsync(ref funcRef, payload []byte) *awsproto.Error {
	if _, _, aerr := s.resolve(ref); aerr != nil {
		return aerr
	}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return serviceError()
	}
	s.wg.Add(1)
	s.mu.RUnlock()
	go func() {
		defer s.wg.Done()
		out, err := s.invoke(s.bg, ref, payload, invokeOpts{})
		switch {
		case err != nil:
			s.log.Warn("asynchronous invocation failed", "function", ref.Name, "err", err)
		case out.fnErr != "":
			s.log.Warn("asynchronous invocation returned a function error", "function", ref.Name, "request_id", out.requestID, "error", string(out.payload))
		}
	}()
	return nil
}
