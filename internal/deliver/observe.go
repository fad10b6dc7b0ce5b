package deliver

import (
	"errors"
	"os"
	"time"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// Observer receives delivery events, for metrics and tests. Its methods are
// called from the delivery loops, one goroutine per stream, and must not
// block.
type Observer interface {
	// Delivered is called after an object is stored and the log is
	// committed past its records.
	Delivered(stream string, d Delivery)
	// Failed is called after an attempt to write an object failed; the
	// loop retries it with backoff. ErrorCode(err) is Firehose's code for
	// the failure.
	Failed(stream string, p Plan, err error)
}

// BackupObserver receives the S3 backup metrics (BackupToS3.Records,
// .Bytes, .Success) after each backup object is written or fails. The
// Config.Observer gets them when it implements it.
type BackupObserver interface {
	// BackedUp reports one backup object: its records and their bytes,
	// and the error when writing it failed (it is retried with the batch).
	BackedUp(stream string, records int, bytes int64, err error)
}

// Delivery describes one delivered plan.
type Delivery struct {
	Plan Plan
	// Objects is the number of objects written to the destination: 1, or 0
	// when processing dropped or failed every record of the plan.
	Objects int
	// Records and Bytes count what the destination object holds: records
	// after processing, and their bytes before format conversion and
	// compression.
	Records int
	Bytes   int64
	// ErrorRecords is the number of records written to the error output
	// instead.
	ErrorRecords int
	// Took is how long the successful attempt (write and commit) took.
	Took time.Duration
}

// CodedError is implemented by errors that carry Firehose's error code for a
// failed delivery (S3.AccessDenied, Lambda.FunctionError, ...): the S3 store
// and the processors return them so that logs and metrics use the codes
// Firehose users already alert on.
type CodedError interface {
	error
	FirehoseErrorCode() string
}

// InternalError is the code of a delivery failure with no better one; as in
// Firehose, delivery is retried.
const InternalError = "InternalError"

// ErrorCode returns Firehose's error code for a failed delivery attempt:
// the code of the first CodedError in err's chain; S3.NoSuchBucket and
// S3.AccessDenied for the store's own missing-bucket and permission errors;
// InternalError otherwise (the disk full, a network failure, a bug).
func ErrorCode(err error) string {
	var ce CodedError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ce):
		return ce.FirehoseErrorCode()
	case errors.Is(err, objstore.ErrNoSuchBucket):
		return "S3.NoSuchBucket"
	case errors.Is(err, os.ErrPermission):
		return "S3.AccessDenied"
	}
	return InternalError
}
