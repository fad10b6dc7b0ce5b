package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCatalogInfer infers a table with `hydrant catalog infer` from the
// objects a plain stream delivered, then converts the same records to
// Parquet with it: a user never writes the column list.
func TestCatalogInfer(t *testing.T) {
	t.Parallel()
	aws := requireTool(t, "aws")
	s := startServer(t)
	ctx := context.Background()
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := s.cli(ctx, aws, args...)
		if code != 0 {
			t.Fatalf("aws %s: %d %s %s", strings.Join(args[:2], " "), code, out, errOut)
		}
		return out
	}
	recs := []string{
		`{"id":1,"name":"a","price":1,"at":"2024-01-02T03:04:05Z","tags":["x"],"user":{"id":"u1","geo":{"lat":52.5}},"attrs":{"Color-Code":"red"}}`,
		`{"id":5000000000,"price":2.5,"ok":true,"user":{"roles":["admin"]}}`,
	}
	// A plain stream first: its objects are the sample.
	run("firehose", "create-delivery-stream", "--delivery-stream-name", "raw", "--extended-s3-destination-configuration",
		`{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::lake","Prefix":"raw/","BufferingHints":{"SizeInMBs":1,"IntervalInSeconds":0},"CompressionFormat":"GZIP"}`)
	var batch []map[string]string
	for _, r := range recs {
		batch = append(batch, map[string]string{"Data": r + "\n"})
	}
	b, _ := json.Marshal(batch)
	run("firehose", "put-record-batch", "--delivery-stream-name", "raw", "--records", string(b))
	waitFor(t, 20*time.Second, "raw object", func() bool { return len(s.bucketFiles("lake")) == 1 })

	out, errOut, code := runBinary(t, nil, s.awsEnv(), "catalog", "infer", "--endpoint", s.URL,
		"--bucket", "lake", "--prefix", "raw/", "--table", "Events", "--partition-keys", "year,month,day,hour")
	if code != 0 {
		t.Fatalf("catalog infer: %d %s %s", code, out, errOut)
	}
	var got struct {
		Table struct {
			StorageDescriptor struct{ Columns []struct{ Name, Type string } }
			PartitionKeys     []struct{ Name string }
		}
	}
	if err := json.Unmarshal([]byte(run("glue", "get-table", "--database-name", "default", "--name", "events")), &got); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range got.Table.StorageDescriptor.Columns {
		cols = append(cols, c.Name+" "+c.Type)
	}
	want := []string{"id bigint", "name string", "price double", "at timestamp", "tags array<string>",
		"user struct<id:string,geo:struct<lat:double>,roles:array<string>>", "attrs map<string,string>", "ok boolean"}
	if strings.Join(cols, "; ") != strings.Join(want, "; ") || len(got.Table.PartitionKeys) != 4 {
		t.Fatalf("inferred %q, partitions %v; want %q", cols, got.Table.PartitionKeys, want)
	}

	// Running it again makes a new table version.
	path := filepath.Join(t.TempDir(), "more.ndjson")
	if err := os.WriteFile(path, []byte(`{"id":"x1","extra":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, errOut, code := runBinary(t, nil, s.awsEnv(), "catalog", "infer", "--endpoint", s.URL, "--table", "events", path); code != 0 || !strings.Contains(out, "updated") {
		t.Fatalf("second infer: %d %s %s", code, out, errOut)
	}
	var versions struct{ TableVersions []struct{ VersionId string } }
	_ = json.Unmarshal([]byte(run("glue", "get-table-versions", "--database-name", "default", "--table-name", "events")), &versions)
	if len(versions.TableVersions) != 2 {
		t.Fatalf("versions %+v", versions)
	}
	run("glue", "update-table", "--database-name", "default", "--table-input",
		`{"Name":"events","StorageDescriptor":{"Columns":[`+columnsJSON(got.Table.StorageDescriptor.Columns)+`]}}`)

	// The inferred table converts the records.
	run("firehose", "create-delivery-stream", "--delivery-stream-name", "pq",
		"--extended-s3-destination-configuration", strings.Replace(fmt.Sprintf(parquetDest, "events"), `"Prefix":"processed-data/`, `"Prefix":"pq/`, 1))
	run("firehose", "put-record-batch", "--delivery-stream-name", "pq", "--records", string(b))
	var key string
	waitFor(t, 20*time.Second, "parquet object", func() bool {
		for k := range s.bucketFiles("lake") {
			if strings.HasSuffix(k, ".parquet") {
				key = k
			}
		}
		return key != ""
	})
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows := duckRows(t, db, `SELECT CAST(id AS VARCHAR), CAST(price AS VARCHAR), CAST("user" AS VARCHAR), CAST(attrs AS VARCHAR)
		FROM read_parquet(?) ORDER BY id`, filepath.Join(s.DataDir, "buckets", "lake", key))
	if fmt.Sprint(rows) != "[[1 1.0 {'id': u1, 'geo': {'lat': 52.5}, 'roles': NULL} {color-code=red}] [5000000000 2.5 {'id': NULL, 'geo': NULL, 'roles': [admin]} NULL]]" {
		t.Fatalf("rows %v", rows)
	}
}

func columnsJSON(cols []struct{ Name, Type string }) string {
	var parts []string
	for _, c := range cols {
		b, _ := json.Marshal(map[string]string{"Name": c.Name, "Type": c.Type})
		parts = append(parts, string(b))
	}
	return strings.Join(parts, ",")
}
