package awsproto

import (
	"strings"
	"testing"
)

func TestValidateFirehoseModel(t *testing.T) {
	m, err := LoadModel("firehose-2015-08-04")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		op   string
		body string
		want string // substring of the message; "" means valid
		typ  string
	}{
		{"valid create", "CreateDeliveryStream", `{"DeliveryStreamName":"clicks","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::analytics"}}`, "", ""},
		{"empty body is an empty input", "ListDeliveryStreams", ``, "", ""},
		{"missing name", "CreateDeliveryStream", `{}`,
			"1 validation error detected: Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null", ValidationException},
		{"name pattern", "DescribeDeliveryStream", `{"DeliveryStreamName":"bad name"}`,
			"Value 'bad name' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+", ValidationException},
		{"name too long", "DescribeDeliveryStream", `{"DeliveryStreamName":"` + strings.Repeat("a", 65) + `"}`,
			"Member must have length less than or equal to 64", ValidationException},
		{"enum", "CreateDeliveryStream", `{"DeliveryStreamName":"a","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::b","CompressionFormat":"SNAPPY"}}`,
			"Value 'SNAPPY' at 'extendedS3DestinationConfiguration.compressionFormat' failed to satisfy constraint: Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]", ValidationException},
		{"range", "CreateDeliveryStream", `{"DeliveryStreamName":"a","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::b","BufferingHints":{"SizeInMBs":129,"IntervalInSeconds":901}}}`,
			"2 validation errors detected: Value '129' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value less than or equal to 128; Value '901' at 'extendedS3DestinationConfiguration.bufferingHints.intervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 900", ValidationException},
		{"required nested", "CreateDeliveryStream", `{"DeliveryStreamName":"a","ExtendedS3DestinationConfiguration":{}}`,
			"2 validation errors detected: Value null at 'extendedS3DestinationConfiguration.roleARN' failed to satisfy constraint: Member must not be null; Value null at 'extendedS3DestinationConfiguration.bucketARN' failed to satisfy constraint: Member must not be null", ValidationException},
		{"role pattern", "CreateDeliveryStream", `{"DeliveryStreamName":"a","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::123:role/r","BucketARN":"arn:aws:s3:::b"}}`,
			"at 'extendedS3DestinationConfiguration.roleARN' failed to satisfy constraint: Member must satisfy regular expression pattern", ValidationException},
		{"list member path", "CreateDeliveryStream", `{"DeliveryStreamName":"a","ExtendedS3DestinationConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::b","ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Nope"}]}}}`,
			"Value 'Nope' at 'extendedS3DestinationConfiguration.processingConfiguration.processors.1.member.type' failed to satisfy constraint: Member must satisfy enum value set", ValidationException},
		{"tag key lookahead", "TagDeliveryStream", `{"DeliveryStreamName":"a","Tags":[{"Key":"aws:x"}]}`,
			"Value 'aws:x' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern", ValidationException},
		{"tag key unicode ok", "TagDeliveryStream", `{"DeliveryStreamName":"a","Tags":[{"Key":"équipe","Value":"données"}]}`, "", ""},
		{"blob too large", "PutRecord", `{"DeliveryStreamName":"a","Record":{"Data":"` + strings.Repeat("A", 1365336) + `"}}`,
			"Value 'java.nio.HeapByteBuffer[pos=0 lim=1024002 cap=1024002]' at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000", ValidationException},
		{"wrong type", "DescribeDeliveryStream", `{"DeliveryStreamName":5}`, "Expected a string for deliveryStreamName", SerializationException},
		{"not json", "DescribeDeliveryStream", `{`, "Could not parse request body", SerializationException},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Validate(tc.op, []byte(tc.body))
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if err.Type != tc.typ || !strings.Contains(err.Message, tc.want) {
				t.Fatalf("got %s %q\nwant %s containing %q", err.Type, err.Message, tc.typ, tc.want)
			}
		})
	}
}
