package awsproto

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// ContentTypeJSON11 is the content type of awsJson1_1 requests and responses.
const ContentTypeJSON11 = "application/x-amz-json-1.1"

// ContentTypeJSON10 is the content type of awsJson1_0 requests and responses.
const ContentTypeJSON10 = "application/x-amz-json-1.0"

// RawJSON is a handler result that is already encoded; the dispatcher writes
// it as is. The hot Put paths use it to skip reflection.
type RawJSON []byte

// JSONHandler serves one operation. body is the operation's input as
// awsJson sends it (whatever protocol the request arrived in: awsQuery and
// rpcv2Cbor inputs are converted to it along the service's model); it is
// only valid until the handler returns. The result is what awsJson would
// answer: encoded with encoding/json unless it is RawJSON, and converted
// along the model for the other protocols; a nil result is sent as {}. An
// error that is not an *Error is logged and answered with InternalFailure.
type JSONHandler func(ctx context.Context, body []byte) (any, error)

// Service is one RPC-style AWS API: awsJson (1.0 or 1.1, by X-Amz-Target),
// awsQuery (form-encoded Action, XML answers) and Smithy RPC v2 CBOR. Its
// operations are written once, against awsJson input and output; Model
// (required for awsQuery and CBOR) says how the other protocols map onto it.
type Service struct {
	// TargetPrefix is the part of X-Amz-Target before the dot, e.g.
	// "Firehose_20150804"; empty for services without awsJson.
	TargetPrefix string
	// SigningName is the service in a SigV4 credential scope ("firehose",
	// "iam", "monitoring"): requests must be signed for it, and the server
	// routes awsQuery requests by it.
	SigningName string
	// Model is the service's AWS model; needed by awsQuery and CBOR.
	Model *Model
	// JSONVersion is "1.0" or "1.1" (the default): the content type of
	// awsJson answers.
	JSONVersion string
	Ops         map[string]JSONHandler
	// MaxBody bounds the request body; larger bodies are refused before
	// they are read.
	MaxBody int64
	Logger  *slog.Logger
	// Verifier, when set, checks every request's SigV4 signature, scoped to
	// SigningName, before the operation runs; nil accepts any request,
	// signed or not. See service_auth.go.
	Verifier *Verifier
	// Budget, when set, bounds the body bytes held by in-flight requests
	// (one budget is shared by every service of a server); a request that
	// cannot get its share in time is answered "Slow down.".
	Budget *Budget
	// HoldPerByte is what a handler holds besides the body while it runs,
	// per body byte (Firehose decodes records into a batch about as large
	// as the body: 1). It is charged to Budget with the body.
	HoldPerByte float64
}

// codec is one wire protocol: how a request names its operation and input,
// and how results and errors are written.
type codec interface {
	// input returns the operation and its awsJson input. op is what the
	// request's headers or path named ("" for awsQuery, whose Action is in
	// the body).
	input(s *Service, op string, body []byte) (string, []byte, *Error)
	result(w http.ResponseWriter, s *Service, op string, res any) error
	fail(w http.ResponseWriter, s *Service, e *Error, reqID string)
}

// ServeOperation serves an awsJson request whose X-Amz-Target names op.
func (s *Service) ServeOperation(w http.ResponseWriter, r *http.Request, op string) {
	s.serve(w, r, op, jsonCodec{})
}

// serve runs the steps every protocol shares: authentication of what needs
// no body, the in-flight budget, a bounded body read, the signature over
// the body, decoding, the handler, and the answer.
func (s *Service) serve(w http.ResponseWriter, r *http.Request, op string, c codec) {
	reqID := uuid.NewString()
	w.Header().Set("x-amzn-RequestId", reqID)
	defer func() {
		// A bug in one handler must not take the connection down silently:
		// log it loudly and answer like AWS does for its own failures.
		if p := recover(); p != nil {
			s.logger().Error("panic serving request", "op", op, "request_id", reqID, "panic", p, "stack", string(debug.Stack()))
			c.fail(w, s, Internal(), reqID)
		}
	}()
	if op != "" {
		if _, ok := s.Ops[op]; !ok {
			c.fail(w, s, unknownOperation(op), reqID)
			return
		}
	}
	signed, aerr := s.authenticate(r)
	if aerr != nil {
		c.fail(w, s, aerr, reqID)
		return
	}
	body, release, err := s.Budget.ReadBody(r, s.MaxBody, s.HoldPerByte)
	defer release()
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			s.logger().Debug("read request body", "op", op, "err", err)
			ae = &Error{Type: SerializationException, Message: "Could not read request body", Status: http.StatusBadRequest}
		}
		c.fail(w, s, ae, reqID)
		return
	}
	ctx := r.Context()
	if signed != nil {
		id, aerr := signed.VerifyBody(body)
		if aerr != nil {
			c.fail(w, s, aerr, reqID)
			return
		}
		ctx = WithCaller(ctx, id)
	} else {
		ctx = WithCaller(ctx, UnverifiedCaller(r))
	}
	op, in, aerr := c.input(s, op, body)
	if aerr != nil {
		c.fail(w, s, aerr, reqID)
		return
	}
	h, ok := s.Ops[op]
	if !ok {
		c.fail(w, s, unknownOperation(op), reqID)
		return
	}
	res, err := h(ctx, in)
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			s.logger().Error("operation failed", "op", op, "request_id", reqID, "err", err)
			ae = Internal()
		}
		c.fail(w, s, ae, reqID)
		return
	}
	if err := c.result(w, s, op, res); err != nil {
		s.logger().Error("encode response", "op", op, "err", err)
		c.fail(w, s, Internal(), reqID)
	}
}

