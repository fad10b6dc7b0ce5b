package stream

import (
	"errors"
	"fmt"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/deliver"
)

// Stats is a stream's buffer as hydrant's own endpoints report it.
type Stats struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// Appended is the sequence number of the last acknowledged record (0
	// when none was ever appended since the log's start).
	Appended uint64 `json:"appended"`
	// Delivered is the sequence number of the last record that left the
	// stream log: stored in an object and committed or, with dynamic
	// partitioning, moved into the partition buffers.
	Delivered uint64 `json:"delivered"`
	// BufferedRecords and BufferedBytes are what is acknowledged but not yet
	// delivered, in the stream log and in the partition buffers;
	// OldestUndelivered is the arrival of the oldest of it.
	BufferedRecords   int        `json:"bufferedRecords"`
	BufferedBytes     int64      `json:"bufferedBytes"`
	OldestUndelivered *time.Time `json:"oldestUndelivered,omitempty"`
	// LogBytes is what the buffer holds on disk for it, frame overhead
	// included: the figure --max-stream-buffer-bytes caps. It is reported
	// only by logs that know it (the local segment log).
	LogBytes int64 `json:"logBytes"`
	// LostRecords and LostBytes are what damage on disk cost when the log
	// was opened: acknowledged records that could not be read back, and the
	// damaged bytes quarantined (docs/FORMAT.md, "Recovery at open").
	// Reported only by logs that know it (the local segment log).
	LostRecords int64 `json:"lostRecords,omitempty"`
	LostBytes   int64 `json:"lostBytes,omitempty"`
	// Partitions describes the partition buffers of a dynamically
	// partitioned stream; nil for other streams.
	Partitions *PartitionBuffers `json:"partitions,omitempty"`
	// Delivery is what the stream's delivery loop has done since it
	// started (objects, failed attempts, the last error); nil while this
	// node does not deliver the stream.
	Delivery *deliver.Status `json:"delivery,omitempty"`
}

// PartitionBuffers is what a dynamically partitioned stream holds in its
// partition buffers (its partition log).
type PartitionBuffers struct {
	// Active is the number of destination partitions with records
	// buffered, the figure the active-partition limit counts.
	Active int `json:"active"`
	// Records and Bytes are the records buffered in every partition (error
	// output and S3 backup included) and their bytes after processing.
	Records int   `json:"records"`
	Bytes   int64 `json:"bytes"`
	// LogBytes is what the partition log holds on disk, when it knows.
	LogBytes int64 `json:"logBytes"`
}

// Stats reports a stream's buffer.
func (r *Registry) Stats(name string) (Stats, error) {
	e, err := r.get(name)
	if err != nil {
		return Stats{}, err
	}
	e.mu.Lock()
	st := Stats{Name: e.info.Name, Status: e.info.Status}
	lg, parts, dl := e.log, e.parts, e.deliver
	if dl != nil {
		ds := dl.Status()
		st.Delivery = &ds
	}
	e.mu.Unlock()
	if lg == nil {
		return st, nil
	}
	if sized, ok := lg.(interface{ BufferedBytes() int64 }); ok {
		st.LogBytes = sized.BufferedBytes()
	}
	if damaged, ok := lg.(interface{ Lost() (int64, int64) }); ok {
		st.LostRecords, st.LostBytes = damaged.Lost()
	}
	upto, _ := lg.Committed()
	b := lg.Backlog(upto)
	st.Delivered = upto - 1
	st.Appended = upto - 1
	if !b.Empty() {
		st.Appended = b.To - 1
		st.BufferedRecords = b.Records
		st.BufferedBytes = b.Bytes
		oldest := b.Oldest
		st.OldestUndelivered = &oldest
	}
	if parts != nil && dl != nil {
		addPartitionStats(&st, parts, dl.PartitionStats())
	}
	return st, nil
}

// addPartitionStats adds what the partition buffers hold to st.
func addPartitionStats(st *Stats, parts buffer.Log, ps deliver.PartitionStats) {
	pb := &PartitionBuffers{Active: ps.Partitions, Records: ps.Records, Bytes: ps.Bytes}
	if sized, ok := parts.(interface{ BufferedBytes() int64 }); ok {
		pb.LogBytes = sized.BufferedBytes()
	}
	st.Partitions = pb
	st.BufferedRecords += ps.Records
	st.BufferedBytes += ps.Bytes
	if !ps.Oldest.IsZero() && (st.OldestUndelivered == nil || ps.Oldest.Before(*st.OldestUndelivered)) {
		oldest := ps.Oldest
		st.OldestUndelivered = &oldest
	}
}

// Health reports every stream whose log refuses records because writes
// fail (a full disk, a failed write or fsync), one error per stream joined
// with errors.Join, or nil when none does. It is the buffer's readiness
// check behind /_hydrant/health: the logs retry on their own, so it clears
// once the cause has (a full disk once space returns) without a Put having
// to try. Logs that cannot tell are taken as healthy.
func (r *Registry) Health() error {
	var errs []error
	for _, name := range r.Names() {
		e, err := r.get(name)
		if err != nil {
			continue // deleted since Names
		}
		e.mu.Lock()
		lg := e.log
		e.mu.Unlock()
		if w, ok := lg.(interface{ WriteError() error }); ok {
			if err := w.WriteError(); err != nil {
				errs = append(errs, fmt.Errorf("stream %s refuses records: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}
