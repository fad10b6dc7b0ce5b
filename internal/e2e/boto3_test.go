package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// boto3Script exercises hydrant with boto3 the way a Python producer would,
// and prints OK on success; any assertion failure exits non-zero.
const boto3Script = `
import os, sys, time, boto3, botocore
c = boto3.client("firehose", endpoint_url=os.environ["HYDRANT_URL"], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
c.create_delivery_stream(
    DeliveryStreamName="py",
    ExtendedS3DestinationConfiguration={
        "RoleARN": "arn:aws:iam::000000000000:role/r",
        "BucketARN": "arn:aws:s3:::pybucket",
        "Prefix": "events/!{timestamp:yyyy/MM/dd}/",
        "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
    },
    Tags=[{"Key": "owner", "Value": "py"}],
)
d = c.describe_delivery_stream(DeliveryStreamName="py")["DeliveryStreamDescription"]
assert d["DeliveryStreamStatus"] == "ACTIVE", d
assert d["DeliveryStreamARN"] == "arn:aws:firehose:us-east-1:000000000000:deliverystream/py", d
assert isinstance(d["CreateTimestamp"].year, int)
ext = d["Destinations"][0]["ExtendedS3DestinationDescription"]
assert ext["Prefix"] == "events/!{timestamp:yyyy/MM/dd}/", ext

r = c.put_record(DeliveryStreamName="py", Record={"Data": b"first\n"})
assert r["RecordId"] and r["Encrypted"] is False, r
r = c.put_record_batch(DeliveryStreamName="py", Records=[{"Data": ("rec-%d\n" % i).encode()} for i in range(499)])
assert r["FailedPutCount"] == 0 and len(r["RequestResponses"]) == 499, r

try:
    c.put_record(DeliveryStreamName="nope", Record={"Data": b"x"})
    sys.exit("expected ResourceNotFoundException")
except c.exceptions.ResourceNotFoundException as e:
    assert "Firehose nope under account 000000000000 not found." in str(e), e
try:
    c.update_destination(DeliveryStreamName="py", CurrentDeliveryStreamVersionId="7",
                         DestinationId="destinationId-000000000001", ExtendedS3DestinationUpdate={"CompressionFormat": "GZIP"})
    sys.exit("expected ConcurrentModificationException")
except c.exceptions.ConcurrentModificationException:
    pass
try:
    c.create_delivery_stream(DeliveryStreamName="py", S3DestinationConfiguration={
        "RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::pybucket"})
    sys.exit("expected ResourceInUseException")
except c.exceptions.ResourceInUseException:
    pass
try:
    c.create_delivery_stream(DeliveryStreamName="py2", ExtendedS3DestinationConfiguration={
        "RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::pybucket",
        "DynamicPartitioningConfiguration": {"Enabled": True}})
    sys.exit("expected InvalidArgumentException")
except c.exceptions.InvalidArgumentException as e:
    # AWS's own rule: the default 5 MiB buffer is too small for partitioning.
    assert "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled." in str(e), e
tags = c.list_tags_for_delivery_stream(DeliveryStreamName="py")
assert tags["Tags"] == [{"Key": "owner", "Value": "py"}] and tags["HasMoreTags"] is False, tags
names = c.list_delivery_streams()["DeliveryStreamNames"]
assert names == ["py"], names
print("OK")
`

func TestBoto3(t *testing.T) {
	t.Parallel()
	py := requireTool(t, "python3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not installed")
	}
	s := startServer(t)
	cmd := exec.CommandContext(context.Background(), py, "-c", boto3Script)
	cmd.Env = append(s.awsEnv(), "HYDRANT_URL="+s.URL)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || !bytes.Contains(out.Bytes(), []byte("OK")) {
		t.Fatalf("boto3 script: %v\n%s", err, out.String())
	}
	var got []byte
	waitFor(t, 10*time.Second, "500 records delivered", func() bool {
		got = nil
		for key, b := range s.bucketFiles("pybucket") {
			if filepath.Dir(key) != "events/"+time.Now().UTC().Format("2006/01/02") {
				t.Fatalf("unexpected key %q", key)
			}
			got = append(got, b...)
		}
		return bytes.Count(got, []byte("\n")) == 500
	})
}
