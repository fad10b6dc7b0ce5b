package catalog_test

import (
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/catalog"
)

func TestGluePartitions(t *testing.T) {
	call := glue(t, t.TempDir())
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
	must("CreateTable", `{"DatabaseName":"default","TableInput":{"Name":"t","StorageDescriptor":{"Location":"s3://b/t/"},
		"PartitionKeys":[{"Name":"year","Type":"string"},{"Name":"hour","Type":"int"}]}}`)
	part := func(y, h string) string {
		return `{"Values":["` + y + `","` + h + `"],"StorageDescriptor":{"Location":"s3://b/t/year=` + y + `/hour=` + h + `/"}}`
	}
	must("CreatePartition", `{"DatabaseName":"default","TableName":"t","PartitionInput":`+part("2026", "9")+`}`)
	fail("CreatePartition", `{"DatabaseName":"default","TableName":"t","PartitionInput":`+part("2026", "9")+`}`, "AlreadyExistsException", "Partition already exists.")
	fail("CreatePartition", `{"DatabaseName":"default","TableName":"t","PartitionInput":{"Values":["x"]}}`, "InvalidInputException", "number of partition keys")
	fail("CreatePartition", `{"DatabaseName":"default","TableName":"nope","PartitionInput":`+part("1", "1")+`}`, "EntityNotFoundException", "Table nope not found.")
	res := must("BatchCreatePartition", `{"DatabaseName":"default","TableName":"t","PartitionInputList":[`+
		part("2026", "10")+","+part("2026", "11")+","+part("2025", "23")+","+part("2026", "9")+`]}`)
	errs := res["Errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["ErrorDetail"].(map[string]any)["ErrorCode"] != "AlreadyExistsException" {
		t.Fatalf("batch errors %v", errs)
	}
	p := must("GetPartition", `{"DatabaseName":"default","TableName":"t","PartitionValues":["2026","10"]}`)["Partition"].(map[string]any)
	if p["TableName"] != "t" || p["StorageDescriptor"].(map[string]any)["Location"] != "s3://b/t/year=2026/hour=10/" || p["CreationTime"] == nil {
		t.Fatalf("partition %v", p)
	}
	fail("GetPartition", `{"DatabaseName":"default","TableName":"t","PartitionValues":["2020","1"]}`, "EntityNotFoundException", "Partition not found.")

	values := func(expr string) string {
		t.Helper()
		body := `{"DatabaseName":"default","TableName":"t"`
		if expr != "" {
			body += `,"Expression":` + quote(expr)
		}
		var out []string
		for _, p := range must("GetPartitions", body+`}`)["Partitions"].([]any) {
			v := p.(map[string]any)["Values"].([]any)
			out = append(out, v[0].(string)+"/"+v[1].(string))
		}
		return strings.Join(out, " ")
	}
	for expr, want := range map[string]string{
		"":                                    "2025/23 2026/10 2026/11 2026/9",
		"year = '2026'":                       "2026/10 2026/11 2026/9",
		"year='2026' AND hour > 9":            "2026/10 2026/11", // numeric, not "9" > "10"
		"hour BETWEEN 9 AND 10":               "2026/10 2026/9",
		"hour IN (11, 23) OR year <> '2026'":  "2025/23 2026/11",
		"NOT (year = '2026') ":                "2025/23",
		"year LIKE '20%' AND hour NOT IN (9)": "2025/23 2026/10 2026/11",
	} {
		if got := values(expr); got != want {
			t.Errorf("GetPartitions %q = %s, want %s", expr, got, want)
		}
	}
	fail("GetPartitions", `{"DatabaseName":"default","TableName":"t","Expression":"month = '1'"}`, "InvalidInputException", "unknown partition key")
	fail("GetPartitions", `{"DatabaseName":"default","TableName":"t","Expression":"year = "}`, "InvalidInputException", "value")

	got := must("BatchGetPartition", `{"DatabaseName":"default","TableName":"t","PartitionsToGet":[{"Values":["2026","9"]},{"Values":["1","1"]}]}`)
	if n := len(got["Partitions"].([]any)); n != 1 {
		t.Fatalf("BatchGetPartition found %d", n)
	}
	must("DeletePartition", `{"DatabaseName":"default","TableName":"t","PartitionValues":["2026","9"]}`)
	fail("DeletePartition", `{"DatabaseName":"default","TableName":"t","PartitionValues":["2026","9"]}`, "EntityNotFoundException", "Partition not found.")
	res = must("BatchDeletePartition", `{"DatabaseName":"default","TableName":"t","PartitionsToDelete":[{"Values":["2026","10"]},{"Values":["2026","9"]}]}`)
	if errs := res["Errors"].([]any); len(errs) != 1 {
		t.Fatalf("batch delete errors %v", errs)
	}
	if got := values(""); got != "2025/23 2026/11" {
		t.Fatalf("after deletes: %s", got)
	}
}

func TestPartitionsPersist(t *testing.T) {
	dir := t.TempDir()
	cat, err := catalog.Open(dir, "123456789012", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := cat.CreateTable(ctx, "", "default", catalog.TableInput{Name: "t", PartitionKeys: []catalog.Column{{Name: "dt", Type: "string"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.CreatePartitions(ctx, "", "default", "t", []catalog.PartitionInput{{Values: []string{"2026-01-01"}}}); err != nil {
		t.Fatal(err)
	}
	cat2, err := catalog.Open(dir, "123456789012", nil)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := cat2.Partitions(ctx, "", "default", "t")
	if err != nil || len(ps) != 1 || ps[0].Values[0] != "2026-01-01" {
		t.Fatalf("reopened partitions %v %v", ps, err)
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }
