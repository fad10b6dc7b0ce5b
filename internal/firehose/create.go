package firehose

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/compress"
)

// Destination and source members of CreateDeliveryStreamInput that hydrant
// does not serve yet; their presence is refused by name, never ignored.
var unsupportedCreateMembers = []string{
	"RedshiftDestinationConfiguration",
	"ElasticsearchDestinationConfiguration",
	"AmazonopensearchserviceDestinationConfiguration",
	"SplunkDestinationConfiguration",
	"HttpEndpointDestinationConfiguration",
	"AmazonOpenSearchServerlessDestinationConfiguration",
	"SnowflakeDestinationConfiguration",
	"IcebergDestinationConfiguration",
}

func (s *Service) createDeliveryStream(ctx context.Context, body []byte) (any, error) {
	cfg, err := s.CheckConfig(body)
	if err != nil {
		return nil, err
	}
	if err := s.checkRoles(ctx, &cfg.Destination); err != nil {
		return nil, err
	}
	info, err := s.backend.Create(ctx, cfg)
	if err != nil {
		return nil, s.backendErr(cfg.Name, err)
	}
	s.log.Info("delivery stream created", "stream", info.Name, "bucket", bucketName(deref(cfg.Destination.BucketARN)))
	return map[string]any{"DeliveryStreamARN": info.ARN}, nil
}

// CheckConfig applies every rule CreateDeliveryStream applies to a request
// document (the model's constraints, with Coral's ValidationException
// messages, then the service's semantic rules) and returns the stream
// configuration it describes, defaults filled in. It does not use the
// Backend, so a Service built with a nil Backend can check documents (hydrant
// validate). Errors are *awsproto.Error.
func (s *Service) CheckConfig(doc []byte) (StreamConfig, error) {
	raw, aerr := s.model.Validate("CreateDeliveryStream", doc)
	if aerr != nil {
		return StreamConfig{}, aerr
	}
	var in CreateDeliveryStreamInput
	if err := json.Unmarshal(doc, &in); err != nil {
		return StreamConfig{}, &awsproto.Error{Type: awsproto.SerializationException, Message: err.Error(), Status: http.StatusBadRequest}
	}
	return s.createConfig(raw, &in)
}

// createConfig turns a validated CreateDeliveryStream request into a stored
// configuration, applying the service's semantic rules in AWS's order.
func (s *Service) createConfig(doc map[string]any, in *CreateDeliveryStreamInput) (StreamConfig, error) {
	typ := "DirectPut"
	if in.DeliveryStreamType != nil {
		typ = *in.DeliveryStreamType
	}
	if typ != "DirectPut" {
		return StreamConfig{}, invalidArg("DeliveryStreamType %s is not supported by hydrant yet; only DirectPut is.", typ)
	}
	for _, m := range []string{"KinesisStreamSourceConfiguration", "MSKSourceConfiguration", "DatabaseSourceConfiguration"} {
		if doc[m] != nil {
			return StreamConfig{}, invalidArg("%s is not supported by hydrant yet; only DirectPut streams are.", m)
		}
	}
	if in.DeliveryStreamEncryptionConfigurationInput != nil {
		return StreamConfig{}, invalidArg("DeliveryStreamEncryptionConfigurationInput (server-side encryption with KMS) is not supported by hydrant yet.")
	}
	n := 0
	for _, m := range unsupportedCreateMembers {
		if doc[m] != nil {
			n++
		}
	}
	if in.S3DestinationConfiguration != nil {
		n++
	}
	if in.ExtendedS3DestinationConfiguration != nil {
		n++
	}
	if n != 1 {
		return StreamConfig{}, invalidArg("Exactly one destination configuration is supported for a Firehose")
	}
	for _, m := range unsupportedCreateMembers {
		if doc[m] != nil {
			return StreamConfig{}, invalidArg("%s is not supported by hydrant yet; use ExtendedS3DestinationConfiguration or S3DestinationConfiguration.", m)
		}
	}
	var dest ExtendedS3Destination
	if in.ExtendedS3DestinationConfiguration != nil {
		dest = *in.ExtendedS3DestinationConfiguration
	} else {
		dest.S3Destination = *in.S3DestinationConfiguration
	}
	if err := s.checkTags(in.Tags); err != nil {
		return StreamConfig{}, err
	}
	cfg := StreamConfig{
		Name:        in.DeliveryStreamName,
		Type:        typ,
		Destination: dest,
		DirectPut:   in.DirectPutSourceConfiguration,
		Tags:        dedupeTags(nil, in.Tags),
	}
	if err := s.checkDestination(&cfg, nil); err != nil {
		return StreamConfig{}, err
	}
	return cfg, nil
}

