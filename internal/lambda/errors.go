package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// Lambda's error types, as its API sends them in X-Amzn-Errortype.
const (
	ResourceNotFound      = "ResourceNotFoundException"
	ResourceConflict      = "ResourceConflictException"
	InvalidParameterValue = "InvalidParameterValueException"
	InvalidRequestContent = "InvalidRequestContentException"
	RequestTooLarge       = "RequestTooLargeException"
	ServiceException      = "ServiceException"
	TooManyRequests       = "TooManyRequestsException"
	PreconditionFailed    = "PreconditionFailedException"
	ResourceNotReady      = "ResourceNotReadyException"
)

// Payload limits of synchronous invocations: the request Lambda accepts
// and the response a function may return.
const (
	MaxRequestPayload  = 6 << 20 // 6291456
	MaxResponsePayload = 6291556 // what Lambda's error message names
	maxEventPayload    = 1 << 20 // asynchronous (Event) invocations
)

func notFound(arn string) *awsproto.Error {
	return &awsproto.Error{Type: ResourceNotFound, Message: "Function not found: " + arn, Status: http.StatusNotFound}
}

func conflict(name string) *awsproto.Error {
	return &awsproto.Error{Type: ResourceConflict, Message: "Function already exist: " + name, Status: http.StatusConflict}
}

func invalidParam(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Type: InvalidParameterValue, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func tooLarge(limit int64, op string) *awsproto.Error {
	return &awsproto.Error{Type: RequestTooLarge, Message: "Request must be smaller than " + strconv.FormatInt(limit, 10) + " bytes for the " + op + " operation", Status: http.StatusRequestEntityTooLarge}
}

func serviceError() *awsproto.Error {
	return &awsproto.Error{Type: ServiceException, Message: "An internal error occurred. Please try again.", Status: http.StatusInternalServerError}
}

func throttled() *awsproto.Error {
	return &awsproto.Error{
		Type: TooManyRequests, Message: "Rate Exceeded.", Status: http.StatusTooManyRequests,
		Fields: map[string]any{"Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"},
	}
}

func preconditionFailed() *awsproto.Error {
	return &awsproto.Error{Type: PreconditionFailed, Message: "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id", Status: http.StatusPreconditionFailed}
}

// InvokeError is an invocation that did not run the function to an answer:
// the function does not exist, the call was throttled, the endpoint could
// not be reached. A function that ran and failed is not an InvokeError: its
// error comes back as functionError with the error document as the result.
type InvokeError struct {
	// Type is Lambda's error type (ResourceNotFoundException,
	// TooManyRequestsException, ...), or "" for a transport failure.
	Type    string
	Message string
	// StatusCode is the HTTP status of the answer, 0 if there was none.
	StatusCode int
	// Err is the underlying cause, if any.
	Err error
}

// FirehoseErrorCode is the error code Firehose's Lambda processor reports
// for an invocation that failed this way (internal/process reads it).
func (e *InvokeError) FirehoseErrorCode() string { return ErrorCode(nil, "", e) }

func (e *InvokeError) Error() string {
	switch {
	case e.Type != "" && e.Message != "":
		return e.Type + ": " + e.Message
	case e.Type != "":
		return e.Type
	case e.Err != nil:
		return "invoke: " + e.Err.Error()
	}
	return "invoke: " + e.Message
}

func (e *InvokeError) Unwrap() error { return e.Err }

// invokeErr turns an API error into an InvokeError for Go callers.
func invokeErr(e *awsproto.Error) *InvokeError {
	return &InvokeError{Type: e.Type, Message: e.Message, StatusCode: e.Status}
}

// Firehose's processing error codes for Lambda invocations; ErrorCode picks
// one for an invocation's outcome.
const (
	CodeFunctionError       = "Lambda.FunctionError"
	CodeFunctionTimedOut    = "Lambda.FunctionTimedOut"
	CodeResourceNotFound    = "Lambda.ResourceNotFound"
	CodeInvokeLimitExceeded = "Lambda.InvokeLimitExceeded"
	CodeInvokeAccessDenied  = "Lambda.InvokeAccessDenied"
	CodeUnknown             = "Lambda.Unknown"
)

// ErrorCode maps the outcome of Invoker.Invoke to the error code Firehose
// records for a failed Lambda transformation ("" when the invocation
// succeeded): a function error is Lambda.FunctionError, unless it is
// Lambda's timeout, which is Lambda.FunctionTimedOut; a missing function is
// Lambda.ResourceNotFound, throttling Lambda.InvokeLimitExceeded, a refused
// signature or permission Lambda.InvokeAccessDenied, a deadline that ran out
// in transport Lambda.FunctionTimedOut, any other Lambda error
// "Lambda."+its type without the Exception suffix, and anything else
// Lambda.Unknown.
func ErrorCode(result []byte, functionError string, err error) string {
	if err == nil {
		if functionError == "" {
			return ""
		}
		if IsTimeout(result) {
			return CodeFunctionTimedOut
		}
		return CodeFunctionError
	}
	var ie *InvokeError
	if errors.As(err, &ie) && ie.Type != "" {
		switch ie.Type {
		case ResourceNotFound:
			return CodeResourceNotFound
		case TooManyRequests:
			return CodeInvokeLimitExceeded
		case "AccessDeniedException", "AccessDenied", "UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException":
			return CodeInvokeAccessDenied
		}
		if ie.StatusCode == http.StatusForbidden {
			return CodeInvokeAccessDenied
		}
		t := ie.Type
		if n := len(t) - len("Exception"); n > 0 && t[n:] == "Exception" {
			t = t[:n]
		}
		return "Lambda." + t
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return CodeFunctionTimedOut
	}
	return CodeUnknown
}

// IsTimeout reports whether a function error document is Lambda's timeout
// ("... Task timed out after 3.00 seconds", or the Sandbox.Timedout type of
// newer runtimes).
func IsTimeout(result []byte) bool {
	var doc struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if json.Unmarshal(result, &doc) != nil {
		return false
	}
	return doc.ErrorType == "Sandbox.Timedout" || bytes.Contains([]byte(doc.ErrorMessage), []byte("Task timed out after "))
}
