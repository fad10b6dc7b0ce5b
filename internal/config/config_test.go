package config_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/hydrant-io/hydrant/internal/config"
	"github.com/hydrant-io/hydrant/internal/firehose"
)

// checker is a Firehose API without a backend, as hydrant validate uses.
func checker(t *testing.T) *firehose.Service {
	t.Helper()
	svc, err := firehose.NewService(nil, firehose.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func TestGoodFiles(t *testing.T) {
	svc := checker(t)
	tests := map[string][]string{ // file → stream names
		"testdata/good_minimal.yaml":  {"clicks"},
		"testdata/good_minimal.json":  {"clicks"},
		"testdata/good_full.yaml":     {"orders.v1", "orders.v2"},
		"testdata/good_empty.yaml":    nil,
		"testdata/good_anchors.yaml":  {"first", "alias-before", "second", "alias-after", "merged-after"},
		"../../examples/hydrant.yaml": {"clicks", "views", "logs"},
	}
	for file, want := range tests {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := config.Load(file, svc)
			if err != nil {
				t.Fatalf("want a valid file, got:\n%v", err)
			}
			var got []string
			for _, s := range f.Streams {
				got = append(got, s.Name)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Fatalf("streams %q, want %q", got, want)
			}
		})
	}
}

// TestBadFiles pairs each testdata/bad_* file with every problem it must
// report, in order, as hydrant validate prints them.
func TestBadFiles(t *testing.T) {
	svc := checker(t)
	const v = "ValidationException: "
	tests := map[string][]string{
		"bad_unknown_field.yaml": {
			`6: streams[0].ExtendedS3DestinationConfiguration: unknown field "BuferingHints" (did you mean "BufferingHints"?)`,
			`9: streams[0].ExtendedS3DestinationConfiguration: unknown field "compressionformat" (did you mean "CompressionFormat"?)`,
			`10: streams[0]: unknown field "DestinationConfiguration" (did you mean "S3DestinationConfiguration"?)`,
		},
		"bad_unknown_field.json": {
			`8: streams[0].ExtendedS3DestinationConfiguration.BufferingHints: unknown field "IntervalInSecs" (did you mean "IntervalInSeconds"?)`,
		},
		"bad_top_level.yaml": {
			`1: unknown field "stream" (expected streams, functions or tables)`,
			`3: functions: not supported yet (Lambda functions for processors come in a later release); leave it out or empty`,
			`5: tables: not supported yet (Glue tables for format conversion come in a later release); leave it out or empty`,
		},
		"bad_streams_not_list.yaml": {
			`2: streams: expected a list of CreateDeliveryStream requests, got a mapping`,
		},
		"bad_not_mapping.yaml": {
			`1: the top level must be a mapping with a streams: list`,
		},
		"bad_validation.yaml": {
			`2: streams[0].DeliveryStreamName: ` + v + `Value 'clicks!' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+`,
			`3: streams[0].ExtendedS3DestinationConfiguration: ` + v + `Value null at 'extendedS3DestinationConfiguration.roleARN' failed to satisfy constraint: Member must not be null`,
			`6: streams[0].ExtendedS3DestinationConfiguration.BufferingHints.SizeInMBs: ` + v + `Value '0' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value greater than or equal to 1`,
			`7: streams[0].ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds: ` + v + `Value '901' at 'extendedS3DestinationConfiguration.bufferingHints.intervalInSeconds' failed to satisfy constraint: Member must have value less than or equal to 900`,
			`8: streams[0].ExtendedS3DestinationConfiguration.CompressionFormat: ` + v + `Value 'SNAPPY' at 'extendedS3DestinationConfiguration.compressionFormat' failed to satisfy constraint: Member must satisfy enum value set: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]`,
			`9: streams[1]: ` + v + `Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null`,
		},
		"bad_rules.yaml": {
			`2: streams[0] (two-destinations): InvalidArgumentException: Exactly one destination configuration is supported for a Firehose`,
			`9: streams[1] (one-hint): InvalidArgumentException: BufferingHints: SizeInMBs and IntervalInSeconds must be specified together.`,
			`15: streams[2] (kms): InvalidArgumentException: EncryptionConfiguration.KMSEncryptionConfig (SSE-KMS of delivered objects) is not supported by hydrant yet.`,
		},
		"bad_duplicate_stream.yaml": {
			`6: streams[1] (clicks): stream "clicks" is already defined at line 2`,
		},
		"bad_types.yaml": {
			`5: streams[0].ExtendedS3DestinationConfiguration.BucketARN: expected a string, got a list`,
			`7: streams[0].ExtendedS3DestinationConfiguration.BufferingHints.SizeInMBs: expected an integer, got a string`,
			`8: streams[0].ExtendedS3DestinationConfiguration.BufferingHints.IntervalInSeconds: expected an integer, got a number`,
			`10: streams[0].ExtendedS3DestinationConfiguration.CloudWatchLoggingOptions.Enabled: expected true or false, got a string`,
			`12: streams[0].Tags: expected a list, got a mapping`,
		},
		"bad_syntax.yaml": {
			`4: could not find end character of double-quoted text`,
		},
		"bad_duplicate_key.yaml": {
			`6: mapping key "BucketARN" already defined at [5:7]`,
		},
		"bad_two_documents.yaml": {
			`3: a configuration file holds one document; found a second one`,
		},
	}
	files, _ := filepath.Glob("testdata/bad_*")
	if len(files) != len(tests) {
		t.Errorf("%d bad files in testdata, %d in the table", len(files), len(tests))
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			_, err := config.Load(path, svc)
			var ps config.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("want problems, got %v", err)
			}
			var got []string
			for _, p := range ps {
				got = append(got, strings.TrimPrefix(p.String(), path+":"))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// TestYAMLAndJSONAgree checks that a file and its JSON twin give the same
// request documents.
func TestYAMLAndJSONAgree(t *testing.T) {
	svc := checker(t)
	y, err := config.Load("testdata/good_minimal.yaml", svc)
	if err != nil {
		t.Fatal(err)
	}
	j, err := config.Load("testdata/good_minimal.json", svc)
	if err != nil {
		t.Fatal(err)
	}
	if string(y.Streams[0].Doc) != string(j.Streams[0].Doc) {
		t.Fatalf("YAML gives %s\nJSON gives %s", y.Streams[0].Doc, j.Streams[0].Doc)
	}
}

// TestScalarsFollowTheModel checks the documents built from good_full.yaml:
// scalars are typed by the model (CatalogId keeps its zeros, a tag value
// written true is the string "true"), merge keys fill in what the item
// leaves out, and ~ is null.
func TestScalarsFollowTheModel(t *testing.T) {
	f, err := config.Load("testdata/good_full.yaml", checker(t))
	if err != nil {
		t.Fatal(err)
	}
	var v1, v2 map[string]any
	if err := json.Unmarshal(f.Streams[0].Doc, &v1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(f.Streams[1].Doc, &v2); err != nil {
		t.Fatal(err)
	}
	dest := v1["ExtendedS3DestinationConfiguration"].(map[string]any)
	schema := dest["DataFormatConversionConfiguration"].(map[string]any)["SchemaConfiguration"].(map[string]any)
	if schema["CatalogId"] != "000000000000" || schema["TableName"] != "2024" {
		t.Errorf("schema %v: numbers where the model wants strings must keep their text", schema)
	}
	if hints := dest["BufferingHints"].(map[string]any); hints["SizeInMBs"] != 128.0 {
		t.Errorf("SizeInMBs %v, want the number 128", hints["SizeInMBs"])
	}
	tags, _ := json.Marshal(v1["Tags"])
	if string(tags) != `[{"Key":"cost-centre","Value":"000123"},{"Key":"pii","Value":"true"},{"Key":"empty"}]` {
		t.Errorf("tags %s", tags)
	}
	d2 := v2["ExtendedS3DestinationConfiguration"].(map[string]any)
	if d2["Prefix"] != "orders-v2/" || d2["BucketARN"] != "arn:aws:s3:::orders" || d2["CompressionFormat"] != "HADOOP_SNAPPY" {
		t.Errorf("merged destination %v", d2)
	}
	if p, ok := d2["ErrorOutputPrefix"]; !ok || p != nil {
		t.Errorf("ErrorOutputPrefix: ~ should override the merged value with null, got %v", p)
	}
}

// TestRedefinedAnchor: an alias stands for the latest definition of its
// anchor before it, as goccy/go-yaml decodes the file, for whole mappings,
// scalars and merge keys; keys of the mapping itself win over merged ones
// wherever they are written.
func TestRedefinedAnchor(t *testing.T) {
	const file = "testdata/good_anchors.yaml"
	f, err := config.Load(file, checker(t))
	if err != nil {
		t.Fatal(err)
	}
	type dest struct{ BucketARN, Prefix, ErrorOutputPrefix string }
	got := map[string]dest{}
	for _, s := range f.Streams {
		var doc struct{ ExtendedS3DestinationConfiguration dest }
		if err := json.Unmarshal(s.Doc, &doc); err != nil {
			t.Fatal(err)
		}
		got[s.Name] = doc.ExtendedS3DestinationConfiguration
	}
	want := map[string]dest{
		"first":        {"arn:aws:s3:::one", "one/", ""},
		"alias-before": {"arn:aws:s3:::one", "one/", ""},
		"second":       {"arn:aws:s3:::two", "two/", ""},
		"alias-after":  {"arn:aws:s3:::two", "two/", ""},
		"merged-after": {"arn:aws:s3:::two", "mine/", "two/"},
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: got %+v, want %+v", name, got[name], w)
		}
	}
	// The library's own reading of the file agrees.
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var lib map[string]any
	if err := yaml.Unmarshal(data, &lib); err != nil {
		t.Fatal(err)
	}
	for _, item := range lib["streams"].([]any) {
		s := item.(map[string]any)
		name := s["DeliveryStreamName"].(string)
		b := s["ExtendedS3DestinationConfiguration"].(map[string]any)["BucketARN"]
		if b != want[name].BucketARN {
			t.Errorf("goccy/go-yaml reads %s's BucketARN as %v, hydrant as %s", name, b, want[name].BucketARN)
		}
	}
}

func TestUnreadableFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "missing.yaml"), checker(t))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("want a not-exist error, got %v", err)
	}
}
