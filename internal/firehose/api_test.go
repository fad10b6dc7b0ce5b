package firehose_test

import (
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/firehose"
)

// newAPI serves the Firehose API, with no optional features, over a real
// registry in a temp dir.
func newAPI(t *testing.T) func(op, body string) (int, map[string]any) {
	t.Helper()
	call, _ := newFeatureAPI(t, firehose.Features{})
	return call
}

const role = `"RoleARN":"arn:aws:iam::000000000000:role/r"`

func TestCreateRules(t *testing.T) {
	call := newAPI(t)
	tests := []struct {
		name string
		body string
		typ  string // "" = success
		msg  string // substring
	}{
		{"minimal extended", `{"DeliveryStreamName":"ok1","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"}}`, "", ""},
		{"minimal s3", `{"DeliveryStreamName":"ok2","S3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"}}`, "", ""},
		{"no destination", `{"DeliveryStreamName":"x"}`, "InvalidArgumentException", "Exactly one destination configuration is supported for a Firehose"},
		{"two destinations", `{"DeliveryStreamName":"x","S3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"},"ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"}}`, "InvalidArgumentException", "Exactly one destination"},
		{"kinesis source", `{"DeliveryStreamName":"x","DeliveryStreamType":"KinesisStreamAsSource","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"}}`, "InvalidArgumentException", "KinesisStreamAsSource"},
		{"sse", `{"DeliveryStreamName":"x","DeliveryStreamEncryptionConfigurationInput":{"KeyType":"AWS_OWNED_CMK"},"ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"}}`, "InvalidArgumentException", "DeliveryStreamEncryptionConfigurationInput"},
		{"kms objects", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","EncryptionConfiguration":{"KMSEncryptionConfig":{"AWSKMSKeyARN":"arn:aws:kms:us-east-1:000000000000:key/k"}}}}`, "InvalidArgumentException", "KMSEncryptionConfig"},
		{"format conversion", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","DataFormatConversionConfiguration":{}}}`, "InvalidArgumentException", "DataFormatConversionConfiguration"},
		{"format conversion disabled is kept", `{"DeliveryStreamName":"ok3","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","DataFormatConversionConfiguration":{"Enabled":false}}}`, "", ""},
		{"processor", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"AppendDelimiterToRecord"}]}}}`, "InvalidArgumentException", "AppendDelimiterToRecord"},
		{"backup", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","S3BackupMode":"Enabled"}}`, "InvalidArgumentException", "S3BackupMode"},
		{"dynamic partitioning", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","DynamicPartitioningConfiguration":{"Enabled":true}}}`, "InvalidArgumentException", "DynamicPartitioningConfiguration"},
		{"http endpoint", `{"DeliveryStreamName":"x","HttpEndpointDestinationConfiguration":{"EndpointConfiguration":{"Url":"https://example.com"},"S3Configuration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"}}}`, "InvalidArgumentException", "HttpEndpointDestinationConfiguration"},
		{"one hint only", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","BufferingHints":{"SizeInMBs":5}}}`, "InvalidArgumentException", "together"},
		{"hint range", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","BufferingHints":{"SizeInMBs":0,"IntervalInSeconds":0}}}`, "ValidationException", "Member must have value greater than or equal to 1"},
		{"bad time zone", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","CustomTimeZone":"Mars/Olympus"}}`, "InvalidArgumentException", "CustomTimeZone"},
		{"good time zone", `{"DeliveryStreamName":"ok4","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","CustomTimeZone":"Asia/Tokyo"}}`, "", ""},
		{"file extension pattern", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","FileExtension":".GZ"}}`, "ValidationException", "fileExtension"},
		{"prefix needs error prefix", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","Prefix":"a/!{timestamp:yyyy}/"}}`, "InvalidArgumentException", "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"},
		{"error prefix needs type", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","Prefix":"a/","ErrorOutputPrefix":"e/!{timestamp:yyyy}/"}}`, "InvalidArgumentException", "error-output-type"},
		{"malformed expression", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","Prefix":"a/!{nope}/","ErrorOutputPrefix":"e/"}}`, "InvalidArgumentException", ""},
		{"bad java pattern", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","Prefix":"a/!{timestamp:yyyyQQQQQQ}/","ErrorOutputPrefix":"e/!{firehose:error-output-type}"}}`, "InvalidArgumentException", ""},
		{"escaping prefix", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","Prefix":"../"}}`, "InvalidArgumentException", "not allowed"},
		{"absolute prefix", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket","Prefix":"/etc/"}}`, "InvalidArgumentException", "not allowed"},
		{"bucket with dots only", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::..."}}`, "InvalidArgumentException", "BucketARN"},
		{"bucket upper case", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::Bucket"}}`, "InvalidArgumentException", "BucketARN"},
		{"stream named dot dot", `{"DeliveryStreamName":"..","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"}}`, "", ""},
		{"duplicate", `{"DeliveryStreamName":"ok1","ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"}}`, "ResourceInUseException", "ok1"},
		{"role pattern", `{"DeliveryStreamName":"x","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::1:role/r","BucketARN":"arn:aws:s3:::bucket"}}`, "ValidationException", "roleARN"},
		{"tags duplicate", `{"DeliveryStreamName":"x","Tags":[{"Key":"a"},{"Key":"a"}],"ExtendedS3DestinationConfiguration":{` + role + `,"BucketARN":"arn:aws:s3:::bucket"}}`, "InvalidArgumentException", "Duplicate tag"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, m := call("CreateDeliveryStream", tc.body)
			if tc.typ == "" {
				if code != 200 {
					t.Fatalf("want success, got %d %v", code, m)
				}
				return
			}
			if code != 400 || m["__type"] != tc.typ || !strings.Contains(m["message"].(string), tc.msg) {
				t.Fatalf("got %d %v\nwant %s containing %q", code, m, tc.typ, tc.msg)
			}
		})
	}
}

func TestUpdateDestinationRules(t *testing.T) {
	call := newAPI(t)
	if code, m := call("CreateDeliveryStream", `{"DeliveryStreamName":"u","ExtendedS3DestinationConfiguration":{`+role+`,"BucketARN":"arn:aws:s3:::bucket","Prefix":"p/","BufferingHints":{"SizeInMBs":2,"IntervalInSeconds":60}}}`); code != 200 {
		t.Fatal(m)
	}
	upd := func(version, update string) (int, map[string]any) {
		return call("UpdateDestination", `{"DeliveryStreamName":"u","CurrentDeliveryStreamVersionId":"`+version+`","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":`+update+`}`)
	}
	if code, m := upd("1", `{"CompressionFormat":"ZIP"}`); code != 200 {
		t.Fatal(m)
	}
	_, d := call("DescribeDeliveryStream", `{"DeliveryStreamName":"u"}`)
	desc := d["DeliveryStreamDescription"].(map[string]any)
	ext := desc["Destinations"].([]any)[0].(map[string]any)["ExtendedS3DestinationDescription"].(map[string]any)
	if desc["VersionId"] != "2" || ext["CompressionFormat"] != "ZIP" || ext["Prefix"] != "p/" || ext["BufferingHints"].(map[string]any)["SizeInMBs"] != 2.0 {
		t.Fatalf("merge lost fields: %v", desc)
	}
	if _, ok := desc["LastUpdateTimestamp"]; !ok {
		t.Fatalf("LastUpdateTimestamp missing after update")
	}
	for _, tc := range []struct{ name, version, update, typ, msg string }{
		{"stale version", "1", `{"CompressionFormat":"GZIP"}`, "ConcurrentModificationException", ""},
		{"bad prefix", "2", `{"Prefix":"x/!{timestamp:yyyy}/"}`, "InvalidArgumentException", "ErrorOutputPrefix cannot be null"},
		{"enable dynamic partitioning later", "2", `{"DynamicPartitioningConfiguration":{"Enabled":true}}`, "InvalidArgumentException", "cannot be enabled on an existing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, m := upd(tc.version, tc.update)
			if code != 400 || m["__type"] != tc.typ || !strings.Contains(m["message"].(string), tc.msg) {
				t.Fatalf("got %d %v, want %s %q", code, m, tc.typ, tc.msg)
			}
		})
	}
	code, m := call("UpdateDestination", `{"DeliveryStreamName":"u","CurrentDeliveryStreamVersionId":"2","DestinationId":"destinationId-000000000009","ExtendedS3DestinationUpdate":{}}`)
	if code != 400 || m["__type"] != "InvalidArgumentException" {
		t.Fatalf("unknown destination id: %d %v", code, m)
	}
	_, d = call("DescribeDeliveryStream", `{"DeliveryStreamName":"u"}`)
	if d["DeliveryStreamDescription"].(map[string]any)["VersionId"] != "2" {
		t.Fatalf("a refused update changed the version: %v", d)
	}
}

func TestUnknownOperationAndEmptyBody(t *testing.T) {
	call := newAPI(t)
	code, m := call("Nope", `{}`)
	if code != 400 || m["__type"] != "UnknownOperationException" {
		t.Fatalf("unknown op: %d %v", code, m)
	}
	code, m = call("ListDeliveryStreams", ``)
	if code != 200 || m["HasMoreDeliveryStreams"] != false {
		t.Fatalf("empty body: %d %v", code, m)
	}
	code, m = call("PutRecordBatch", `{"DeliveryStreamName":"none","Records":[{"Data":"eA=="}]}`)
	if code != 400 || m["__type"] != "ResourceNotFoundException" {
		t.Fatalf("put to missing stream: %d %v", code, m)
	}
}
