package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/firehose"
)

// StreamSpec is the delivery stream a bench creates when it is missing.
type StreamSpec struct {
	Name string
	// SizeInMBs and IntervalInSeconds are its BufferingHints; the bench's
	// defaults (128, 0) deliver as soon as the previous object is stored.
	SizeInMBs         int
	IntervalInSeconds int
}

// EnsureStream creates the stream (ExtendedS3, UNCOMPRESSED, into bucket
// hydrant-bench) unless it exists, then waits until it is ACTIVE. An
// existing stream is used as it is configured. Control-plane calls are plain
// unsigned awsJson requests: hydrant accepts them on loopback.
func EnsureStream(ctx context.Context, endpoint string, spec StreamSpec, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	endpoint = strings.TrimSuffix(endpoint, "/")
	in := map[string]any{
		"DeliveryStreamName": spec.Name,
		"DeliveryStreamType": "DirectPut",
		"ExtendedS3DestinationConfiguration": map[string]any{
			"RoleARN":           "arn:aws:iam::000000000000:role/hydrant-bench",
			"BucketARN":         "arn:aws:s3:::hydrant-bench",
			"Prefix":            spec.Name + "/",
			"CompressionFormat": "UNCOMPRESSED",
			"BufferingHints": map[string]int{
				"SizeInMBs":         spec.SizeInMBs,
				"IntervalInSeconds": spec.IntervalInSeconds,
			},
		},
	}
	status, body, err := call(ctx, endpoint, "CreateDeliveryStream", in)
	if err != nil {
		return err
	}
	switch {
	case status == http.StatusOK:
		log.Info("delivery stream created", "stream", spec.Name, "size_mb", spec.SizeInMBs, "interval_s", spec.IntervalInSeconds)
	case bytes.Contains(body, []byte("ResourceInUseException")):
		log.Info("using existing delivery stream as configured", "stream", spec.Name)
	default:
		return fmt.Errorf("create delivery stream %s: HTTP %d: %s", spec.Name, status, body)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		status, body, err := call(ctx, endpoint, "DescribeDeliveryStream", map[string]any{"DeliveryStreamName": spec.Name})
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("describe delivery stream %s: HTTP %d: %s", spec.Name, status, body)
		}
		var out struct {
			DeliveryStreamDescription struct{ DeliveryStreamStatus string }
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return fmt.Errorf("decode DescribeDeliveryStream: %w", err)
		}
		if s := out.DeliveryStreamDescription.DeliveryStreamStatus; s == "ACTIVE" {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("delivery stream %s still %s after a minute", spec.Name, s)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// call sends one awsJson Firehose request and returns the status and body.
func call(ctx context.Context, endpoint, op string, in any) (int, []byte, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return 0, nil, fmt.Errorf("encode %s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(b))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", firehose.TargetPrefix+"."+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: read response: %w", op, err)
	}
	return resp.StatusCode, body, nil
}
