package e2e

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// parquetTable is a Glue table with every Hive type, as `aws glue
// create-table` takes it.
const parquetTable = `{"Name":"%s","StorageDescriptor":{"Columns":[
 {"Name":"id","Type":"int"},{"Name":"ok","Type":"boolean"},{"Name":"tiny","Type":"tinyint"},
 {"Name":"small","Type":"smallint"},{"Name":"big","Type":"bigint"},{"Name":"ratio","Type":"float"},
 {"Name":"price","Type":"double"},{"Name":"amount","Type":"decimal(12,2)"},{"Name":"name","Type":"string"},
 {"Name":"code","Type":"char(2)"},{"Name":"tag","Type":"varchar(3)"},{"Name":"raw","Type":"binary"},
 {"Name":"dt","Type":"date"},{"Name":"at","Type":"timestamp"},{"Name":"nums","Type":"array<bigint>"},
 {"Name":"attrs","Type":"map<string,string>"},
 {"Name":"user","Type":"struct<id:string,roles:array<string>,geo:struct<lat:double,lon:double>>"}],
 "Location":"s3://lake/processed-data/","InputFormat":"org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
 "OutputFormat":"org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
 "SerdeInfo":{"SerializationLibrary":"org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"}},
 "PartitionKeys":[{"Name":"year","Type":"string"},{"Name":"month","Type":"string"},{"Name":"day","Type":"string"},{"Name":"hour","Type":"string"}],
 "TableType":"EXTERNAL_TABLE"}`

// The recipe's destination, made valid for conversion: UNCOMPRESSED and a
// 64 MiB buffer (interval 0 so the test does not wait).
const parquetDest = `{"RoleARN":"arn:aws:iam::000000000000:role/firehose","BucketARN":"arn:aws:s3:::lake",
 "Prefix":"processed-data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
 "ErrorOutputPrefix":"error-data/","BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":0},"CompressionFormat":"UNCOMPRESSED",
 "DataFormatConversionConfiguration":{"Enabled":true,
  "SchemaConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/firehose","DatabaseName":"default","TableName":"%s"},
  "InputFormatConfiguration":{"Deserializer":{"OpenXJsonSerDe":{}}},
  "OutputFormatConfiguration":{"Serializer":{"ParquetSerDe":{"Compression":"SNAPPY"}}}}}`

