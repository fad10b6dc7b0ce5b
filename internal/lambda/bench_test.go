package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// goFunctionZip builds ./testfunc (an aws-lambda-go Firehose transformer)
// as a provided.al2023 package.
func goFunctionZip(tb testing.TB) []byte {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", out, "./testfunc")
	cmd.Env = append(os.Environ(), "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build testfunc: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return zipOf(tb, map[string]string{"bootstrap*": string(bin)})
}

// firehoseEvent is a Kinesis Firehose transformation event of n records.
func firehoseEvent(n int) []byte {
	type rec struct {
		RecordID                    string `json:"recordId"`
		ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
		Data                        string `json:"data"`
	}
	ev := struct {
		InvocationID      string `json:"invocationId"`
		DeliveryStreamArn string `json:"deliveryStreamArn"`
		Region            string `json:"region"`
		Records           []rec  `json:"records"`
	}{InvocationID: "bench", DeliveryStreamArn: "arn:aws:firehose:us-east-1:000000000000:deliverystream/bench", Region: "us-east-1"}
	for i := 0; i < n; i++ {
		data := fmt.Sprintf(`{"event_type":"click","user_id":"user%d","n":%d}`, i, i)
		ev.Records = append(ev.Records, rec{RecordID: fmt.Sprint(i), ApproximateArrivalTimestamp: time.Now().UnixMilli(), Data: base64.StdEncoding.EncodeToString([]byte(data))})
	}
	b, _ := json.Marshal(ev)
	return b
}

// benchInvoke invokes a function b.N times with a 10-record Firehose event
// (in parallel with -cpu > 1 and SetParallelism) and reports invocations/s.
func benchInvoke(b *testing.B, s *Service, name string, parallel bool) {
	payload := firehoseEvent(10)
	ctx := context.Background()
	// Warm one instance so the figure is of warm invocations.
	if _, fnErr, err := s.Invoke(ctx, name, payload); err != nil || fnErr != "" {
		b.Fatalf("warm-up: %v %q", err, fnErr)
	}
	b.ResetTimer()
	start := time.Now()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, fnErr, err := s.Invoke(ctx, name, payload); err != nil || fnErr != "" {
					b.Errorf("invoke: %v %q", err, fnErr)
					return
				}
			}
		})
	} else {
		for i := 0; i < b.N; i++ {
			if _, fnErr, err := s.Invoke(ctx, name, payload); err != nil || fnErr != "" {
				b.Fatalf("invoke: %v %q", err, fnErr)
			}
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "invocations/s")
}

// BenchmarkInvokeGo measures warm invocations of a Go (provided.al2023)
// function, one at a time.
func BenchmarkInvokeGo(b *testing.B) {
	s := openService(b, Options{})
	mustCreate(b, s, "gofn", "provided.al2023", "bootstrap", goFunctionZip(b), 30, nil)
	benchInvoke(b, s, "gofn", false)
}

// BenchmarkInvokeGoParallel is the same with 4 instances busy at once.
func BenchmarkInvokeGoParallel(b *testing.B) {
	s := openService(b, Options{Concurrency: 4})
	mustCreate(b, s, "gofn", "provided.al2023", "bootstrap", goFunctionZip(b), 30, nil)
	b.SetParallelism(4)
	benchInvoke(b, s, "gofn", true)
}

// BenchmarkInvokePython measures warm invocations of a python3 function
// through hydrant's bootstrap.
func BenchmarkInvokePython(b *testing.B) {
	requireTool(b, "python3")
	s := openService(b, Options{})
	mustCreate(b, s, "pyfn", "python3.12", "app.handler", zipOf(b, map[string]string{"app.py": `import base64
def handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": base64.b64encode(base64.b64decode(r["data"]).upper()).decode()} for r in event["records"]]}
`}), 30, nil)
	benchInvoke(b, s, "pyfn", false)
}
