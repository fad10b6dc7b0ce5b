package firehose

import (
	"context"
	"net/http"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// DefaultPartitioningRetrySeconds is the RetryOptions.DurationInSeconds shown
// for dynamic partitioning when none is given (the CDK's documented default;
// AWS's own default is not documented).
const DefaultPartitioningRetrySeconds = 300

// checkDynamicPartitioning applies the buffering rules of dynamic
// partitioning, with the messages AWS returns (quoted from CloudFormation
// testing in aws-cdk's helpers.ts, reference §1): SizeInMBs at least 64 and
// IntervalInSeconds at least 60. Omitted hints count as the defaults (5 MiB,
// or 128 MiB with format conversion, and 300 s), so a stream that enables
// dynamic partitioning without format conversion must give BufferingHints.
// It also fills RetryOptions. The prefix rules (ErrorOutputPrefix required,
// partition keys in the Prefix) are keys.Validate's; the enable-later and
// disable rules are checkDestination's.
func checkDynamicPartitioning(d *ExtendedS3Destination) error {
	if !dynamicPartitioningOn(d) {
		return nil
	}
	size, interval := 5, 300
	if dc := d.DataFormatConversionConfiguration; dc != nil && (dc.Enabled == nil || *dc.Enabled) {
		size = 128
	}
	if h := d.BufferingHints; h != nil {
		size, interval = deref(h.SizeInMBs), deref(h.IntervalInSeconds)
	}
	if size < 64 {
		return invalidArg("BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled.")
	}
	if interval < 60 {
		return invalidArg("BufferingHints.IntervalInSeconds must be at least 60 seconds when Dynamic Partitioning is enabled.")
	}
	dp := *d.DynamicPartitioningConfiguration
	if dp.RetryOptions == nil || dp.RetryOptions.DurationInSeconds == nil {
		dp.RetryOptions = &RetryOptions{DurationInSeconds: ptr(DefaultPartitioningRetrySeconds)}
	}
	d.DynamicPartitioningConfiguration = &dp
	return nil
}

// ErrInvalidSource is wrapped by Backend.Put when a stream with the
// Decompression processor enabled is sent records that do not come from
// CloudWatch Logs. It is the InvalidSourceException the API answers with
// (the API passes *awsproto.Error values through), including the "code"
// member the model defines for it. AWS's code and message for this case are
// not documented; these name the rule.
var ErrInvalidSource error = &awsproto.Error{
	Type:    InvalidSourceException,
	Code:    "CloudWatchLogsSourceRequired",
	Message: "This Firehose stream has the Decompression processor enabled and only accepts records sent by CloudWatch Logs subscription filters.",
	Status:  http.StatusBadRequest,
}

type cloudWatchLogsKey struct{}

// WithCloudWatchLogsSource marks ctx as carrying records that CloudWatch Logs
// sends (a subscription filter's delivery). Only such Puts are accepted by a
// stream with the Decompression processor enabled.
//
// hydrant decides the source this way because a Put through the Firehose
// API carries nothing that proves where it comes from: on AWS the caller is
// the CloudWatch Logs service principal, which does not exist here. So
// PutRecord and PutRecordBatch through the API are never from CloudWatch
// Logs, exactly as a direct producer's Puts on AWS, and hydrant's own
// CloudWatch Logs subscription delivery, which calls the stream in-process,
// marks its context with this function.
func WithCloudWatchLogsSource(ctx context.Context) context.Context {
	return context.WithValue(ctx, cloudWatchLogsKey{}, true)
}

// FromCloudWatchLogs reports whether ctx was marked by
// WithCloudWatchLogsSource.
func FromCloudWatchLogs(ctx context.Context) bool {
	v, _ := ctx.Value(cloudWatchLogsKey{}).(bool)
	return v
}

// NeedsCloudWatchLogsSource reports whether a destination only accepts
// records from CloudWatch Logs: its processing is enabled and has a
// Decompression processor (reference §7).
func NeedsCloudWatchLogsSource(d *ExtendedS3Destination) bool {
	pc := d.ProcessingConfiguration
	if pc == nil || !isTrue(pc.Enabled) {
		return false
	}
	for _, p := range pc.Processors {
		if p.Type == ProcessorDecompression {
			return true
		}
	}
	return false
}
