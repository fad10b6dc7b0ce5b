package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestS3APICLI runs the aws s3 and s3api commands people use, with the
// CLI v1 and v2, against the S3 API: mb, cp (a 20 MB file goes multipart),
// sync, ls, presign, rm, rb and the bucket configuration calls.
func TestS3APICLI(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	big := filepath.Join(t.TempDir(), "big.bin")
	data := make([]byte, 20<<20)
	_, _ = rand.Read(data)
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []struct{ name, aws string }{{"v1", "aws"}, {"v2", "/usr/bin/aws"}} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			if v.aws == "aws" {
				requireTool(t, "aws")
			} else if _, err := os.Stat(v.aws); err != nil {
				requireTool(t, v.aws)
			}
			ctx := t.Context()
			run := func(args ...string) string {
				t.Helper()
				out, errOut, code := s.cli(ctx, v.aws, args...)
				if code != 0 {
					t.Fatalf("aws %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
				}
				return out
			}
			fail := func(want string, args ...string) {
				t.Helper()
				out, errOut, code := s.cli(ctx, v.aws, args...)
				if code == 0 || !strings.Contains(errOut, want) {
					t.Fatalf("aws %s: exit %d, want an error with %q\n%s%s", strings.Join(args, " "), code, want, out, errOut)
				}
			}
			b := "cli-" + v.name
			run("s3", "mb", "s3://"+b)
			fail("BucketAlreadyOwnedByYou", "s3", "mb", "s3://"+b)
			if out := run("s3", "ls"); !strings.Contains(out, b) {
				t.Fatalf("s3 ls = %q", out)
			}

			dir := t.TempDir()
			run("s3", "cp", big, "s3://"+b+"/big/big.bin")
			run("s3", "cp", "s3://"+b+"/big/big.bin", filepath.Join(dir, "big.out"))
			if got, _ := os.ReadFile(filepath.Join(dir, "big.out")); !bytes.Equal(got, data) {
				t.Fatal("the 20 MB file came back different")
			}
			// Each CLI run costs a second or more: the s3api calls are split
			// between the two versions.
			if v.name == "v1" {
				var head struct {
					ETag          string
					ContentLength int64
				}
				if err := json.Unmarshal([]byte(run("s3api", "head-object", "--bucket", b, "--key", "big/big.bin")), &head); err != nil {
					t.Fatal(err)
				}
				if head.ContentLength != int64(len(data)) || !strings.Contains(head.ETag, "-") {
					t.Fatalf("head-object of the big file = %+v; want a multipart ETag", head)
				}
				run("s3api", "get-object", "--bucket", b, "--key", "big/big.bin", "--range", "bytes=100-199", filepath.Join(dir, "range.out"))
				if got, _ := os.ReadFile(filepath.Join(dir, "range.out")); !bytes.Equal(got, data[100:200]) {
					t.Fatal("get-object --range returned other bytes")
				}
			}

			src := filepath.Join(t.TempDir(), "tree")
			for name, body := range map[string]string{"a.txt": "a", "sub/b.txt": "b", "sub/deeper/c.json": `{"c":1}`} {
				p := filepath.Join(src, name)
				_ = os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			run("s3", "sync", src, "s3://"+b+"/tree/")
			if out := run("s3", "sync", src, "s3://"+b+"/tree/"); strings.Contains(out, "upload:") {
				t.Fatalf("a second sync uploaded again: %s", out)
			}
			back := filepath.Join(t.TempDir(), "back")
			run("s3", "sync", "s3://"+b+"/tree/", back)
			if got, _ := os.ReadFile(filepath.Join(back, "sub/deeper/c.json")); string(got) != `{"c":1}` {
				t.Fatalf("sync back: %q", got)
			}
			ls := run("s3", "ls", "s3://"+b, "--recursive")
			for _, k := range []string{"big/big.bin", "tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper/c.json"} {
				if !strings.Contains(ls, k) {
					t.Fatalf("s3 ls --recursive misses %s:\n%s", k, ls)
				}
			}

			url := strings.TrimSpace(run("s3", "presign", "s3://"+b+"/tree/a.txt", "--expires-in", "300"))
			resp, err := http.Get(url)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || string(body) != "a" {
				t.Fatalf("presigned GET = %d %q", resp.StatusCode, body)
			}

			fail("BucketNotEmpty", "s3", "rb", "s3://"+b)
			run("s3", "rm", "s3://"+b, "--recursive")
			run("s3", "rb", "s3://"+b)
			if v.name == "v1" {
				return
			}

			// The recipe's bucket calls, with the CLI v2 as the recipe.
			vb := b + "-versioned"
			run("s3", "mb", "s3://"+vb)
			run("s3api", "put-bucket-versioning", "--bucket", vb, "--versioning-configuration", "Status=Enabled")
			if out := run("s3api", "get-bucket-versioning", "--bucket", vb); !strings.Contains(out, `"Enabled"`) {
				t.Fatalf("get-bucket-versioning = %s", out)
			}
			run("s3api", "put-bucket-encryption", "--bucket", vb, "--server-side-encryption-configuration",
				`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`)
			if out := run("s3api", "get-bucket-encryption", "--bucket", vb); !strings.Contains(out, "AES256") {
				t.Fatalf("get-bucket-encryption = %s", out)
			}
			run("s3api", "put-bucket-tagging", "--bucket", vb, "--tagging", "TagSet=[{Key=team,Value=data}]")
			if out := run("s3api", "get-bucket-tagging", "--bucket", vb); !strings.Contains(out, `"data"`) {
				t.Fatalf("get-bucket-tagging = %s", out)
			}
			fail("NotImplemented", "s3api", "get-bucket-policy", "--bucket", vb)
			run("s3", "cp", filepath.Join(src, "a.txt"), "s3://"+vb+"/k")
			run("s3", "cp", filepath.Join(src, "sub/b.txt"), "s3://"+vb+"/k")
			run("s3", "rm", "s3://"+vb+"/k")
			var versions struct {
				Versions      []struct{ VersionId string }
				DeleteMarkers []struct{ VersionId string }
			}
			if err := json.Unmarshal([]byte(run("s3api", "list-object-versions", "--bucket", vb)), &versions); err != nil {
				t.Fatal(err)
			}
			if len(versions.Versions) != 2 || len(versions.DeleteMarkers) != 1 {
				t.Fatalf("list-object-versions = %+v", versions)
			}
			fail("BucketNotEmpty", "s3", "rb", "s3://"+vb)
		})
	}
}

