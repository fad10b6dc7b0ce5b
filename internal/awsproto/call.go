package awsproto

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
)

// Call runs operation op in process with in (marshalled to JSON) as its
// awsJson input, and decodes its awsJson output into out (when out is not
// nil): hydrant's console reads and changes state through the same
// handlers the SDKs reach over HTTP. ctx should carry the caller
// (WithCaller). The handler validates in against the model as it does for
// a request. An error is an *Error in the service's own shape: the
// handler's, UnknownOperationException, or InternalFailure for a handler
// that failed otherwise (logged, as for a request).
func (s *Service) Call(ctx context.Context, op string, in, out any) (err error) {
	h, ok := s.Ops[op]
	if !ok {
		return unknownOperation(op)
	}
	body, err := json.Marshal(in)
	if err != nil {
		return &Error{Type: SerializationException, Message: "input of " + op + ": " + err.Error(), Status: http.StatusBadRequest}
	}
	defer func() {
		if p := recover(); p != nil {
			s.logger().Error("panic in in-process call", "op", op, "panic", p, "stack", string(debug.Stack()))
			err = Internal()
		}
	}()
	res, err := h(ctx, body)
	if err != nil {
		var ae *Error
		if !errors.As(err, &ae) {
			s.logger().Error("operation failed", "op", op, "in_process", true, "err", err)
			return Internal()
		}
		return ae
	}
	if out == nil {
		return nil
	}
	b, err := encodeJSONResult(res)
	if err != nil {
		return fmt.Errorf("encode %s result: %w", op, err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode %s result: %w", op, err)
	}
	return nil
}
