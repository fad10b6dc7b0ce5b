package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCLIQuickstart is the walkthrough with the machine's aws CLI v1:
// create a GZIP stream with a timestamped prefix, send a batch, and find
// exactly the bytes sent in one .gz object under raw/year=YYYY/.
func TestCLIQuickstart(t *testing.T) {
	t.Parallel()
	aws := requireTool(t, "aws")
	s := startServer(t)
	ctx := context.Background()

	out, errOut, code := s.cli(ctx, aws, "firehose", "create-delivery-stream",
		"--delivery-stream-name", "clicks", "--extended-s3-destination-configuration",
		"RoleARN=arn:aws:iam::000000000000:role/r,BucketARN=arn:aws:s3:::analytics,Prefix=\"raw/year=!{timestamp:yyyy}/\",ErrorOutputPrefix=\"errors/!{firehose:error-output-type}/\",BufferingHints={SizeInMBs=1,IntervalInSeconds=0},CompressionFormat=GZIP")
	if code != 0 {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	var created struct{ DeliveryStreamARN string }
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	if created.DeliveryStreamARN != "arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks" {
		t.Fatalf("ARN %q", created.DeliveryStreamARN)
	}

	var records []map[string]string
	var want bytes.Buffer
	for i := 0; i < 20; i++ {
		line := fmt.Sprintf(`{"event":"click","n":%d}`+"\n", i)
		want.WriteString(line)
		// CLI v1 base64-encodes blob members itself, so Data is the raw text.
		records = append(records, map[string]string{"Data": line})
	}
	recs, _ := json.Marshal(records)
	out, errOut, code = s.cli(ctx, aws, "firehose", "put-record-batch", "--delivery-stream-name", "clicks", "--records", string(recs))
	if code != 0 {
		t.Fatalf("put-record-batch: %d %s %s", code, out, errOut)
	}
	var put struct {
		FailedPutCount   int
		Encrypted        bool
		RequestResponses []struct{ RecordId, ErrorCode string }
	}
	if err := json.Unmarshal([]byte(out), &put); err != nil {
		t.Fatal(err)
	}
	if put.FailedPutCount != 0 || len(put.RequestResponses) != 20 {
		t.Fatalf("put response %s", out)
	}
	ids := map[string]bool{}
	for _, r := range put.RequestResponses {
		if r.RecordId == "" || ids[r.RecordId] {
			t.Fatalf("bad or duplicate RecordId in %s", out)
		}
		ids[r.RecordId] = true
	}

	year := time.Now().UTC().Format("2006")
	var files map[string][]byte
	waitFor(t, 10*time.Second, "object delivered", func() bool {
		files = s.bucketFiles("analytics")
		return len(files) > 0
	})
	var got bytes.Buffer
	for key, b := range files {
		dir, name := filepath.Split(key)
		if dir != "raw/year="+year+"/" {
			t.Errorf("key %q not under raw/year=%s/", key, year)
		}
		if !strings.HasPrefix(name, "clicks-1-"+year+"-") || !strings.HasSuffix(name, ".gz") {
			t.Errorf("object name %q", name)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		got.Write(readAll(t, zr))
	}
	if got.String() != want.String() {
		t.Fatalf("delivered bytes differ:\n got %q\nwant %q", got.String(), want.String())
	}
}

// TestCLIControlPlane walks the control plane through the CLI: describe with
// defaults, list paging, tags, update with version checks, errors, delete.
func TestCLIControlPlane(t *testing.T) {
	t.Parallel()
	aws := requireTool(t, "aws")
	s := startServer(t)
	ctx := context.Background()
	run := func(args ...string) map[string]any {
		t.Helper()
		out, errOut, code := s.cli(ctx, aws, args...)
		if code != 0 {
			t.Fatalf("aws %v: exit %d\n%s%s", args, code, out, errOut)
		}
		var m map[string]any
		if strings.TrimSpace(out) != "" {
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatalf("aws %v: %v in %q", args, err, out)
			}
		}
		return m
	}
	fail := func(wantType string, args ...string) string {
		t.Helper()
		out, errOut, code := s.cli(ctx, aws, args...)
		if code == 0 || !strings.Contains(errOut, "("+wantType+")") {
			t.Fatalf("aws %v: want %s, got exit %d\n%s%s", args, wantType, code, out, errOut)
		}
		return errOut
	}
	for _, n := range []string{"b-stream", "a-stream", "c-stream"} {
		run("firehose", "create-delivery-stream", "--delivery-stream-name", n,
			"--s3-destination-configuration", "RoleARN=arn:aws:iam::000000000000:role/r,BucketARN=arn:aws:s3:::bkt")
	}
	d := run("firehose", "describe-delivery-stream", "--delivery-stream-name", "a-stream")["DeliveryStreamDescription"].(map[string]any)
	if d["DeliveryStreamStatus"] != "ACTIVE" || d["VersionId"] != "1" || d["DeliveryStreamType"] != "DirectPut" {
		t.Fatalf("describe: %v", d)
	}
	dest := d["Destinations"].([]any)[0].(map[string]any)
	if dest["DestinationId"] != "destinationId-000000000001" {
		t.Fatalf("destination id %v", dest["DestinationId"])
	}
	ext := dest["ExtendedS3DestinationDescription"].(map[string]any)
	if _, ok := dest["S3DestinationDescription"]; !ok {
		t.Fatalf("S3DestinationDescription missing: %v", dest)
	}
	hints := ext["BufferingHints"].(map[string]any)
	if hints["SizeInMBs"] != 5.0 || hints["IntervalInSeconds"] != 300.0 || ext["CompressionFormat"] != "UNCOMPRESSED" ||
		ext["S3BackupMode"] != "Disabled" || ext["EncryptionConfiguration"].(map[string]any)["NoEncryptionConfig"] != "NoEncryption" {
		t.Fatalf("defaults not filled: %v", ext)
	}

	l := run("firehose", "list-delivery-streams", "--limit", "2")
	if fmt.Sprint(l["DeliveryStreamNames"]) != "[a-stream b-stream]" || l["HasMoreDeliveryStreams"] != true {
		t.Fatalf("list page 1: %v", l)
	}
	l = run("firehose", "list-delivery-streams", "--limit", "2", "--exclusive-start-delivery-stream-name", "b-stream")
	if fmt.Sprint(l["DeliveryStreamNames"]) != "[c-stream]" || l["HasMoreDeliveryStreams"] != false {
		t.Fatalf("list page 2: %v", l)
	}

	run("firehose", "tag-delivery-stream", "--delivery-stream-name", "a-stream", "--tags", "Key=team,Value=data", "Key=env,Value=dev")
	tags := run("firehose", "list-tags-for-delivery-stream", "--delivery-stream-name", "a-stream")
	if fmt.Sprint(tags["Tags"]) != "[map[Key:env Value:dev] map[Key:team Value:data]]" {
		t.Fatalf("tags %v", tags)
	}
	run("firehose", "untag-delivery-stream", "--delivery-stream-name", "a-stream", "--tag-keys", "env")
	tags = run("firehose", "list-tags-for-delivery-stream", "--delivery-stream-name", "a-stream")
	if fmt.Sprint(tags["Tags"]) != "[map[Key:team Value:data]]" {
		t.Fatalf("tags after untag %v", tags)
	}

	run("firehose", "update-destination", "--delivery-stream-name", "a-stream", "--current-delivery-stream-version-id", "1",
		"--destination-id", "destinationId-000000000001", "--extended-s3-destination-update", "CompressionFormat=GZIP,Prefix=logs/")
	d = run("firehose", "describe-delivery-stream", "--delivery-stream-name", "a-stream")["DeliveryStreamDescription"].(map[string]any)
	ext = d["Destinations"].([]any)[0].(map[string]any)["ExtendedS3DestinationDescription"].(map[string]any)
	if d["VersionId"] != "2" || ext["CompressionFormat"] != "GZIP" || ext["Prefix"] != "logs/" || ext["BucketARN"] != "arn:aws:s3:::bkt" {
		t.Fatalf("after update: %v", d)
	}
	fail("ConcurrentModificationException", "firehose", "update-destination", "--delivery-stream-name", "a-stream",
		"--current-delivery-stream-version-id", "1", "--destination-id", "destinationId-000000000001",
		"--extended-s3-destination-update", "CompressionFormat=ZIP")

	msg := fail("ResourceNotFoundException", "firehose", "describe-delivery-stream", "--delivery-stream-name", "nope")
	if !strings.Contains(msg, "Firehose nope under account 000000000000 not found.") {
		t.Fatalf("not found message: %s", msg)
	}
	fail("ResourceInUseException", "firehose", "create-delivery-stream", "--delivery-stream-name", "a-stream",
		"--s3-destination-configuration", "RoleARN=arn:aws:iam::000000000000:role/r,BucketARN=arn:aws:s3:::bkt")
	msg = fail("InvalidArgumentException", "firehose", "create-delivery-stream", "--delivery-stream-name", "px",
		"--extended-s3-destination-configuration", "RoleARN=arn:aws:iam::000000000000:role/r,BucketARN=arn:aws:s3:::bkt,Prefix=\"a/!{timestamp:yyyy}/\"")
	if !strings.Contains(msg, "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions") {
		t.Fatalf("prefix rule message: %s", msg)
	}
	msg = fail("InvalidArgumentException", "firehose", "create-delivery-stream", "--delivery-stream-name", "rs",
		"--redshift-destination-configuration", "RoleARN=arn:aws:iam::000000000000:role/r,ClusterJDBCURL=jdbc:redshift://x.redshift.amazonaws.com:5439/db,CopyCommand={DataTableName=t},Username=u,Password=password1,S3Configuration={RoleARN=arn:aws:iam::000000000000:role/r,BucketARN=arn:aws:s3:::bkt}")
	if !strings.Contains(msg, "RedshiftDestinationConfiguration") {
		t.Fatalf("unsupported destination message: %s", msg)
	}
	msg = fail("ValidationException", "firehose", "create-delivery-stream", "--delivery-stream-name", "bad name!",
		"--s3-destination-configuration", "RoleARN=arn:aws:iam::000000000000:role/r,BucketARN=arn:aws:s3:::bkt")
	if !strings.Contains(msg, "1 validation error detected: Value 'bad name!' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+") {
		t.Fatalf("validation message: %s", msg)
	}
	fail("InvalidArgumentException", "firehose", "create-delivery-stream", "--delivery-stream-name", "escape",
		"--extended-s3-destination-configuration", "RoleARN=arn:aws:iam::000000000000:role/r,BucketARN=arn:aws:s3:::bkt,Prefix=../../etc/")

	run("firehose", "delete-delivery-stream", "--delivery-stream-name", "c-stream")
	fail("ResourceNotFoundException", "firehose", "describe-delivery-stream", "--delivery-stream-name", "c-stream")
	if _, err := os.Stat(filepath.Join(s.DataDir, "streams", "ds-c-stream")); !os.IsNotExist(err) {
		t.Fatalf("stream dir not removed: %v", err)
	}
	_ = io.Discard
}
