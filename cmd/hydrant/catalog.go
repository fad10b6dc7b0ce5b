package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/compress"
)

// runCatalog serves `hydrant catalog <subcommand>`.
func runCatalog(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "infer" {
		_, _ = fmt.Fprint(stderr, `usage: hydrant catalog infer --table NAME [flags] [FILE ...]

  infer   read sample JSON records (NDJSON files, or the objects a stream
          delivered to a local bucket) and create or update a Glue table
          with the inferred Hive types

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
	endpoint := fset.String("endpoint-url", "", "Glue endpoint (default: AWS_ENDPOINT_URL_GLUE or AWS_ENDPOINT_URL, else "+defaultEndpoint+"), as hydrant put takes it")
	fset.StringVar(endpoint, "endpoint", "", "the same as --endpoint-url (older spelling)")
	region := fset.String("region", "", "AWS region (default: from the environment, else us-east-1)")
	dataDir := fset.String("data-dir", "./hydrant-data", "hydrant's data dir, for --bucket")
	bucket := fset.String("bucket", "", "read the objects delivered to this local bucket (with --prefix) instead of files")
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
	if *bucket != "" {
		objs, err := bucketObjects(filepath.Join(*dataDir, "buckets", *bucket), *prefix)
		if err != nil {
			return err
		}
		sources = append(sources, objs...)
	}
	if len(sources) == 0 {
		return errors.New("catalog infer: give NDJSON files (or - for stdin), or --bucket")
	}
	in := catalog.NewInferrer()
	for _, src := range sources {
		if in.Records() >= *maxRecords {
			break
		}
		if err := inferFrom(in, src); err != nil {
			return fmt.Errorf("catalog infer: %s: %w", src, err)
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

// bucketObjects lists the delivered objects under root/prefix, skipping
// Parquet and ORC objects (already converted) and hydrant's temporaries.
func bucketObjects(root, prefix string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() || !strings.HasPrefix(rel, prefix) || strings.HasPrefix(d.Name(), ".") ||
			strings.HasSuffix(p, ".parquet") || strings.HasSuffix(p, ".orc") {
			return nil
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("catalog infer: read bucket: %w", err)
	}
	return out, nil
}

// inferFrom adds one file's records, decompressing by extension the way
// Firehose names compressed objects.
func inferFrom(in *catalog.Inferrer, path string) error {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	codec := ""
	switch {
	case strings.HasSuffix(path, ".gz"):
		codec = "GZIP"
	case strings.HasSuffix(path, ".zip"):
		codec = "ZIP"
	case strings.HasSuffix(path, ".snappy"):
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
