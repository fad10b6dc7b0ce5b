// Package buffer holds the durable record log that sits between the Firehose
// API and delivery. A record is acknowledged to a producer only once Append has
// returned, which means it is on stable storage; delivery reads from the
// committed cursor and commits past a range only after the object holding it
// is stored. The local implementation keeps segment files in the data
// directory (see docs/FORMAT.md); a replicated one (internal/jslog, on NATS
// JetStream) replaces it behind the same interface in a cluster. Every
// implementation must pass the contract suite in internal/buffer/logtest.
package buffer

import (
	"context"
	"errors"
	"time"
)

// Record is one buffered record as delivery sees it.
type Record struct {
	// Seq is the record's position in its stream's log: at least 1 and
	// strictly increasing in append order. The records of one batch have
	// consecutive numbers; between batches a log may leave gaps (the local
	// log numbers densely, except where damage on disk lost records, whose
	// numbers are skipped and never reused; a replicated one numbers each
	// batch under its message's own sequence), so callers only compare
	// sequence numbers and count records with Span.Records.
	Seq uint64
	// Arrival is when hydrant accepted the record (Firehose's
	// approximateArrivalTimestamp), with millisecond precision.
	Arrival time.Time
	// Data is the record as the producer sent it. It is only valid during the
	// callback that received it.
	Data []byte
}

// Span describes the records whose sequence numbers are in [From, To). From
// and To are positions: a span starts where it was asked to (a cursor) and
// ends after its last record, neither of which needs to be a record's own
// number when the log has gaps.
type Span struct {
	From, To uint64
	// Records is how many records the span holds: To-From in a dense log,
	// less the numbers of records lost to damage or left out between
	// batches.
	Records int
	// Bytes is the total size of the records' data.
	Bytes int64
	// Oldest is the arrival time of the first record of the span (zero when
	// the span is empty).
	Oldest time.Time
}

// Empty reports whether the span holds no record.
func (s Span) Empty() bool { return s.To <= s.From }

// Log is a stream's durable, append-only record log.
//
// Append is called concurrently by API handlers; every other method is called
// by the single delivery loop of the stream. Implementations share fsyncs
// between concurrent appends (group commit).
//
// Sequence numbers may have holes: records that damage on disk made
// unreadable are reported when the log is opened and then skipped, and a
// replicated log leaves gaps between batches. Backlog, Cut and Read step
// over holes (a range may start or end in one), Commit may commit into one,
// and a hole never comes back, so delivery plans over ranges stay exact.
//
// In a cluster every node appends to every stream's log, and exactly one
// node delivers it at a time: the holder of the stream's lease, which calls
// Fence with the lease's revision before it reads the committed state. A
// node that lost the lease can no longer commit, so no two nodes ever plan
// the same records under different object keys. A log that only one process
// can open at a time (the local segment log) is fenced by that already.
type Log interface {
	// Append makes the batch durable and returns the sequence number of its
	// first record; records get consecutive numbers in batch order, all with
	// the same arrival time. When Append returns an error nothing of the
	// batch may be acknowledged (it may still be recovered after a restart,
	// which yields at-least-once, never loss). ErrFull means back-pressure.
	Append(ctx context.Context, b *Batch) (first uint64, err error)

	// Backlog describes every record at or after from that has been
	// appended. It answers from memory and is cheap enough to call on every
	// wake-up of the delivery loop.
	Backlog(from uint64) Span

	// Cut returns the longest span starting at from whose data totals at
	// most maxBytes, but always at least one record when one is available.
	// Its To is where the next Cut starts.
	Cut(from uint64, maxBytes int64) (Span, error)

	// Read calls fn for each record whose sequence number is in [from, to),
	// in order. It stops at the first error fn returns and returns it.
	Read(ctx context.Context, from, to uint64, fn func(Record) error) error

	// Commit durably records that every record before upto is delivered,
	// together with an opaque state blob that the delivery loop uses to
	// remember what it is about to write (its plan). Records before upto
	// may then be removed from disk at any time. A commit through a log
	// whose fence was overtaken (another node called Fence with a higher
	// token) fails with ErrFenced and changes nothing.
	Commit(ctx context.Context, upto uint64, state []byte) error

	// Committed returns the last committed cursor and state; on a new log
	// it is (1, nil).
	Committed() (upto uint64, state []byte)

	// Fence claims the log's delivery side for token (the revision of the
	// stream's delivery lease; tokens only grow). It makes Committed return
	// the latest commit made by any node, and makes every later Commit
	// through a log fenced with a lower token fail with ErrFenced. Fence
	// with a token lower than one the log has seen fails with ErrFenced.
	Fence(ctx context.Context, token uint64) error

	// Appended returns a channel that is closed on the next successful
	// Append, so the delivery loop can sleep until there is work.
	Appended() <-chan struct{}

	// Close flushes and releases the log. Appends after Close fail with
	// ErrClosed.
	Close() error
}

var (
	// ErrClosed is returned by operations on a closed log.
	ErrClosed = errors.New("buffer: log closed")
	// ErrFull is returned by Append when the log refuses new data to protect
	// what it already holds (a byte cap reached, the disk full, or a failed
	// fsync). The API answers it with ServiceUnavailableException.
	ErrFull = errors.New("buffer: log full")
	// ErrOutOfRange is returned when asked for records that were never
	// appended or were already removed after a commit.
	ErrOutOfRange = errors.New("buffer: sequence out of range")
	// ErrFenced is returned by Commit and Fence once another holder of the
	// stream's delivery lease has fenced the log with a higher token: this
	// node no longer owns the stream's delivery and must stop it.
	ErrFenced = errors.New("buffer: log fenced by a newer delivery lease")
)
