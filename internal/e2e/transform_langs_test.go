package e2e

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// nodeUpper is a Node handler (index.handler, CommonJS) that upper-cases
// each record and fails those whose data is "fail".
const nodeUpper = `exports.handler = async (event) => ({
  records: event.records.map((r) => {
    const data = Buffer.from(r.data, "base64").toString();
    if (data === "fail") return { recordId: r.recordId, result: "ProcessingFailed" };
    return { recordId: r.recordId, result: "Ok", data: Buffer.from(data.toUpperCase() + "\n").toString("base64") };
  }),
});
`

// buildGoFunction builds internal/lambda/testfunc, an aws-lambda-go
// handler on events.KinesisFirehoseEvent that upper-cases each record and
// marks "fail" ProcessingFailed, as a provided.al2023 package's bootstrap.
func buildGoFunction(t *testing.T) []byte {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-o", bin, "github.com/hydrant-io/hydrant/internal/lambda/testfunc")
	build.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the Go function: %v\n%s", err, out)
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTransformLanguages runs a Go function built with aws-lambda-go
// (provided.al2023) and a Node handler, each created with the Lambda SDK,
// as the Lambda processor of a stream created with the Firehose SDK:
// records put with PutRecordBatch land upper-cased, and the record the
// function returns as ProcessingFailed lands under processing-failed in
// Firehose's layout.
func TestTransformLanguages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, runtime, handler string
		files                  func(t *testing.T) map[string][]byte
	}{
		{"go", "provided.al2023", "bootstrap", func(t *testing.T) map[string][]byte {
			return map[string][]byte{"bootstrap*": buildGoFunction(t)}
		}},
		{"node", "nodejs20.x", "index.handler", func(t *testing.T) map[string][]byte {
			requireTool(t, "node")
			return map[string][]byte{"index.js": []byte(nodeUpper)}
		}},
	}
	s := startServer(t)
	lc, fc := lambdaClient(s), sdkClient(s)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			zipBytes, err := os.ReadFile(fnZip(t, tc.files(t)))
			if err != nil {
				t.Fatal(err)
			}
			fn, err := lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{
				FunctionName: aws.String("upper-" + tc.name), Runtime: types.Runtime(tc.runtime), Handler: aws.String(tc.handler),
				Role: aws.String("arn:aws:iam::000000000000:role/r"), Code: &types.FunctionCode{ZipFile: zipBytes}, Timeout: aws.Int32(30),
			})
			if err != nil {
				t.Fatalf("create function: %v", err)
			}
			arn := aws.ToString(fn.FunctionArn)
			stream, bucket := "langs-"+tc.name, "langs-"+tc.name
			createStream(t, fc, stream, &fhtypes.ExtendedS3DestinationConfiguration{
				BucketARN: aws.String("arn:aws:s3:::" + bucket), Prefix: aws.String("data/"),
				ErrorOutputPrefix: aws.String("err/!{firehose:error-output-type}/"),
				BufferingHints:    &fhtypes.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
				ProcessingConfiguration: &fhtypes.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []fhtypes.Processor{{
					Type: fhtypes.ProcessorTypeLambda,
					Parameters: []fhtypes.ProcessorParameter{
						{ParameterName: fhtypes.ProcessorParameterNameLambdaArn, ParameterValue: aws.String(arn)},
						{ParameterName: fhtypes.ProcessorParameterNameBufferSizeInMb, ParameterValue: aws.String("1")},
					},
				}}},
			})
			in := []string{"alpha", "fail", "beta", "gamma"}
			var recs []fhtypes.Record
			for _, d := range in {
				recs = append(recs, fhtypes.Record{Data: []byte(d)})
			}
			out, err := fc.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: recs})
			if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
				t.Fatalf("put: %v %+v", err, out)
			}

			var data, errs string
			waitFor(t, 60*time.Second, "transformed and failed records", func() bool {
				data, errs = "", ""
				for k, v := range s.bucketFiles(bucket) {
					switch {
					case strings.HasPrefix(k, "data/"):
						data += string(v)
					case strings.HasPrefix(k, "err/processing-failed/"):
						errs += string(v)
					}
				}
				return strings.Count(data, "\n") == 3 && strings.Count(errs, "\n") == 1
			})
			lines := strings.Split(strings.TrimSpace(data), "\n")
			sort.Strings(lines)
			if strings.Join(lines, ",") != "ALPHA,BETA,GAMMA" {
				t.Fatalf("delivered %q", data)
			}
			// Firehose's captured layout: rawData first, epoch milliseconds,
			// lambdaARN last.
			layout := regexp.MustCompile(`^\{"rawData":"` + base64.StdEncoding.EncodeToString([]byte("fail")) +
				`","errorCode":"Lambda\.ProcessingFailedStatus","errorMessage":"ProcessingFailed status set for record",` +
				`"attemptsMade":1,"arrivalTimestamp":\d{13},"attemptEndingTimestamp":\d{13},"lambdaARN":"` + regexp.QuoteMeta(arn) + `"\}$`)
			if !layout.MatchString(strings.TrimSpace(errs)) {
				t.Fatalf("processing-failed record %s", errs)
			}
		})
	}
}