// checkDestination applies the semantic rules to a full destination (after a
// create, or after merging an update into prev) and fills in defaults.
func (s *Service) checkDestination(cfg *StreamConfig, prev *ExtendedS3Destination) error {
	d := &cfg.Destination
	if d.S3BackupConfiguration != nil && d.S3BackupUpdate != nil {
		return invalidArg("S3BackupConfiguration and S3BackupUpdate cannot both be set.")
	}
	if err := checkS3Common(&d.S3Destination, ""); err != nil {
		return err
	}
	f := s.opts.Features
	if err := checkConversion(d, prev, f); err != nil {
		return err
	}
	if dp := d.DynamicPartitioningConfiguration; dp != nil && isTrue(dp.Enabled) {
		if prev != nil && !dynamicPartitioningOn(prev) {
			return invalidArg("Dynamic partitioning cannot be enabled on an existing Firehose stream.")
		}
		if !f.DynamicPartitioning {
			return invalidArg("DynamicPartitioningConfiguration is not supported by hydrant yet.")
		}
		if err := checkDynamicPartitioning(d); err != nil {
			return err
		}
	} else if prev != nil && dynamicPartitioningOn(prev) {
		return invalidArg("Dynamic partitioning cannot be disabled once it is enabled.")
	}
	if err := checkProcessing(d, f); err != nil {
		return err
	}
	if d.S3BackupMode != nil && *d.S3BackupMode == "Enabled" {
		if !f.S3Backup {
			return invalidArg("S3BackupMode Enabled (backup of source records) is not supported by hydrant yet.")
		}
	} else if prev != nil && prev.S3BackupMode != nil && *prev.S3BackupMode == "Enabled" {
		return invalidArg("S3BackupMode cannot be changed from Enabled to Disabled.")
	}
	if err := checkBackup(d); err != nil {
		return err
	}
	if d.CustomTimeZone != nil && *d.CustomTimeZone != "" {
		if _, err := time.LoadLocation(*d.CustomTimeZone); err != nil {
			return invalidArg("CustomTimeZone %s is not a valid time zone.", *d.CustomTimeZone)
		}
	}
	if err := checkPrefixes(d.Prefix, d.ErrorOutputPrefix, dynamicPartitioningOn(d)); err != nil {
		return err
	}
	if err := checkPartitionKeyUse(d); err != nil {
		return err
	}
	applyDefaults(d)
	// The data plane's model must resolve from whatever is accepted.
	if _, err := Spec(StreamInfo{StreamConfig: *cfg}); err != nil {
		return invalidArg("%s", err.Error())
	}
	if f.Validate != nil {
		if err := f.Validate(cfg); err != nil {
			return err
		}
	}
	return nil
}

// checkS3Common applies the rules shared by S3 destinations and backups.
func checkS3Common(d *S3Destination, what string) error {
	if d.BucketARN != nil {
		if err := checkBucketARN(*d.BucketARN); err != nil {
			return err
		}
	}
	if h := d.BufferingHints; h != nil && (h.SizeInMBs == nil) != (h.IntervalInSeconds == nil) {
		return invalidArg("%sBufferingHints: SizeInMBs and IntervalInSeconds must be specified together.", what)
	}
	if e := d.EncryptionConfiguration; e != nil {
		if e.KMSEncryptionConfig != nil {
			return invalidArg("%sEncryptionConfiguration.KMSEncryptionConfig (SSE-KMS of delivered objects) is not supported by hydrant yet.", what)
		}
		if e.NoEncryptionConfig != nil && e.KMSEncryptionConfig != nil {
			return invalidArg("%sEncryptionConfiguration: only one of NoEncryptionConfig and KMSEncryptionConfig may be set.", what)
		}
	}
	return nil
}

