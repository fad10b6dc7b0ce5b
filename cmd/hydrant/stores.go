package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// storeFlags choose where delivered objects go: the local store, or an
// S3-compatible service, per bucket.
type storeFlags struct {
	s3Endpoint  string
	s3PathStyle bool
	s3Region    string
	buckets     bucketStores
}

// register adds the object-store flags to fs.
func (f *storeFlags) register(fs *flag.FlagSet) {
	f.buckets = bucketStores{}
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "",
		"URL of an S3-compatible service to deliver to (also AWS_ENDPOINT_URL_S3); when set, buckets go to S3 by default")
	fs.BoolVar(&f.s3PathStyle, "s3-path-style", false, "address buckets as ENDPOINT/BUCKET/KEY (MinIO, versitygw, most self-hosted services)")
	fs.StringVar(&f.s3Region, "s3-region", "", "region to sign S3 requests for (default: --region)")
	fs.Var(f.buckets, "bucket-store",
		"NAME=local|s3: deliver bucket NAME to local disk or to S3 (repeatable; NAME * sets the default)")
}

// bucketStores maps bucket names ("*" for the default) to "local" or "s3".
type bucketStores map[string]string

func (b bucketStores) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(b)) {
		parts = append(parts, k+"="+b[k])
	}
	return strings.Join(parts, ",")
}

// Set parses one NAME=local|s3.
func (b bucketStores) Set(v string) error {
	name, kind, ok := strings.Cut(v, "=")
	if !ok || (kind != "local" && kind != "s3") {
		return fmt.Errorf("want NAME=local or NAME=s3, got %q", v)
	}
	if name != "*" {
		if err := objstore.ValidBucketName(name); err != nil {
			return err
		}
	}
	b[name] = kind
	return nil
}

// openStores builds the Store delivery writes to: local for buckets that
// stay on disk, an S3 store for the others. Without --bucket-store, every
// bucket goes to S3 when an S3 endpoint is configured (--s3-endpoint or
// AWS_ENDPOINT_URL_S3), else to local disk.
func openStores(ctx context.Context, f storeFlags, region string, local objstore.Store, log *slog.Logger) (objstore.Store, error) {
	def := f.buckets["*"]
	if def == "" {
		def = "local"
		if f.s3Endpoint != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != "" {
			def = "s3"
		}
	}
	var s3Buckets, localBuckets []string
	for _, name := range slices.Sorted(maps.Keys(f.buckets)) {
		switch {
		case name == "*":
		case f.buckets[name] == "s3":
			s3Buckets = append(s3Buckets, name)
		default:
			localBuckets = append(localBuckets, name)
		}
	}
	if def == "local" && len(s3Buckets) == 0 {
		return local, nil
	}

	if f.s3Region != "" {
		region = f.s3Region
	}
	s3, err := objstore.NewS3(ctx, objstore.S3Options{
		Endpoint:  f.s3Endpoint,
		Region:    region,
		PathStyle: f.s3PathStyle,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	endpoint := f.s3Endpoint
	if endpoint == "" {
		endpoint = "AWS SDK default (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or AWS)"
	}
	log.Info("delivering to S3", "endpoint", endpoint, "region", region, "path_style", f.s3PathStyle,
		"default_store", def, "s3_buckets", s3Buckets, "local_buckets", localBuckets)

	stores := map[string]objstore.Store{}
	for _, name := range s3Buckets {
		stores[name] = s3
	}
	for _, name := range localBuckets {
		stores[name] = local
	}
	if def == "s3" {
		return objstore.NewRouter(s3, stores), nil
	}
	return objstore.NewRouter(local, stores), nil
}
