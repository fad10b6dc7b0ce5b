package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkathena "github.com/aws/aws-sdk-go-v2/service/athena"
	atypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/glue"
)

// athenaClient is an Athena client for s.
func athenaClient(s *server) *sdkathena.Client {
	return sdkathena.New(sdkathena.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
}

// sdkQuery runs SQL with the Go SDK to a final state and returns the
// execution and, when it succeeded, every result row (header included).
func sdkQuery(t *testing.T, c *sdkathena.Client, sql string) (*atypes.QueryExecution, [][]string) {
	t.Helper()
	ctx := context.Background()
	start, err := c.StartQueryExecution(ctx, &sdkathena.StartQueryExecutionInput{QueryString: aws.String(sql),
		QueryExecutionContext: &atypes.QueryExecutionContext{Database: aws.String("default")}})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var qe *atypes.QueryExecution
	waitFor(t, 60*time.Second, "query "+sql, func() bool {
		out, err := c.GetQueryExecution(ctx, &sdkathena.GetQueryExecutionInput{QueryExecutionId: start.QueryExecutionId})
		if err != nil {
			t.Fatal(err)
		}
		qe = out.QueryExecution
		switch qe.Status.State {
		case atypes.QueryExecutionStateSucceeded, atypes.QueryExecutionStateFailed, atypes.QueryExecutionStateCancelled:
			return true
		}
		return false
	})
	if qe.Status.State != atypes.QueryExecutionStateSucceeded {
		return qe, nil
	}
	var rows [][]string
	p := sdkathena.NewGetQueryResultsPaginator(c, &sdkathena.GetQueryResultsInput{QueryExecutionId: start.QueryExecutionId, MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.ResultSet.Rows {
			var vals []string
			for _, d := range r.Data {
				if d.VarCharValue == nil {
					vals = append(vals, "NULL")
				} else {
					vals = append(vals, *d.VarCharValue)
				}
			}
			rows = append(rows, vals)
		}
	}
	return qe, rows
}

// cliQuery runs SQL with an aws CLI (v1 or v2) and returns the result rows
// as the CLI prints them with --output text.
func cliQuery(t *testing.T, s *server, aws, sql string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, errOut, code := s.cli(ctx, aws, "athena", "start-query-execution", "--query-string", sql,
		"--query-execution-context", "Database=default", "--result-configuration", "OutputLocation=s3://athena-results/cli/")
	if code != 0 {
		t.Fatalf("%s start-query-execution: %s%s", aws, out, errOut)
	}
	var start struct{ QueryExecutionId string }
	if err := json.Unmarshal([]byte(out), &start); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "the query", func() bool {
		out, errOut, code := s.cli(ctx, aws, "athena", "get-query-execution", "--query-execution-id", start.QueryExecutionId,
			"--query", "QueryExecution.Status.State", "--output", "text")
		if code != 0 {
			t.Fatalf("get-query-execution: %s%s", out, errOut)
		}
		state := strings.TrimSpace(out)
		if state == "FAILED" || state == "CANCELLED" {
			t.Fatalf("%s: %s", sql, state)
		}
		return state == "SUCCEEDED"
	})
	out, errOut, code = s.cli(ctx, aws, "athena", "get-query-results", "--query-execution-id", start.QueryExecutionId,
		"--query", "ResultSet.Rows[].Data[].VarCharValue", "--output", "text")
	if code != 0 {
		t.Fatalf("get-query-results: %s%s", out, errOut)
	}
	return strings.Join(strings.Fields(out), " ")
}

// queryRecipe queries the recipe's table (default.streaming_etl_data)
// after its records arrived: the aws CLI v1 and v2, boto3, the Go SDK and
// hydrant query, each with the same SQL Athena would run.
func queryRecipe(t *testing.T, s *server) {
	const sql = `SELECT event_type, user_id, date_trunc('hour', "timestamp") > TIMESTAMP '2020-01-01 00:00:00' AS recent
		FROM streaming_etl_data WHERE year = CAST(year(current_date) AS varchar) ORDER BY user_id`
	const want = "event_type user_id recent page_view user123 true click user456 true"
	if got := cliQuery(t, s, "aws", sql); got != want {
		t.Errorf("CLI v1: %s\nwant %s", got, want)
	}
	if v2, err := exec.LookPath("/usr/bin/aws"); err == nil {
		if got := cliQuery(t, s, v2, sql); got != want {
			t.Errorf("CLI v2: %s\nwant %s", got, want)
		}
	}
	c := athenaClient(s)
	qe, rows := sdkQuery(t, c, sql)
	if fmtRows(rows) != "[[event_type user_id recent] [page_view user123 true] [click user456 true]]" || *qe.Statistics.DataScannedInBytes <= 0 {
		t.Errorf("Go SDK: %v, scanned %d", rows, *qe.Statistics.DataScannedInBytes)
	}
	out, err := exec.Command(binary, "query", "--endpoint-url", s.URL, "--format", "json",
		"SELECT user_id, count(*) AS n FROM streaming_etl_data GROUP BY user_id ORDER BY user_id").CombinedOutput()
	if got := string(out); err != nil || got != "{\"user_id\":\"user123\",\"n\":1}\n{\"user_id\":\"user456\",\"n\":1}\n" {
		t.Errorf("hydrant query: %v\n%s", err, got)
	}
	// MSCK REPAIR TABLE registers the hour's partition; SHOW PARTITIONS lists it.
	_, rows = sdkQuery(t, c, "MSCK REPAIR TABLE streaming_etl_data")
	if len(rows) != 2 || !strings.HasPrefix(rows[1][0], "Repair: Added partition to metastore streaming_etl_data:year=") {
		t.Errorf("MSCK REPAIR TABLE: %v", rows)
	}
	_, rows = sdkQuery(t, c, "SHOW PARTITIONS streaming_etl_data")
	if len(rows) != 1 || !strings.HasPrefix(rows[0][0], "year="+time.Now().UTC().Format("2006")+"/month=") {
		t.Errorf("SHOW PARTITIONS: %v", rows)
	}
	outsideEngine(t, s)
	if py, err := exec.LookPath("python3"); err == nil && exec.Command(py, "-c", "import boto3").Run() == nil {
		cmd := exec.Command(py, "-c", boto3Athena)
		cmd.Env = append(s.awsEnv(), "HYDRANT_URL="+s.URL)
		var b bytes.Buffer
		cmd.Stdout, cmd.Stderr = &b, &b
		if err := cmd.Run(); err != nil || !strings.Contains(b.String(), "OK") {
			t.Errorf("boto3: %v\n%s", err, b.String())
		}
	}
}

// boto3Athena queries the recipe's table the way a Python script would,
// with the paginator, and checks a failed query's error.
const boto3Athena = `
import os, time, boto3
c = boto3.client("athena", endpoint_url=os.environ["HYDRANT_URL"], region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test")
def run(sql):
    qid = c.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": "default"})["QueryExecutionId"]
    while True:
        q = c.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
        if q["Status"]["State"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return q
        time.sleep(0.05)
q = run("SELECT user_id, processed_by FROM streaming_etl_data ORDER BY user_id")
assert q["Status"]["State"] == "SUCCEEDED", q
assert q["Statistics"]["DataScannedInBytes"] > 0, q
rows = []
for page in c.get_paginator("get_query_results").paginate(QueryExecutionId=q["QueryExecutionId"], PaginationConfig={"PageSize": 1}):
    rows += [[d.get("VarCharValue") for d in r["Data"]] for r in page["ResultSet"]["Rows"]]
assert rows == [["user_id", "processed_by"], ["user123", "lambda-firehose-transform"], ["user456", "lambda-firehose-transform"]], rows
bad = run("SELECT nosuchcolumn FROM streaming_etl_data")
assert bad["Status"]["State"] == "FAILED", bad
assert "COLUMN_NOT_FOUND" in bad["Status"]["StateChangeReason"], bad
assert bad["Status"]["AthenaError"]["ErrorCategory"] == 2, bad
try:
    c.get_query_results(QueryExecutionId=bad["QueryExecutionId"])
    raise SystemExit("expected InvalidRequestException")
except c.exceptions.InvalidRequestException:
    pass
tables = c.list_table_metadata(CatalogName="AwsDataCatalog", DatabaseName="default")["TableMetadataList"]
assert [t["Name"] for t in tables] == ["streaming_etl_data"], tables
print("OK")
`

// TestAthenaTablesAndLimits drives the Athena API over a JSON table made
// with Athena DDL on what a stream delivered (GZIP objects), across a
// restart, and checks the engine's limits: a query past --query-timeout,
// one past --query-max-memory, and DuckDB's file functions, all FAILED
// with Athena's answers.
func TestAthenaTablesAndLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--query-max-memory", "128MiB")
	fhc := sdkClient(s)
	createStream(t, fhc, "clicks", &types.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::clickbucket"),
		Prefix: aws.String("raw/"), CompressionFormat: types.CompressionFormatGzip,
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(60)}})
	c := athenaClient(s)
	ctx := context.Background()
	run := func(sql string) [][]string {
		t.Helper()
		qe, rows := sdkQuery(t, c, sql)
		if qe.Status.State != atypes.QueryExecutionStateSucceeded {
			t.Fatalf("%s: %s %s", sql, qe.Status.State, aws.ToString(qe.Status.StateChangeReason))
		}
		return rows
	}
	fails := func(sql, want string) *atypes.QueryExecution {
		t.Helper()
		qe, _ := sdkQuery(t, c, sql)
		if qe.Status.State != atypes.QueryExecutionStateFailed || !strings.Contains(aws.ToString(qe.Status.StateChangeReason), want) {
			t.Fatalf("%s: %s %q, want FAILED with %q", sql, qe.Status.State, aws.ToString(qe.Status.StateChangeReason), want)
		}
		return qe
	}
	run(`CREATE EXTERNAL TABLE clicks (page string, ms bigint)
		ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe' LOCATION 's3://clickbucket/raw/'`)
	var recs []string
	for i := range 50 {
		recs = append(recs, `{"page":"/p`+string(rune('0'+i%5))+`","ms":`+string(rune('0'+i%10))+"}\n")
	}
	var batch []types.Record
	for _, r := range recs {
		batch = append(batch, types.Record{Data: []byte(r)})
	}
	if _, err := fhc.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("clicks"), Records: batch}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.URL+"/_hydrant/streams/clicks/flush?wait=20s", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("flush: %v %v", err, resp)
	}
	resp.Body.Close()
	rows := run("SELECT page, count(*), sum(ms) FROM clicks GROUP BY page ORDER BY page LIMIT 2")
	if fmtRows(rows) != "[[page _col1 _col2] [/p0 10 25] [/p1 10 35]]" {
		t.Fatalf("JSON table: %v", rows)
	}
	show := run("SHOW TABLES")
	if fmtRows(show) != "[[clicks]]" {
		t.Fatalf("SHOW TABLES: %v", show)
	}
	fails("SELECT * FROM read_csv('/etc/passwd')", "PERMISSION_DENIED")
	fails("SELECT read_text('/etc/hostname')", "Function 'read_text' is not allowed")
	fails("SELEC 1", "SYNTAX_ERROR")
	fails("SELECT * FROM nope", "TABLE_NOT_FOUND")
	fails("SELECT cardinality(array_agg(lpad(CAST(x AS varchar), 200, 'x'))) FROM UNNEST(sequence(1, 1000000)) AS t(x)", "EXCEEDED_MEMORY_LIMIT")

	// Stopping a running query cancels it.
	start, err := c.StartQueryExecution(ctx, &sdkathena.StartQueryExecutionInput{QueryString: aws.String(
		"SELECT count(*) FROM UNNEST(sequence(1, 200000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 200000)) AS b(y) WHERE x + y = 0")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StopQueryExecution(ctx, &sdkathena.StopQueryExecutionInput{QueryExecutionId: start.QueryExecutionId}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "CANCELLED", func() bool {
		out, err := c.GetQueryExecution(ctx, &sdkathena.GetQueryExecutionInput{QueryExecutionId: start.QueryExecutionId})
		return err == nil && out.QueryExecution.Status.State == atypes.QueryExecutionStateCancelled
	})

	// The history and the results survive a restart.
	list, err := c.ListQueryExecutions(ctx, &sdkathena.ListQueryExecutionsInput{})
	if err != nil || len(list.QueryExecutionIds) < 8 {
		t.Fatalf("list %v %d", err, len(list.QueryExecutionIds))
	}
	s.Stop()
	s.Restart()
	after, err := c.ListQueryExecutions(ctx, &sdkathena.ListQueryExecutionsInput{})
	if err != nil || strings.Join(after.QueryExecutionIds, ",") != strings.Join(list.QueryExecutionIds, ",") {
		t.Fatalf("history after restart: %v %v", err, after)
	}
	var found bool
	for _, id := range list.QueryExecutionIds {
		res, err := c.GetQueryResults(ctx, &sdkathena.GetQueryResultsInput{QueryExecutionId: aws.String(id)})
		var ire *atypes.InvalidRequestException
		if errors.As(err, &ire) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(res.ResultSet.Rows) == 3 && aws.ToString(res.ResultSet.Rows[1].Data[0].VarCharValue) == "/p0" {
			found = true
		}
	}
	if !found {
		t.Fatal("the JSON table's result is not readable after the restart")
	}
	// The result files are where Athena writes them.
	files := s.bucketFiles("aws-athena-query-results-000000000000-us-east-1")
	var csv, meta, txt int
	for k := range files {
		switch {
		case strings.HasSuffix(k, ".csv"):
			csv++
		case strings.HasSuffix(k, ".csv.metadata"):
			meta++
		case strings.HasSuffix(k, ".txt"):
			txt++
		}
	}
	if csv != 1 || meta != 1 || txt != 2 {
		t.Fatalf("result files: %d .csv, %d .csv.metadata, %d .txt", csv, meta, txt)
	}

	// A query past --query-timeout fails as Athena's do.
	quick := startServer(t, "--query-timeout", "2s")
	qe, _ := sdkQuery(t, athenaClient(quick), "SELECT count(*) FROM UNNEST(sequence(1, 200000)) AS a(x) CROSS JOIN UNNEST(sequence(1, 200000)) AS b(y) WHERE x + y = 0")
	if qe.Status.State != atypes.QueryExecutionStateFailed || !strings.Contains(aws.ToString(qe.Status.StateChangeReason), "Query timeout") ||
		*qe.Status.AthenaError.ErrorType != 206 {
		t.Fatalf("timeout: %s %s", qe.Status.State, aws.ToString(qe.Status.StateChangeReason))
	}
}

// TestCrawlerThenQuery crawls what a stream delivered under Firehose's
// plain yyyy/MM/dd/HH prefixes with the aws CLI (create-crawler,
// start-crawler, get-crawler, get-crawler-metrics) and queries the table
// the crawler made, its partitions as Glue names them.
func TestCrawlerThenQuery(t *testing.T) {
	t.Parallel()
	awsCLI := requireTool(t, "aws")
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fhc := sdkClient(s)
	createStream(t, fhc, "logs", &types.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::weblogs"),
		Prefix: aws.String("app/"), CompressionFormat: types.CompressionFormatGzip,
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(60)}})
	var batch []types.Record
	for i := range 30 {
		batch = append(batch, types.Record{Data: []byte(`{"path":"/` + string(rune('a'+i%3)) + `","status":200}` + "\n")})
	}
	if _, err := fhc.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("logs"), Records: batch}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(s.URL+"/_hydrant/streams/logs/flush?wait=20s", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("flush: %v", err)
	}
	resp.Body.Close()
	clis := []string{awsCLI}
	if _, err := exec.LookPath("/usr/bin/aws"); err == nil {
		clis = append(clis, "/usr/bin/aws")
	}
	for i, awsPath := range clis {
		cli := func(args ...string) string {
			t.Helper()
			out, errOut, code := s.cli(ctx, awsPath, args...)
			if code != 0 {
				t.Fatalf("%s %s: %s%s", awsPath, strings.Join(args, " "), out, errOut)
			}
			return out
		}
		name := fmt.Sprintf("weblogs-%d", i)
		cli("glue", "create-crawler", "--name", name, "--role", "arn:aws:iam::000000000000:role/glue",
			"--database-name", "default", "--targets", `{"S3Targets":[{"Path":"s3://weblogs/app/"}]}`, "--schedule", "cron(0 * * * ? *)")
		cli("glue", "start-crawler", "--name", name)
		waitFor(t, 30*time.Second, "the crawl", func() bool {
			return strings.TrimSpace(cli("glue", "get-crawler", "--name", name, "--query", "Crawler.State", "--output", "text")) == "READY"
		})
		if got := strings.TrimSpace(cli("glue", "get-crawler", "--name", name, "--query", "Crawler.LastCrawl.Status", "--output", "text")); got != "SUCCEEDED" {
			t.Fatalf("%s: last crawl %s", awsPath, got)
		}
		// The first crawl creates the table, the second finds it unchanged.
		want := []string{"1", "0"}[i]
		if got := strings.TrimSpace(cli("glue", "get-crawler-metrics", "--crawler-name-list", name, "--query", "CrawlerMetricsList[0].TablesCreated", "--output", "text")); got != want {
			t.Fatalf("%s: tables created %s, want %s", awsPath, got, want)
		}
		parts := cli("glue", "get-partitions", "--database-name", "default", "--table-name", "app",
			"--expression", "partition_0 = '"+time.Now().UTC().Format("2006")+"'", "--query", "Partitions[].Values", "--output", "text")
		if len(strings.Fields(parts)) != 4 {
			t.Fatalf("%s: get-partitions %q", awsPath, parts)
		}
	}
	year := time.Now().UTC().Format("2006")
	qe, rows := sdkQuery(t, athenaClient(s), "SELECT path, count(*) AS n FROM app WHERE partition_0 = '"+year+"' AND status = 200 GROUP BY path ORDER BY path")
	if qe.Status.State != atypes.QueryExecutionStateSucceeded || fmtRows(rows) != "[[path n] [/a 10] [/b 10] [/c 10]]" {
		t.Fatalf("crawled table: %s %s %v", qe.Status.State, aws.ToString(qe.Status.StateChangeReason), rows)
	}
}

