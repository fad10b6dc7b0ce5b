package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/compress"
)

// runCatalog serves `hydrant catalog <subcommand>`.
func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "infer" {
		_, _ = fmt.Fprint(stderr, `usage: hydrant catalog infer --table NAME [flags] [FILE ...]

  infer   read sample JSON records (NDJSON files, or the objects a stream
          delivered to a bucket, read through hydrant's S3 API) and create
          or update a Glue table with the inferred Hive types

Run 'hydrant catalog infer -h' for its flags.
`)
		return errors.New("catalog: a subcommand is required")
	}
	return catalogInfer(ctx, args[1:], stdout, stderr)
}

func catalogInfer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("catalog infer", flag.ContinueOnError)
	fset.SetOutput(stderr)
	database := fset.String("database", catalog.DefaultDatabase, "Glue database of the table")
	table := fset.String("table", "", "Glue table to create or update (required)")
	endpoint := fset.String("endpoint-url", "", "Glue and S3 endpoint (default: AWS_ENDPOINT_URL_GLUE / _S3 or AWS_ENDPOINT_URL, else "+defaultEndpoint+"), as hydrant put takes it")
	fset.StringVar(endpoint, "endpoint", "", "the same as --endpoint-url (older spelling)")
	region := fset.String("region", "", "AWS region (default: from the environment, else us-east-1)")
	bucket := fset.String("bucket", "", "also read the objects of this bucket (with --prefix) through the S3 API")
	prefix := fset.String("prefix", "", "key prefix of the objects to read from --bucket")
	partitions := fset.String("partition-keys", "", "comma-separated string partition keys, e.g. year,month,day,hour")
	location := fset.String("location", "", "table location, e.g. s3://bucket/processed-data/")
	maxRecords := fset.Int("max-records", 100000, "stop after this many records")
	dryRun := fset.Bool("dry-run", false, "print the inferred TableInput as JSON instead of calling Glue")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *table == "" {
		return errors.New("catalog infer: --table is required")
	}
	sources := fset.Args()
	if len(sources) == 0 && *bucket == "" {
		return errors.New("catalog infer: give NDJSON files (or - for stdin), or --bucket")
	}
	in := catalog.NewInferrer()
	for _, src := range sources {
		if in.Records() >= *maxRecords {
			break
		}
		if err := inferFromFile(in, src); err != nil {
			return fmt.Errorf("catalog infer: %s: %w", src, err)
		}
	}
	if *bucket != "" && in.Records() < *maxRecords {
		client, err := newS3Client(ctx, *endpoint, *region)
		if err != nil {
			return err
		}
		if err := inferFromBucket(ctx, in, client, *bucket, *prefix, *maxRecords); err != nil {
			return fmt.Errorf("catalog infer: bucket %s: %w", *bucket, err)
		}
	}
	if in.Records() == 0 {
		return errors.New("catalog infer: no records found")
	}
	var keys []string
	for _, k := range strings.Split(*partitions, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, strings.ToLower(k))
		}
	}
	ti := catalog.ParquetTableInput(strings.ToLower(*table), in.Columns(), keys, *location)
	if *dryRun {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(ti)
	}
	client, err := newGlueClient(ctx, *endpoint, *region)
	if err != nil {
		return err
	}
	verb, err := putTable(ctx, client, *database, ti)
	if err != nil {
		return fmt.Errorf("catalog infer: %w", err)
	}
	_, _ = fmt.Fprintf(stdout, "%s table %s.%s from %d records:\n", verb, *database, ti.Name, in.Records())
	for _, c := range ti.StorageDescriptor.Columns {
		_, _ = fmt.Fprintf(stdout, "  %-24s %s\n", c.Name, c.Type)
	}
	return nil
}

// inferFromBucket adds the records of a bucket's objects under prefix,
// read through the S3 API (hydrant's, or any S3), skipping Parquet and
// ORC objects (already converted).
func inferFromBucket(ctx context.Context, in *catalog.Inferrer, c *s3.Client, bucket, prefix string, maxRecords int) error {
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, ".parquet") || strings.HasSuffix(key, ".orc") {
				continue
			}
			if in.Records() >= maxRecords {
				return nil
			}
			obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			err = inferFrom(in, obj.Body, key)
			obj.Body.Close()
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
	}
	return nil
}

// inferFromFile adds one file's records (- is stdin).
func inferFromFile(in *catalog.Inferrer, path string) error {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	return inferFrom(in, r, path)
}

// inferFrom adds the records of r, decompressing by name the way Firehose
// names compressed objects.
func inferFrom(in *catalog.Inferrer, r io.Reader, name string) error {
	codec := ""
	switch {
	case strings.HasSuffix(name, ".gz"):
		codec = "GZIP"
	case strings.HasSuffix(name, ".zip"):
		codec = "ZIP"
	case strings.HasSuffix(name, ".snappy"):
		codec = "Snappy"
	}
	if codec != "" {
		rc, err := compress.NewReader(codec, r)
		if err != nil {
			return err
		}
		defer rc.Close()
		r = rc
	}
	return in.Add(r)
}

// newS3Client builds an S3 client as newGlueClient builds Glue's:
// path-style, as hydrant (and most S3-compatible services) address
// buckets.
func newS3Client(ctx context.Context, endpoint, region string) (*s3.Client, error) {
	cfg, endpoint, err := clientConfig(ctx, "catalog infer", endpoint, region)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = baseEndpoint(endpoint, o.BaseEndpoint)
		o.UsePathStyle = true
	}), nil
}

// newGlueClient builds a Glue client as the AWS tools do, with hydrant's
// fallbacks: the local endpoint, us-east-1 and dummy credentials.
func newGlueClient(ctx context.Context, endpoint, region string) (*glue.Client, error) {
	cfg, endpoint, err := clientConfig(ctx, "catalog infer", endpoint, region)
	if err != nil {
		return nil, err
	}
	return glue.NewFromConfig(cfg, func(o *glue.Options) {
		o.BaseEndpoint = baseEndpoint(endpoint, o.BaseEndpoint)
	}), nil
}

// putTable creates the table, or updates it (a new version) when it
// exists; a missing database is created.
func putTable(ctx context.Context, c *glue.Client, db string, ti catalog.TableInput) (string, error) {
	var in gluetypes.TableInput
	b, _ := json.Marshal(ti)
	if err := json.Unmarshal(b, &in); err != nil {
		return "", err
	}
	_, err := c.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String(db), Name: aws.String(ti.Name)})
	var nf *gluetypes.EntityNotFoundException
	switch {
	case err == nil:
		_, err = c.UpdateTable(ctx, &glue.UpdateTableInput{DatabaseName: aws.String(db), TableInput: &in})
		return "updated", err
	case !errors.As(err, &nf):
		return "", err
	}
	if _, err := c.GetDatabase(ctx, &glue.GetDatabaseInput{Name: aws.String(db)}); errors.As(err, &nf) {
		if _, err := c.CreateDatabase(ctx, &glue.CreateDatabaseInput{DatabaseInput: &gluetypes.DatabaseInput{Name: aws.String(db)}}); err != nil {
			return "", err
		}
	}
	_, err = c.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String(db), TableInput: &in})
	return "created", err
}
