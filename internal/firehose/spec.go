package firehose

import (
	"fmt"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// Spec resolves a stream's configuration into the data plane's model:
// every default AWS applies filled in once, here, so that delivery,
// processing and format conversion never read the wire shapes. The Backend
// calls it whenever a stream is opened or changed. A configuration that
// passed CreateDeliveryStream's or UpdateDestination's checks always
// resolves (checkDestination resolves it last); an error means a stored
// configuration that this hydrant no longer accepts.
func Spec(info StreamInfo) (streamspec.Stream, error) {
	d := &info.Destination
	region, account := arnRegionAccount(info.ARN)
	st := streamspec.Stream{
		Name:      info.Name,
		ARN:       info.ARN,
		Region:    region,
		AccountID: account,
		VersionID: info.VersionID,
		Revision:  fmt.Sprintf("%d/%d", info.Created.UnixNano(), info.VersionID),
	}
	loc := time.UTC
	if tz := deref(d.CustomTimeZone); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return streamspec.Stream{}, fmt.Errorf("stream %s: CustomTimeZone %s: %w", info.Name, tz, err)
		}
		loc = l
	}
	prefix, errPrefix, err := keys.Resolve(d.Prefix, d.ErrorOutputPrefix)
	if err != nil {
		return streamspec.Stream{}, fmt.Errorf("stream %s: %w", info.Name, err)
	}
	st.Conversion = specConversion(d.DataFormatConversionConfiguration, region, account)
	st.Destination = streamspec.Destination{
		Bucket:      BucketName(d),
		RoleARN:     deref(d.RoleARN),
		Prefix:      prefix,
		ErrorPrefix: errPrefix,
		Compression: derefOr(d.CompressionFormat, "UNCOMPRESSED"),
		Buffering:   specBuffering(d.BufferingHints, destinationDefaultMBs(d)),
		Location:    loc,
		Extension:   ObjectExtension(d),
		Logging:     specLogging(d.CloudWatchLoggingOptions),
	}
	if st.Processing, err = ParseProcessing(d.ProcessingConfiguration); err != nil {
		return streamspec.Stream{}, fmt.Errorf("stream %s: %w", info.Name, err)
	}
	if l := &st.Processing.Lambda; l.Enabled && l.RoleARN == "" {
		// AWS shows the destination's role as the Lambda processor's RoleArn
		// when none is given.
		l.RoleARN = st.Destination.RoleARN
	}
	if dynamicPartitioningOn(d) {
		retry := DefaultPartitioningRetrySeconds
		if ro := d.DynamicPartitioningConfiguration.RetryOptions; ro != nil && ro.DurationInSeconds != nil {
			retry = *ro.DurationInSeconds
		}
		st.Partitioning = streamspec.Partitioning{Enabled: true, RetryDuration: time.Duration(retry) * time.Second}
	}
	if bucket := BackupBucketName(d); bucket != "" {
		b := d.S3BackupConfiguration
		bp, bep, err := keys.Resolve(b.Prefix, b.ErrorOutputPrefix)
		if err != nil {
			return streamspec.Stream{}, fmt.Errorf("stream %s: S3 backup: %w", info.Name, err)
		}
		compression := derefOr(b.CompressionFormat, "UNCOMPRESSED")
		st.Backup = streamspec.Backup{
			Enabled:     true,
			Bucket:      bucket,
			RoleARN:     deref(b.RoleARN),
			Prefix:      bp,
			ErrorPrefix: bep,
			Compression: compression,
			Buffering:   specBuffering(b.BufferingHints, 5),
			Extension:   compress.Extension(compression),
			Logging:     specLogging(b.CloudWatchLoggingOptions),
		}
	}
	return st, nil
}

// destinationDefaultMBs is SizeInMBs when BufferingHints is omitted: 128
// with format conversion, else 5.
func destinationDefaultMBs(d *ExtendedS3Destination) int {
	if dc := d.DataFormatConversionConfiguration; dc != nil && (dc.Enabled == nil || *dc.Enabled) {
		return 128
	}
	return 5
}

