package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recipeTable is the Glue table for the recipe's Lambda output
// (default.streaming_etl_data), with the recipe's partitioning.
const recipeTable = `{"Name":"streaming_etl_data","TableType":"EXTERNAL_TABLE",
 "StorageDescriptor":{"Columns":[{"Name":"timestamp","Type":"timestamp"},{"Name":"event_type","Type":"string"},
  {"Name":"user_id","Type":"string"},{"Name":"session_id","Type":"string"},{"Name":"page_url","Type":"string"},
  {"Name":"referrer","Type":"string"},{"Name":"user_agent","Type":"string"},{"Name":"ip_address","Type":"string"},
  {"Name":"processed_by","Type":"string"},{"Name":"processing_timestamp","Type":"double"}],
  "Location":"s3://etl-bucket/processed-data/"},
 "PartitionKeys":[{"Name":"year","Type":"string"},{"Name":"month","Type":"string"},{"Name":"day","Type":"string"},{"Name":"hour","Type":"string"}]}`

// TestRecipeParquet is the recipe end to end with format conversion: the
// recipe's Lambda function transforms the records, they are converted to
// Parquet with the table above and delivered partitioned by
// year/month/day/hour, and DuckDB queries them with Hive partitioning.
func TestRecipeParquet(t *testing.T) {
	t.Parallel()
	aws := requireTool(t, "aws")
	requireTool(t, "python3")
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := s.cli(ctx, aws, args...)
		if code != 0 {
			t.Fatalf("aws %s: exit %d\n%s%s", strings.Join(args[:2], " "), code, out, errOut)
		}
		return out
	}
	run("glue", "create-table", "--database-name", "default", "--table-input", recipeTable)
	zipPath := zipFile(t, "lambda_function.py", recipeFunction)
	run("lambda", "create-function", "--function-name", "etl-transform", "--runtime", "python3.12",
		"--role", "arn:aws:iam::000000000000:role/lambda-role", "--handler", "lambda_function.lambda_handler",
		"--zip-file", "fileb://"+zipPath, "--timeout", "300")
	run("lambda", "wait", "function-active", "--function-name", "etl-transform")
	cfg := `{"DeliveryStreamName":"etl","DeliveryStreamType":"DirectPut","ExtendedS3DestinationConfiguration":{
  "RoleARN":"arn:aws:iam::000000000000:role/firehose-role","BucketARN":"arn:aws:s3:::etl-bucket",
  "Prefix":"processed-data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
  "ErrorOutputPrefix":"error-data/","BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":0},"CompressionFormat":"UNCOMPRESSED",
  "ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"Lambda","Parameters":[
    {"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:etl-transform"},
    {"ParameterName":"BufferSizeInMBs","ParameterValue":"1"},{"ParameterName":"BufferIntervalInSeconds","ParameterValue":"60"}]}]},
  "DataFormatConversionConfiguration":{"Enabled":true,
    "SchemaConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/firehose-role","DatabaseName":"default","TableName":"streaming_etl_data"},
    "InputFormatConfiguration":{"Deserializer":{"OpenXJsonSerDe":{}}},
    "OutputFormatConfiguration":{"Serializer":{"ParquetSerDe":{"Compression":"SNAPPY"}}}}}}`
	cfgPath := filepath.Join(t.TempDir(), "firehose-config.json")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	run("firehose", "create-delivery-stream", "--cli-input-json", "file://"+cfgPath)
	var batch []map[string]string
	for _, ev := range []string{
		`{"event_type":"page_view","user_id":"user123","session_id":"session456","page_url":"https://example.com/products"}`,
		`{"event_type":"click","user_id":"user456","session_id":"session789","page_url":"https://example.com/checkout"}`,
		`invalid-json-data`,
	} {
		batch = append(batch, map[string]string{"Data": ev}) // CLI v1 base64-encodes blobs itself
	}
	b, _ := json.Marshal(batch)
	run("firehose", "put-record-batch", "--delivery-stream-name", "etl", "--records", string(b))

	var files map[string][]byte
	waitFor(t, 60*time.Second, "a Parquet object and the processing failure", func() bool {
		files = s.bucketFiles("etl-bucket")
		var pq, failed bool
		for k := range files {
			pq = pq || strings.HasPrefix(k, "processed-data/year=") && strings.HasSuffix(k, ".parquet")
			failed = failed || strings.HasPrefix(k, "error-data/processing-failed/")
		}
		return pq && failed
	})
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	glob := filepath.Join(s.DataDir, "buckets", "etl-bucket", "processed-data", "*", "*", "*", "*", "*.parquet")
	rows := duckRows(t, db, `SELECT event_type, user_id, session_id, processed_by, typeof("timestamp"),
		CAST(abs(epoch("timestamp") - processing_timestamp) < 5 AS VARCHAR), year || '-' || month || '-' || day
		FROM read_parquet(?, hive_partitioning = true, hive_types_autocast = false) ORDER BY user_id`, glob)
	day := time.Now().UTC().Format("2006-01-02")
	want := "[[page_view user123 session456 lambda-firehose-transform TIMESTAMP WITH TIME ZONE true " + day + "] " +
		"[click user456 session789 lambda-firehose-transform TIMESTAMP WITH TIME ZONE true " + day + "]]"
	if got := fmtRows(rows); got != want {
		t.Fatalf("DuckDB read\n%s\nwant\n%s", got, want)
	}
}

func fmtRows(rows [][]string) string {
	var parts []string
	for _, r := range rows {
		parts = append(parts, "["+strings.Join(r, " ")+"]")
	}
	return "[" + strings.Join(parts, " ") + "]"
}
