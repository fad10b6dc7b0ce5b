package firehose_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/server"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// allFeatures is what hydrant serve turns on for the transforms.
var allFeatures = firehose.Features{
	Processors: map[string]bool{
		"Lambda": true, "MetadataExtraction": true, "AppendDelimiterToRecord": true,
		"RecordDeAggregation": true, "Decompression": true, "CloudWatchLogProcessing": true,
	},
	DynamicPartitioning: true,
	S3Backup:            true,
}

// newFeatureAPI serves the API with the given features over a registry.
func newFeatureAPI(t *testing.T, f firehose.Features) (func(op, body string) (int, map[string]any), *stream.Registry) {
	t.Helper()
	dir := t.TempDir()
	store, err := objstore.NewLocal(dir+"/buckets", nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := stream.Open(stream.Options{Dir: dir + "/streams", Region: "us-east-1", AccountID: "000000000000", Store: store})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	svc, err := firehose.NewService(reg, firehose.Options{Region: "us-east-1", AccountID: "000000000000", Features: f})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(nil)
	srv.AddService(svc.API())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return func(op, body string) (int, map[string]any) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, hs.URL+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "Firehose_20150804."+op)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
			t.Fatalf("%s: content type %q", op, ct)
		}
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}, reg
}

const (
	dest     = `"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::bucket"`
	lambdaOK = `{"Type":"Lambda","Parameters":[{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f"}]}`
	dpHints  = `"BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60}`
	dpOn     = `"DynamicPartitioningConfiguration":{"Enabled":true}`
)

func processing(procs ...string) string {
	return `"ProcessingConfiguration":{"Enabled":true,"Processors":[` + strings.Join(procs, ",") + `]}`
}

func param(typ string, kv ...string) string {
	var ps []string
	for i := 0; i+1 < len(kv); i += 2 {
		v, _ := json.Marshal(kv[i+1])
		ps = append(ps, `{"ParameterName":"`+kv[i]+`","ParameterValue":`+string(v)+`}`)
	}
	return `{"Type":"` + typ + `","Parameters":[` + strings.Join(ps, ",") + `]}`
}

