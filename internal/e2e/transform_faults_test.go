package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// transformEnv is a server with helpers to create Python functions and
// streams that run them.
type transformEnv struct {
	t   *testing.T
	s   *server
	aws string
}

func newTransformEnv(t *testing.T) *transformEnv {
	aws := requireTool(t, "aws")
	requireTool(t, "python3")
	return &transformEnv{t: t, s: startServer(t), aws: aws}
}

// run runs one aws CLI call, bounded on its own: parallel subtests can
// wait minutes for a slot, so no deadline is shared between them.
func (e *transformEnv) run(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, errOut, code := e.s.cli(ctx, e.aws, args...)
	if code != 0 {
		t.Fatalf("aws %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// function creates a python3.12 function from handler code (module
// lambda_function, handler lambda_handler) and returns its ARN.
func (e *transformEnv) function(t *testing.T, name, code string, timeout int) string {
	t.Helper()
	zipPath := zipFile(t, "lambda_function.py", code)
	e.run(t, "lambda", "create-function", "--function-name", name, "--runtime", "python3.12",
		"--role", "arn:aws:iam::000000000000:role/r", "--handler", "lambda_function.lambda_handler",
		"--zip-file", "fileb://"+zipPath, "--timeout", fmt.Sprint(timeout))
	e.run(t, "lambda", "wait", "function-active", "--function-name", name)
	var fn struct{ Configuration struct{ FunctionArn string } }
	if err := json.Unmarshal([]byte(e.run(t, "lambda", "get-function", "--function-name", name)), &fn); err != nil {
		t.Fatal(err)
	}
	return fn.Configuration.FunctionArn
}

// stream creates a stream whose Lambda processor runs arn with the given
// NumberOfRetries, delivering at once to bucket name.
func (e *transformEnv) stream(t *testing.T, name, arn string, retries int) {
	t.Helper()
	cfg := map[string]any{
		"DeliveryStreamName": name,
		"ExtendedS3DestinationConfiguration": map[string]any{
			"RoleARN": "arn:aws:iam::000000000000:role/r", "BucketARN": "arn:aws:s3:::" + name,
			"Prefix": "data/", "ErrorOutputPrefix": "err/!{firehose:error-output-type}/",
			"BufferingHints": map[string]any{"SizeInMBs": 1, "IntervalInSeconds": 0},
			"ProcessingConfiguration": map[string]any{"Enabled": true, "Processors": []any{map[string]any{
				"Type": "Lambda",
				"Parameters": []any{
					map[string]any{"ParameterName": "LambdaArn", "ParameterValue": arn},
					map[string]any{"ParameterName": "NumberOfRetries", "ParameterValue": fmt.Sprint(retries)},
				},
			}}},
		},
	}
	b, _ := json.Marshal(cfg)
	p := filepath.Join(t.TempDir(), "stream.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	e.run(t, "firehose", "create-delivery-stream", "--cli-input-json", "file://"+p)
}

// put sends records in one PutRecordBatch (CLI v1 base64-encodes Data).
func (e *transformEnv) put(t *testing.T, stream string, recs ...string) {
	t.Helper()
	var rs []map[string]string
	for _, r := range recs {
		rs = append(rs, map[string]string{"Data": r})
	}
	b, _ := json.Marshal(rs)
	e.run(t, "firehose", "put-record-batch", "--delivery-stream-name", stream, "--records", string(b))
}

// outcome waits until want records are accounted for in bucket (delivered
// lines plus error records) and returns the delivered data and the error
// records.
func (e *transformEnv) outcome(t *testing.T, bucket string, want int) (string, []map[string]any) {
	t.Helper()
	var data string
	var errs []map[string]any
	waitFor(t, 60*time.Second, "records delivered or in the error output", func() bool {
		data, errs = "", nil
		for k, v := range e.s.bucketFiles(bucket) {
			switch {
			case strings.HasPrefix(k, "data/"):
				data += string(v)
			case strings.HasPrefix(k, "err/processing-failed/"):
				for _, line := range strings.Split(strings.TrimSpace(string(v)), "\n") {
					var m map[string]any
					if err := json.Unmarshal([]byte(line), &m); err != nil {
						t.Fatalf("error record %q: %v", line, err)
					}
					errs = append(errs, m)
				}
			}
		}
		return strings.Count(data, "\n")+len(errs) >= want
	})
	return data, errs
}

// TestTransformFaults runs functions that fail in each way Firehose
// distinguishes and checks that every record is either delivered or in the
// error output with the right code and attemptsMade.
func TestTransformFaults(t *testing.T) {
	t.Parallel()
	e := newTransformEnv(t)
	echo := `
import base64
def transform(r):
    return {'recordId': r['recordId'], 'result': 'Ok', 'data': base64.b64encode(base64.b64decode(r['data']) + b'\n').decode()}
`
	tests := []struct {
		name    string
		code    string
		timeout int
		retries int
		records []string
		data    string         // delivered lines, sorted
		codes   map[string]int // error code → records
		attempt float64
	}{
		{name: "raises", retries: 1, code: "def lambda_handler(event, context):\n    raise Exception('boom')\n",
			records: []string{"a", "b"}, codes: map[string]int{"Lambda.FunctionError": 2}, attempt: 2},
		{name: "times-out", retries: 1, timeout: 1, code: "import time\ndef lambda_handler(event, context):\n    time.sleep(3)\n",
			records: []string{"a"}, codes: map[string]int{"Lambda.FunctionTimedOut": 1}, attempt: 2},
		{name: "exits", retries: 0, code: "import os\ndef lambda_handler(event, context):\n    os._exit(3)\n",
			records: []string{"a"}, codes: map[string]int{"Lambda.FunctionError": 1}, attempt: 1},
		{name: "garbage", retries: 3, code: "def lambda_handler(event, context):\n    return 42\n",
			records: []string{"a", "b"}, codes: map[string]int{"Lambda.MissingRecordId": 2}, attempt: 1},
		{name: "missing-and-duplicate", retries: 3, code: echo + `
def lambda_handler(event, context):
    rs = event['records']
    return {'records': [transform(rs[0]), transform(rs[1]), transform(rs[1])]}
`, records: []string{"a", "b", "c"}, data: "a", codes: map[string]int{"Lambda.DuplicatedRecordId": 1, "Lambda.MissingRecordId": 1}, attempt: 1},
		{name: "bad-base64-and-statuses", retries: 3, code: echo + `
def lambda_handler(event, context):
    out = []
    for r in event['records']:
        d = __import__('base64').b64decode(r['data'])
        if d == b'bad64':
            out.append({'recordId': r['recordId'], 'result': 'Ok', 'data': '!!not base64!!'})
        elif d == b'fail':
            out.append({'recordId': r['recordId'], 'result': 'ProcessingFailed'})
        elif d == b'drop':
            out.append({'recordId': r['recordId'], 'result': 'Dropped'})
        else:
            out.append(transform(r))
    out.append({'recordId': 'unknown', 'result': 'Ok', 'data': 'eA=='})
    return {'records': out}
`, records: []string{"ok1", "bad64", "fail", "drop", "ok2"}, data: "ok1\nok2",
			codes: map[string]int{"Lambda.JsonProcessingException": 1, "Lambda.ProcessingFailedStatus": 1}, attempt: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 30
			}
			arn := e.function(t, "f-"+tc.name, tc.code, timeout)
			e.stream(t, tc.name, arn, tc.retries)
			e.put(t, tc.name, tc.records...)
			want := 0
			for _, n := range tc.codes {
				want += n
			}
			want += len(strings.Fields(tc.data))
			data, errs := e.outcome(t, tc.name, want)
			lines := strings.Fields(data)
			if got := strings.Join(sortedCopy(lines), "\n"); got != tc.data {
				t.Errorf("delivered %q, want %q", got, tc.data)
			}
			codes := map[string]int{}
			for _, m := range errs {
				codes[fmt.Sprint(m["errorCode"])]++
				raw, _ := base64.StdEncoding.DecodeString(fmt.Sprint(m["rawData"]))
				if m["attemptsMade"] != tc.attempt || m["lambdaARN"] != arn || !contains(tc.records, string(raw)) {
					t.Errorf("error record %v", m)
				}
			}
			if fmt.Sprint(codes) != fmt.Sprint(tc.codes) {
				t.Errorf("error codes %v, want %v", codes, tc.codes)
			}
		})
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestTransformSurvivesKill SIGKILLs hydrant while a batch is inside the
// function: after the restart the batch is processed again and delivered
// once, and nothing goes to the error output.
func TestTransformSurvivesKill(t *testing.T) {
	t.Parallel()
	e := newTransformEnv(t)
	marker := filepath.Join(t.TempDir(), "started")
	code := fmt.Sprintf(`import base64, os, time
MARKER = %q
def lambda_handler(event, context):
    if not os.path.exists(MARKER):
        open(MARKER, 'w').close()
        time.sleep(30)
    return {'records': [{'recordId': r['recordId'], 'result': 'Ok',
        'data': base64.b64encode(base64.b64decode(r['data']).upper() + b'\n').decode()} for r in event['records']]}
`, marker)
	arn := e.function(t, "slow", code, 60)
	e.stream(t, "kill", arn, 3)
	e.put(t, "kill", "one", "two")
	waitFor(t, 30*time.Second, "the function to start", func() bool {
		_, err := os.Stat(marker)
		return err == nil
	})
	e.s.Kill()
	e.s.Restart()
	data, errs := e.outcome(t, "kill", 2)
	if got := strings.Join(sortedCopy(strings.Fields(data)), ","); got != "ONE,TWO" || len(errs) != 0 {
		t.Fatalf("after the crash: delivered %q, errors %v", data, errs)
	}
	if n := len(e.s.bucketFiles("kill")); n != 1 {
		t.Fatalf("%d objects, want 1", n)
	}
}
