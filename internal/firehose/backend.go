package firehose

import (
	"context"
	"errors"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// StreamConfig is a validated stream definition with every default filled
// in, as the Backend stores it and as Describe shows it.
type StreamConfig struct {
	Name string `json:"name"`
	// Type is the DeliveryStreamType (DirectPut).
	Type string `json:"type"`
	// Destination is the ExtendedS3 destination; S3DestinationConfiguration
	// is stored the same way, as AWS does.
	Destination ExtendedS3Destination `json:"destination"`
	// DirectPut is the optional DirectPutSourceConfiguration.
	DirectPut *DirectPutSourceConfiguration `json:"directPut,omitempty"`
	Tags      []Tag                         `json:"tags,omitempty"`
}

// StreamInfo is a stream as the Backend knows it: its configuration plus the
// state AWS reports about it.
type StreamInfo struct {
	StreamConfig
	ARN           string    `json:"arn"`
	Status        string    `json:"status"`
	VersionID     int       `json:"versionId"`
	DestinationID string    `json:"destinationId"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	// Salt makes the stream's RecordIds unique across incarnations of the
	// same name.
	Salt uint64 `json:"salt"`
}

// Backend is the delivery-stream registry the API drives. The stream package
// implements it; every method is safe for concurrent use.
type Backend interface {
	// Create registers a new stream (status CREATING, then ACTIVE once its
	// buffer is open). A taken name gives an error wrapping ErrStreamExists.
	Create(ctx context.Context, cfg StreamConfig) (StreamInfo, error)
	// Get returns a stream; a missing one gives ErrStreamNotFound.
	Get(ctx context.Context, name string) (StreamInfo, error)
	// List returns every stream, sorted by name.
	List(ctx context.Context) ([]StreamInfo, error)
	// Delete removes a stream and its buffered data.
	Delete(ctx context.Context, name string) error
	// Update applies fn to a copy of the stream under the registry's lock and
	// persists the result; when fn returns an error nothing changes and the
	// error is returned as is. Delivery picks up a changed destination.
	Update(ctx context.Context, name string, fn func(*StreamInfo) error) error
	// Put durably appends a batch of records and returns the stream's salt
	// and the sequence number of the first record. A full buffer gives an
	// error wrapping buffer.ErrFull; a stream that is not ACTIVE gives
	// ErrStreamNotActive.
	Put(ctx context.Context, name string, b *buffer.Batch) (salt, first uint64, err error)
}

// Errors a Backend wraps so that the API can answer with AWS's types.
var (
	ErrStreamNotFound  = errors.New("delivery stream not found")
	ErrStreamExists    = errors.New("delivery stream already exists")
	ErrStreamNotActive = errors.New("delivery stream not active")
)