func TestProcessorAndPartitioningRules(t *testing.T) {
	call, _ := newFeatureAPI(t, allFeatures)
	lam := func(kv ...string) string {
		return param("Lambda", append([]string{"LambdaArn", "arn:aws:lambda:us-east-1:000000000000:function:f"}, kv...)...)
	}
	jq := func(q string) string {
		return param("MetadataExtraction", "MetadataExtractionQuery", q, "JsonParsingEngine", "JQ-1.6")
	}
	dp := func(prefix string, extra ...string) string {
		return strings.Join(append([]string{dest, dpOn, dpHints, `"Prefix":"` + prefix + `"`, `"ErrorOutputPrefix":"err/!{firehose:error-output-type}/"`}, extra...), ",")
	}
	tests := []struct {
		name string
		dest string
		typ  string // "" = accepted
		msg  string
	}{
		{"lambda ok", dest + "," + processing(lambdaOK), "", ""},
		{"lambda all params", dest + "," + processing(lam("NumberOfRetries", "9", "RoleArn", "arn:aws:iam::000000000000:role/r", "BufferSizeInMBs", "0.2", "BufferIntervalInSeconds", "0")), "", ""},
		{"lambda qualified arn", dest + "," + processing(param("Lambda", "LambdaArn", "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST")), "", ""},
		{"lambda bad arn", dest + "," + processing(param("Lambda", "LambdaArn", "arn:aws:lambda:us-east-1:0:function:f")), "InvalidArgumentException", "LambdaArn"},
		{"lambda no arn", dest + "," + processing(param("Lambda", "NumberOfRetries", "1")), "InvalidArgumentException", "requires the parameter LambdaArn"},
		{"lambda buffer too big", dest + "," + processing(lam("BufferSizeInMBs", "3.5")), "InvalidArgumentException", "BufferSizeInMBs 3.5"},
		{"lambda buffer too small", dest + "," + processing(lam("BufferSizeInMBs", "0.1")), "InvalidArgumentException", "BufferSizeInMBs"},
		{"lambda interval", dest + "," + processing(lam("BufferIntervalInSeconds", "901")), "InvalidArgumentException", "BufferIntervalInSeconds"},
		{"lambda retries", dest + "," + processing(lam("NumberOfRetries", "-1")), "InvalidArgumentException", "NumberOfRetries"},
		{"lambda foreign param", dest + "," + processing(lam("SubRecordType", "JSON")), "InvalidArgumentException", "does not support the parameter SubRecordType"},
		{"duplicate param", dest + "," + processing(lam("NumberOfRetries", "1", "NumberOfRetries", "2")), "InvalidArgumentException", "more than once"},
		{"two lambdas", dest + "," + processing(lambdaOK, lambdaOK), "InvalidArgumentException", "Only one processor of type Lambda"},
		{"unknown param name", dest + "," + processing(lam("Nope", "1")), "ValidationException", "enum value set"},
		{"disabled processing still checked", dest + `,"ProcessingConfiguration":{"Enabled":false,"Processors":[` + param("Lambda", "LambdaArn", "x") + `]}`, "InvalidArgumentException", "LambdaArn"},
		{"append delimiter", dest + "," + processing(`{"Type":"AppendDelimiterToRecord"}`), "", ""},
		{"append delimiter with param", dest + "," + processing(param("AppendDelimiterToRecord", "Delimiter", "Cg==")), "InvalidArgumentException", "does not support the parameter Delimiter"},
		{"deagg json", dest + "," + processing(param("RecordDeAggregation", "SubRecordType", "JSON")), "", ""},
		{"deagg delimited", dest + "," + processing(param("RecordDeAggregation", "SubRecordType", "DELIMITED", "Delimiter", "IyMjIw==")), "", ""},
		{"deagg delimited without delimiter", dest + "," + processing(param("RecordDeAggregation", "SubRecordType", "DELIMITED")), "InvalidArgumentException", "Delimiter is required"},
		{"deagg bad delimiter", dest + "," + processing(param("RecordDeAggregation", "SubRecordType", "DELIMITED", "Delimiter", "###")), "InvalidArgumentException", "base64"},
		{"deagg bad type", dest + "," + processing(param("RecordDeAggregation", "SubRecordType", "XML")), "InvalidArgumentException", "SubRecordType XML"},
		{"decompression", dest + "," + processing(param("Decompression", "CompressionFormat", "GZIP"), param("CloudWatchLogProcessing", "DataMessageExtraction", "true")), "", ""},
		{"decompression snappy", dest + "," + processing(param("Decompression", "CompressionFormat", "SNAPPY")), "InvalidArgumentException", "GZIP"},
		{"cwl without decompression", dest + "," + processing(param("CloudWatchLogProcessing", "DataMessageExtraction", "true")), "InvalidArgumentException", "requires a Decompression processor"},
		{"cwl false", dest + "," + processing(param("Decompression", "CompressionFormat", "GZIP"), param("CloudWatchLogProcessing", "DataMessageExtraction", "false")), "InvalidArgumentException", "DataMessageExtraction"},
		{"jq without partitioning", dest + "," + processing(jq("{a:.a}")), "InvalidArgumentException", "only be used when dynamic partitioning is enabled"},
		{"dp with jq", dp("a=!{partitionKeyFromQuery:a}/", processing(jq(`{a:.a}`))), "", ""},
		{"dp with lambda keys", dp("!{partitionKeyFromLambda:x}/", processing(lambdaOK)), "", ""},
		{"dp bad jq", dp("!{partitionKeyFromQuery:a}/", processing(jq(`{a:.a`))), "InvalidArgumentException", "not a valid jq expression"},
		{"dp jq engine", dp("!{partitionKeyFromQuery:a}/", processing(param("MetadataExtraction", "MetadataExtractionQuery", "{a:.a}", "JsonParsingEngine", "JQ-1.5"))), "InvalidArgumentException", "JQ-1.6"},
		{"dp jq key unused", dp("!{partitionKeyFromQuery:a}/", processing(jq(`{a:.a,"b":.b}`))), "InvalidArgumentException", "key b is not used"},
		{"dp query key without processor", dp("!{partitionKeyFromQuery:a}/"), "InvalidArgumentException", "no enabled MetadataExtraction"},
		{"dp lambda key without processor", dp("!{partitionKeyFromLambda:a}/", processing(jq(`{a:.a}`))), "InvalidArgumentException", "no enabled Lambda"},
		{"dp too many static keys", dp("!{partitionKeyFromQuery:k0}/", processing(jq(manyKeys(51)))), "InvalidArgumentException", "at most 50"},
		{"dp size", strings.Replace(dp("!{partitionKeyFromLambda:a}/", processing(lambdaOK)), dpHints, `"BufferingHints":{"SizeInMBs":63,"IntervalInSeconds":60}`, 1),
			"InvalidArgumentException", "BufferingHints.SizeInMBs must be at least 64 when Dynamic Partitioning is enabled."},
		{"dp interval", strings.Replace(dp("!{partitionKeyFromLambda:a}/", processing(lambdaOK)), dpHints, `"BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":59}`, 1),
			"InvalidArgumentException", "BufferingHints.IntervalInSeconds must be at least 60 seconds when Dynamic Partitioning is enabled."},
		{"dp default hints too small", strings.Replace(dp("!{partitionKeyFromLambda:a}/", processing(lambdaOK)), ","+dpHints, "", 1),
			"InvalidArgumentException", "SizeInMBs must be at least 64"},
		{"dp no error prefix", dest + "," + dpOn + "," + dpHints + `,"Prefix":"!{partitionKeyFromLambda:a}/",` + processing(lambdaOK), "InvalidArgumentException", "ErrorOutputPrefix cannot be null or empty"},
		{"dp prefix without keys", dp("static/", processing(lambdaOK)), "InvalidArgumentException", "Prefix must contain at least one"},
		{"backup", dest + `,"S3BackupMode":"Enabled","S3BackupConfiguration":{` + dest + `,"Prefix":"backup/"}`, "", ""},
		{"backup without configuration", dest + `,"S3BackupMode":"Enabled"`, "InvalidArgumentException", "S3BackupConfiguration is required"},
		{"backup prefix with keys", dest + `,"S3BackupMode":"Enabled","S3BackupConfiguration":{` + dest + `,"Prefix":"!{partitionKeyFromQuery:a}/","ErrorOutputPrefix":"e/"}`, "InvalidArgumentException", "only when dynamic partitioning"},
		{"backup hints", dest + `,"S3BackupMode":"Enabled","S3BackupConfiguration":{` + dest + `,"BufferingHints":{"SizeInMBs":5}}`, "InvalidArgumentException", "S3BackupConfiguration.BufferingHints"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"DeliveryStreamName":"s` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `","ExtendedS3DestinationConfiguration":{` + tc.dest + `}}`
			status, m := call("CreateDeliveryStream", body)
			if tc.typ == "" {
				if status != 200 {
					t.Fatalf("refused: %v", m)
				}
				return
			}
			if status != 400 || m["__type"] != tc.typ || !strings.Contains(m["message"].(string), tc.msg) {
				t.Fatalf("got %d %v, want %s containing %q", status, m, tc.typ, tc.msg)
			}
		})
	}
}

func manyKeys(n int) string {
	var kv []string
	for i := 0; i < n; i++ {
		kv = append(kv, "k"+string(rune('0'+i/10))+string(rune('0'+i%10))+":.x")
	}
	return "{" + strings.Join(kv, ",") + "}"
}

func TestDescribeFillsTransformDefaults(t *testing.T) {
	call, _ := newFeatureAPI(t, allFeatures)
	body := `{"DeliveryStreamName":"d","ExtendedS3DestinationConfiguration":{` + dest + `,` + dpOn + `,` + dpHints +
		`,"Prefix":"!{partitionKeyFromLambda:a}/","ErrorOutputPrefix":"e/",` + processing(lambdaOK) +
		`,"S3BackupMode":"Enabled","S3BackupConfiguration":{` + dest + `}}}`
	if status, m := call("CreateDeliveryStream", body); status != 200 {
		t.Fatal(m)
	}
	_, m := call("DescribeDeliveryStream", `{"DeliveryStreamName":"d"}`)
	b, _ := json.Marshal(m)
	for _, want := range []string{
		`"DynamicPartitioningConfiguration":{"Enabled":true,"RetryOptions":{"DurationInSeconds":300}}`,
		`"S3BackupDescription":{"BucketARN":"arn:aws:s3:::bucket","BufferingHints":{"IntervalInSeconds":300,"SizeInMBs":5},"CloudWatchLoggingOptions":{"Enabled":false},"CompressionFormat":"UNCOMPRESSED","EncryptionConfiguration":{"NoEncryptionConfig":"NoEncryption"}`,
		// The Lambda processor's defaults, as AWS returns them (recorded
		// from AWS): the destination's role, 3 retries, 1 MB and 60 s.
		`"ProcessingConfiguration":{"Enabled":true,"Processors":[{"Parameters":[` +
			`{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:f"},` +
			`{"ParameterName":"NumberOfRetries","ParameterValue":"3"},` +
			`{"ParameterName":"RoleArn","ParameterValue":"arn:aws:iam::000000000000:role/r"},` +
			`{"ParameterName":"BufferSizeInMBs","ParameterValue":"1"},` +
			`{"ParameterName":"BufferIntervalInSeconds","ParameterValue":"60"}],"Type":"Lambda"}]}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("describe lacks %s:\n%s", want, b)
		}
	}

	// Given parameters keep their values, in AWS's order, and the others
	// are filled; an update fills them again.
	given := `{"Type":"Lambda","Parameters":[{"ParameterName":"BufferIntervalInSeconds","ParameterValue":"120"},` +
		`{"ParameterName":"RoleArn","ParameterValue":"arn:aws:iam::000000000000:role/other"},` +
		`{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:g"},` +
		`{"ParameterName":"NumberOfRetries","ParameterValue":"0"}]}`
	dests := m["DeliveryStreamDescription"].(map[string]any)["Destinations"].([]any)
	destID := dests[0].(map[string]any)["DestinationId"].(string)
	if status, m := call("UpdateDestination", `{"DeliveryStreamName":"d","CurrentDeliveryStreamVersionId":"1","DestinationId":"`+destID+
		`","ExtendedS3DestinationUpdate":{`+processing(given)+`}}`); status != 200 {
		t.Fatal(m)
	}
	_, m = call("DescribeDeliveryStream", `{"DeliveryStreamName":"d"}`)
	b, _ = json.Marshal(m)
	want := `"ProcessingConfiguration":{"Enabled":true,"Processors":[{"Parameters":[` +
		`{"ParameterName":"LambdaArn","ParameterValue":"arn:aws:lambda:us-east-1:000000000000:function:g"},` +
		`{"ParameterName":"NumberOfRetries","ParameterValue":"0"},` +
		`{"ParameterName":"RoleArn","ParameterValue":"arn:aws:iam::000000000000:role/other"},` +
		`{"ParameterName":"BufferSizeInMBs","ParameterValue":"1"},` +
		`{"ParameterName":"BufferIntervalInSeconds","ParameterValue":"120"}],"Type":"Lambda"}]}`
	if !strings.Contains(string(b), want) {
		t.Errorf("after the update, describe lacks %s:\n%s", want, b)
	}
}

func TestUpdateTransformRules(t *testing.T) {
	call, _ := newFeatureAPI(t, allFeatures)
	create := func(name, d string) {
		t.Helper()
		if status, m := call("CreateDeliveryStream", `{"DeliveryStreamName":"`+name+`","ExtendedS3DestinationConfiguration":{`+d+`}}`); status != 200 {
			t.Fatal(m)
		}
	}
	update := func(name, version, d string) (int, map[string]any) {
		return call("UpdateDestination", `{"DeliveryStreamName":"`+name+`","CurrentDeliveryStreamVersionId":"`+version+
			`","DestinationId":"destinationId-000000000001","ExtendedS3DestinationUpdate":{`+d+`}}`)
	}
	create("plain", dest)
	if status, m := update("plain", "1", dpOn+","+dpHints+`,"Prefix":"!{partitionKeyFromLambda:a}/","ErrorOutputPrefix":"e/",`+processing(lambdaOK)); status != 400 ||
		!strings.Contains(m["message"].(string), "cannot be enabled on an existing") {
		t.Fatalf("enable later: %d %v", status, m)
	}
	create("dp", dest+","+dpOn+","+dpHints+`,"Prefix":"!{partitionKeyFromLambda:a}/","ErrorOutputPrefix":"e/",`+processing(lambdaOK))
	if status, m := update("dp", "1", `"DynamicPartitioningConfiguration":{"Enabled":false}`); status != 400 ||
		!strings.Contains(m["message"].(string), "cannot be disabled") {
		t.Fatalf("disable: %d %v", status, m)
	}
	// Keys and prefixes may change.
	if status, m := update("dp", "1", `"Prefix":"x=!{partitionKeyFromLambda:b}/"`); status != 200 {
		t.Fatalf("change prefix: %d %v", status, m)
	}
	if status, m := update("dp", "2", `"BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":60}`); status != 400 ||
		!strings.Contains(m["message"].(string), "SizeInMBs must be at least 64") {
		t.Fatalf("shrink hints: %d %v", status, m)
	}
	create("bk", dest+`,"S3BackupMode":"Enabled","S3BackupConfiguration":{`+dest+`}`)
	if status, m := update("bk", "1", `"S3BackupMode":"Disabled"`); status != 400 || !strings.Contains(m["message"].(string), "Enabled to Disabled") {
		t.Fatalf("disable backup: %d %v", status, m)
	}
	if status, m := update("bk", "1", `"S3BackupUpdate":{"Prefix":"b2/"}`); status != 200 {
		t.Fatalf("backup update: %d %v", status, m)
	}
	create("later", dest)
	if status, m := update("later", "1", `"S3BackupMode":"Enabled","S3BackupUpdate":{`+dest+`}`); status != 200 {
		t.Fatalf("enable backup later: %d %v", status, m)
	}
}

func TestInvalidSource(t *testing.T) {
	call, reg := newFeatureAPI(t, allFeatures)
	body := `{"DeliveryStreamName":"cwl","ExtendedS3DestinationConfiguration":{` + dest + `,` +
		processing(param("Decompression", "CompressionFormat", "GZIP")) + `}}`
	if status, m := call("CreateDeliveryStream", body); status != 200 {
		t.Fatal(m)
	}
	for _, op := range []string{"PutRecord", "PutRecordBatch"} {
		req := `{"DeliveryStreamName":"cwl","Record":{"Data":"aGk="}}`
		if op == "PutRecordBatch" {
			req = `{"DeliveryStreamName":"cwl","Records":[{"Data":"aGk="}]}`
		}
		status, m := call(op, req)
		if status != 400 || m["__type"] != "InvalidSourceException" || m["code"] == nil || m["message"] == "" {
			t.Fatalf("%s: %d %v", op, status, m)
		}
	}
	var b buffer.Batch
	b.Add([]byte("x"))
	if _, _, err := reg.Put(context.Background(), "cwl", &b); !errors.Is(err, firehose.ErrInvalidSource) {
		t.Fatalf("unmarked put: %v", err)
	}
	if _, _, err := reg.Put(firehose.WithCloudWatchLogsSource(context.Background()), "cwl", &b); err != nil {
		t.Fatalf("put from CloudWatch Logs: %v", err)
	}
	var ae *awsproto.Error
	if !errors.As(firehose.ErrInvalidSource, &ae) || ae.Code == "" {
		t.Fatal("ErrInvalidSource must carry the code member")
	}
}