// TestS3APIBoto3 drives the S3 API with boto3: objects with metadata,
// conditional and ranged reads, paginated listings of URL-encoded keys,
// upload_file through s3transfer's multipart, copies, batch deletes and
// presigned URLs.
func TestS3APIBoto3(t *testing.T) {
	t.Parallel()
	py := requireTool(t, "python3")
	s := startServer(t)
	script := `
import boto3, botocore, io, os, sys, urllib.request
from boto3.s3.transfer import TransferConfig
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
b = "boto3-bucket"
s3.create_bucket(Bucket=b)
r = s3.put_object(Bucket=b, Key="dir/a b+c.txt", Body=b"0123456789", ContentType="text/plain", Metadata={"who": "me"})
etag = r["ETag"]
g = s3.get_object(Bucket=b, Key="dir/a b+c.txt", Range="bytes=2-4")
assert g["Body"].read() == b"234" and g["ContentRange"] == "bytes 2-4/10", g
h = s3.head_object(Bucket=b, Key="dir/a b+c.txt")
assert h["Metadata"] == {"who": "me"} and h["ContentType"] == "text/plain", h
try:
    s3.get_object(Bucket=b, Key="dir/a b+c.txt", IfNoneMatch=etag)
    sys.exit("If-None-Match did not give 304")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "304", e.response
try:
    s3.get_object(Bucket=b, Key="nope")
    sys.exit("missing key read")
except s3.exceptions.NoSuchKey:
    pass
for i in range(12):
    s3.put_object(Bucket=b, Key="list/%02d é" % i, Body=b"x")
keys = []
for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b, Prefix="list/", PaginationConfig={"PageSize": 5}):
    keys += [o["Key"] for o in page.get("Contents", [])]
assert keys == ["list/%02d é" % i for i in range(12)], keys
page = s3.list_objects(Bucket=b, Delimiter="/")
assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["dir/", "list/"], page
data = os.urandom(12 * 1024 * 1024)
cfg = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
s3.upload_fileobj(io.BytesIO(data), b, "big.bin", Config=cfg)
assert s3.head_object(Bucket=b, Key="big.bin")["ETag"].endswith('-3"')
out = io.BytesIO()
s3.download_fileobj(b, "big.bin", out, Config=cfg)
assert out.getvalue() == data
s3.copy_object(Bucket=b, Key="copy.txt", CopySource={"Bucket": b, "Key": "dir/a b+c.txt"})
assert s3.get_object(Bucket=b, Key="copy.txt")["Body"].read() == b"0123456789"
url = s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "copy.txt"}, ExpiresIn=60)
assert urllib.request.urlopen(url).read() == b"0123456789"
d = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": k} for k in keys + ["big.bin", "copy.txt", "dir/a b+c.txt"]]})
assert len(d["Deleted"]) == 15 and not d.get("Errors"), d
assert s3.list_objects_v2(Bucket=b)["KeyCount"] == 0
s3.delete_bucket(Bucket=b)
print("ok")
`
	cmd := exec.CommandContext(t.Context(), py, "-c", script)
	cmd.Env = s.awsEnv()
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}
