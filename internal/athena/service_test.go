package athena_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkathena "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/hydrant-io/hydrant/internal/athena"
	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/server"
)

// fakeEngine answers a few statements, so that the service's states,
// results and paging are tested without DuckDB (internal/query and the
// e2e tests run the real engine).
type fakeEngine struct{}

func (fakeEngine) Run(ctx context.Context, q athena.Query, out athena.Results) (athena.Outcome, error) {
	switch {
	case strings.HasPrefix(q.SQL, "rows "):
		n, _ := strconv.Atoi(strings.TrimPrefix(q.SQL, "rows "))
		if err := out.Begin([]athena.Column{{Name: "n", Type: "integer", Precision: 10}, {Name: "s", Type: "varchar"}}, true); err != nil {
			return athena.Outcome{}, err
		}
		for i := range n {
			v, s := strconv.Itoa(i), fmt.Sprintf("a \"quoted\",\nvalue %d", i)
			row := []*string{&v, &s}
			if i%2 == 1 {
				row[1] = nil
			}
			if err := out.Row(row); err != nil {
				return athena.Outcome{}, err
			}
		}
		return athena.Outcome{StatementType: "DML", SubstatementType: "SELECT", DataScannedBytes: 42}, nil
	case q.SQL == "show":
		out.Begin([]athena.Column{{Name: "tab_name", Type: "string"}}, false)
		for _, s := range []string{"a", "b\tc"} {
			out.Row([]*string{&s})
		}
		return athena.Outcome{StatementType: "DDL", SubstatementType: "SHOW_TABLES"}, nil
	case q.SQL == "fail":
		return athena.Outcome{}, athena.UserError(athena.ErrSyntax, "SYNTAX_ERROR: line 1:1: nope")
	case q.SQL == "block":
		<-ctx.Done()
		return athena.Outcome{}, ctx.Err()
	}
	return athena.Outcome{}, errors.New("unexpected " + q.SQL)
}

type env struct {
	svc    *athena.Service
	client *sdkathena.Client
	store  *objstore.Local
}

func start(t *testing.T, dir string, timeout time.Duration) *env {
	t.Helper()
	hist, err := athena.NewFileHistory(filepath.Join(dir, "athena"))
	if err != nil {
		t.Fatal(err)
	}
	return startWith(t, dir, timeout, hist)
}

