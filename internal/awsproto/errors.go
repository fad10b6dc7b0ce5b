// Package awsproto holds the AWS wire protocols that every hydrant API shares:
// awsJson1_1 dispatch by X-Amz-Target, error encoding in the shapes AWS
// clients parse, and request validation driven by AWS's own service models.
package awsproto

import (
	"fmt"
	"net/http"
)

// Error is an AWS API error: its shape name (the __type clients match on),
// message and HTTP status. Handlers return it; the protocol encoder writes it.
type Error struct {
	Type    string
	Message string
	Status  int
	// Code, when set, is sent as the "code" member that some Firehose error
	// shapes (InvalidSourceException, InvalidKMSResourceException) define.
	Code string
	// Fields are extra members for error shapes that carry them (Lambda's
	// ResourceConflictException Type, for instance).
	Fields map[string]any
	// Violations are the constraint violations behind a ValidationException
	// from Model.Validate, each with the Coral path of its member, for
	// callers that point at each one (configuration files). They are not
	// sent on the wire.
	Violations []FieldViolation
}

// FieldViolation is one constraint violation: the member's path in Coral's
// notation (lower-cased first letters, lists as ".N.member") and the
// sentence AWS reports for it.
type FieldViolation struct {
	Path    string
	Message string
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Errorf builds a client (400) error of the given type.
func Errorf(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// Common error types shared by every awsJson service.
const (
	ValidationException         = "ValidationException"
	SerializationException      = "SerializationException"
	UnknownOperationException   = "UnknownOperationException"
	InternalFailure             = "InternalFailure"
	ServiceUnavailableException = "ServiceUnavailableException"
	AccessDeniedException       = "AccessDeniedException"
	RequestEntityTooLarge       = "RequestEntityTooLargeException"
)

// Internal wraps an unexpected server-side failure. The cause is logged by
// the caller, not sent to the client.
func Internal() *Error {
	return &Error{Type: InternalFailure, Message: "We encountered an internal error. Please try again.", Status: http.StatusInternalServerError}
}

// Unavailable is Firehose's back-pressure answer.
func Unavailable(msg string) *Error {
	return &Error{Type: ServiceUnavailableException, Message: msg, Status: http.StatusServiceUnavailable}
}
