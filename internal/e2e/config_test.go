package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

const configV1 = `streams:
  - DeliveryStreamName: from-config
    ExtendedS3DestinationConfiguration:
      RoleARN: arn:aws:iam::000000000000:role/firehose
      BucketARN: arn:aws:s3:::configured
      Prefix: v1/
      BufferingHints: {SizeInMBs: 1, IntervalInSeconds: 0}
    Tags:
      - Key: owner
        Value: e2e
  - DeliveryStreamName: from-config-json-style
    S3DestinationConfiguration: {"RoleARN": "arn:aws:iam::000000000000:role/firehose", "BucketARN": "arn:aws:s3:::configured"}
`

// TestServeConfig starts the real binary with --config, describes the
// streams through the Go SDK, delivers through one, and restarts with the
// same file (nothing changes) and with an edited one (an update).
func TestServeConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "hydrant.yaml")
	if err := os.WriteFile(path, []byte(configV1), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, "--config", path)
	c := sdkClient(s)

	describe := func(name string) *types.DeliveryStreamDescription {
		t.Helper()
		out, err := c.DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String(name)})
		if err != nil {
			t.Fatalf("describe %s: %v", name, err)
		}
		return out.DeliveryStreamDescription
	}
	d := describe("from-config")
	ext := d.Destinations[0].ExtendedS3DestinationDescription
	if d.DeliveryStreamStatus != types.DeliveryStreamStatusActive || aws.ToString(d.VersionId) != "1" ||
		aws.ToString(ext.Prefix) != "v1/" || aws.ToInt32(ext.BufferingHints.SizeInMBs) != 1 || ext.CompressionFormat != types.CompressionFormatUncompressed {
		t.Fatalf("described %+v / %+v", d, ext)
	}
	tags, err := c.ListTagsForDeliveryStream(ctx, &fh.ListTagsForDeliveryStreamInput{DeliveryStreamName: aws.String("from-config")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "e2e" {
		t.Fatalf("tags %+v, %v", tags, err)
	}
	if aws.ToString(describe("from-config-json-style").Destinations[0].S3DestinationDescription.BucketARN) != "arn:aws:s3:::configured" {
		t.Fatal("second stream not configured")
	}

	if _, err := c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("from-config"), Record: &types.Record{Data: []byte("hello\n")}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "delivery under v1/", func() bool {
		for key, b := range s.bucketFiles("configured") {
			if strings.HasPrefix(key, "v1/") && string(b) == "hello\n" {
				return true
			}
		}
		return false
	})

	// The same file again: an idempotent restart.
	s.Stop()
	s.Restart()
	if v := aws.ToString(describe("from-config").VersionId); v != "1" {
		t.Fatalf("VersionId %s after restarting with the same file, want 1", v)
	}

	// An edited file updates the destination through UpdateDestination's
	// rules: a new VersionId and the new prefix.
	if err := os.WriteFile(path, []byte(strings.Replace(configV1, "Prefix: v1/", "Prefix: v2/", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	s.Stop()
	s.Restart()
	d = describe("from-config")
	if aws.ToString(d.VersionId) != "2" || aws.ToString(d.Destinations[0].ExtendedS3DestinationDescription.Prefix) != "v2/" || d.LastUpdateTimestamp == nil {
		t.Fatalf("after the edit: VersionId %s, prefix %s", aws.ToString(d.VersionId), aws.ToString(d.Destinations[0].ExtendedS3DestinationDescription.Prefix))
	}
}

// runBinary runs hydrant with args and returns its output and exit code.
func runBinary(t *testing.T, stdin []byte, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run hydrant %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// TestServeRefusesBadConfig checks that a bad file stops the start, with
// the file, line and field in the message, and that nothing is created.
func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "hydrant.yaml")
	bad := strings.Replace(configV1, "BufferingHints:", "BuferingHints:", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runBinary(t, nil, os.Environ(), "serve", "--listen", freePort(t), "--data-dir", filepath.Join(dir, "data"), "--config", path)
	want := path + `:7: streams[0].ExtendedS3DestinationConfiguration: unknown field "BuferingHints" (did you mean "BufferingHints"?)`
	if code != 1 || !strings.Contains(stderr, want) {
		t.Fatalf("exit %d, stderr:\n%s\nwant it to contain %s", code, stderr, want)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "data", "streams")); len(entries) != 0 {
		t.Fatalf("a refused config created %d streams", len(entries))
	}
}

// TestValidateCommand runs hydrant validate on the shipped example and on
// a bad file.
func TestValidateCommand(t *testing.T) {
	t.Parallel()
	stdout, stderr, code := runBinary(t, nil, os.Environ(), "validate", "--config", "../../examples/hydrant.yaml")
	if code != 0 || stdout != "ok: 3 streams\n" {
		t.Fatalf("examples/hydrant.yaml: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = runBinary(t, nil, os.Environ(), "validate", "--config", "../config/testdata/bad_validation.yaml")
	if code != 1 || stdout != "" || strings.Count(stderr, "bad_validation.yaml:") != 7 ||
		!strings.Contains(stderr, "bad_validation.yaml:6: streams[0].ExtendedS3DestinationConfiguration.BufferingHints.SizeInMBs: ValidationException: ") {
		t.Fatalf("bad_validation.yaml: exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}
}