// specBuffering resolves BufferingHints (both members or neither; 300 s by
// default).
func specBuffering(h *BufferingHints, defaultMBs int) streamspec.Buffering {
	size, interval := defaultMBs, 300
	if h != nil {
		if h.SizeInMBs != nil {
			size = *h.SizeInMBs
		}
		if h.IntervalInSeconds != nil {
			interval = *h.IntervalInSeconds
		}
	}
	return streamspec.Buffering{Bytes: int64(size) << 20, Interval: time.Duration(interval) * time.Second}
}

func specLogging(o *CloudWatchLoggingOptions) streamspec.Logging {
	if o == nil {
		return streamspec.Logging{}
	}
	return streamspec.Logging{Enabled: isTrue(o.Enabled), Group: deref(o.LogGroupName), Stream: deref(o.LogStreamName)}
}

// specConversion resolves a DataFormatConversionConfiguration (Enabled when
// present and not turned off) with Firehose's defaults.
func specConversion(dc *DataFormatConversionConfiguration, region, account string) streamspec.Conversion {
	if dc == nil || (dc.Enabled != nil && !*dc.Enabled) {
		return streamspec.Conversion{}
	}
	c := streamspec.Conversion{
		Enabled:      true,
		Deserializer: streamspec.Deserializer{CaseInsensitive: true},
		Parquet: streamspec.Parquet{
			BlockSizeBytes: 256 << 20,
			PageSizeBytes:  1 << 20,
			Compression:    "SNAPPY",
			Dictionary:     true,
			WriterVersion:  "V1",
		},
	}
	if sc := dc.SchemaConfiguration; sc != nil {
		c.Schema = streamspec.Schema{
			RoleARN:   deref(sc.RoleARN),
			CatalogID: derefOr(sc.CatalogId, account),
			Region:    derefOr(sc.Region, region),
			Database:  deref(sc.DatabaseName),
			Table:     deref(sc.TableName),
			VersionID: derefOr(sc.VersionId, "LATEST"),
		}
	}
	if in := dc.InputFormatConfiguration; in != nil && in.Deserializer != nil {
		if h := in.Deserializer.HiveJsonSerDe; h != nil {
			c.Deserializer = streamspec.Deserializer{Hive: true, TimestampFormats: h.TimestampFormats}
		} else if ox := in.Deserializer.OpenXJsonSerDe; ox != nil {
			c.Deserializer.CaseInsensitive = ox.CaseInsensitive == nil || *ox.CaseInsensitive
			c.Deserializer.ConvertDots = isTrue(ox.ConvertDotsInJsonKeysToUnderscores)
			c.Deserializer.ColumnToJSONKey = ox.ColumnToJsonKeyMappings
		}
	}
	if out := dc.OutputFormatConfiguration; out != nil && out.Serializer != nil && out.Serializer.ParquetSerDe != nil {
		ps, p := out.Serializer.ParquetSerDe, &c.Parquet
		if ps.BlockSizeBytes != nil {
			p.BlockSizeBytes = int64(*ps.BlockSizeBytes)
		}
		if ps.PageSizeBytes != nil {
			p.PageSizeBytes = *ps.PageSizeBytes
		}
		p.Compression = derefOr(ps.Compression, p.Compression)
		if ps.EnableDictionaryCompression != nil {
			p.Dictionary = *ps.EnableDictionaryCompression
		}
		if ps.MaxPaddingBytes != nil {
			p.MaxPaddingBytes = *ps.MaxPaddingBytes
		}
		p.WriterVersion = derefOr(ps.WriterVersion, p.WriterVersion)
	}
	return c
}

// arnRegionAccount returns the region and account of an ARN
// (arn:PARTITION:SERVICE:REGION:ACCOUNT:...).
func arnRegionAccount(arn string) (region, account string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 5 {
		return "", ""
	}
	return parts[3], parts[4]
}

// derefOr is *p, or def when p is nil or empty.
func derefOr(p *string, def string) string {
	if p == nil || *p == "" {
		return def
	}
	return *p
}
