package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// fnZip writes a deployment package and returns its path; names ending in
// "*" are executable (the star is dropped).
func fnZip(t *testing.T, files map[string][]byte) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range files {
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "package.zip")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// firehoseTestEvent is a Firehose transformation event of the given
// records' data.
func firehoseTestEvent(data ...string) []byte {
	type rec struct {
		RecordID                    string `json:"recordId"`
		ApproximateArrivalTimestamp int64  `json:"approximateArrivalTimestamp"`
		Data                        string `json:"data"`
	}
	var recs []rec
	for i, d := range data {
		recs = append(recs, rec{RecordID: fmt.Sprintf("4963087298473%04d", i), ApproximateArrivalTimestamp: time.Now().UnixMilli(), Data: base64.StdEncoding.EncodeToString([]byte(d))})
	}
	b, _ := json.Marshal(map[string]any{
		"invocationId": "a4cc1ad3-0d3f-4b7a-9d7e-0a3b3f7a7a51", "region": "us-east-1",
		"deliveryStreamArn": "arn:aws:firehose:us-east-1:000000000000:deliverystream/clicks", "records": recs,
	})
	return b
}

type firehoseResult struct {
	Records []struct {
		RecordID string `json:"recordId"`
		Result   string `json:"result"`
		Data     []byte `json:"data"`
	} `json:"records"`
}

