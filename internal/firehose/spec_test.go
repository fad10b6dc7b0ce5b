package firehose_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// specOf checks a CreateDeliveryStream document as the API does and
// resolves the stream it describes.
func specOf(t *testing.T, doc string) streamspec.Stream {
	t.Helper()
	svc, err := firehose.NewService(nil, firehose.Options{Region: "eu-west-1", AccountID: "123456789012", Features: firehose.Features{
		FormatConversion: true, DynamicPartitioning: true, S3Backup: true,
		Processors: map[string]bool{"Lambda": true, "MetadataExtraction": true, "AppendDelimiterToRecord": true,
			"RecordDeAggregation": true, "Decompression": true, "CloudWatchLogProcessing": true},
	}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := svc.CheckConfig([]byte(doc))
	if err != nil {
		t.Fatalf("CheckConfig: %v", err)
	}
	created := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	st, err := firehose.Spec(firehose.StreamInfo{
		StreamConfig: cfg, ARN: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/" + cfg.Name,
		Status: firehose.StatusActive, VersionID: 3, Created: created,
	})
	if err != nil {
		t.Fatalf("Spec: %v", err)
	}
	return st
}

func tmpl(t *testing.T, src string, kind keys.Kind) *keys.Template {
	t.Helper()
	tp, err := keys.Parse(src, kind)
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

const specRole = `"RoleARN":"arn:aws:iam::123456789012:role/r"`

// TestSpecDefaults: a stream that gives only what is required resolves
// with every default AWS applies.
func TestSpecDefaults(t *testing.T) {
	st := specOf(t, `{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{`+specRole+`,"BucketARN":"arn:aws:s3:::bkt"}}`)
	want := streamspec.Stream{
		Name: "s", ARN: "arn:aws:firehose:eu-west-1:123456789012:deliverystream/s",
		Region: "eu-west-1", AccountID: "123456789012", VersionID: 3,
		Revision: st.Revision,
		Destination: streamspec.Destination{
			Bucket:      "bkt",
			RoleARN:     "arn:aws:iam::123456789012:role/r",
			Prefix:      tmpl(t, "!{timestamp:yyyy/MM/dd/HH/}", keys.DataPrefix),
			ErrorPrefix: tmpl(t, "!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}", keys.ErrorPrefix),
			Compression: "UNCOMPRESSED",
			Buffering:   streamspec.Buffering{Bytes: 5 << 20, Interval: 300 * time.Second},
			Location:    time.UTC,
		},
	}
	if !reflect.DeepEqual(st, want) {
		t.Fatalf("spec\n%+v\nwant\n%+v", st, want)
	}
	if st.Revision == "" {
		t.Fatal("no Revision")
	}
}

// TestSpecEverything: each option resolves, with its own defaults where it
// leaves members out.
func TestSpecEverything(t *testing.T) {
	st := specOf(t, `{"DeliveryStreamName":"p","ExtendedS3DestinationConfiguration":{`+specRole+`,"BucketARN":"arn:aws:s3:::bkt",
		"Prefix":"c=!{partitionKeyFromQuery:c}/l=!{partitionKeyFromLambda:l}/","ErrorOutputPrefix":"err/!{firehose:error-output-type}/",
		"CustomTimeZone":"Europe/Paris","FileExtension":".pq",
		"CloudWatchLoggingOptions":{"Enabled":true,"LogGroupName":"/aws/kinesisfirehose/p","LogStreamName":"DestinationDelivery"},
		"DynamicPartitioningConfiguration":{"Enabled":true},
		"ProcessingConfiguration":{"Enabled":true,"Processors":[
			{"Type":"MetadataExtraction","Parameters":[{"ParameterName":"MetadataExtractionQuery","ParameterValue":"{c:.c}"},
				{"ParameterName":"JsonParsingEngine","ParameterValue":"JQ-1.6"}]},
			{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:eu-west-1:123456789012:function:f"}]},
			{"Type":"RecordDeAggregation","Parameters":[{"ParameterName":"SubRecordType","ParameterValue":"DELIMITED"},
				{"ParameterName":"Delimiter","ParameterValue":"fA=="}]},
			{"Type":"AppendDelimiterToRecord"}]},
		"S3BackupMode":"Enabled","S3BackupConfiguration":{`+specRole+`,"BucketARN":"arn:aws:s3:::bkp","Prefix":"raw/"},
		"DataFormatConversionConfiguration":{
			"SchemaConfiguration":{`+specRole+`,"DatabaseName":"db","TableName":"t"},
			"InputFormatConfiguration":{"Deserializer":{"OpenXJsonSerDe":{"ColumnToJsonKeyMappings":{"ts":"timestamp"}}}},
			"OutputFormatConfiguration":{"Serializer":{"ParquetSerDe":{"WriterVersion":"V2"}}}}}}`)
	paris, _ := time.LoadLocation("Europe/Paris")
	d := st.Destination
	if d.Location.String() != paris.String() || d.Extension != ".pq" || d.Compression != "UNCOMPRESSED" ||
		d.Buffering != (streamspec.Buffering{Bytes: 128 << 20, Interval: 300 * time.Second}) ||
		d.Prefix.String() != "c=!{partitionKeyFromQuery:c}/l=!{partitionKeyFromLambda:l}/" ||
		d.ErrorPrefix.String() != "err/!{firehose:error-output-type}/" ||
		d.Logging != (streamspec.Logging{Enabled: true, Group: "/aws/kinesisfirehose/p", Stream: "DestinationDelivery"}) {
		t.Errorf("destination %+v", d)
	}
	if st.Partitioning != (streamspec.Partitioning{Enabled: true, RetryDuration: 300 * time.Second}) {
		t.Errorf("partitioning %+v", st.Partitioning)
	}
	p := st.Processing
	wantLambda := streamspec.Lambda{Enabled: true, ARN: "arn:aws:lambda:eu-west-1:123456789012:function:f",
		RoleARN: "arn:aws:iam::123456789012:role/r", Retries: 3, BufferBytes: 1 << 20, BufferInterval: 60 * time.Second}
	if !p.Enabled || p.Lambda != wantLambda || !p.AppendDelimiter || p.Decompression != "" || p.CloudWatchLogs ||
		!reflect.DeepEqual(p.MetadataExtraction, streamspec.MetadataExtraction{Enabled: true, Query: "{c:.c}", Keys: []string{"c"}}) ||
		!reflect.DeepEqual(p.DeAggregation, streamspec.DeAggregation{Enabled: true, Delimiter: []byte("|")}) {
		t.Errorf("processing %+v", p)
	}
	b := st.Backup
	if !b.Enabled || b.Bucket != "bkp" || b.Compression != "UNCOMPRESSED" || b.Extension != "" ||
		b.Buffering != (streamspec.Buffering{Bytes: 5 << 20, Interval: 300 * time.Second}) ||
		b.Prefix.String() != "raw/!{timestamp:yyyy/MM/dd/HH/}" || !strings.HasPrefix(b.ErrorPrefix.String(), "raw/!{firehose:error-output-type}/") ||
		b.Logging.Enabled {
		t.Errorf("backup %+v", b)
	}
	c := st.Conversion
	want := streamspec.Conversion{
		Enabled: true,
		Schema: streamspec.Schema{RoleARN: "arn:aws:iam::123456789012:role/r", CatalogID: "123456789012", Region: "eu-west-1",
			Database: "db", Table: "t", VersionID: "LATEST"},
		Deserializer: streamspec.Deserializer{CaseInsensitive: true, ColumnToJSONKey: map[string]string{"ts": "timestamp"}},
		Parquet: streamspec.Parquet{BlockSizeBytes: 256 << 20, PageSizeBytes: 1 << 20, Compression: "SNAPPY",
			Dictionary: true, WriterVersion: "V2"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("conversion\n%+v\nwant\n%+v", c, want)
	}
}

// TestSpecConversionOptions: explicit serde options win over the defaults,
// and Hive's deserializer does not take OpenX's defaults.
func TestSpecConversionOptions(t *testing.T) {
	st := specOf(t, `{"DeliveryStreamName":"h","ExtendedS3DestinationConfiguration":{`+specRole+`,"BucketARN":"arn:aws:s3:::bkt",
		"BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60},
		"DataFormatConversionConfiguration":{
			"SchemaConfiguration":{`+specRole+`,"CatalogId":"999999999999","Region":"us-west-2","DatabaseName":"db","TableName":"t","VersionId":"7"},
			"InputFormatConfiguration":{"Deserializer":{"HiveJsonSerDe":{"TimestampFormats":["millis"]}}},
			"OutputFormatConfiguration":{"Serializer":{"ParquetSerDe":{"BlockSizeBytes":67108864,"PageSizeBytes":65536,
				"Compression":"GZIP","EnableDictionaryCompression":false,"MaxPaddingBytes":10}}}}}}`)
	want := streamspec.Conversion{
		Enabled: true,
		Schema: streamspec.Schema{RoleARN: "arn:aws:iam::123456789012:role/r", CatalogID: "999999999999", Region: "us-west-2",
			Database: "db", Table: "t", VersionID: "7"},
		Deserializer: streamspec.Deserializer{Hive: true, TimestampFormats: []string{"millis"}},
		Parquet: streamspec.Parquet{BlockSizeBytes: 64 << 20, PageSizeBytes: 64 << 10, Compression: "GZIP",
			MaxPaddingBytes: 10, WriterVersion: "V1"},
	}
	if !reflect.DeepEqual(st.Conversion, want) {
		t.Errorf("conversion\n%+v\nwant\n%+v", st.Conversion, want)
	}
	if st.Destination.Buffering != (streamspec.Buffering{Bytes: 64 << 20, Interval: time.Minute}) || st.Destination.Extension != ".parquet" {
		t.Errorf("destination %+v", st.Destination)
	}
	// Turned off: the settings are kept in the configuration, not used.
	off := specOf(t, `{"DeliveryStreamName":"h","ExtendedS3DestinationConfiguration":{`+specRole+`,"BucketARN":"arn:aws:s3:::bkt",
		"CompressionFormat":"GZIP","DataFormatConversionConfiguration":{"Enabled":false}}}`)
	if off.Conversion.Enabled || off.Destination.Extension != ".gz" || off.Destination.Buffering.Bytes != 5<<20 {
		t.Errorf("disabled conversion: %+v %+v", off.Conversion, off.Destination)
	}
}

// TestSpecRevision: an update or a new incarnation gives a new Revision.
func TestSpecRevision(t *testing.T) {
	info := firehose.StreamInfo{StreamConfig: firehose.StreamConfig{Name: "s"}, VersionID: 1, Created: time.Unix(1, 0)}
	revs := map[string]bool{}
	for _, f := range []func(){func() {}, func() { info.VersionID++ }, func() { info.Created = time.Unix(2, 0) }} {
		f()
		st, err := firehose.Spec(info)
		if err != nil {
			t.Fatal(err)
		}
		revs[st.Revision] = true
	}
	if len(revs) != 3 {
		t.Fatalf("revisions %v", revs)
	}
}
