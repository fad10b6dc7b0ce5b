package deliver

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// Rec is a record on its way through processing to an object.
type Rec struct {
	// Data is the record's current bytes (transformed by earlier stages).
	Data []byte
	// Arrival is when the source record was accepted.
	Arrival time.Time
	// Seq is the log sequence number of the source record.
	Seq uint64
	// QueryKeys and LambdaKeys are partition keys extracted by
	// MetadataExtraction and returned by a Lambda processor, for
	// !{partitionKeyFromQuery:k} and !{partitionKeyFromLambda:k}.
	QueryKeys  map[string]string
	LambdaKeys map[string]string
}

// Failure is a record that goes to the error output instead of the
// destination, as Firehose writes it under ErrorOutputPrefix.
type Failure struct {
	// Type is the !{firehose:error-output-type} value: processing-failed,
	// format-conversion-failed, partitioning-failed, decompression-failed.
	Type string
	// Raw is the record as it was before the stage that failed it.
	Raw     []byte
	Arrival time.Time
	Seq     uint64
	// Code and Message are Firehose's error code (Lambda.FunctionError,
	// DataFormatConversion.ParseError, ...) and its text.
	Code, Message string
	// Attempts is attemptsMade.
	Attempts int
	// EndedAt is attemptEndingTimestamp; zero means the time the failure
	// is written.
	EndedAt time.Time
	// LambdaARN is set for processing failures of a Lambda processor.
	LambdaARN string
	// Table is set for format-conversion failures (dataCatalogTable).
	Table map[string]string
}

// Pipeline is a stream's record processing (Firehose's processors, in
// Firehose's order), built from the stream's configuration.
type Pipeline interface {
	// ChunkBytes is how many bytes of input Process wants at once (the
	// Lambda processor's buffer size, for instance).
	ChunkBytes() int64
	// Chunks is how many chunks Process may work on at once, called from
	// as many goroutines (a Lambda processor's outstanding invocations); 1
	// means one at a time.
	Chunks() int
	// Process transforms recs. Records in out go on to the destination,
	// failed ones to the error output; records in neither were dropped. An
	// error means the batch cannot be processed now (the context ended);
	// delivery retries it later.
	Process(ctx context.Context, recs []Rec) (out []Rec, failed []Failure, err error)
}

// Format converts records into an object format (Parquet, ORC).
type Format interface {
	// Extension is the object name extension (".parquet").
	Extension() string
	// NewEncoder starts an object written to w.
	NewEncoder(w io.Writer) (Encoder, error)
}

// Encoder writes records into one object.
type Encoder interface {
	// Encode adds a record. A *ConversionError means this record cannot be
	// converted and goes to the error output; other errors fail the object.
	Encode(r Rec) error
	// Close finishes the object.
	Close() error
}

// ConversionError is a record-level format conversion failure.
type ConversionError struct {
	Code    string // DataFormatConversion.ParseError, ...MalformedData
	Message string
	Table   map[string]string
}

func (e *ConversionError) Error() string { return e.Code + ": " + e.Message }

// Stages builds the processing and conversion a stream's configuration asks
// for. Either result may be nil (no processing, no conversion). An error
// (a missing catalog table, say) fails this delivery attempt; it is logged
// and retried, and the records stay buffered.
type Stages func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error)

// errEmptyObject aborts a Put whose records were all dropped or failed: no
// empty object is written.
var errEmptyObject = errors.New("deliver: nothing to write")

// rawEncoder writes records as they are, concatenated (Firehose adds no
// delimiter).
type rawEncoder struct{ w io.Writer }

func (e rawEncoder) Encode(r Rec) error { _, err := e.w.Write(r.Data); return err }
func (e rawEncoder) Close() error       { return nil }