func lambdaClient(s *server) *lambdasdk.Client {
	return lambdasdk.New(lambdasdk.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

// functionLog reads a function's log from hydrant as text.
func functionLog(t *testing.T, s *server, name string) string {
	t.Helper()
	resp, err := http.Get(s.URL + "/_hydrant/functions/" + name + "/logs?format=text")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return string(readAll(t, resp.Body))
}

// TestLambdaRecipeCLI is the recipe's steps 4 and 5 with the aws CLI: the
// recipe's lambda_function.py, zipped, created, waited for, its ARN read,
// then invoked with a Firehose event of one good and one malformed record.
func TestLambdaRecipeCLI(t *testing.T) {
	t.Parallel()
	awsCLI := requireTool(t, "aws")
	python := requireTool(t, "python3")
	src, err := os.ReadFile("../../examples/recipe/lambda_function.py")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := s.cli(ctx, awsCLI, args...)
		if code != 0 {
			t.Fatalf("aws %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	name := "firehose-transform-abc123"
	zipPath := fnZip(t, map[string][]byte{"lambda_function.py": src})
	run("lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
		"--role", "arn:aws:iam::000000000000:role/FirehoseLambdaRole-abc123", "--handler", "lambda_function.lambda_handler",
		"--zip-file", "fileb://"+zipPath, "--timeout", "300", "--memory-size", "256",
		"--description", "Firehose data transformation function")
	run("lambda", "wait", "function-active", "--function-name", name)
	arn := strings.TrimSpace(run("lambda", "get-function", "--function-name", name, "--query", "Configuration.FunctionArn", "--output", "text"))
	if arn != "arn:aws:lambda:us-east-1:000000000000:function:"+name {
		t.Fatalf("ARN %q", arn)
	}

	eventPath := filepath.Join(t.TempDir(), "event.json")
	_ = os.WriteFile(eventPath, firehoseTestEvent(`{"event_type":"click","user_id":"user456","page_url":"https://example.com/checkout"}`, "invalid-json-data"), 0o644)
	outPath := filepath.Join(t.TempDir(), "out.json")
	meta := run("lambda", "invoke", "--function-name", arn, "--payload", "file://"+eventPath, outPath)
	result, _ := os.ReadFile(outPath)

	// The recipe imports boto3 at module level: with a python3 that lacks
	// it, Lambda's own answer is an import error, and so is hydrant's.
	if exec.Command(python, "-c", "import boto3").Run() != nil {
		if !strings.Contains(meta, `"FunctionError": "Unhandled"`) || !strings.Contains(string(result), "No module named 'boto3'") {
			t.Fatalf("without boto3: %s %s", meta, result)
		}
		t.Skip("python3 has no boto3: the recipe's function fails to import, as it would on Lambda without it")
	}
	if strings.Contains(meta, "FunctionError") || !strings.Contains(meta, `"StatusCode": 200`) || !strings.Contains(meta, `"ExecutedVersion": "$LATEST"`) {
		t.Fatalf("invoke: %s\n%s", meta, result)
	}
	var res firehoseResult
	if err := json.Unmarshal(result, &res); err != nil || len(res.Records) != 2 {
		t.Fatalf("result %s: %v", result, err)
	}
	var good map[string]any
	if res.Records[0].Result != "Ok" || json.Unmarshal(res.Records[0].Data, &good) != nil || good["processed_by"] != "lambda-firehose-transform" ||
		good["user_id"] != "user456" || !bytes.HasSuffix(res.Records[0].Data, []byte("\n")) {
		t.Errorf("good record: %s %s", res.Records[0].Result, res.Records[0].Data)
	}
	if res.Records[1].Result != "ProcessingFailed" || res.Records[1].RecordID != "49630872984730001" {
		t.Errorf("malformed record: %+v", res.Records[1])
	}
	logs := functionLog(t, s, name)
	if !strings.Contains(logs, "Successfully processed 1 out of 2 records") || !strings.Contains(logs, "Error processing record 49630872984730001") ||
		!strings.Contains(logs, "Memory Size: 256 MB") {
		t.Errorf("function log:\n%s", logs)
	}
}

// TestLambdaRuntimes runs a Node handler, a Go function built with
// aws-lambda-go (provided.al2023) and a timing-out Python function through
// the real binary, then restarts hydrant and finds them all still there.
func TestLambdaRuntimes(t *testing.T) {
	t.Parallel()
	requireTool(t, "node")
	requireTool(t, "python3")
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-o", bin, "github.com/hydrant-io/hydrant/internal/lambda/testfunc")
	build.Env = append(os.Environ(), "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the Go function: %v\n%s", err, out)
	}
	goBin, _ := os.ReadFile(bin)

	s := startServer(t)
	c := lambdaClient(s)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	create := func(name, runtime, handler string, timeout int32, files map[string][]byte) {
		t.Helper()
		zipBytes, _ := os.ReadFile(fnZip(t, files))
		_, err := c.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{
			FunctionName: aws.String(name), Runtime: types.Runtime(runtime), Handler: aws.String(handler),
			Role: aws.String("arn:aws:iam::000000000000:role/r"), Code: &types.FunctionCode{ZipFile: zipBytes}, Timeout: aws.Int32(timeout),
		})
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	create("node-upper", "nodejs20.x", "index.handler", 10, map[string][]byte{"index.mjs": []byte(`export const handler = async (event) => {
  console.log("records", event.records.length);
  return { records: event.records.map((r) => ({ recordId: r.recordId, result: "Ok",
    data: Buffer.from(Buffer.from(r.data, "base64").toString().toUpperCase() + "\n").toString("base64") })) };
};`)})
	create("go-upper", "provided.al2023", "bootstrap", 10, map[string][]byte{"bootstrap*": goBin})
	create("py-slow", "python3.12", "app.handler", 1, map[string][]byte{"app.py": []byte("import time\ndef handler(e, c):\n    time.sleep(120)\n")})

	invokeUpper := func(name string) {
		t.Helper()
		out, err := c.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String(name), Payload: firehoseTestEvent("hello", "fail")})
		if err != nil || out.FunctionError != nil {
			t.Fatalf("invoke %s: %v %s", name, err, out.Payload)
		}
		var res firehoseResult
		if err := json.Unmarshal(out.Payload, &res); err != nil || len(res.Records) != 2 || string(res.Records[0].Data) != "HELLO\n" || res.Records[0].Result != "Ok" {
			t.Fatalf("%s result: %s", name, out.Payload)
		}
		if name == "go-upper" && res.Records[1].Result != "ProcessingFailed" {
			t.Errorf("go-upper second record: %+v", res.Records[1])
		}
	}
	invokeUpper("node-upper")
	invokeUpper("go-upper")
	if !regexp.MustCompile(`\tINFO\trecords 2`).MatchString(functionLog(t, s, "node-upper")) {
		t.Errorf("node log:\n%s", functionLog(t, s, "node-upper"))
	}

	start := time.Now()
	out, err := c.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("py-slow")})
	if err != nil || aws.ToString(out.FunctionError) != "Unhandled" ||
		!regexp.MustCompile(`^\{"errorMessage":"\S+Z [0-9a-f-]{36} Task timed out after 1\.\d\d seconds"\}$`).Match(out.Payload) {
		t.Fatalf("timeout: %v %s", err, out.Payload)
	}
	// Far below the function's 120 s: the timeout cut it (a loaded
	// machine may take long to start the interpreter, so no closer bound).
	if time.Since(start) > 60*time.Second {
		t.Errorf("the 1 s timeout took %v", time.Since(start))
	}

	s.Stop()
	s.Restart()
	c = lambdaClient(s)
	list, err := c.ListFunctions(ctx, &lambdasdk.ListFunctionsInput{})
	if err != nil || len(list.Functions) != 3 {
		t.Fatalf("after restart: %v %d functions", err, len(list.Functions))
	}
	invokeUpper("go-upper")
	invokeUpper("node-upper")
	resp, err := http.Get(s.URL + "/_hydrant/functions/go-upper/code.zip")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	zr, err := zip.NewReader(bytes.NewReader(got), int64(len(got)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Errorf("downloaded package: %v", err)
	}
}
