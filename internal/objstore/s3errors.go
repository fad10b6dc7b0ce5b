package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// codeInternalError is Firehose's delivery error code for every failure it
// has no specific code for (network errors, throttling, 5xx): "delivery
// will be retried".
const codeInternalError = "InternalError"

// DeliveryError is a failed store operation with the error code Firehose
// reports for it in its delivery error logs (firehose.md §8), such as
// "S3.NoSuchBucket" or "InternalError". The delivery loop logs Code as the
// error_code attribute (deliver.ErrorCode finds it through
// FirehoseErrorCode); Message is the service's own explanation.
type DeliveryError struct {
	Code    string
	Message string
	Err     error
}

func (e *DeliveryError) Error() string { return e.Code + ": " + e.Err.Error() }

// Unwrap returns the underlying error (an SDK error, possibly wrapped with
// ErrNoSuchBucket).
func (e *DeliveryError) Unwrap() error { return e.Err }

// FirehoseErrorCode returns Code.
func (e *DeliveryError) FirehoseErrorCode() string { return e.Code }

// ErrorCode returns Firehose's delivery error code for an error from a
// Store: the Code of the DeliveryError in its chain, else "InternalError"
// (a full disk, a key conflict, a network failure). It returns "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if de, ok := errors.AsType[*DeliveryError](err); ok {
		return de.Code
	}
	return codeInternalError
}

// s3Codes are the S3 error codes that Firehose reports as "S3."+code; any
// S3 code starting "KMS." is reported the same way
// (S3.KMS.NotFoundException, S3.KMS.RequestLimitExceeded).
var s3Codes = map[string]bool{
	"AccessDenied":      true,
	"AccountProblem":    true,
	"AllAccessDisabled": true,
	"InvalidPayer":      true,
	"NotSignedUp":       true,
	"NoSuchBucket":      true,
	"MethodNotAllowed":  true,
}

// accessDeniedCodes are the S3-compatible services' ways of refusing
// credentials. Firehose, which uses an IAM role, only ever sees
// AccessDenied; the service's own code stays in the message.
var accessDeniedCodes = map[string]bool{
	"InvalidAccessKeyId":    true,
	"SignatureDoesNotMatch": true,
	"InvalidToken":          true,
	"ExpiredToken":          true,
	"Forbidden":             true, // a 403 without a body (HEAD)
}

// classify turns an SDK error into the store's errors: NoSuchBucket wraps
// ErrNoSuchBucket, NoSuchKey (or a 404 HEAD) wraps ErrNotFound, and every
// other failure becomes a DeliveryError with its Firehose code. Context
// errors pass through unchanged: they are the caller's doing.
func classify(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	ae, ok := errors.AsType[smithy.APIError](err)
	if !ok {
		// No answer from the service: connection refused, reset, DNS...
		return &DeliveryError{Code: codeInternalError, Message: err.Error(), Err: err}
	}
	code := ae.ErrorCode()
	if code == "" {
		code = fmt.Sprint(statusCode(err))
	}
	msg := ae.ErrorMessage()
	if msg == "" {
		msg = code
	}
	switch {
	case code == "NoSuchKey" || code == "NotFound":
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case code == "NoSuchBucket":
		return &DeliveryError{Code: "S3.NoSuchBucket", Message: msg, Err: fmt.Errorf("%w: %w", ErrNoSuchBucket, err)}
	case s3Codes[code] || strings.HasPrefix(code, "KMS."):
		return &DeliveryError{Code: "S3." + code, Message: msg, Err: err}
	case accessDeniedCodes[code] || statusCode(err) == http.StatusForbidden:
		return &DeliveryError{Code: "S3.AccessDenied", Message: code + ": " + msg, Err: err}
	}
	return &DeliveryError{Code: codeInternalError, Message: code + ": " + msg, Err: err}
}

// statusCode returns the HTTP status of the response behind err, or 0.
func statusCode(err error) int {
	if re, ok := errors.AsType[*smithyhttp.ResponseError](err); ok {
		return re.HTTPStatusCode()
	}
	return 0
}
