package catalog_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/server"
)

// glue serves the Glue API over a catalog in dir and returns a caller.
func glue(t *testing.T, dir string) func(op, body string) (int, map[string]any) {
	t.Helper()
	cat, err := catalog.Open(dir, "123456789012", nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := catalog.NewService(cat, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(nil)
	srv.AddService(svc.API())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return func(op, body string) (int, map[string]any) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, hs.URL+"/", strings.NewReader(body))
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
}

const tableInput = `{"Name":"Events","StorageDescriptor":{"Columns":[{"Name":"id","Type":"bigint","Comment":"key"},{"Name":"payload","Type":"struct<a:int>"}],"Location":"s3://lake/events/"},"PartitionKeys":[{"Name":"dt","Type":"string"}],"TableType":"EXTERNAL_TABLE","Parameters":{"classification":"parquet"}}`

func TestGlueAPI(t *testing.T) {
	dir := t.TempDir()
	call := glue(t, dir)
	must := func(op, body string) map[string]any {
		t.Helper()
		code, m := call(op, body)
		if code != 200 {
			t.Fatalf("%s: %d %v", op, code, m)
		}
		return m
	}
	fail := func(op, body, typ, msg string) {
		t.Helper()
		code, m := call(op, body)
		if code != 400 || m["__type"] != typ || !strings.Contains(m["message"].(string), msg) {
			t.Fatalf("%s: %d %v, want %s %q", op, code, m, typ, msg)
		}
	}

	// The default database exists.
	dbs := must("GetDatabases", `{}`)["DatabaseList"].([]any)
	if len(dbs) != 1 || dbs[0].(map[string]any)["Name"] != "default" {
		t.Fatalf("databases %v", dbs)
	}
	must("CreateDatabase", `{"DatabaseInput":{"Name":"Analytics","Description":"d"}}`)
	fail("CreateDatabase", `{"DatabaseInput":{"Name":"analytics"}}`, "AlreadyExistsException", "Database already exists.")
	fail("GetDatabase", `{"Name":"nope"}`, "EntityNotFoundException", "Database nope not found.")
	fail("CreateDatabase", `{"DatabaseInput":{}}`, "ValidationException", "name")
	if db := must("GetDatabase", `{"Name":"analytics"}`)["Database"].(map[string]any); db["CatalogId"] != "123456789012" || db["Name"] != "analytics" {
		t.Fatalf("database %v", db)
	}

	fail("CreateTable", `{"DatabaseName":"nope","TableInput":`+tableInput+`}`, "EntityNotFoundException", "Database nope not found.")
	fail("CreateTable", `{"DatabaseName":"analytics","OpenTableFormatInput":{"IcebergInput":{"MetadataOperation":"CREATE"}}}`, "InvalidInputException", "Iceberg")
	fail("CreateTable", `{"DatabaseName":"analytics"}`, "InvalidInputException", "TableInput is required")
	must("CreateTable", `{"DatabaseName":"analytics","TableInput":`+tableInput+`}`)
	fail("CreateTable", `{"DatabaseName":"analytics","TableInput":`+tableInput+`}`, "AlreadyExistsException", "Table already exists.")
	fail("GetTable", `{"DatabaseName":"analytics","Name":"missing"}`, "EntityNotFoundException", "Table missing not found.")
	tbl := must("GetTable", `{"DatabaseName":"analytics","Name":"EVENTS"}`)["Table"].(map[string]any)
	if tbl["Name"] != "events" || tbl["VersionId"] != "0" || tbl["DatabaseName"] != "analytics" {
		t.Fatalf("table %v", tbl)
	}
	cols := tbl["StorageDescriptor"].(map[string]any)["Columns"].([]any)
	if len(cols) != 2 || cols[1].(map[string]any)["Type"] != "struct<a:int>" || cols[0].(map[string]any)["Comment"] != "key" {
		t.Fatalf("columns %v", cols)
	}

	// UpdateTable makes a new version; GetTableVersions lists newest first.
	upd := strings.Replace(tableInput, `"bigint"`, `"string"`, 1)
	fail("UpdateTable", `{"DatabaseName":"analytics","TableInput":`+upd+`,"VersionId":"7"}`, "ConcurrentModificationException", "concurrent")
	must("UpdateTable", `{"DatabaseName":"analytics","TableInput":`+upd+`}`)
	vs := must("GetTableVersions", `{"DatabaseName":"analytics","TableName":"events"}`)["TableVersions"].([]any)
	if len(vs) != 2 || vs[0].(map[string]any)["VersionId"] != "1" || vs[1].(map[string]any)["VersionId"] != "0" {
		t.Fatalf("versions %v", vs)
	}
	must("CreateTable", `{"DatabaseName":"analytics","TableInput":{"Name":"clicks"}}`)
	if ts := must("GetTables", `{"DatabaseName":"analytics","Expression":"ev*"}`)["TableList"].([]any); len(ts) != 1 {
		t.Fatalf("tables matching ev*: %v", ts)
	}
	page := must("GetTables", `{"DatabaseName":"analytics","MaxResults":1}`)
	if len(page["TableList"].([]any)) != 1 || page["NextToken"] == nil {
		t.Fatalf("first page %v", page)
	}

	// Everything survives a restart.
	call = glue(t, dir)
	if tbl := must("GetTable", `{"DatabaseName":"analytics","Name":"events"}`)["Table"].(map[string]any); tbl["VersionId"] != "1" {
		t.Fatalf("after reopen %v", tbl)
	}
	must("DeleteTable", `{"DatabaseName":"analytics","Name":"events"}`)
	fail("DeleteTable", `{"DatabaseName":"analytics","Name":"events"}`, "EntityNotFoundException", "Table events not found.")
	must("DeleteDatabase", `{"Name":"analytics"}`)
	fail("GetTables", `{"DatabaseName":"analytics"}`, "EntityNotFoundException", "Database analytics not found.")
}

func TestTableVersionLookup(t *testing.T) {
	cat, err := catalog.Open(t.TempDir(), "123456789012", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	in := catalog.TableInput{Name: "t", StorageDescriptor: &catalog.StorageDescriptor{Columns: []catalog.Column{{Name: "a", Type: "int"}}}}
	if err := cat.CreateTable(ctx, "", "default", in); err != nil {
		t.Fatal(err)
	}
	in.StorageDescriptor = &catalog.StorageDescriptor{Columns: []catalog.Column{{Name: "a", Type: "bigint"}}}
	if err := cat.UpdateTable(ctx, "", "default", in, ""); err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]string{"": "bigint", "LATEST": "bigint", "0": "int", "1": "bigint"} {
		tb, err := cat.Table(ctx, "123456789012", "default", "t", v)
		if err != nil || tb.Columns()[0].Type != want {
			t.Errorf("version %q: %v %v", v, tb, err)
		}
	}
	if _, err := cat.Table(ctx, "", "default", "t", "9"); err == nil {
		t.Error("version 9 found")
	}
}
