package firehose

import (
	"context"
	"errors"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/buffer"
)

// The hot path: PutRecord and PutRecordBatch decode straight into a pooled
// buffer.Batch (no reflection, one copy per record), append it to the
// stream's log, which returns once the records are fsynced, and encode the
// answer by hand.

func (s *Service) getBatch() *buffer.Batch {
	if b, ok := s.batches.Get().(*buffer.Batch); ok {
		b.Reset()
		return b
	}
	return new(buffer.Batch)
}

// maxPooledBatch is the largest batch kept for reuse: what idle pools hold
// is not charged to the in-flight budget, so it stays small; larger
// batches go to the garbage collector.
const maxPooledBatch = 1 << 20

func (s *Service) putBatch(b *buffer.Batch) {
	if cap(b.Bytes()) <= maxPooledBatch {
		s.batches.Put(b)
	}
}

func (s *Service) putRecord(ctx context.Context, body []byte) (any, error) {
	start := time.Now()
	b := s.getBatch()
	defer s.putBatch(b)
	name, aerr := decodePutRecord(body, b)
	if aerr != nil {
		return nil, aerr
	}
	salt, first, err := s.backend.Put(ctx, name, b)
	if err != nil {
		if errors.Is(err, buffer.ErrFull) {
			s.observePut(name, "PutRecord", 0, 0, 1, start)
		}
		return nil, s.backendErr(name, err)
	}
	s.observePut(name, "PutRecord", 1, b.DataBytes(), 0, start)
	return awsproto.RawJSON(appendPutRecordResponse(nil, salt, first)), nil
}

func (s *Service) putRecordBatch(ctx context.Context, body []byte) (any, error) {
	start := time.Now()
	b := s.getBatch()
	defer s.putBatch(b)
	name, aerr := decodePutRecordBatch(body, b)
	if aerr != nil {
		return nil, aerr
	}
	n := b.Len()
	salt, first, err := s.backend.Put(ctx, name, b)
	if errors.Is(err, buffer.ErrFull) {
		// Firehose answers back-pressure per record: the call succeeds and
		// every record it could not take is marked for the producer to retry.
		failed := make([]bool, n)
		for i := range failed {
			failed[i] = true
		}
		s.observePut(name, "PutRecordBatch", 0, 0, n, start)
		return awsproto.RawJSON(appendPutRecordBatchResponse(nil, 0, 0, n, failed, awsproto.ServiceUnavailableException, "Slow down.")), nil
	}
	if err != nil {
		return nil, s.backendErr(name, err)
	}
	s.observePut(name, "PutRecordBatch", n, b.DataBytes(), 0, start)
	return awsproto.RawJSON(appendPutRecordBatchResponse(nil, salt, first, n, nil, "", "")), nil
}