func unknownOperation(op string) *Error {
	return &Error{Type: UnknownOperationException, Message: "Operation " + op + " is not supported.", Status: http.StatusBadRequest}
}

func (s *Service) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// jsonCodec is awsJson 1.0 and 1.1.
type jsonCodec struct{}

func (jsonCodec) input(_ *Service, op string, body []byte) (string, []byte, *Error) {
	return op, body, nil
}

func (jsonCodec) result(w http.ResponseWriter, s *Service, _ string, res any) error {
	b, err := encodeJSONResult(res)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", s.jsonContentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
	return nil
}

// encodeJSONResult is a handler's result as awsJson sends it.
func encodeJSONResult(res any) ([]byte, error) {
	switch v := res.(type) {
	case RawJSON:
		return v, nil
	case nil:
		return []byte("{}"), nil
	}
	return json.Marshal(res)
}

func (jsonCodec) fail(w http.ResponseWriter, s *Service, e *Error, _ string) {
	if s.Model != nil && s.Model.Metadata.AWSQueryCompatible != nil {
		code, fault := s.Model.queryErrorCode(e)
		w.Header().Set("x-amzn-query-error", code+";"+fault)
	}
	writeJSONError(w, e, s.jsonContentType())
}

func (s *Service) jsonContentType() string {
	if s.JSONVersion == "1.0" {
		return ContentTypeJSON10
	}
	return ContentTypeJSON11
}

// WriteJSONError writes an error in the awsJson shape:
// {"__type":"Name","message":"..."} with the X-Amzn-Errortype header.
func WriteJSONError(w http.ResponseWriter, e *Error) {
	writeJSONError(w, e, ContentTypeJSON11)
}

func writeJSONError(w http.ResponseWriter, e *Error, contentType string) {
	body := map[string]any{"__type": e.Type, "message": e.Message}
	if e.Code != "" {
		body["code"] = e.Code
	}
	for k, v := range e.Fields {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Amzn-Errortype", e.Type)
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

// status is the HTTP status of an error: 400 unless it says otherwise.
func (e *Error) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// SplitTarget splits an X-Amz-Target value into its prefix and operation.
func SplitTarget(target string) (prefix, op string, ok bool) {
	i := strings.LastIndexByte(target, '.')
	if i <= 0 || i == len(target)-1 {
		return "", "", false
	}
	return target[:i], target[i+1:], true
}

// callerKey is the context key of the request's caller.
type callerKey struct{}

// WithCaller returns ctx carrying the identity that signed the request.
func WithCaller(ctx context.Context, id *Identity) context.Context {
	if id == nil {
		return ctx
	}
	return context.WithValue(ctx, callerKey{}, id)
}

// Caller is the identity a request was signed with: verified when the
// server checks signatures, read from the Authorization header (unverified)
// on loopback without credentials; nil for unsigned requests.
func Caller(ctx context.Context) *Identity {
	id, _ := ctx.Value(callerKey{}).(*Identity)
	return id
}

// UnverifiedCaller reads the access key and scope of a request's signature
// without checking it: on a server that checks no signatures, the caller is
// whoever the request says it is. nil for unsigned requests.
func UnverifiedCaller(r *http.Request) *Identity {
	parts, ok := requestCredential(r)
	if !ok {
		return nil
	}
	return &Identity{AccessKeyID: parts[0], Region: parts[2], Service: parts[3]}
}
