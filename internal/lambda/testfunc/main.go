// Command testfunc is a Go Lambda function built with aws-lambda-go, for
// hydrant's tests and benchmarks of provided.al2023 functions: a Firehose
// data-transformation function that upper-cases each record. A record
// whose data is "fail" is marked ProcessingFailed; one whose data is
// "panic" makes the invocation fail with a function error; one whose data
// is "wait URL" GETs URL first (tests hold an invocation in flight so).
package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func handle(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	out := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, 0, len(ev.Records))}
	for _, r := range ev.Records {
		if u, ok := bytes.CutPrefix(r.Data, []byte("wait ")); ok {
			if resp, err := http.Get(string(u)); err == nil {
				_ = resp.Body.Close()
			}
		}
		switch string(r.Data) {
		case "panic":
			return out, errors.New("asked to fail")
		case "fail":
			out.Records = append(out.Records, events.KinesisFirehoseResponseRecord{RecordID: r.RecordID, Result: events.KinesisFirehoseTransformedStateProcessingFailed})
			continue
		}
		out.Records = append(out.Records, events.KinesisFirehoseResponseRecord{
			RecordID: r.RecordID,
			Result:   events.KinesisFirehoseTransformedStateOk,
			Data:     append(bytes.ToUpper(r.Data), '\n'),
		})
	}
	return out, nil
}

func main() { lambda.Start(handle) }
