// Package firehose implements the Amazon Data Firehose API (awsJson1_1,
// Firehose_20150804): request and response shapes with AWS's field names,
// the validation AWS performs (model constraints first, then the semantic
// rules of the service, with AWS's error types and messages), and the
// handlers that turn requests into calls on a Backend.
package firehose

import (
	"encoding/json"
	"time"
)

// Timestamp is an awsJson timestamp: epoch seconds as a JSON number.
type Timestamp time.Time

// MarshalJSON writes epoch seconds with millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(json.Number(formatEpoch(ms))), nil
}

// UnmarshalJSON reads epoch seconds (integer or fractional).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*t = Timestamp(time.UnixMilli(int64(f * 1000)))
	return nil
}

func formatEpoch(ms int64) string {
	sec, frac := ms/1000, ms%1000
	buf := make([]byte, 0, 24)
	buf = appendInt(buf, sec)
	if frac != 0 {
		buf = append(buf, '.')
		buf = append(buf, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	}
	return string(buf)
}

func appendInt(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		v = -v
	}
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

// BufferingHints decides when an object is cut.
type BufferingHints struct {
	SizeInMBs         *int `json:"SizeInMBs,omitempty"`
	IntervalInSeconds *int `json:"IntervalInSeconds,omitempty"`
}

// KMSEncryptionConfig names the KMS key for SSE-KMS on delivered objects.
type KMSEncryptionConfig struct {
	AWSKMSKeyARN string `json:"AWSKMSKeyARN"`
}

// EncryptionConfiguration is the server-side encryption of delivered objects.
type EncryptionConfiguration struct {
	NoEncryptionConfig  *string              `json:"NoEncryptionConfig,omitempty"`
	KMSEncryptionConfig *KMSEncryptionConfig `json:"KMSEncryptionConfig,omitempty"`
}

// CloudWatchLoggingOptions configures delivery error logging.
type CloudWatchLoggingOptions struct {
	Enabled       *bool   `json:"Enabled,omitempty"`
	LogGroupName  *string `json:"LogGroupName,omitempty"`
	LogStreamName *string `json:"LogStreamName,omitempty"`
}

// ProcessorParameter is one processor parameter; values are strings.
type ProcessorParameter struct {
	ParameterName  string `json:"ParameterName"`
	ParameterValue string `json:"ParameterValue"`
}

// Processor is one record processor.
type Processor struct {
	Type       string               `json:"Type"`
	Parameters []ProcessorParameter `json:"Parameters,omitempty"`
}

// ProcessingConfiguration is the list of processors a stream runs.
type ProcessingConfiguration struct {
	Enabled    *bool       `json:"Enabled,omitempty"`
	Processors []Processor `json:"Processors,omitempty"`
}

// RetryOptions bounds retries of a destination.
type RetryOptions struct {
	DurationInSeconds *int `json:"DurationInSeconds,omitempty"`
}

// DynamicPartitioningConfiguration turns on partitioning by record content.
type DynamicPartitioningConfiguration struct {
	RetryOptions *RetryOptions `json:"RetryOptions,omitempty"`
	Enabled      *bool         `json:"Enabled,omitempty"`
}

// SchemaConfiguration points format conversion at a catalog table.
type SchemaConfiguration struct {
	RoleARN      *string `json:"RoleARN,omitempty"`
	CatalogId    *string `json:"CatalogId,omitempty"`
	DatabaseName *string `json:"DatabaseName,omitempty"`
	TableName    *string `json:"TableName,omitempty"`
	Region       *string `json:"Region,omitempty"`
	VersionId    *string `json:"VersionId,omitempty"`
}

// OpenXJSONSerDe is the OpenX JSON deserializer.
type OpenXJSONSerDe struct {
	ConvertDotsInJsonKeysToUnderscores *bool             `json:"ConvertDotsInJsonKeysToUnderscores,omitempty"`
	CaseInsensitive                    *bool             `json:"CaseInsensitive,omitempty"`
	ColumnToJsonKeyMappings            map[string]string `json:"ColumnToJsonKeyMappings,omitempty"`
}

// HiveJSONSerDe is the Hive JSON deserializer.
type HiveJSONSerDe struct {
	TimestampFormats []string `json:"TimestampFormats,omitempty"`
}

// Deserializer reads the input records.
type Deserializer struct {
	OpenXJsonSerDe *OpenXJSONSerDe `json:"OpenXJsonSerDe,omitempty"`
	HiveJsonSerDe  *HiveJSONSerDe  `json:"HiveJsonSerDe,omitempty"`
}

// InputFormatConfiguration wraps the deserializer.
type InputFormatConfiguration struct {
	Deserializer *Deserializer `json:"Deserializer,omitempty"`
}

// ParquetSerDe configures Parquet output.
type ParquetSerDe struct {
	BlockSizeBytes              *int    `json:"BlockSizeBytes,omitempty"`
	PageSizeBytes               *int    `json:"PageSizeBytes,omitempty"`
	Compression                 *string `json:"Compression,omitempty"`
	EnableDictionaryCompression *bool   `json:"EnableDictionaryCompression,omitempty"`
	MaxPaddingBytes             *int    `json:"MaxPaddingBytes,omitempty"`
	WriterVersion               *string `json:"WriterVersion,omitempty"`
}

// OrcSerDe configures ORC output.
type OrcSerDe struct {
	StripeSizeBytes                     *int     `json:"StripeSizeBytes,omitempty"`
	BlockSizeBytes                      *int     `json:"BlockSizeBytes,omitempty"`
	RowIndexStride                      *int     `json:"RowIndexStride,omitempty"`
	EnablePadding                       *bool    `json:"EnablePadding,omitempty"`
	PaddingTolerance                    *float64 `json:"PaddingTolerance,omitempty"`
	Compression                         *string  `json:"Compression,omitempty"`
	BloomFilterColumns                  []string `json:"BloomFilterColumns,omitempty"`
	BloomFilterFalsePositiveProbability *float64 `json:"BloomFilterFalsePositiveProbability,omitempty"`
	DictionaryKeyThreshold              *float64 `json:"DictionaryKeyThreshold,omitempty"`
	FormatVersion                       *string  `json:"FormatVersion,omitempty"`
}

// Serializer writes the output format.
type Serializer struct {
	ParquetSerDe *ParquetSerDe `json:"ParquetSerDe,omitempty"`
	OrcSerDe     *OrcSerDe     `json:"OrcSerDe,omitempty"`
}

// OutputFormatConfiguration wraps the serializer.
type OutputFormatConfiguration struct {
	Serializer *Serializer `json:"Serializer,omitempty"`
}

// DataFormatConversionConfiguration converts JSON records to Parquet or ORC.
type DataFormatConversionConfiguration struct {
	SchemaConfiguration       *SchemaConfiguration       `json:"SchemaConfiguration,omitempty"`
	InputFormatConfiguration  *InputFormatConfiguration  `json:"InputFormatConfiguration,omitempty"`
	OutputFormatConfiguration *OutputFormatConfiguration `json:"OutputFormatConfiguration,omitempty"`
	Enabled                   *bool                      `json:"Enabled,omitempty"`
}

// S3Destination is the member set shared by S3DestinationConfiguration,
// S3DestinationDescription and S3DestinationUpdate.
type S3Destination struct {
	RoleARN                  *string                   `json:"RoleARN,omitempty"`
	BucketARN                *string                   `json:"BucketARN,omitempty"`
	Prefix                   *string                   `json:"Prefix,omitempty"`
	ErrorOutputPrefix        *string                   `json:"ErrorOutputPrefix,omitempty"`
	BufferingHints           *BufferingHints           `json:"BufferingHints,omitempty"`
	CompressionFormat        *string                   `json:"CompressionFormat,omitempty"`
	EncryptionConfiguration  *EncryptionConfiguration  `json:"EncryptionConfiguration,omitempty"`
	CloudWatchLoggingOptions *CloudWatchLoggingOptions `json:"CloudWatchLoggingOptions,omitempty"`
}

// ExtendedS3Destination is the member set shared by
// ExtendedS3DestinationConfiguration, ...Description and ...Update; the
// backup member has a different name in each, hence three fields of which at
// most one is set.
type ExtendedS3Destination struct {
	S3Destination
	ProcessingConfiguration           *ProcessingConfiguration           `json:"ProcessingConfiguration,omitempty"`
	S3BackupMode                      *string                            `json:"S3BackupMode,omitempty"`
	S3BackupConfiguration             *S3Destination                     `json:"S3BackupConfiguration,omitempty"`
	S3BackupUpdate                    *S3Destination                     `json:"S3BackupUpdate,omitempty"`
	S3BackupDescription               *S3Destination                     `json:"S3BackupDescription,omitempty"`
	DataFormatConversionConfiguration *DataFormatConversionConfiguration `json:"DataFormatConversionConfiguration,omitempty"`
	DynamicPartitioningConfiguration  *DynamicPartitioningConfiguration  `json:"DynamicPartitioningConfiguration,omitempty"`
	FileExtension                     *string                            `json:"FileExtension,omitempty"`
	CustomTimeZone                    *string                            `json:"CustomTimeZone,omitempty"`
}

// Tag is a stream tag.
type Tag struct {
	Key   string  `json:"Key"`
	Value *string `json:"Value,omitempty"`
}

// DeliveryStreamEncryptionConfigurationInput asks for SSE of the buffer.
type DeliveryStreamEncryptionConfigurationInput struct {
	KeyARN  *string `json:"KeyARN,omitempty"`
	KeyType string  `json:"KeyType"`
}

// DirectPutSourceConfiguration is informational for DirectPut streams.
type DirectPutSourceConfiguration struct {
	ThroughputHintInMBs *int `json:"ThroughputHintInMBs,omitempty"`
}

// CreateDeliveryStreamInput is the CreateDeliveryStream request. Members for
// destinations and sources hydrant does not serve are kept raw so that their
// presence can be refused by name.
type CreateDeliveryStreamInput struct {
	DeliveryStreamName                         string                                      `json:"DeliveryStreamName"`
	DeliveryStreamType                         *string                                     `json:"DeliveryStreamType,omitempty"`
	DirectPutSourceConfiguration               *DirectPutSourceConfiguration               `json:"DirectPutSourceConfiguration,omitempty"`
	KinesisStreamSourceConfiguration           json.RawMessage                             `json:"KinesisStreamSourceConfiguration,omitempty"`
	MSKSourceConfiguration                     json.RawMessage                             `json:"MSKSourceConfiguration,omitempty"`
	DatabaseSourceConfiguration                json.RawMessage                             `json:"DatabaseSourceConfiguration,omitempty"`
	DeliveryStreamEncryptionConfigurationInput *DeliveryStreamEncryptionConfigurationInput `json:"DeliveryStreamEncryptionConfigurationInput,omitempty"`
	S3DestinationConfiguration                 *S3Destination                              `json:"S3DestinationConfiguration,omitempty"`
	ExtendedS3DestinationConfiguration         *ExtendedS3Destination                      `json:"ExtendedS3DestinationConfiguration,omitempty"`
	Tags                                       []Tag                                       `json:"Tags,omitempty"`
}

// UpdateDestinationInput is the UpdateDestination request.
type UpdateDestinationInput struct {
	DeliveryStreamName             string                 `json:"DeliveryStreamName"`
	CurrentDeliveryStreamVersionId string                 `json:"CurrentDeliveryStreamVersionId"`
	DestinationId                  string                 `json:"DestinationId"`
	S3DestinationUpdate            *S3Destination         `json:"S3DestinationUpdate,omitempty"`
	ExtendedS3DestinationUpdate    *ExtendedS3Destination `json:"ExtendedS3DestinationUpdate,omitempty"`
}

// DeliveryStreamEncryptionConfiguration describes SSE of the buffer.
type DeliveryStreamEncryptionConfiguration struct {
	KeyARN  *string `json:"KeyARN,omitempty"`
	KeyType *string `json:"KeyType,omitempty"`
	Status  string  `json:"Status"`
}

// DestinationDescription describes one destination; for S3-backed streams
// AWS fills both the S3 and the ExtendedS3 description.
type DestinationDescription struct {
	DestinationId                    string                 `json:"DestinationId"`
	S3DestinationDescription         *S3Destination         `json:"S3DestinationDescription,omitempty"`
	ExtendedS3DestinationDescription *ExtendedS3Destination `json:"ExtendedS3DestinationDescription,omitempty"`
}

// SourceDescription describes the stream's source.
type SourceDescription struct {
	DirectPutSourceDescription *DirectPutSourceConfiguration `json:"DirectPutSourceDescription,omitempty"`
}

// DeliveryStreamDescription is what DescribeDeliveryStream returns.
type DeliveryStreamDescription struct {
	DeliveryStreamName                    string                                 `json:"DeliveryStreamName"`
	DeliveryStreamARN                     string                                 `json:"DeliveryStreamARN"`
	DeliveryStreamStatus                  string                                 `json:"DeliveryStreamStatus"`
	DeliveryStreamEncryptionConfiguration *DeliveryStreamEncryptionConfiguration `json:"DeliveryStreamEncryptionConfiguration,omitempty"`
	DeliveryStreamType                    string                                 `json:"DeliveryStreamType"`
	VersionId                             string                                 `json:"VersionId"`
	CreateTimestamp                       *Timestamp                             `json:"CreateTimestamp,omitempty"`
	LastUpdateTimestamp                   *Timestamp                             `json:"LastUpdateTimestamp,omitempty"`
	Source                                *SourceDescription                     `json:"Source,omitempty"`
	Destinations                          []DestinationDescription               `json:"Destinations"`
	HasMoreDestinations                   bool                                   `json:"HasMoreDestinations"`
}

// Stream status values.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusDeleting = "DELETING"
)

// Error types of the Firehose model.
const (
	InvalidArgumentException        = "InvalidArgumentException"
	ResourceNotFoundException       = "ResourceNotFoundException"
	ResourceInUseException          = "ResourceInUseException"
	LimitExceededException          = "LimitExceededException"
	ConcurrentModificationException = "ConcurrentModificationException"
	InvalidKMSResourceException     = "InvalidKMSResourceException"
	InvalidSourceException          = "InvalidSourceException"
)
