// Package streamspec is the data plane's model of a delivery stream: what
// delivery (internal/deliver), processing (internal/process) and format
// conversion (internal/format) need to know about a stream, resolved once
// from the stream's API configuration by the API layer (firehose.Spec).
//
// Every default AWS applies is already filled in, there are no optional
// pointers to chase and no wire shapes: a buffer size is bytes, an interval
// a time.Duration, a prefix a parsed template with Firehose's default and
// append rules applied, a time zone a *time.Location. So the data plane does
// not depend on the Firehose API package, and another front end (a CLI, a
// config file, another service) or a clustered log can drive the same
// delivery code by building a Stream.
//
// A Stream is a value: it is copied into each delivery loop and replaced
// whole when the stream is updated. Its slices, maps and templates are
// shared between copies and must not be modified.
package streamspec

import (
	"time"

	"github.com/hydrant-io/hydrant/internal/keys"
)

// MaxPartitionKeys is the most partition keys a record may carry from
// MetadataExtraction (AWS's limit of 50).
const MaxPartitionKeys = 50

// Stream is one delivery stream as the data plane sees it.
type Stream struct {
	// Name is the DeliveryStreamName; it goes into object names.
	Name string
	// ARN is the stream's ARN (the Lambda processor's event carries it).
	ARN string
	// Region and AccountID are the stream's, from its ARN.
	Region, AccountID string
	// VersionID is the stream's VersionId; it goes into object names.
	VersionID int
	// Revision identifies this configuration of this incarnation of the
	// stream: it changes when the stream is updated, or deleted and created
	// again under the same name. Caches of per-stream state key on it.
	Revision string

	// Destination is where records are delivered.
	Destination Destination
	// Processing is the stream's record processors.
	Processing Processing
	// Partitioning is dynamic partitioning.
	Partitioning Partitioning
	// Conversion is record format conversion (JSON to Parquet).
	Conversion Conversion
	// Backup is the S3 backup of source records.
	Backup Backup
}

// Buffering is a pair of buffering hints: an object is cut when its records
// reach Bytes or its oldest record has waited Interval.
type Buffering struct {
	// Bytes is SizeInMBs in bytes (MiB).
	Bytes int64
	// Interval is IntervalInSeconds; zero delivers as soon as possible.
	Interval time.Duration
}

// Logging is a destination's CloudWatchLoggingOptions: where delivery
// errors are logged. Enabled is false unless the stream turned it on.
type Logging struct {
	Enabled bool
	// Group and Stream are LogGroupName and LogStreamName ("" when unset).
	Group, Stream string
}

// Destination is an S3 destination with its defaults applied.
type Destination struct {
	// Bucket is the bucket name of BucketARN.
	Bucket string
	// RoleARN is the role Firehose assumes for the destination.
	RoleARN string
	// Prefix and ErrorPrefix name delivered objects and error output:
	// Prefix and ErrorOutputPrefix after Firehose's default and append
	// rules (keys.Resolve), so they are evaluated as they are.
	Prefix, ErrorPrefix *keys.Template
	// Compression is the CompressionFormat (UNCOMPRESSED, GZIP, ZIP,
	// Snappy, HADOOP_SNAPPY).
	Compression string
	// Buffering is the destination's buffering hints (5 MiB / 300 s by
	// default, 128 MiB with format conversion).
	Buffering Buffering
	// Location is the CustomTimeZone of prefix and object-name timestamps;
	// UTC when unset.
	Location *time.Location
	// Extension is the object name extension: FileExtension when set, else
	// .parquet with format conversion, else the compression format's.
	Extension string
	// Logging is the destination's CloudWatchLoggingOptions.
	Logging Logging
}

// Processing is the stream's processors, parameters parsed and defaults
// filled in. Each processor appears at most once; they run in a fixed order
// whatever the order of the configured list (see internal/process).
// When Enabled is false the rest is zero.
type Processing struct {
	Enabled bool
	// Decompression is the Decompression processor's CompressionFormat
	// ("GZIP"), or "" without one.
	Decompression string
	// CloudWatchLogs is CloudWatchLogProcessing with
	// DataMessageExtraction=true.
	CloudWatchLogs bool
	// DeAggregation is RecordDeAggregation.
	DeAggregation DeAggregation
	// Lambda is the Lambda processor.
	Lambda Lambda
	// MetadataExtraction is MetadataExtraction (jq).
	MetadataExtraction MetadataExtraction
	// AppendDelimiter is AppendDelimiterToRecord.
	AppendDelimiter bool
}

