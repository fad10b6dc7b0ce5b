package deliver

import (
	"encoding/json"
	"time"

	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// ErrorLog is where a stream whose destination has CloudWatchLoggingOptions
// enabled writes its error log events, as Firehose writes them to
// CloudWatch Logs: one JSON record per failed delivery attempt and per
// kind of processing or conversion failure in a batch. Firehose does not
// create the group or the stream; an implementation drops records whose
// group or stream does not exist. It is called from the delivery loops
// and must not block for long.
type ErrorLog interface {
	FirehoseErrorLog(group, stream string, t time.Time, record []byte)
}

// errorRecord is Firehose's error log record, members in the order AWS
// writes them.
type errorRecord struct {
	DeliveryStreamARN string `json:"deliveryStreamARN"`
	Destination       string `json:"destination"`
	VersionID         int    `json:"deliveryStreamVersionId"`
	Message           string `json:"message"`
	ErrorCode         string `json:"errorCode"`
	Processor         string `json:"processor,omitempty"`
}

// deliveryMessages are the messages Firehose logs for its S3 delivery error
// codes (the "Data delivery errors" table of its CloudWatch Logs docs).
var deliveryMessages = map[string]string{
	"S3.KMS.NotFoundException":    "The provided AWS KMS key was not found. If you are using what you believe to be a valid AWS KMS key with the correct role, check if there is a problem with the account to which the AWS KMS key is attached.",
	"S3.KMS.RequestLimitExceeded": "The KMS request per second limit was exceeded while attempting to encrypt S3 objects. Increase the request per second limit.",
	"S3.AccessDenied":             "Access was denied. Ensure that the trust policy for the provided IAM role allows Firehose to assume the role, and the access policy allows access to the S3 bucket.",
	"S3.AccountProblem":           "There is a problem with your AWS account that prevents the operation from completing successfully. Contact AWS Support.",
	"S3.AllAccessDisabled":        "Access to the account provided has been disabled. Contact AWS Support.",
	"S3.InvalidPayer":             "Access to the account provided has been disabled. Contact AWS Support.",
	"S3.NotSignedUp":              "The account is not signed up for Amazon S3. Sign the account up or use a different account.",
	"S3.NoSuchBucket":             "The specified bucket does not exist. Create the bucket or use a different bucket that does exist.",
	"S3.MethodNotAllowed":         "The specified method is not allowed against this resource. Modify the bucket's policy to allow the correct Amazon S3 operation permissions.",
	InternalError:                 "An internal error occurred while attempting to deliver data. Delivery will be retried; if the error persists, then it will be reported to AWS for resolution.",
}

// errorLog returns where st's errors go, or nil when its destination does
// not log them.
func (d *Deliverer) errorLog(st *streamspec.Stream) ErrorLog {
	if d.cfg.ErrorLog == nil || !st.Destination.Logging.Enabled || st.Destination.Logging.Group == "" || st.Destination.Logging.Stream == "" {
		return nil
	}
	return d.cfg.ErrorLog
}

// logError writes one error record to the stream's CloudWatch Logs, when
// it has them enabled.
func (d *Deliverer) logError(st *streamspec.Stream, code, message, processor string) {
	el := d.errorLog(st)
	if el == nil {
		return
	}
	if m, ok := deliveryMessages[code]; ok && processor == "" {
		message = m
	}
	rec, err := json.Marshal(errorRecord{DeliveryStreamARN: st.ARN, Destination: "arn:aws:s3:::" + st.Destination.Bucket,
		VersionID: st.VersionID, Message: message, ErrorCode: code, Processor: processor})
	if err != nil {
		return
	}
	el.FirehoseErrorLog(st.Destination.Logging.Group, st.Destination.Logging.Stream, d.now(), rec)
}

// logFailures writes one error record per distinct failure (code, message
// and processor) among records sent to the error output.
func (d *Deliverer) logFailures(st *streamspec.Stream, failures []Failure) {
	if d.errorLog(st) == nil {
		return
	}
	type kind struct{ code, msg, processor string }
	seen := map[kind]bool{}
	for _, f := range failures {
		k := kind{f.Code, f.Message, f.LambdaARN}
		if !seen[k] {
			seen[k] = true
			d.logError(st, k.code, k.msg, k.processor)
		}
	}
}