func startWith(t *testing.T, dir string, timeout time.Duration, hist athena.History) *env {
	t.Helper()
	cat, err := catalog.Open(filepath.Join(dir, "catalog"), "000000000000", nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := athena.New(athena.Options{Engine: fakeEngine{}, Catalog: cat, Store: store, History: hist,
		TempDir: filepath.Join(dir, "tmp"), Region: "us-east-1", AccountID: "000000000000", Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(nil)
	srv.AddService(svc.API())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); svc.Close(); store.Close() })
	client := sdkathena.New(sdkathena.Options{Region: "us-east-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: aws.AnonymousCredentials{}})
	return &env{svc: svc, client: client, store: store}
}

func (e *env) run(t *testing.T, sql string) *types.QueryExecution {
	t.Helper()
	ctx := context.Background()
	out, err := e.client.StartQueryExecution(ctx, &sdkathena.StartQueryExecutionInput{QueryString: aws.String(sql)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Wait(ctx, *out.QueryExecutionId); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.GetQueryExecution(ctx, &sdkathena.GetQueryExecutionInput{QueryExecutionId: out.QueryExecutionId})
	if err != nil {
		t.Fatal(err)
	}
	return got.QueryExecution
}

func TestResultsPagedFromTheStore(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir, 0)
	ctx := context.Background()
	qe := e.run(t, "rows 2500")
	if qe.Status.State != types.QueryExecutionStateSucceeded || *qe.Statistics.DataScannedInBytes != 42 ||
		qe.StatementType != "DML" || *qe.SubstatementType != "SELECT" ||
		*qe.ResultConfiguration.OutputLocation != "s3://aws-athena-query-results-000000000000-us-east-1/"+*qe.QueryExecutionId+".csv" {
		t.Fatalf("execution %+v %+v", qe.Status, qe)
	}
	// The result file is Athena's CSV.
	files := 0
	rc, err := e.store.Get(ctx, "aws-athena-query-results-000000000000-us-east-1", *qe.QueryExecutionId+".csv")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, _ := rc.Read(buf)
	rc.Close()
	if got := string(buf[:n]); !strings.HasPrefix(got, "\"n\",\"s\"\n\"0\",\"a \"\"quoted\"\",\nvalue 0\"\n\"1\",\n") {
		t.Fatalf("csv starts %q", got)
	}
	if _, err := e.store.Get(ctx, "aws-athena-query-results-000000000000-us-east-1", *qe.QueryExecutionId+".csv.metadata"); err != nil {
		t.Fatal(err)
	}
	// Pages of at most 1000 rows, the header first.
	var rows []types.Row
	var token *string
	for {
		page, err := e.client.GetQueryResults(ctx, &sdkathena.GetQueryResultsInput{QueryExecutionId: qe.QueryExecutionId, NextToken: token, MaxResults: aws.Int32(1000)})
		if err != nil {
			t.Fatal(err)
		}
		files++
		if cols := page.ResultSet.ResultSetMetadata.ColumnInfo; len(cols) != 2 || *cols[0].Type != "integer" || *cols[1].Name != "s" {
			t.Fatalf("columns %+v", cols)
		}
		rows = append(rows, page.ResultSet.Rows...)
		if token = page.NextToken; token == nil {
			break
		}
	}
	if files != 3 || len(rows) != 2501 {
		t.Fatalf("%d pages, %d rows", files, len(rows))
	}
	if *rows[0].Data[0].VarCharValue != "n" || *rows[1].Data[1].VarCharValue != "a \"quoted\",\nvalue 0" || rows[2].Data[1].VarCharValue != nil ||
		*rows[2500].Data[0].VarCharValue != "2499" {
		t.Fatalf("rows %v %v %v", rows[0], rows[1], rows[2])
	}
	_, err = e.client.GetQueryResults(ctx, &sdkathena.GetQueryResultsInput{QueryExecutionId: qe.QueryExecutionId, MaxResults: aws.Int32(1001)})
	if err == nil || !strings.Contains(err.Error(), "ValidationException") {
		t.Fatalf("MaxResults 1001: %v", err)
	}

	// DDL results: a .txt without a header row.
	show := e.run(t, "show")
	if !strings.HasSuffix(*show.ResultConfiguration.OutputLocation, ".txt") {
		t.Fatalf("DDL output %s", *show.ResultConfiguration.OutputLocation)
	}
	res, err := e.client.GetQueryResults(ctx, &sdkathena.GetQueryResultsInput{QueryExecutionId: show.QueryExecutionId})
	if err != nil || len(res.ResultSet.Rows) != 2 || *res.ResultSet.Rows[1].Data[0].VarCharValue != "b\tc" {
		t.Fatalf("show results %v %+v", err, res)
	}

	// Failures: FAILED with the engine's reason and Athena's error.
	bad := e.run(t, "fail")
	if bad.Status.State != types.QueryExecutionStateFailed || *bad.Status.StateChangeReason != "SYNTAX_ERROR: line 1:1: nope" ||
		*bad.Status.AthenaError.ErrorCategory != athena.CategoryUser || *bad.Status.AthenaError.ErrorType != athena.ErrSyntax {
		t.Fatalf("failed query %+v %+v", bad.Status, bad.Status.AthenaError)
	}
	var ire *types.InvalidRequestException
	if _, err := e.client.GetQueryResults(ctx, &sdkathena.GetQueryResultsInput{QueryExecutionId: bad.QueryExecutionId}); !errors.As(err, &ire) {
		t.Fatalf("results of a failed query: %v", err)
	}
	if _, err := e.client.GetQueryExecution(ctx, &sdkathena.GetQueryExecutionInput{QueryExecutionId: aws.String("00000000-0000-0000-0000-000000000000")}); !errors.As(err, &ire) {
		t.Fatalf("unknown id: %v", err)
	}
	// Idempotence.
	tok := aws.String("token-token-token-token-token-token-1")
	a, err := e.client.StartQueryExecution(ctx, &sdkathena.StartQueryExecutionInput{QueryString: aws.String("rows 1"), ClientRequestToken: tok})
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.client.StartQueryExecution(ctx, &sdkathena.StartQueryExecutionInput{QueryString: aws.String("rows 1"), ClientRequestToken: tok})
	if err != nil || *a.QueryExecutionId != *b.QueryExecutionId {
		t.Fatalf("idempotent start: %v %s %s", err, *a.QueryExecutionId, *b.QueryExecutionId)
	}
	if _, err := e.client.StartQueryExecution(ctx, &sdkathena.StartQueryExecutionInput{QueryString: aws.String("x"), WorkGroup: aws.String("other")}); !errors.As(err, &ire) {
		t.Fatalf("other workgroup: %v", err)
	}
	e.svc.Wait(ctx, *a.QueryExecutionId)
	list, err := e.client.ListQueryExecutions(ctx, &sdkathena.ListQueryExecutionsInput{MaxResults: aws.Int32(2)})
	if err != nil || len(list.QueryExecutionIds) != 2 || list.QueryExecutionIds[0] != *a.QueryExecutionId || list.NextToken == nil {
		t.Fatalf("list %v %+v", err, list)
	}
	batch, err := e.client.BatchGetQueryExecution(ctx, &sdkathena.BatchGetQueryExecutionInput{QueryExecutionIds: []string{*qe.QueryExecutionId, "nope"}})
	if err != nil || len(batch.QueryExecutions) != 1 || len(batch.UnprocessedQueryExecutionIds) != 1 {
		t.Fatalf("batch %v %+v", err, batch)
	}

	// History survives a restart, results stay readable.
	e.svc.Close()
	e2 := start(t, dir, 0)
	again, err := e2.client.GetQueryExecution(ctx, &sdkathena.GetQueryExecutionInput{QueryExecutionId: qe.QueryExecutionId})
	if err != nil || again.QueryExecution.Status.State != types.QueryExecutionStateSucceeded {
		t.Fatalf("after restart %v %+v", err, again)
	}
	res2, err := e2.client.GetQueryResults(ctx, &sdkathena.GetQueryResultsInput{QueryExecutionId: qe.QueryExecutionId, MaxResults: aws.Int32(3)})
	if err != nil || len(res2.ResultSet.Rows) != 3 {
		t.Fatalf("results after restart %v", err)
	}
}

func TestStopAndTimeout(t *testing.T) {
	e := start(t, t.TempDir(), 300*time.Millisecond)
	ctx := context.Background()
	out, err := e.client.StartQueryExecution(ctx, &sdkathena.StartQueryExecutionInput{QueryString: aws.String("block")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.StopQueryExecution(ctx, &sdkathena.StopQueryExecutionInput{QueryExecutionId: out.QueryExecutionId}); err != nil {
		t.Fatal(err)
	}
	ex, _ := e.svc.Wait(ctx, *out.QueryExecutionId)
	if ex.State != athena.StateCancelled {
		t.Fatalf("stopped query %s %s", ex.State, ex.StateChangeReason)
	}
	timed := e.run(t, "block")
	if timed.Status.State != types.QueryExecutionStateFailed || !strings.Contains(*timed.Status.StateChangeReason, "Query timeout") ||
		*timed.Status.AthenaError.ErrorType != athena.ErrTimeout {
		t.Fatalf("timed out query %+v", timed.Status)
	}
}

func TestCatalogCalls(t *testing.T) {
	e := start(t, t.TempDir(), 0)
	ctx := context.Background()
	cats, err := e.client.ListDataCatalogs(ctx, &sdkathena.ListDataCatalogsInput{})
	if err != nil || len(cats.DataCatalogsSummary) != 1 || *cats.DataCatalogsSummary[0].CatalogName != "AwsDataCatalog" {
		t.Fatalf("catalogs %v %+v", err, cats)
	}
	dbs, err := e.client.ListDatabases(ctx, &sdkathena.ListDatabasesInput{CatalogName: aws.String("AwsDataCatalog")})
	if err != nil || len(dbs.DatabaseList) != 1 || *dbs.DatabaseList[0].Name != "default" {
		t.Fatalf("databases %v %+v", err, dbs)
	}
	var me *types.MetadataException
	if _, err := e.client.GetTableMetadata(ctx, &sdkathena.GetTableMetadataInput{CatalogName: aws.String("AwsDataCatalog"),
		DatabaseName: aws.String("default"), TableName: aws.String("nope")}); !errors.As(err, &me) {
		t.Fatalf("missing table: %v", err)
	}
	wg, err := e.client.GetWorkGroup(ctx, &sdkathena.GetWorkGroupInput{WorkGroup: aws.String("primary")})
	if err != nil || *wg.WorkGroup.Configuration.ResultConfiguration.OutputLocation == "" {
		t.Fatalf("workgroup %v", err)
	}
	wgs, err := e.client.ListWorkGroups(ctx, &sdkathena.ListWorkGroupsInput{})
	if err != nil || len(wgs.WorkGroups) != 1 {
		t.Fatalf("workgroups %v", err)
	}
}