// Lambda is the Lambda processor.
type Lambda struct {
	Enabled bool
	// ARN is LambdaArn.
	ARN string
	// RoleARN is RoleArn ("" when unset).
	RoleARN string
	// Retries is NumberOfRetries (default 3): a failed invocation is tried
	// Retries+1 times.
	Retries int
	// BufferBytes is BufferSizeInMBs in bytes (default 1 MiB): the most
	// record data in one invocation.
	BufferBytes int64
	// BufferInterval is BufferIntervalInSeconds (default 60 s).
	BufferInterval time.Duration
}

// MetadataExtraction is the MetadataExtraction processor.
type MetadataExtraction struct {
	Enabled bool
	// Query is the jq MetadataExtractionQuery (JQ-1.6).
	Query string
	// Keys are the keys the query builds when it is an object constructor
	// with literal keys; nil when they are only known at run time.
	Keys []string
}

// DeAggregation is the RecordDeAggregation processor.
type DeAggregation struct {
	Enabled bool
	// JSON is SubRecordType JSON; otherwise it is DELIMITED by Delimiter.
	JSON bool
	// Delimiter is the decoded Delimiter of SubRecordType DELIMITED.
	Delimiter []byte
}

// Partitioning is dynamic partitioning: records are grouped by the values
// of the Prefix's partition keys, one buffer and one series of objects per
// partition.
type Partitioning struct {
	Enabled bool
	// RetryDuration is RetryOptions.DurationInSeconds (default 300 s).
	RetryDuration time.Duration
}

// Conversion is record format conversion: JSON records read with a
// deserializer and a Glue table's schema, written as Parquet.
type Conversion struct {
	Enabled bool
	// Schema names the table.
	Schema Schema
	// Deserializer is how the JSON records are read.
	Deserializer Deserializer
	// Parquet is the ParquetSerDe.
	Parquet Parquet
}

// Schema is a SchemaConfiguration with its defaults.
type Schema struct {
	RoleARN string
	// CatalogID is CatalogId (default: the stream's account).
	CatalogID string
	// Region is the catalog's Region (default: the stream's).
	Region string
	// Database and Table are DatabaseName and TableName.
	Database, Table string
	// VersionID is VersionId; LATEST (the default) follows the table's
	// newest version.
	VersionID string
}

// Deserializer is the InputFormatConfiguration's deserializer: OpenX JSON
// SerDe unless Hive is set.
type Deserializer struct {
	// Hive selects HiveJsonSerDe.
	Hive bool
	// TimestampFormats are HiveJsonSerDe's TimestampFormats.
	TimestampFormats []string
	// CaseInsensitive is OpenX's CaseInsensitive (default true).
	CaseInsensitive bool
	// ConvertDots is OpenX's ConvertDotsInJsonKeysToUnderscores (default
	// false).
	ConvertDots bool
	// ColumnToJSONKey is OpenX's ColumnToJsonKeyMappings.
	ColumnToJSONKey map[string]string
}

// Parquet is a ParquetSerDe with Firehose's defaults.
type Parquet struct {
	// BlockSizeBytes is the row group size (default 256 MiB).
	BlockSizeBytes int64
	// PageSizeBytes is the page size (default 1 MiB).
	PageSizeBytes int
	// Compression is SNAPPY (default), GZIP or UNCOMPRESSED.
	Compression string
	// Dictionary is EnableDictionaryCompression (default true, as in
	// parquet-mr).
	Dictionary bool
	// MaxPaddingBytes is MaxPaddingBytes (default 0).
	MaxPaddingBytes int
	// WriterVersion is V1 (default) or V2.
	WriterVersion string
}

// Backup is the S3 backup of source records (S3BackupMode Enabled).
type Backup struct {
	Enabled bool
	// Bucket, RoleARN, Prefix, ErrorPrefix, Compression, Buffering,
	// Extension and Logging are as in Destination, from
	// S3BackupConfiguration (its defaults: 5 MiB / 300 s, UNCOMPRESSED).
	// Timestamps use the destination's Location.
	Bucket, RoleARN     string
	Prefix, ErrorPrefix *keys.Template
	Compression         string
	Buffering           Buffering
	Extension           string
	Logging             Logging
}
