package e2e

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// recipeFunction is the recipe's lambda_function.py, unchanged.
const recipeFunction = `import json
import base64
import boto3
from datetime import datetime

def lambda_handler(event, context):
    output = []
    
    for record in event['records']:
        try:
            # Decode the data
            compressed_payload = base64.b64decode(record['data'])
            uncompressed_payload = compressed_payload.decode('utf-8')
            
            # Parse JSON data
            data = json.loads(uncompressed_payload)
            
            # Transform the data - add timestamp and enrich
            transformed_data = {
                'timestamp': datetime.utcnow().isoformat(),
                'event_type': data.get('event_type', 'unknown'),
                'user_id': data.get('user_id', 'anonymous'),
                'session_id': data.get('session_id', ''),
                'page_url': data.get('page_url', ''),
                'referrer': data.get('referrer', ''),
                'user_agent': data.get('user_agent', ''),
                'ip_address': data.get('ip_address', ''),
                'processed_by': 'lambda-firehose-transform',
                'processing_timestamp': datetime.utcnow().timestamp()
            }
            
            # Convert back to JSON and encode
            output_record = {
                'recordId': record['recordId'],
                'result': 'Ok',
                'data': base64.b64encode(
                    (json.dumps(transformed_data) + '\n').encode('utf-8')
                ).decode('utf-8')
            }
            
        except Exception as e:
            print(f"Error processing record {record['recordId']}: {str(e)}")
            # Mark as processing failed
            output_record = {
                'recordId': record['recordId'],
                'result': 'ProcessingFailed'
            }
        
        output.append(output_record)
    
    print(f"Successfully processed {len([r for r in output if r['result'] == 'Ok'])} out of {len(output)} records")
    return {'records': output}
`

