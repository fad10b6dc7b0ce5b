package e2e

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkathena "github.com/aws/aws-sdk-go-v2/service/athena"
	atypes "github.com/aws/aws-sdk-go-v2/service/athena/types"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// BenchmarkAthenaDay is docs/PERFORMANCE.md's query benchmark: a day of
// the recipe's Parquet (24 hourly partitions, 5,000,000 rows) delivered
// by hydrant itself, queried through StartQueryExecution → SUCCEEDED →
// GetQueryResults and by DuckDB directly over the same files in the same
// run. The data is generated once into $HYDRANT_BENCH_CACHE (default
// the user cache dir) and reused. BENCH_TRACE=1 prints each query's
// phases; BENCH_CPUPROFILE=file writes the server's CPU profile. Run it
// alone:
//
//	go test -run XXX -bench AthenaDay -benchtime 1x ./internal/e2e/
func BenchmarkAthenaDay(b *testing.B) {
	cache := os.Getenv("HYDRANT_BENCH_CACHE")
	if cache == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			b.Fatal(err)
		}
		cache = filepath.Join(d, "hydrant-bench", "athena-day")
	}
	const rows = 5_000_000
	dataDir := filepath.Join(cache, "data")
	if _, err := os.Stat(filepath.Join(cache, "ready")); err != nil {
		generateDay(b, dataDir, rows)
		if err := os.WriteFile(filepath.Join(cache, "ready"), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	s := &server{t: b, DataDir: dataDir}
	if p := os.Getenv("BENCH_CPUPROFILE"); p != "" {
		s.args = []string{"--cpuprofile", p} // the server's, written when it stops
	}
	s.start()
	defer s.Stop()
	c := athenaClient(s)
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	files := filepath.Join(dataDir, "buckets", "bench", "processed-data", "*", "*", "*", "*", "*.parquet")
	direct := "read_parquet('" + files + "', hive_partitioning = true, hive_types_autocast = false)"
	queries := []struct{ name, sql string }{
		{"full-scan aggregate", `SELECT event_type, count(*) AS n, count(DISTINCT user_id) AS users, avg(processing_timestamp) AS avg_ts FROM %s GROUP BY event_type ORDER BY event_type`},
		{"one-hour aggregate", `SELECT event_type, count(*) AS n, count(DISTINCT user_id) AS users FROM %s WHERE year = '2026' AND month = '11' AND day = '25' AND hour = '13' GROUP BY event_type ORDER BY event_type`},
		{"top-10 users", `SELECT user_id, count(*) AS n FROM %s GROUP BY user_id ORDER BY n DESC, user_id LIMIT 10`},
	}
	const rounds = 5
	type result struct {
		athena, duck []time.Duration
		scanned      int64
	}
	results := make([]result, len(queries))
	b.ResetTimer()
	for round := 0; round < rounds; round++ {
		for i, q := range queries {
			start := time.Now()
			scanned, got := benchAthena(b, c, fmt.Sprintf(q.sql, "streaming_etl_data"))
			results[i].athena = append(results[i].athena, time.Since(start))
			results[i].scanned = scanned
			start = time.Now()
			want := benchDuck(b, db, fmt.Sprintf(q.sql, direct))
			results[i].duck = append(results[i].duck, time.Since(start))
			if got != want {
				b.Fatalf("%s: hydrant %s, DuckDB %s", q.name, got, want)
			}
		}
	}
	b.StopTimer()
	best := func(d []time.Duration) time.Duration {
		s := append([]time.Duration(nil), d...)
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
		return s[0]
	}
	median := func(r result) float64 {
		var ratios []float64
		for k := range r.athena {
			ratios = append(ratios, r.duck[k].Seconds()/r.athena[k].Seconds())
		}
		sort.Float64s(ratios)
		return ratios[len(ratios)/2]
	}
	fmt.Printf("| query | hydrant (Athena API) best | DuckDB direct best | ratio (DuckDB/hydrant, median of %d rounds) | DataScannedInBytes |\n|---|---|---|---|---|\n", rounds)
	for i, q := range queries {
		r := results[i]
		fmt.Printf("| %s | %s | %s | %.2f | %d |\n", q.name, best(r.athena).Round(time.Millisecond), best(r.duck).Round(time.Millisecond), median(r), r.scanned)
		b.ReportMetric(median(r), strings.ReplaceAll(q.name, " ", "-")+"-ratio")
	}
	fmt.Printf("one-hour scan / full scan: 1/%.1f\n", float64(results[0].scanned)/float64(results[1].scanned))
}

// benchAthena runs a query through the Athena API and returns the bytes
// scanned and the result rows as text.
func benchAthena(b *testing.B, c *sdkathena.Client, q string) (int64, string) {
	ctx := context.Background()
	t0 := time.Now()
	start, err := c.StartQueryExecution(ctx, &sdkathena.StartQueryExecutionInput{QueryString: aws.String(q)})
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	polls := 0
	var qe *atypes.QueryExecution
	var t2, t3 time.Time // SUCCEEDED seen, results read
	defer func() {
		if os.Getenv("BENCH_TRACE") != "" {
			fmt.Printf("start %v polls %d succeeded seen at %v results %v total %v server total %d ms, queue %d, planning %d\n",
				t1.Sub(t0), polls, t2.Sub(t0), t3.Sub(t2), t3.Sub(t0), *qe.Statistics.TotalExecutionTimeInMillis,
				*qe.Statistics.QueryQueueTimeInMillis, *qe.Statistics.QueryPlanningTimeInMillis)
		}
	}()
	for {
		polls++
		out, err := c.GetQueryExecution(ctx, &sdkathena.GetQueryExecutionInput{QueryExecutionId: start.QueryExecutionId})
		if err != nil {
			b.Fatal(err)
		}
		qe = out.QueryExecution
		if qe.Status.State == atypes.QueryExecutionStateSucceeded {
			break
		}
		if qe.Status.State != atypes.QueryExecutionStateQueued && qe.Status.State != atypes.QueryExecutionStateRunning {
			b.Fatalf("%s: %s %s", q, qe.Status.State, aws.ToString(qe.Status.StateChangeReason))
		}
		time.Sleep(2 * time.Millisecond)
	}
	t2 = time.Now()
	res, err := c.GetQueryResults(ctx, &sdkathena.GetQueryResultsInput{QueryExecutionId: start.QueryExecutionId})
	if err != nil {
		b.Fatal(err)
	}
	t3 = time.Now()
	var lines []string
	for _, r := range res.ResultSet.Rows[1:] {
		var vals []string
		for _, d := range r.Data {
			vals = append(vals, aws.ToString(d.VarCharValue))
		}
		lines = append(lines, strings.Join(vals, "|"))
	}
	return *qe.Statistics.DataScannedInBytes, normalize(lines)
}

func benchDuck(b *testing.B, db *sql.DB, q string) string {
	rows := duckRows(b, db, q)
	var lines []string
	for _, r := range rows {
		lines = append(lines, strings.Join(r, "|"))
	}
	return normalize(lines)
}

// normalize keeps what both engines print alike: averages differ in their
// last digits between DuckDB's text and Java's.
func normalize(lines []string) string {
	for i, l := range lines {
		parts := strings.Split(l, "|")
		for j, p := range parts {
			if strings.Contains(p, ".") && len(p) > 8 {
				parts[j] = p[:8]
			}
		}
		lines[i] = strings.Join(parts, "|")
	}
	return strings.Join(lines, ";")
}

// generateDay delivers a day of the recipe's records through a hydrant
// stream with dynamic partitioning (each record's own hour) and Parquet
// conversion: 24 hourly partitions.
func generateDay(b *testing.B, dataDir string, rows int) {
	b.Logf("generating %d rows into %s (once)", rows, dataDir)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		b.Fatal(err)
	}
	s := &server{t: b, DataDir: dataDir}
	s.start()
	defer s.Stop()
	ctx := context.Background()
	out, errOut, code := s.cli(ctx, "aws", "glue", "create-table", "--database-name", "default", "--table-input",
		strings.Replace(recipeTable, "s3://etl-bucket/", "s3://bench/", 1))
	if code != 0 {
		b.Fatalf("create-table: %s%s", out, errOut)
	}
	c := sdkClient(s)
	param := func(n types.ProcessorParameterName, v string) types.ProcessorParameter {
		return types.ProcessorParameter{ParameterName: n, ParameterValue: aws.String(v)}
	}
	_, err := c.CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("day"),
		ExtendedS3DestinationConfiguration: &types.ExtendedS3DestinationConfiguration{
			RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), BucketARN: aws.String("arn:aws:s3:::bench"),
			Prefix: aws.String("processed-data/year=!{partitionKeyFromQuery:year}/month=!{partitionKeyFromQuery:month}/" +
				"day=!{partitionKeyFromQuery:day}/hour=!{partitionKeyFromQuery:hour}/"),
			ErrorOutputPrefix:                aws.String("error-data/!{firehose:error-output-type}/"),
			BufferingHints:                   &types.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(900)},
			DynamicPartitioningConfiguration: &types.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
			ProcessingConfiguration: &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{
				{Type: types.ProcessorTypeMetadataExtraction, Parameters: []types.ProcessorParameter{
					param(types.ProcessorParameterNameMetadataExtractionQuery, "{year: .timestamp[0:4], month: .timestamp[5:7], day: .timestamp[8:10], hour: .timestamp[11:13]}"),
					param(types.ProcessorParameterNameJsonParsingEngine, "JQ-1.6")}}}},
			DataFormatConversionConfiguration: &types.DataFormatConversionConfiguration{Enabled: aws.Bool(true),
				SchemaConfiguration: &types.SchemaConfiguration{RoleARN: aws.String("arn:aws:iam::000000000000:role/r"),
					DatabaseName: aws.String("default"), TableName: aws.String("streaming_etl_data")},
				InputFormatConfiguration:  &types.InputFormatConfiguration{Deserializer: &types.Deserializer{OpenXJsonSerDe: &types.OpenXJsonSerDe{}}},
				OutputFormatConfiguration: &types.OutputFormatConfiguration{Serializer: &types.Serializer{ParquetSerDe: &types.ParquetSerDe{}}}},
		}})
	if err != nil {
		b.Fatal(err)
	}
	events := []string{"page_view", "click", "add_to_cart", "purchase", "search"}
	pages := []string{"/", "/products", "/products/42", "/checkout", "/search?q=shoes", "/account"}
	var wg sync.WaitGroup
	const workers, batch = 4, 500
	per := rows / workers
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for sent := 0; sent < per; sent += batch {
				recs := make([]types.Record, 0, batch)
				for k := 0; k < batch; k++ {
					i := w*per + sent + k
					hour := i % 24
					ts := time.Date(2026, 11, 25, hour, rng.IntN(60), rng.IntN(60), rng.IntN(1000)*1e6, time.UTC)
					user := rng.IntN(50000)
					rec, _ := json.Marshal(map[string]any{
						"timestamp": ts.Format("2006-01-02T15:04:05.000Z"), "event_type": events[rng.IntN(len(events))],
						"user_id": fmt.Sprintf("user%05d", user), "session_id": fmt.Sprintf("s%07d", rng.IntN(1000000)),
						"page_url": "https://shop.example.com" + pages[rng.IntN(len(pages))], "referrer": "https://www.example.org/",
						"user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "ip_address": fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), rng.IntN(256)),
						"processed_by": "lambda-firehose-transform", "processing_timestamp": float64(ts.UnixMilli())/1000 + 0.25})
					recs = append(recs, types.Record{Data: rec})
				}
				for {
					out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("day"), Records: recs})
					if err == nil && *out.FailedPutCount == 0 {
						break
					}
					time.Sleep(100 * time.Millisecond) // back-pressure: the whole batch again is fine for a benchmark's data
					if err == nil {
						var failed []types.Record
						for k, r := range out.RequestResponses {
							if r.ErrorCode != nil {
								failed = append(failed, recs[k])
							}
						}
						recs = failed
					}
				}
			}
		}(w)
	}
	wg.Wait()
	// Flush until every record is in a Parquet object.
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	files := filepath.Join(dataDir, "buckets", "bench", "processed-data", "*", "*", "*", "*", "*.parquet")
	deadline := time.Now().Add(30 * time.Minute)
	for time.Now().Before(deadline) {
		resp, err := http.Post(s.URL+"/_hydrant/streams/day/flush?wait=1m", "", nil)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		var n int
		if err := db.QueryRow("SELECT count(*) FROM read_parquet('" + files + "')").Scan(&n); err == nil && n == rows {
			return
		}
		time.Sleep(time.Second)
	}
	b.Fatal("the day's records were not all delivered in 30 minutes")
}
