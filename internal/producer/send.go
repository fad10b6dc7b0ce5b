package producer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// sender delivers batches; one is shared by every sending goroutine.
type sender struct {
	opts Options
	c    counters
	// stop ends the run with a cause, when a request fails in a way no
	// retry can fix.
	stop context.CancelCauseFunc
}

// retryables are the whole-request failures worth another try: the SDK's
// own list (5xx, throttling, broken connections, timeouts), which leaves
// out cancellation.
var retryables = retry.IsErrorRetryables(retry.DefaultRetryables)

// send delivers one batch. Entries the service reports failed (ErrorCode
// set) are sent again, alone, after a backoff; so is the whole batch when
// its request fails in a retryable way. After MaxRetries retries what is
// left is counted as failed; when the request itself still fails, the run
// stops.
func (s *sender) send(ctx context.Context, b *batch) {
	defer s.opts.OnProgress(b.src)
	pending := make([]types.Record, b.len())
	for i := range pending {
		pending[i].Data = b.record(i)
	}
	// giveUp counts what is left as failed; why is logged when the run
	// goes on (when it stops, its error says why).
	giveUp := func(why string) {
		s.c.failed.Add(int64(len(pending)))
		if why != "" {
			s.opts.Logger.Warn("records not delivered", "stream", s.opts.Stream, "records", len(pending), "reason", why)
		}
	}
	var lastErr string
	var requestErr error // the last attempt failed as a whole
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			if attempt > s.opts.MaxRetries && requestErr != nil {
				// The service stayed unreachable or overloaded through
				// every retry: the batches behind this one would fare no
				// better, so the run stops rather than grind through them.
				s.stop(fmt.Errorf("PutRecordBatch to %s: still failing after %d retries: %w", s.opts.Stream, s.opts.MaxRetries, requestErr))
				giveUp("")
				return
			}
			if attempt > s.opts.MaxRetries {
				giveUp(fmt.Sprintf("still failing after %d retries: %s", s.opts.MaxRetries, lastErr))
				return
			}
			if !sleep(ctx, s.backoff(attempt)) {
				giveUp("")
				return
			}
			s.c.retries.Add(1)
			s.c.retriedRecords.Add(int64(len(pending)))
		}
		s.c.requests.Add(1)
		out, err := s.opts.Client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{
			DeliveryStreamName: aws.String(s.opts.Stream),
			Records:            pending,
		})
		if err != nil {
			switch {
			case ctx.Err() != nil:
				giveUp("")
				return
			case retryables.IsErrorRetryable(err) != aws.TrueTernary:
				s.stop(fmt.Errorf("PutRecordBatch to %s: %w", s.opts.Stream, err))
				giveUp("")
				return
			}
			requestErr = err
			continue
		}
		requestErr = nil
		if len(out.RequestResponses) != len(pending) {
			lastErr = fmt.Sprintf("response lists %d entries for %d records", len(out.RequestResponses), len(pending))
			continue
		}
		failed := pending[:0:0]
		for i, r := range out.RequestResponses {
			if code := aws.ToString(r.ErrorCode); code != "" {
				failed = append(failed, pending[i])
				lastErr = code + ": " + aws.ToString(r.ErrorMessage)
				continue
			}
			s.c.records.Add(1)
			s.c.bytes.Add(int64(len(pending[i].Data)))
		}
		if len(failed) == 0 {
			return
		}
		pending = failed
	}
}

// backoff is the wait before retry n (from 1): exponential, capped, with
// jitter so that concurrent senders do not retry in step.
func (s *sender) backoff(n int) time.Duration {
	d := s.opts.MaxDelay
	if n < 31 {
		d = min(s.opts.BaseDelay<<(n-1), s.opts.MaxDelay)
	}
	if d <= 0 {
		d = s.opts.MaxDelay
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

// sleep waits d or until ctx ends; it says whether the wait was complete.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
