package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// putEnv is an environment with no AWS configuration at all: hydrant put
// must find its way with its own defaults (dummy credentials, us-east-1).
func putEnv(extra ...string) []string {
	env := []string{}
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") {
			env = append(env, e)
		}
	}
	env = append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	return append(env, extra...)
}

// delivered returns the lines of every object under bucket/prefix once
// they add up to want bytes.
func delivered(t *testing.T, s *server, bucket, prefix string, want int) []string {
	t.Helper()
	var all bytes.Buffer
	waitFor(t, 20*time.Second, fmt.Sprintf("%d bytes in %s/%s", want, bucket, prefix), func() bool {
		all.Reset()
		for key, b := range s.bucketFiles(bucket) {
			if strings.HasPrefix(key, prefix) {
				all.Write(b)
			}
		}
		return all.Len() >= want
	})
	if all.Len() != want {
		t.Fatalf("delivered %d bytes, want %d", all.Len(), want)
	}
	lines := strings.SplitAfter(all.String(), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	slices.Sort(lines)
	return lines
}

func sortedLines(b []byte) []string {
	lines := strings.SplitAfter(string(b), "\n")
	lines = lines[:len(lines)-1]
	slices.Sort(lines)
	return lines
}

// TestPutCommand pipes files and stdin through `hydrant put` into a real
// hydrant and checks that every line arrives, once, as a line.
func TestPutCommand(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := sdkClient(s)
	for _, name := range []string{"put-files", "put-stdin"} {
		createStream(t, c, name, &types.ExtendedS3DestinationConfiguration{
			BucketARN:      aws.String("arn:aws:s3:::put"),
			Prefix:         aws.String(name + "/"),
			BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
		})
	}

	// Two files, 3 MB of lines of many sizes: several batches in flight.
	dir := t.TempDir()
	var all bytes.Buffer
	var files []string
	for f := range 2 {
		var b bytes.Buffer
		for i := range 6000 {
			fmt.Fprintf(&b, `{"file":%d,"n":%d,"pad":%q}`+"\n", f, i, strings.Repeat("p", i%500))
		}
		path := filepath.Join(dir, fmt.Sprintf("part-%d.jsonl", f))
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, path)
		all.Write(b.Bytes())
	}
	args := append([]string{"put", "--endpoint-url", s.URL, "--stream", "put-files"}, files...)
	_, stderr, code := runBinary(t, nil, putEnv(), args...)
	if code != 0 || !strings.Contains(stderr, "put put-files: 12000 records") || !strings.Contains(stderr, "; 0 failed") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if got, want := delivered(t, s, "put", "put-files/", all.Len()), sortedLines(all.Bytes()); !slices.Equal(got, want) {
		t.Fatalf("delivered lines differ from the files' (%d vs %d lines)", len(got), len(want))
	}

	// stdin, the endpoint from AWS_ENDPOINT_URL as the AWS tools take it,
	// and a last line without its newline, which gets one.
	in := []byte("alpha\n\nbeta\ngamma")
	_, stderr, code = runBinary(t, in, putEnv("AWS_ENDPOINT_URL="+s.URL), "put", "--stream", "put-stdin", "--concurrency", "1")
	if code != 0 || !strings.Contains(stderr, "3 records, 17 B") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if got := delivered(t, s, "put", "put-stdin/", 17); strings.Join(got, "") != "alpha\nbeta\ngamma\n" {
		t.Fatalf("delivered %q", got)
	}
}

// TestPutFailures checks the exit status when records cannot be delivered:
// an oversized line is skipped and counted, a missing stream stops the run.
func TestPutFailures(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	createStream(t, sdkClient(s), "put-limits", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::limits"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})
	in := []byte("small\n" + strings.Repeat("x", 1_024_000) + "\nlast\n")
	_, stderr, code := runBinary(t, in, putEnv(), "put", "--endpoint-url", s.URL, "--stream", "put-limits")
	if code != 1 || !strings.Contains(stderr, "2 records") || !strings.Contains(stderr, "1 failed (1 over 1024000 bytes)") ||
		!strings.Contains(stderr, "record too large") || !strings.Contains(stderr, "1 records not delivered") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	delivered(t, s, "limits", "", len("small\nlast\n"))

	_, stderr, code = runBinary(t, []byte("a\n"), putEnv(), "put", "--endpoint-url", s.URL, "--stream", "no-such-stream")
	if code != 1 || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
}
