package awsproto

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"github.com/google/uuid"
)

// ContentTypeJSON11 is the content type of awsJson1_1 requests and responses.
const ContentTypeJSON11 = "application/x-amz-json-1.1"

// RawJSON is a handler result that is already encoded; the dispatcher writes
// it as is. The hot Put paths use it to skip reflection.
type RawJSON []byte

// JSONHandler serves one awsJson operation. body is the request body; it is
// only valid until the handler returns. The result is encoded with
// encoding/json unless it is RawJSON; a nil result is sent as {}. An error
// that is not an *Error is logged and answered with InternalFailure.
type JSONHandler func(ctx context.Context, body []byte) (any, error)

// JSONService dispatches awsJson1_1 requests (POST /, X-Amz-Target:
// <prefix>.<Operation>) to handlers.
type JSONService struct {
	// TargetPrefix is the part of X-Amz-Target before the dot, e.g.
	// "Firehose_20150804".
	TargetPrefix string
	Ops          map[string]JSONHandler
	// MaxBody bounds the request body; larger bodies are refused before
	// they are read.
	MaxBody int64
	Logger  *slog.Logger
	// Verifier, when set, checks every request's SigV4 signature, scoped to
	// the signing name SigningName, before the operation runs; nil accepts
	// any request, signed or not. See json11_auth.go.
	Verifier    *Verifier
	SigningName string
	// Budget, when set, bounds the body bytes held by in-flight requests
	// (one budget is shared by every service of a server); a request that
	// cannot get its share in time is answered "Slow down.".
	Budget *Budget

	bufs sync.Pool
}

// ServeOperation serves a request whose target operation is op.
func (s *JSONService) ServeOperation(w http.ResponseWriter, r *http.Request, op string) {
	reqID := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", reqID)
	defer func() {
		// A bug in one handler must not take the connection down silently:
		// log it loudly and answer like AWS does for its own failures.
		if p := recover(); p != nil {
			s.logger().Error("panic serving request", "op", op, "request_id", reqID, "panic", p, "stack", string(debug.Stack()))
			WriteJSONError(w, Internal())
		}
	}()
	h, ok := s.Ops[op]
	if !ok {
		WriteJSONError(w, &Error{Type: UnknownOperationException, Message: "Operation " + op + " is not supported.", Status: http.StatusBadRequest})
		return
	}
	signed, aerr := s.authenticate(r)
	if aerr != nil {
		WriteJSONError(w, aerr)
		return
	}
	reserved, ok := s.Budget.Acquire(r.Context(), s.reservation(r))
	if !ok {
		WriteJSONError(w, Unavailable("Slow down."))
		return
	}
	defer s.Budget.Release(reserved)
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, 0, 64<<10)
		bp = &b
	}
	body, err := readBody(r, (*bp)[:0], s.MaxBody)
	defer func() {
		if cap(body) <= 8<<20 {
			*bp = body[:0]
			s.bufs.Put(bp)
		}
	}()
	if err != nil {
		var ae *Error
		if errors.As(err, &ae) {
			WriteJSONError(w, ae)
			return
		}
		s.logger().Debug("read request body", "op", op, "err", err)
		WriteJSONError(w, &Error{Type: SerializationException, Message: "Could not read request body", Status: http.StatusBadRequest})
		return
	}
	if signed != nil {
		if _, aerr := signed.VerifyBody(body); aerr != nil {
			WriteJSONError(w, aerr)
			return
		}
	}
	res, err := h(r.Context(), body)
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			s.logger().Error("operation failed", "op", op, "request_id", reqID, "err", err)
			ae = Internal()
		}
		WriteJSONError(w, ae)
		return
	}
	w.Header().Set("Content-Type", ContentTypeJSON11)
	switch v := res.(type) {
	case RawJSON:
		w.Header().Set("Content-Length", strconv.Itoa(len(v)))
		_, _ = w.Write(v)
	case nil:
		_, _ = io.WriteString(w, "{}")
	default:
		b, err := json.Marshal(v)
		if err != nil {
			s.logger().Error("encode response", "op", op, "err", err)
			WriteJSONError(w, Internal())
			return
		}
		_, _ = w.Write(b)
	}
}

func (s *JSONService) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// readBody reads the whole body into buf, refusing bodies over max before
// reading them when Content-Length says so, and while reading otherwise.
func readBody(r *http.Request, buf []byte, max int64) ([]byte, error) {
	if max > 0 && r.ContentLength > max {
		return buf, tooLarge(max)
	}
	if r.ContentLength > 0 && int64(cap(buf)) < r.ContentLength {
		buf = make([]byte, 0, r.ContentLength)
	}
	var rd io.Reader = r.Body
	if max > 0 {
		rd = io.LimitReader(r.Body, max+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if max > 0 && int64(len(buf)) > max {
			return buf, tooLarge(max)
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func tooLarge(max int64) *Error {
	return &Error{Type: RequestEntityTooLarge, Message: "Request body exceeds the limit of " + strconv.FormatInt(max, 10) + " bytes", Status: http.StatusRequestEntityTooLarge}
}

// WriteJSONError writes an error in the awsJson shape:
// {"__type":"Name","message":"..."} with the X-Amzn-Errortype header.
func WriteJSONError(w http.ResponseWriter, e *Error) {
	body := map[string]any{"__type": e.Type, "message": e.Message}
	if e.Code != "" {
		body["code"] = e.Code
	}
	for k, v := range e.Fields {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", ContentTypeJSON11)
	w.Header().Set("X-Amzn-Errortype", e.Type)
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// SplitTarget splits an X-Amz-Target value into its prefix and operation.
func SplitTarget(target string) (prefix, op string, ok bool) {
	i := strings.LastIndexByte(target, '.')
	if i <= 0 || i == len(target)-1 {
		return "", "", false
	}
	return target[:i], target[i+1:], true
}