// applyDefaults fills what Describe shows for members left unset.
func applyDefaults(d *ExtendedS3Destination) {
	if d.BufferingHints == nil {
		d.BufferingHints = &BufferingHints{SizeInMBs: ptr(5), IntervalInSeconds: ptr(300)}
	}
	if d.CompressionFormat == nil {
		d.CompressionFormat = ptr("UNCOMPRESSED")
	}
	if d.EncryptionConfiguration == nil || (d.EncryptionConfiguration.NoEncryptionConfig == nil && d.EncryptionConfiguration.KMSEncryptionConfig == nil) {
		d.EncryptionConfiguration = &EncryptionConfiguration{NoEncryptionConfig: ptr("NoEncryption")}
	}
	if d.CloudWatchLoggingOptions == nil {
		d.CloudWatchLoggingOptions = &CloudWatchLoggingOptions{Enabled: ptr(false)}
	}
	if d.S3BackupMode == nil {
		d.S3BackupMode = ptr("Disabled")
	}
	if d.Prefix == nil {
		d.Prefix = ptr("")
	}
	fillProcessorDefaults(d)
}

// Describe renders a stream the way DescribeDeliveryStream shows it: for an
// S3-backed stream both S3DestinationDescription and
// ExtendedS3DestinationDescription, as AWS does.
func Describe(info StreamInfo) DeliveryStreamDescription {
	ext := info.Destination
	ext.S3BackupDescription = ext.S3BackupConfiguration
	ext.S3BackupConfiguration = nil
	ext.S3BackupUpdate = nil
	s3 := ext.S3Destination
	created := Timestamp(info.Created)
	updated := Timestamp(info.Updated)
	d := DeliveryStreamDescription{
		DeliveryStreamName:                    info.Name,
		DeliveryStreamARN:                     info.ARN,
		DeliveryStreamStatus:                  info.Status,
		DeliveryStreamEncryptionConfiguration: &DeliveryStreamEncryptionConfiguration{Status: "DISABLED"},
		DeliveryStreamType:                    info.Type,
		VersionId:                             itoa(info.VersionID),
		CreateTimestamp:                       &created,
		Destinations: []DestinationDescription{{
			DestinationId:                    info.DestinationID,
			S3DestinationDescription:         &s3,
			ExtendedS3DestinationDescription: &ext,
		}},
	}
	if info.VersionID > 1 {
		d.LastUpdateTimestamp = &updated
	}
	if info.DirectPut != nil {
		d.Source = &SourceDescription{DirectPutSourceDescription: info.DirectPut}
	}
	return d
}

func dynamicPartitioningOn(d *ExtendedS3Destination) bool {
	return d.DynamicPartitioningConfiguration != nil && isTrue(d.DynamicPartitioningConfiguration.Enabled)
}

// bucketName returns the bucket of an S3 bucket ARN (arn:aws:s3:::NAME).
func bucketName(arn string) string {
	if i := strings.Index(arn, ":::"); i >= 0 {
		return arn[i+3:]
	}
	return ""
}

// BucketName returns the bucket of a destination's BucketARN.
func BucketName(d *ExtendedS3Destination) string { return bucketName(deref(d.BucketARN)) }

func ptr[T any](v T) *T { return &v }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func isTrue(b *bool) bool { return b != nil && *b }

func itoa(n int) string { return string(appendInt(nil, int64(n))) }

// ObjectExtension is the extension of a destination's delivered objects:
// FileExtension when set, else .parquet/.orc with format conversion, else the
// compression format's.
func ObjectExtension(d *ExtendedS3Destination) string {
	if fe := d.FileExtension; fe != nil && *fe != "" {
		return *fe
	}
	if dc := d.DataFormatConversionConfiguration; dc != nil && (dc.Enabled == nil || *dc.Enabled) &&
		dc.OutputFormatConfiguration != nil && dc.OutputFormatConfiguration.Serializer != nil {
		if dc.OutputFormatConfiguration.Serializer.OrcSerDe != nil {
			return ".orc"
		}
		return ".parquet"
	}
	return compress.Extension(deref(d.CompressionFormat))
}