// zipFile writes a zip holding one file and returns its path.
func zipFile(t *testing.T, name, content string) string {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte(content))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "function.zip")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRecipeTransform runs the recipe's Lambda function, created with the
// aws CLI, as the stream's Lambda processor: valid records arrive
// transformed under the Prefix, and the recipe's malformed record
// (aW52YWxpZC1qc29uLWRhdGE=, "invalid-json-data") lands under the error
// prefix as processing-failed with its original bytes.
func TestRecipeTransform(t *testing.T) {
	t.Parallel()
	aws := requireTool(t, "aws")
	requireTool(t, "python3")
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	// The recipe's put-record is written for CLI v2, whose blob arguments
	// are base64; CLI v1 base64-encodes them itself, so it is given the raw
	// bytes. (The v2 on this machine is too old for IntervalInSeconds 0,
	// so the control plane goes through v1.)
	putCLI, v2 := aws, false
	if out, _, code := s.cli(ctx, "/usr/bin/aws", "--version"); code == 0 && strings.HasPrefix(out, "aws-cli/2") {
		putCLI, v2 = "/usr/bin/aws", true
	}
	blob := func(raw string) string {
		if v2 {
			return base64.StdEncoding.EncodeToString([]byte(raw))
		}
		return raw
	}
	put := func(rec string) {
		t.Helper()
		out, errOut, code := s.cli(ctx, putCLI, "firehose", "put-record", "--delivery-stream-name", "etl", "--record", rec)
		if code != 0 {
			t.Fatalf("put-record: exit %d\n%s%s", code, out, errOut)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := s.cli(ctx, aws, args...)
		if code != 0 {
			t.Fatalf("aws %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	zipPath := zipFile(t, "lambda_function.py", recipeFunction)
	run("lambda", "create-function", "--function-name", "etl-transform", "--runtime", "python3.12",
		"--role", "arn:aws:iam::000000000000:role/lambda-role", "--handler", "lambda_function.lambda_handler",
		"--zip-file", "fileb://"+zipPath, "--timeout", "300", "--memory-size", "256",
		"--description", "Firehose data transformation function")
	run("lambda", "wait", "function-active", "--function-name", "etl-transform")
	var fn struct{ Configuration struct{ FunctionArn string } }
	if err := json.Unmarshal([]byte(run("lambda", "get-function", "--function-name", "etl-transform")), &fn); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"DeliveryStreamName": "etl",
		"DeliveryStreamType": "DirectPut",
		"ExtendedS3DestinationConfiguration": map[string]any{
			"RoleARN":           "arn:aws:iam::000000000000:role/firehose-role",
			"BucketARN":         "arn:aws:s3:::etl-bucket",
			"Prefix":            "processed-data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
			"ErrorOutputPrefix": "error-data/",
			"BufferingHints":    map[string]any{"SizeInMBs": 5, "IntervalInSeconds": 0},
			"CompressionFormat": "GZIP",
			"ProcessingConfiguration": map[string]any{"Enabled": true, "Processors": []any{map[string]any{
				"Type": "Lambda",
				"Parameters": []any{
					map[string]any{"ParameterName": "LambdaArn", "ParameterValue": fn.Configuration.FunctionArn},
					map[string]any{"ParameterName": "BufferSizeInMBs", "ParameterValue": "1"},
					map[string]any{"ParameterName": "BufferIntervalInSeconds", "ParameterValue": "60"},
				},
			}}},
		},
	}
	b, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(t.TempDir(), "firehose-config.json")
	if err := os.WriteFile(cfgPath, b, 0o644); err != nil {
		t.Fatal(err)
	}
	run("firehose", "create-delivery-stream", "--cli-input-json", "file://"+cfgPath)
	events := []string{
		`{"event_type":"page_view","user_id":"user123","session_id":"session456","page_url":"https://example.com/products"}`,
		`{"event_type":"click","user_id":"user456","session_id":"session789","page_url":"https://example.com/checkout"}`,
	}
	for _, ev := range events {
		rec, _ := json.Marshal(map[string]string{"Data": blob(ev)})
		put(string(rec))
	}
	// The recipe's malformed record: aW52YWxpZC1qc29uLWRhdGE= is
	// "invalid-json-data".
	put(`{"Data":"` + blob("invalid-json-data") + `"}`)

	var data, errs string
	waitFor(t, 60*time.Second, "transformed and failed records", func() bool {
		data, errs = "", ""
		for k, v := range s.bucketFiles("etl-bucket") {
			switch {
			case strings.HasPrefix(k, "processed-data/year=") && strings.HasSuffix(k, ".gz"):
				data += gunzipString(t, v)
			case strings.HasPrefix(k, "error-data/processing-failed/"):
				errs += string(v)
			}
		}
		return strings.Count(data, "\n") == 2 && strings.Count(errs, "\n") == 1
	})
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("transformed record %q: %v", line, err)
		}
		if rec["processed_by"] != "lambda-firehose-transform" || rec["user_id"] == "anonymous" {
			t.Fatalf("record not transformed by the function: %s", line)
		}
	}
	var failed map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(errs)), &failed); err != nil {
		t.Fatal(err)
	}
	if failed["rawData"] != "aW52YWxpZC1qc29uLWRhdGE=" || failed["errorCode"] != "Lambda.ProcessingFailedStatus" ||
		failed["attemptsMade"] != 1.0 || failed["lambdaARN"] != fn.Configuration.FunctionArn {
		t.Fatalf("processing-failed record %s", errs)
	}
	if !strings.HasPrefix(errs, `{"rawData":"aW52YWxpZC1qc29uLWRhdGE="`) {
		t.Fatalf("error record layout %s", errs)
	}
	// ExecuteProcessing.* count invocations (one per put here, as each put
	// was its own batch); SucceedProcessing.Records the Ok records.
	if n := s.metric("firehose_succeed_processing_records_total", "etl"); n != 2 {
		t.Errorf("SucceedProcessing.Records %v, want 2", n)
	}
	if a, ok := s.metric("firehose_execute_processing_attempts_total", "etl"), s.metric("firehose_execute_processing_success_total", "etl"); a < 1 || ok != a {
		t.Errorf("ExecuteProcessing attempts %v, successes %v", a, ok)
	}
}

func gunzipString(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return string(readAll(t, zr))
}
