package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// TestDynamicPartitioningThroughTheAPI creates a stream with dynamic
// partitioning keyed by a jq query and AppendDelimiterToRecord through the
// Go SDK, sends records for three customers and one without the key, flushes
// instead of waiting out the 60 s minimum interval, and checks one object per
// customer under its evaluated prefix and the keyless record under
// partitioning-failed.
func TestDynamicPartitioningThroughTheAPI(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := sdkClient(s)
	ctx := context.Background()
	param := func(n types.ProcessorParameterName, v string) types.ProcessorParameter {
		return types.ProcessorParameter{ParameterName: n, ParameterValue: aws.String(v)}
	}
	createStream(t, c, "parts", &types.ExtendedS3DestinationConfiguration{
		BucketARN:                        aws.String("arn:aws:s3:::parts"),
		Prefix:                           aws.String("customer=!{partitionKeyFromQuery:customer}/"),
		ErrorOutputPrefix:                aws.String("errors/!{firehose:error-output-type}/"),
		BufferingHints:                   &types.BufferingHints{SizeInMBs: aws.Int32(64), IntervalInSeconds: aws.Int32(60)},
		DynamicPartitioningConfiguration: &types.DynamicPartitioningConfiguration{Enabled: aws.Bool(true)},
		ProcessingConfiguration: &types.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []types.Processor{
			{Type: types.ProcessorTypeMetadataExtraction, Parameters: []types.ProcessorParameter{
				param(types.ProcessorParameterNameMetadataExtractionQuery, "{customer: .customer}"),
				param(types.ProcessorParameterNameJsonParsingEngine, "JQ-1.6"),
			}},
			{Type: types.ProcessorTypeAppendDelimiterToRecord},
		}},
	})
	want := map[string][]string{}
	var recs []types.Record
	for i := 0; i < 30; i++ {
		cust := []string{"acme", "globex", "initech"}[i%3]
		line := fmt.Sprintf(`{"customer":%q,"n":%d}`, cust, i)
		want[cust] = append(want[cust], line)
		recs = append(recs, types.Record{Data: []byte(line)})
	}
	recs = append(recs, types.Record{Data: []byte(`{"n":"no customer"}`)})
	out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("parts"), Records: recs})
	if err != nil || *out.FailedPutCount != 0 {
		t.Fatalf("put: %v %+v", err, out)
	}
	resp, err := http.Post(s.URL+"/_hydrant/streams/parts/flush?wait=30s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var fl map[string]any
	_ = json.Unmarshal(readAll(t, resp.Body), &fl)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || fl["flushed"] != true {
		t.Fatalf("flush: %d %v", resp.StatusCode, fl)
	}

	got := map[string][]string{}
	var failed []map[string]any
	for key, b := range s.bucketFiles("parts") {
		switch {
		case strings.HasPrefix(key, "errors/partitioning-failed/"):
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil {
					t.Fatalf("error record %q: %v", line, err)
				}
				failed = append(failed, m)
			}
		case strings.HasPrefix(key, "customer="):
			cust := strings.TrimPrefix(key[:strings.Index(key, "/")], "customer=")
			if !strings.HasPrefix(key[strings.Index(key, "/")+1:], "parts-1-") {
				t.Errorf("object name in %q", key)
			}
			got[cust] = append(got[cust], strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
		default:
			t.Errorf("unexpected key %q", key)
		}
	}
	for cust, lines := range want {
		g := got[cust]
		sort.Strings(g)
		sort.Strings(lines)
		if strings.Join(g, "|") != strings.Join(lines, "|") {
			t.Errorf("customer %s: got %v, want %v", cust, g, lines)
		}
	}
	if len(got) != len(want) {
		t.Errorf("partitions %v", got)
	}
	if len(failed) != 1 || failed[0]["errorCode"] != "DynamicPartitioning.PartitionKeyMissing" {
		t.Fatalf("partitioning-failed records: %v", failed)
	}
	// rawData is the record as partitioning saw it: after the processors,
	// so with the delimiter AppendDelimiterToRecord added.
	raw, _ := base64.StdEncoding.DecodeString(failed[0]["rawData"].(string))
	if string(raw) != `{"n":"no customer"}`+"\n" {
		t.Fatalf("rawData %q", raw)
	}
}
