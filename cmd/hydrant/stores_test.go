package main

import (
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

func parseStoreFlags(t *testing.T, args ...string) (storeFlags, error) {
	t.Helper()
	var f storeFlags
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.register(fs)
	return f, fs.Parse(args)
}

func TestBucketStoreFlag(t *testing.T) {
	for name, tt := range map[string]struct {
		args []string
		want string // bucketStores.String(), or the error's text
	}{
		"none":          {nil, ""},
		"two":           {[]string{"--bucket-store", "b-one=s3", "--bucket-store", "scratch=local"}, "b-one=s3,scratch=local"},
		"default":       {[]string{"--bucket-store", "*=s3"}, "*=s3"},
		"last wins":     {[]string{"--bucket-store", "abc=s3", "--bucket-store", "abc=local"}, "abc=local"},
		"no kind":       {[]string{"--bucket-store", "abc"}, "want NAME=local or NAME=s3"},
		"unknown kind":  {[]string{"--bucket-store", "abc=gcs"}, "want NAME=local or NAME=s3"},
		"bad bucket":    {[]string{"--bucket-store", "Bad_Name=s3"}, "invalid bucket or key"},
		"empty name":    {[]string{"--bucket-store", "=s3"}, "invalid bucket or key"},
		"endpoint flag": {[]string{"--s3-endpoint", "http://127.0.0.1:9000", "--s3-path-style"}, ""},
	} {
		t.Run(name, func(t *testing.T) {
			f, err := parseStoreFlags(t, tt.args...)
			got := f.buckets.String()
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) || (tt.want == "" && got != "") {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}

func TestOpenStoresDefault(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	local, err := objstore.NewLocal(filepath.Join(t.TempDir(), "buckets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()
	log := slog.New(slog.DiscardHandler)
	for name, tt := range map[string]struct {
		args     []string
		env      string
		bucket   string
		wantS3   bool
		wantSame bool // openStores returns local itself
	}{
		"local by default":        {nil, "", "any", false, true},
		"endpoint: S3 by default": {[]string{"--s3-endpoint", "http://127.0.0.1:9"}, "", "any", true, false},
		"env endpoint":            {nil, "http://127.0.0.1:9", "any", true, false},
		"one bucket to S3":        {[]string{"--bucket-store", "far=s3"}, "", "far", true, false},
		"others stay local":       {[]string{"--bucket-store", "far=s3"}, "", "near", false, false},
		"one bucket kept local":   {[]string{"--s3-endpoint", "http://127.0.0.1:9", "--bucket-store", "near=local"}, "", "near", false, false},
		"star makes S3 default":   {[]string{"--bucket-store", "*=s3"}, "", "any", true, false},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("AWS_ENDPOINT_URL_S3", tt.env)
			f, err := parseStoreFlags(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			s, err := openStores(t.Context(), f, "us-east-1", local, log)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantSame != (s == objstore.Store(local)) {
				t.Fatalf("openStores returned %T; local itself: %v", s, tt.wantSame)
			}
			target := s
			if r, ok := s.(*objstore.Router); ok {
				target = r.For(tt.bucket)
			}
			if _, isS3 := target.(*objstore.S3); isS3 != tt.wantS3 {
				t.Errorf("bucket %s goes to %T; want S3: %v", tt.bucket, target, tt.wantS3)
			}
		})
	}
}
