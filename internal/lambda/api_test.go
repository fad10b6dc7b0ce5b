package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// serveAPI serves a service's Lambda API and hydrant endpoints over a real
// socket, as the server does.
func serveAPI(t testing.TB, s *Service) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle(APIPrefix, s.Handler())
	mux.Handle(APIPrefix+"/", s.Handler())
	mux.Handle(HydrantPrefix+"/", s.HydrantHandler())
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func sdkClient(url string) *lambdasdk.Client {
	return lambdasdk.New(lambdasdk.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
	})
}

// apiErr unpacks an SDK error into its code, message and HTTP status.
func apiErr(t *testing.T, err error) (string, string, int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), ae.ErrorMessage(), status
}

const pyHandler = `import json, os

def handler(event, context):
    print("got", json.dumps(event))
    if event.get("fail"):
        raise ValueError("bad input " + str(event["fail"]))
    return {
        "event": event,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "arn": context.invoked_function_arn,
        "memory": context.memory_limit_in_mb,
        "request_id": context.aws_request_id,
        "log_group": context.log_group_name,
        "log_stream": context.log_stream_name,
        "remaining": context.get_remaining_time_in_millis(),
        "greeting": os.environ.get("GREETING"),
    }
`

// TestAPIWithSDK drives the whole API with aws-sdk-go-v2: create, get,
// list, update, invoke, delete, and Lambda's errors.
func TestAPIWithSDK(t *testing.T) {
	requireTool(t, "python3")
	s := openService(t, Options{})
	ts := serveAPI(t, s)
	c := sdkClient(ts.URL)
	ctx := context.Background()
	zipFile := zipOf(t, map[string]string{"app.py": pyHandler})

	create := &lambdasdk.CreateFunctionInput{
		FunctionName: aws.String("echo"), Runtime: types.RuntimePython312, Handler: aws.String("app.handler"),
		Role: aws.String("arn:aws:iam::000000000000:role/lambda"), Code: &types.FunctionCode{ZipFile: zipFile},
		Timeout: aws.Int32(30), MemorySize: aws.Int32(256), Description: aws.String("echoes"),
		Environment: &types.Environment{Variables: map[string]string{"GREETING": "hello"}},
	}
	cfg, err := c.CreateFunction(ctx, create)
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:lambda:us-east-1:000000000000:function:echo"
	if aws.ToString(cfg.FunctionArn) != arn || cfg.State != types.StateActive || cfg.LastUpdateStatus != types.LastUpdateStatusSuccessful ||
		aws.ToString(cfg.Version) != "$LATEST" || cfg.PackageType != types.PackageTypeZip || aws.ToInt32(cfg.MemorySize) != 256 ||
		aws.ToString(cfg.CodeSha256) != codeSha256(zipFile) || cfg.CodeSize != int64(len(zipFile)) ||
		cfg.Architectures[0] != types.ArchitectureX8664 || aws.ToInt32(cfg.EphemeralStorage.Size) != 512 ||
		cfg.TracingConfig.Mode != types.TracingModePassThrough || aws.ToString(cfg.RevisionId) == "" ||
		aws.ToString(cfg.LoggingConfig.LogGroup) != "/aws/lambda/echo" {
		b, _ := json.Marshal(cfg)
		t.Errorf("created configuration: %s", b)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$`).MatchString(aws.ToString(cfg.LastModified)) {
		t.Errorf("LastModified %q", aws.ToString(cfg.LastModified))
	}

	_, err = c.CreateFunction(ctx, create)
	if code, msg, st := apiErr(t, err); code != ResourceConflict || msg != "Function already exist: echo" || st != 409 {
		t.Errorf("second create: %s %q %d", code, msg, st)
	}

	// Every form of the name finds it; GetFunction's Code.Location serves
	// the package.
	for _, name := range []string{"echo", arn, "000000000000:function:echo", "echo:$LATEST"} {
		got, err := c.GetFunction(ctx, &lambdasdk.GetFunctionInput{FunctionName: aws.String(name)})
		if err != nil {
			t.Fatalf("get %s: %v", name, err)
		}
		if aws.ToString(got.Configuration.FunctionArn) != arn || aws.ToString(got.Code.RepositoryType) != "S3" {
			t.Errorf("get %s: %+v", name, got.Code)
		}
		resp, err := http.Get(aws.ToString(got.Code.Location))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != string(zipFile) {
			t.Errorf("code location served %d bytes", len(b))
		}
	}
	_, err = c.GetFunctionConfiguration(ctx, &lambdasdk.GetFunctionConfigurationInput{FunctionName: aws.String("echo"), Qualifier: aws.String("7")})
	if code, msg, st := apiErr(t, err); code != ResourceNotFound || msg != "Function not found: "+arn+":7" || st != 404 {
		t.Errorf("qualifier 7: %s %q %d", code, msg, st)
	}

	out, err := c.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"k":"v"}`), LogType: types.LogTypeTail})
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	_ = json.Unmarshal(out.Payload, &res)
	if out.StatusCode != 200 || out.FunctionError != nil || aws.ToString(out.ExecutedVersion) != "$LATEST" ||
		res["function_name"] != "echo" || res["arn"] != arn || res["memory"] != "256" || res["greeting"] != "hello" ||
		res["log_group"] != "/aws/lambda/echo" || res["remaining"].(float64) <= 25000 || res["function_version"] != "$LATEST" {
		t.Errorf("invoke: %d %v %s", out.StatusCode, out.FunctionError, out.Payload)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(tail), `got {"k": "v"}`) || !strings.Contains(string(tail), "REPORT RequestId: "+res["request_id"].(string)) {
		t.Errorf("log tail:\n%s", tail)
	}

	out, err = c.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"fail":42}`)})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		ErrorMessage, ErrorType, RequestID string
		StackTrace                         []string
	}
	_ = json.Unmarshal(out.Payload, &doc)
	if aws.ToString(out.FunctionError) != "Unhandled" || doc.ErrorType != "ValueError" || doc.ErrorMessage != "bad input 42" ||
		len(doc.StackTrace) != 1 || !strings.Contains(doc.StackTrace[0], `app.py", line 6, in handler`) {
		t.Errorf("function error: %v %s", out.FunctionError, out.Payload)
	}

	upd, err := c.UpdateFunctionConfiguration(ctx, &lambdasdk.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("echo"), Timeout: aws.Int32(5), RevisionId: cfg.RevisionId,
		Environment: &types.Environment{Variables: map[string]string{"GREETING": "bonjour"}},
	})
	if err != nil || aws.ToInt32(upd.Timeout) != 5 || aws.ToString(upd.RevisionId) == aws.ToString(cfg.RevisionId) {
		t.Fatalf("update configuration: %v", err)
	}
	_, err = c.UpdateFunctionConfiguration(ctx, &lambdasdk.UpdateFunctionConfigurationInput{FunctionName: aws.String("echo"), RevisionId: cfg.RevisionId})
	if code, _, st := apiErr(t, err); code != PreconditionFailed || st != 412 {
		t.Errorf("stale revision: %s %d", code, st)
	}
	out, _ = c.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{}`)})
	if !strings.Contains(string(out.Payload), `"greeting": "bonjour"`) && !strings.Contains(string(out.Payload), `"greeting":"bonjour"`) {
		t.Errorf("new environment not in effect: %s", out.Payload)
	}

	newZip := zipOf(t, map[string]string{"app.py": "def handler(e, c):\n    return 'v2'\n"})
	code, err := c.UpdateFunctionCode(ctx, &lambdasdk.UpdateFunctionCodeInput{FunctionName: aws.String("echo"), ZipFile: newZip})
	if err != nil || aws.ToString(code.CodeSha256) != codeSha256(newZip) {
		t.Fatalf("update code: %v", err)
	}
	out, _ = c.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("echo")})
	if string(out.Payload) != `"v2"` {
		t.Errorf("after code update: %s", out.Payload)
	}
	// The old version's unpacked code goes with its last instance.
	waitUntil(t, func() bool {
		dirs, _ := os.ReadDir(filepath.Join(s.runDir, "task"))
		return len(dirs) == 1
	})

	mustCreate(t, s, "another", "python3.12", "app.handler", zipFile, 3, nil)
	page, err := c.ListFunctions(ctx, &lambdasdk.ListFunctionsInput{MaxItems: aws.Int32(1)})
	if err != nil || len(page.Functions) != 1 || aws.ToString(page.Functions[0].FunctionName) != "another" || aws.ToString(page.NextMarker) == "" {
		t.Fatalf("list page 1: %v %+v", err, page)
	}
	page, err = c.ListFunctions(ctx, &lambdasdk.ListFunctionsInput{MaxItems: aws.Int32(1), Marker: page.NextMarker})
	if err != nil || len(page.Functions) != 1 || aws.ToString(page.Functions[0].FunctionName) != "echo" || page.NextMarker != nil {
		t.Fatalf("list page 2: %v %+v", err, page)
	}

	if _, err := c.DeleteFunction(ctx, &lambdasdk.DeleteFunctionInput{FunctionName: aws.String("echo")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("echo")})
	if code, msg, st := apiErr(t, err); code != ResourceNotFound || msg != "Function not found: "+arn || st != 404 {
		t.Errorf("after delete: %s %q %d", code, msg, st)
	}
}

// TestCreateRefusals: what hydrant cannot run, or Lambda would not accept.
func TestCreateRefusals(t *testing.T) {
	s := openService(t, Options{})
	c := sdkClient(serveAPI(t, s).URL)
	ok := zipOf(t, map[string]string{"app.py": "def handler(e, c): return 1\n"})
	base := func() *lambdasdk.CreateFunctionInput {
		return &lambdasdk.CreateFunctionInput{FunctionName: aws.String("f"), Runtime: types.RuntimePython312, Handler: aws.String("app.handler"),
			Role: aws.String("arn:aws:iam::000000000000:role/r"), Code: &types.FunctionCode{ZipFile: ok}}
	}
	tests := []struct {
		name   string
		change func(*lambdasdk.CreateFunctionInput)
		code   string
		msg    string
	}{
		{"java", func(in *lambdasdk.CreateFunctionInput) { in.Runtime = types.RuntimeJava21 }, InvalidParameterValue, "hydrant does not support the runtime java21"},
		{"dotnet", func(in *lambdasdk.CreateFunctionInput) { in.Runtime = types.RuntimeDotnet8 }, InvalidParameterValue, "the runtime dotnet8"},
		{"ruby", func(in *lambdasdk.CreateFunctionInput) { in.Runtime = types.RuntimeRuby33 }, InvalidParameterValue, "the runtime ruby3.3"},
		{"image", func(in *lambdasdk.CreateFunctionInput) {
			in.PackageType, in.Code = types.PackageTypeImage, &types.FunctionCode{ImageUri: aws.String("x")}
		}, InvalidParameterValue, "hydrant does not support PackageType Image"},
		{"layers", func(in *lambdasdk.CreateFunctionInput) {
			in.Layers = []string{"arn:aws:lambda:us-east-1:000000000000:layer:l:1"}
		}, InvalidParameterValue, "hydrant does not support Layers"},
		{"not a zip", func(in *lambdasdk.CreateFunctionInput) { in.Code.ZipFile = []byte("nope") }, InvalidParameterValue, "Could not unzip uploaded file. Please check your file, then try to upload again."},
		{"s3 code", func(in *lambdasdk.CreateFunctionInput) {
			in.Code = &types.FunctionCode{S3Bucket: aws.String("my-bucket"), S3Key: aws.String("k")}
		}, InvalidParameterValue, "hydrant does not support Code.S3Bucket"},
		{"reserved env", func(in *lambdasdk.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"AWS_REGION": "x"}}
		}, InvalidParameterValue, "Reserved keys used in this request: AWS_REGION"},
		{"timeout", func(in *lambdasdk.CreateFunctionInput) { in.Timeout = aws.Int32(901) }, "ValidationException", "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"},
		{"bad name", func(in *lambdasdk.CreateFunctionInput) { in.FunctionName = aws.String("no spaces") }, "ValidationException", "Value 'no spaces' at 'functionName' failed to satisfy constraint"},
		{"memory", func(in *lambdasdk.CreateFunctionInput) { in.MemorySize = aws.Int32(64) }, "ValidationException", "at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"},
		{"no handler", func(in *lambdasdk.CreateFunctionInput) { in.Handler = nil }, InvalidParameterValue, "Runtime and Handler are mandatory parameters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.change(in)
			_, err := c.CreateFunction(context.Background(), in)
			if err == nil {
				t.Fatal("accepted")
			}
			code, msg, st := apiErr(t, err)
			if code != tt.code || !strings.Contains(msg, tt.msg) || st != 400 {
				t.Errorf("got %s %d %q", code, st, msg)
			}
		})
	}
	if names := s.Names(); len(names) != 0 {
		t.Errorf("refused creates left %v", names)
	}
}

// TestErrorWireShape checks the bytes clients parse: X-Amzn-Errortype, and
// a body with Type and the message member the error shape declares.
func TestErrorWireShape(t *testing.T) {
	s := openService(t, Options{})
	ts := serveAPI(t, s)
	resp, err := http.Get(ts.URL + APIPrefix + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Errortype") != ResourceNotFound || resp.Header.Get("X-Amzn-Requestid") == "" ||
		string(b) != `{"Message":"Function not found: arn:aws:lambda:us-east-1:000000000000:function:nope","Type":"User"}` {
		t.Errorf("404: %d %v %s", resp.StatusCode, resp.Header, b)
	}
	req, _ := http.NewRequest(http.MethodPost, ts.URL+APIPrefix+"/nope/invocations", strings.NewReader("not json"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != InvalidRequestContent ||
		!strings.HasPrefix(string(b), `{"Type":"User","message":"Could not parse request body into json: Could not parse payload into json: `) {
		t.Errorf("bad payload: %d %s", resp.StatusCode, b)
	}
	req, _ = http.NewRequest(http.MethodPost, ts.URL+APIPrefix+"/nope/invocations", strings.NewReader(strings.Repeat(" ", MaxRequestPayload+1)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 413 || string(b) != `{"Type":"User","message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}` {
		t.Errorf("too large: %d %s", resp.StatusCode, b)
	}
}

// TestInvokeTypes: DryRun answers 204, Event 202 and runs in the
// background.
func TestInvokeTypes(t *testing.T) {
	s := openService(t, Options{})
	c := sdkClient(serveAPI(t, s).URL)
	createFake(t, s, "async", 10, nil)
	ctx := context.Background()
	out, err := c.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("async"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || out.StatusCode != 204 {
		t.Fatalf("dry run: %v %+v", err, out)
	}
	if live, _ := s.Instances("async"); live != 0 {
		t.Errorf("dry run started an instance")
	}
	out, err = c.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("async"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"op":"print","lines":["in the background"]}`)})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("event: %v %+v", err, out)
	}
	waitUntil(t, func() bool { return strings.Contains(logText(s, "async"), "in the background") })
}
