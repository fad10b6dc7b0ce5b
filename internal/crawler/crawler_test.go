package crawler_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/crawler"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/server"
)

type env struct {
	t     *testing.T
	cat   *catalog.Catalog
	store *objstore.Local
	svc   *crawler.Service
	call  func(op, body string) (int, map[string]any)
	mu    sync.Mutex
	now   time.Time
}

func setup(t *testing.T, dir string) *env {
	t.Helper()
	e := &env{t: t, now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	var err error
	if e.cat, err = catalog.Open(filepath.Join(dir, "catalog"), "000000000000", nil); err != nil {
		t.Fatal(err)
	}
	if e.store, err = objstore.NewLocal(filepath.Join(dir, "buckets"), nil); err != nil {
		t.Fatal(err)
	}
	glue, err := catalog.NewService(e.cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := crawler.NewFileStore(filepath.Join(dir, "crawlers"))
	if err != nil {
		t.Fatal(err)
	}
	// Parquet schemas come from the query engine in hydrant; here a
	// stand-in reports fixed columns.
	describe := func(ctx context.Context, bucket string, keys []string) ([]catalog.Column, error) {
		return []catalog.Column{{Name: "id", Type: "bigint"}, {Name: "year", Type: "string"}}, nil
	}
	e.svc, err = crawler.New(crawler.Options{Catalog: e.cat, Objects: e.store, Describe: describe, State: st, Model: glue.Model(),
		Now: func() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	glue.AddOps(e.svc.Ops())
	srv := server.New(nil)
	srv.AddService(glue.API())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); e.svc.Close(); e.store.Close() })
	e.call = func(op, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, hs.URL+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSGlue."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	return e
}

func (e *env) must(op, body string) map[string]any {
	e.t.Helper()
	code, m := e.call(op, body)
	if code != 200 {
		e.t.Fatalf("%s: %d %v", op, code, m)
	}
	return m
}

func (e *env) put(bucket, key string, data []byte) {
	e.t.Helper()
	if err := e.store.Put(context.Background(), bucket, key, objstore.Meta{}, func(w io.Writer) error { _, err := w.Write(data); return err }); err != nil {
		e.t.Fatal(err)
	}
}

func gz(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	w, err := compress.NewWriter(compress.GZIP, &buf, compress.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestCrawlFirehoseLayouts(t *testing.T) {
	e := setup(t, t.TempDir())
	// Firehose's plain layout, GZIP JSON; a Hive layout of Parquet; CSV.
	e.put("raw", "events/2026/11/25/10/a.gz", gz(t, []byte(`{"user":"u1","n":1}`+"\n"+`{"user":"u2","n":2.5,"tags":["x"]}`+"\n")))
	e.put("raw", "events/2026/11/25/11/b.gz", gz(t, []byte(`{"user":"u3","n":3}`+"\n")))
	e.put("raw", "events/2026/11/25/11/_SUCCESS", []byte("x"))
	e.put("raw", "events/tmp/skip.json", []byte(`{"skip":true}`))
	e.put("lake", "pq/year=2026/month=11/part.parquet", []byte("PAR1....PAR1"))
	e.put("lake", "pq/year=2025/month=01/part.parquet", []byte("PAR1....PAR1"))
	e.put("csv", "sales/2026/a.csv", []byte("region,amount,ok\neu,10,true\nus,2.5,false\n"))
	code, m := e.call("StartCrawler", `{"Name":"nope"}`)
	if code != 400 || m["__type"] != "EntityNotFoundException" {
		t.Fatalf("start missing: %d %v", code, m)
	}
	e.must("CreateCrawler", `{"Name":"c1","Role":"arn:aws:iam::000000000000:role/glue","DatabaseName":"default","TablePrefix":"fh_",
		"Targets":{"S3Targets":[{"Path":"s3://raw/events/","Exclusions":["tmp/**"]},{"Path":"s3://lake/pq"},{"Path":"s3://csv/sales/"}]}}`)
	if code, m := e.call("CreateCrawler", `{"Name":"c1","Role":"r","Targets":{"S3Targets":[{"Path":"s3://raw/x/"}]}}`); code != 400 || m["__type"] != "AlreadyExistsException" {
		t.Fatalf("duplicate: %d %v", code, m)
	}
	if code, m := e.call("CreateCrawler", `{"Name":"c2","Role":"r","Targets":{"JdbcTargets":[{"ConnectionName":"x"}]}}`); code != 400 || !strings.Contains(m["message"].(string), "JdbcTargets are not supported") {
		t.Fatalf("jdbc: %d %v", code, m)
	}
	e.must("StartCrawler", `{"Name":"c1"}`)
	e.svc.Wait("c1")
	c := e.must("GetCrawler", `{"Name":"c1"}`)["Crawler"].(map[string]any)
	if c["State"] != "READY" || c["LastCrawl"].(map[string]any)["Status"] != "SUCCEEDED" {
		t.Fatalf("crawler after run: %v", c)
	}
	ctx := context.Background()
	events, err := e.cat.Table(ctx, "", "default", "fh_events", "")
	if err != nil {
		t.Fatal(err)
	}
	cols, keys := columns(events.StorageDescriptor.Columns), columns(events.PartitionKeys)
	if cols != "user string, n double, tags array<string>" ||
		keys != "partition_0 string, partition_1 string, partition_2 string, partition_3 string" ||
		events.Parameters["classification"] != "json" || events.Parameters["compressionType"] != "gzip" ||
		*events.StorageDescriptor.SerdeInfo.SerializationLibrary != "org.openx.data.jsonserde.JsonSerDe" || *events.StorageDescriptor.Location != "s3://raw/events/" {
		t.Fatalf("events table %s %s %+v", cols, keys, events.Parameters)
	}
	parts, _ := e.cat.Partitions(ctx, "", "default", "fh_events")
	if len(parts) != 2 || strings.Join(parts[1].Values, "/") != "2026/11/25/11" || parts[1].Location() != "s3://raw/events/2026/11/25/11/" {
		t.Fatalf("events partitions %+v", parts)
	}
	pq, err := e.cat.Table(ctx, "", "default", "fh_pq", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pq.PartitionKeys) != 2 || pq.PartitionKeys[0].Name != "year" || pq.PartitionKeys[1].Name != "month" ||
		len(pq.StorageDescriptor.Columns) != 1 || pq.Parameters["classification"] != "parquet" {
		t.Fatalf("parquet table %+v %+v", pq.PartitionKeys, pq.StorageDescriptor.Columns)
	}
	sales, err := e.cat.Table(ctx, "", "default", "fh_sales", "")
	if err != nil {
		t.Fatal(err)
	}
	cols = columns(sales.StorageDescriptor.Columns)
	if cols != "region string, amount double, ok boolean" ||
		sales.Parameters["skip.header.line.count"] != "1" {
		t.Fatalf("csv table %s %v", cols, sales.Parameters)
	}
	metrics := e.must("GetCrawlerMetrics", `{"CrawlerNameList":["c1"]}`)["CrawlerMetricsList"].([]any)[0].(map[string]any)
	if metrics["TablesCreated"].(float64) != 3 || metrics["TablesUpdated"].(float64) != 0 {
		t.Fatalf("metrics %v", metrics)
	}
	// A second crawl after a new hour and a new field updates the table
	// and adds the partition.
	e.put("raw", "events/2026/11/25/12/c.gz", gz(t, []byte(`{"user":"u4","n":4,"extra":true}`+"\n")))
	e.must("StartCrawler", `{"Name":"c1"}`)
	e.svc.Wait("c1")
	if parts, _ := e.cat.Partitions(ctx, "", "default", "fh_events"); len(parts) != 3 {
		t.Fatalf("partitions after second crawl: %d", len(parts))
	}
	metrics = e.must("GetCrawlerMetrics", `{}`)["CrawlerMetricsList"].([]any)[0].(map[string]any)
	if metrics["TablesCreated"].(float64) != 0 || metrics["TablesUpdated"].(float64) != 1 {
		t.Fatalf("metrics after second crawl %v", metrics)
	}
	if code, m := e.call("StopCrawler", `{"Name":"c1"}`); code != 400 || m["__type"] != "CrawlerNotRunningException" {
		t.Fatalf("stop idle: %d %v", code, m)
	}
	if names := e.must("ListCrawlers", `{}`)["CrawlerNames"].([]any); len(names) != 1 {
		t.Fatalf("list %v", names)
	}
	if got := e.must("GetCrawlers", `{}`)["Crawlers"].([]any); len(got) != 1 {
		t.Fatalf("get crawlers %v", got)
	}
	e.must("DeleteCrawler", `{"Name":"c1"}`)
	if code, _ := e.call("GetCrawler", `{"Name":"c1"}`); code != 400 {
		t.Fatalf("deleted crawler still there")
	}
}

func TestScheduleAndRestart(t *testing.T) {
	dir := t.TempDir()
	e := setup(t, dir)
	e.put("raw", "s/a.json", []byte(`{"a":1}`))
	if code, m := e.call("CreateCrawler", `{"Name":"bad","Role":"r","Targets":{"S3Targets":[{"Path":"s3://raw/s/"}]},"Schedule":"cron(0 12 L * ? *)"}`); code != 400 || !strings.Contains(m["message"].(string), "L, W and #") {
		t.Fatalf("bad schedule: %d %v", code, m)
	}
	// Every day at 12:15 UTC, Monday to Friday (AWS numbers days from 1 = Sunday).
	e.must("CreateCrawler", `{"Name":"daily","Role":"r","DatabaseName":"default","Targets":{"S3Targets":[{"Path":"s3://raw/s/"}]},
		"Schedule":"cron(15 12 ? * 2-6 *)","SchemaChangePolicy":{"UpdateBehavior":"LOG","DeleteBehavior":"DELETE_FROM_DATABASE"}}`)
	c := e.must("GetCrawler", `{"Name":"daily"}`)["Crawler"].(map[string]any)
	if s := c["Schedule"].(map[string]any); s["ScheduleExpression"] != "cron(15 12 ? * 2-6 *)" || s["State"] != "SCHEDULED" {
		t.Fatalf("schedule %v", s)
	}
	ctx := context.Background()
	// 2026-11-25 is a Wednesday: nothing before 12:15, a run at 12:15.
	e.svc.Tick(time.Date(2026, 11, 25, 12, 14, 0, 0, time.UTC))
	e.svc.Wait("daily")
	if _, err := e.cat.Table(ctx, "", "default", "s", ""); err == nil {
		t.Fatal("crawled before its time")
	}
	e.svc.Tick(time.Date(2026, 11, 25, 12, 16, 0, 0, time.UTC))
	e.svc.Wait("daily")
	if _, err := e.cat.Table(ctx, "", "default", "s", ""); err != nil {
		t.Fatalf("scheduled crawl did not run: %v", err)
	}
	// Friday's run, then the objects go; no run on Saturday; Monday's
	// deletes the table (DeleteBehavior DELETE_FROM_DATABASE).
	e.svc.Tick(time.Date(2026, 11, 27, 12, 30, 0, 0, time.UTC))
	e.svc.Wait("daily")
	e.store.Delete(ctx, "raw", "s/a.json")
	e.svc.Tick(time.Date(2026, 11, 28, 12, 20, 0, 0, time.UTC))
	e.svc.Wait("daily")
	if _, err := e.cat.Table(ctx, "", "default", "s", ""); err != nil {
		t.Fatal("a Saturday run happened")
	}
	e.svc.Tick(time.Date(2026, 11, 30, 12, 20, 0, 0, time.UTC))
	e.svc.Wait("daily")
	if _, err := e.cat.Table(ctx, "", "default", "s", ""); err == nil {
		t.Fatal("table of vanished objects not deleted")
	}
	// The crawler and its last crawl survive a restart.
	e.svc.Close()
	e2 := setup(t, dir)
	c = e2.must("GetCrawler", `{"Name":"daily"}`)["Crawler"].(map[string]any)
	if c["LastCrawl"].(map[string]any)["Status"] != "SUCCEEDED" || c["SchemaChangePolicy"].(map[string]any)["UpdateBehavior"] != "LOG" {
		t.Fatalf("after restart %v", c)
	}
}

func columns(cs []catalog.Column) string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Name+" "+c.Type)
	}
	return strings.Join(out, ", ")
}