// TestParquetDelivery creates a table with `aws glue create-table` and a
// converting stream with the aws CLI, sends good and bad records, and reads
// the delivered Parquet back with DuckDB value by value; the bad records
// are in the error output in Firehose's layout.
func TestParquetDelivery(t *testing.T) {
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
	run("glue", "create-table", "--database-name", "default", "--table-input", fmt.Sprintf(parquetTable, "streaming_etl_data"))
	var got struct {
		Table struct{ Name, VersionId, DatabaseName string }
	}
	if err := json.Unmarshal([]byte(run("glue", "get-table", "--database-name", "default", "--name", "streaming_etl_data")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Table.Name != "streaming_etl_data" || got.Table.DatabaseName != "default" {
		t.Fatalf("get-table: %+v", got)
	}
	run("firehose", "create-delivery-stream", "--delivery-stream-name", "etl",
		"--extended-s3-destination-configuration", fmt.Sprintf(parquetDest, "streaming_etl_data"))

	recs := []string{
		`{"id":1,"ok":true,"tiny":-5,"small":300,"big":9007199254740993,"ratio":0.5,"price":19.99,"amount":"1234.565",` +
			`"name":"caf\u00e9","code":"ABC","tag":"abcd","raw":"xyz","dt":"2024-06-30","at":"2024-06-30T12:34:56.789Z",` +
			`"nums":[1,2,3],"attrs":{"Color":"red"},"user":{"id":"u1","roles":["a","b"],"geo":{"lat":52.5,"lon":13.4}}}`,
		`{"ID":"2","price":"3","at":1719750896,"nums":[],"user":{"roles":null}}{"id":3}`,
		`not json at all`,
		`{"id":4,"price":"oops"}`,
		`[{"id":5}]`,
	}
	var batch []map[string]string
	for _, r := range recs {
		batch = append(batch, map[string]string{"Data": r})
	}
	b, _ := json.Marshal(batch)
	run("firehose", "put-record-batch", "--delivery-stream-name", "etl", "--records", string(b))

	var pq, errs string
	waitFor(t, 20*time.Second, "parquet and error objects", func() bool {
		pq, errs = "", ""
		for key := range s.bucketFiles("lake") {
			switch {
			case strings.HasPrefix(key, "processed-data/") && strings.HasSuffix(key, ".parquet"):
				pq = key
			case strings.HasPrefix(key, "error-data/"):
				errs = key
			}
		}
		return pq != "" && errs != ""
	})
	now := time.Now().UTC()
	if !strings.HasPrefix(pq, now.Format("processed-data/year=2006/month=01/day=02/")) || !strings.Contains(pq, "/etl-1-") {
		t.Errorf("object key %s", pq)
	}

	// Values, through the recipe's partitioned layout.
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(s.DataDir, "buckets", "lake", "processed-data", "*", "*", "*", "*", "*.parquet")
	rows := duckRows(t, db, `SELECT CAST(id AS VARCHAR), CAST(ok AS VARCHAR), CAST(tiny AS VARCHAR), CAST(small AS VARCHAR),
		CAST(big AS VARCHAR), CAST(ratio AS VARCHAR), CAST(price AS VARCHAR), CAST(amount AS VARCHAR), name, code, tag,
		hex(raw), CAST(dt AS VARCHAR), CAST(epoch_ms("at") AS VARCHAR), CAST(nums AS VARCHAR), CAST(attrs AS VARCHAR),
		CAST("user" AS VARCHAR), CAST(year AS VARCHAR) || '-' || CAST(month AS VARCHAR)
		FROM read_parquet(?, hive_partitioning = true) ORDER BY id`, glob)
	want := [][]string{
		{"1", "true", "-5", "300", "9007199254740993", "0.5", "19.99", "1234.57", "café", "AB", "abc", "78797A",
			"2024-06-30", "1719750896789", "[1, 2, 3]", "{color=red}",
			"{'id': u1, 'roles': [a, b], 'geo': {'lat': 52.5, 'lon': 13.4}}", now.Format("2006-1")},
		{"2", "NULL", "NULL", "NULL", "NULL", "NULL", "3.0", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
			"1719750896000", "[]", "NULL", "{'id': NULL, 'roles': NULL, 'geo': NULL}", now.Format("2006-1")},
		{"3", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL",
			"NULL", "NULL", "NULL", "NULL", now.Format("2006-1")},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %v", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], want[i])
		}
	}

	// Failures: one line per bad record, Firehose's layout.
	data, err := os.ReadFile(filepath.Join(s.DataDir, "buckets", "lake", errs))
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var f struct {
			AttemptsMade     int
			LastErrorCode    string
			LastErrorMessage string
			RawData          string
			DataCatalogTable map[string]string
		}
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("error record %q: %v", line, err)
		}
		raw, _ := base64.StdEncoding.DecodeString(f.RawData)
		codes = append(codes, f.LastErrorCode+" "+string(raw))
		if f.DataCatalogTable["tableName"] != "streaming_etl_data" || f.DataCatalogTable["databaseName"] != "default" ||
			f.DataCatalogTable["catalogId"] != "000000000000" || f.DataCatalogTable["region"] != "us-east-1" ||
			f.DataCatalogTable["versionId"] != "LATEST" || f.LastErrorMessage == "" {
			t.Errorf("error record %s", line)
		}
	}
	sort.Strings(codes)
	wantCodes := []string{
		"DataFormatConversion.MalformedData " + recs[3],
		"DataFormatConversion.ParseError " + recs[4],
		"DataFormatConversion.ParseError " + recs[2],
	}
	sort.Strings(wantCodes)
	if strings.Join(codes, "\n") != strings.Join(wantCodes, "\n") {
		t.Errorf("error records:\n%s\nwant\n%s", strings.Join(codes, "\n"), strings.Join(wantCodes, "\n"))
	}
	// SucceedConversion and FailedConversion count records (the second
	// record holds two objects, one record).
	if m := s.metric("firehose_failed_conversion_records_total", "etl"); m != 3 {
		t.Errorf("FailedConversion.Records %v, want 3", m)
	}
	if m := s.metric("firehose_succeed_conversion_records_total", "etl"); m != 2 {
		t.Errorf("SucceedConversion.Records %v, want 2", m)
	}
	if m := s.metric("firehose_failed_conversion_bytes_total", "etl"); m != float64(len(recs[2])+len(recs[3])+len(recs[4])) {
		t.Errorf("FailedConversion.Bytes %v", m)
	}
}