// outsideEngine reads the recipe's table the way an engine outside
// hydrant does with a Glue metastore (Trino's Hive connector, Spark's
// Glue client): the table and the partitions its WHERE needs come from
// hydrant's Glue API (GetTable, GetPartitions with an Expression), the
// files from their locations, read here by a DuckDB of the test's own.
// The answer must be Athena's.
func outsideEngine(t *testing.T, s *server) {
	t.Helper()
	ctx := context.Background()
	g := glue.New(glue.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	tbl, err := g.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("default"), Name: aws.String("streaming_etl_data")})
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Table.PartitionKeys) != 4 || !strings.HasPrefix(aws.ToString(tbl.Table.StorageDescriptor.Location), "s3://") {
		t.Fatalf("table %+v", tbl.Table)
	}
	year := time.Now().UTC().Format("2006")
	parts, err := g.GetPartitions(ctx, &glue.GetPartitionsInput{DatabaseName: aws.String("default"), TableName: aws.String("streaming_etl_data"),
		Expression: aws.String("year = '" + year + "' AND hour BETWEEN '00' AND '23'")})
	if err != nil || len(parts.Partitions) == 0 {
		t.Fatalf("partitions %v %+v", err, parts)
	}
	var files []string
	for _, p := range parts.Partitions {
		loc := strings.TrimPrefix(aws.ToString(p.StorageDescriptor.Location), "s3://")
		found, _ := filepath.Glob(filepath.Join(s.DataDir, "buckets", filepath.FromSlash(loc), "*.parquet"))
		files = append(files, found...)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list := "['" + strings.Join(files, "', '") + "']"
	rows := duckRows(t, db, "SELECT user_id, event_type FROM read_parquet("+list+") ORDER BY user_id")
	_, athenaRows := sdkQuery(t, athenaClient(s), "SELECT user_id, event_type FROM streaming_etl_data WHERE year = '"+year+"' ORDER BY user_id")
	if got, want := fmtRows(rows), fmtRows(athenaRows[1:]); got != want || len(rows) != 2 {
		t.Fatalf("outside DuckDB over Glue's partitions: %s, Athena: %s", got, want)
	}
}