// TestParquetMissingTable: a stream whose table does not exist yet keeps
// its records buffered and retries, logging the error code, until the
// table is created.
func TestParquetMissingTable(t *testing.T) {
	t.Parallel()
	aws := requireTool(t, "aws")
	s := startServer(t)
	ctx := context.Background()
	run := func(args ...string) {
		t.Helper()
		out, errOut, code := s.cli(ctx, aws, args...)
		if code != 0 {
			t.Fatalf("aws %s: %d %s %s", strings.Join(args[:2], " "), code, out, errOut)
		}
	}
	run("firehose", "create-delivery-stream", "--delivery-stream-name", "late",
		"--extended-s3-destination-configuration", fmt.Sprintf(parquetDest, "later"))
	run("firehose", "put-record", "--delivery-stream-name", "late", "--record", `{"Data":"{\"id\":42}"}`)
	waitFor(t, 20*time.Second, "a logged retry", func() bool {
		return strings.Contains(s.logs.String(), "error_code=DataFormatConversion.EntityNotFound")
	})
	if files := s.bucketFiles("lake"); len(files) != 0 {
		t.Fatalf("delivered without a table: %v", files)
	}
	run("glue", "create-table", "--database-name", "default", "--table-input", fmt.Sprintf(parquetTable, "later"))
	var files map[string][]byte
	waitFor(t, 60*time.Second, "delivery after the table exists", func() bool {
		files = s.bucketFiles("lake")
		return len(files) == 1
	})
	for key := range files {
		if !strings.HasSuffix(key, ".parquet") {
			t.Fatalf("object %s", key)
		}
	}
}

func duckRows(t *testing.T, db *sql.DB, q string, args ...any) [][]string {
	t.Helper()
	rows, err := db.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = v.String
			}
		}
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestParquetEnabledByUpdate turns conversion on for an existing stream
// with UpdateDestination: the next objects are Parquet.
func TestParquetEnabledByUpdate(t *testing.T) {
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
	run("glue", "create-table", "--database-name", "default", "--table-input", fmt.Sprintf(parquetTable, "t"))
	run("firehose", "create-delivery-stream", "--delivery-stream-name", "up", "--extended-s3-destination-configuration",
		`{"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::lake","Prefix":"up/","BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":0}}`)
	var d struct {
		DeliveryStreamDescription struct {
			VersionId    string
			Destinations []struct {
				DestinationId                    string
				ExtendedS3DestinationDescription struct {
					DataFormatConversionConfiguration *struct{ Enabled bool }
				}
			}
		}
	}
	_ = json.Unmarshal([]byte(run("firehose", "describe-delivery-stream", "--delivery-stream-name", "up")), &d)
	dest := fmt.Sprintf(parquetDest, "t")
	var upd map[string]any
	_ = json.Unmarshal([]byte(dest), &upd)
	b, _ := json.Marshal(map[string]any{"DataFormatConversionConfiguration": upd["DataFormatConversionConfiguration"]})
	run("firehose", "update-destination", "--delivery-stream-name", "up", "--current-delivery-stream-version-id",
		d.DeliveryStreamDescription.VersionId, "--destination-id", d.DeliveryStreamDescription.Destinations[0].DestinationId,
		"--extended-s3-destination-update", string(b))
	_ = json.Unmarshal([]byte(run("firehose", "describe-delivery-stream", "--delivery-stream-name", "up")), &d)
	if c := d.DeliveryStreamDescription.Destinations[0].ExtendedS3DestinationDescription.DataFormatConversionConfiguration; c == nil || !c.Enabled {
		t.Fatalf("conversion not shown as enabled: %+v", d)
	}
	run("firehose", "put-record", "--delivery-stream-name", "up", "--record", `{"Data":"{\"id\":7}"}`)
	waitFor(t, 20*time.Second, "a Parquet object", func() bool {
		for k := range s.bucketFiles("lake") {
			if strings.HasPrefix(k, "up/") && strings.HasSuffix(k, ".parquet") && strings.Contains(k, "/up-2-") {
				return true
			}
		}
		return false
	})
}
