// Package passthrough is the Go function of hydrant's Lambda benchmark: a
// Firehose data-transformation handler written with aws-lambda-go that
// returns every record Ok with its data unchanged. ./bootstrap builds it as
// a provided.al2023 function; the benchmark's baseline calls Handle in a
// loop, alone and through aws-lambda-go's own JSON codec.
package passthrough

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// Handle answers a Firehose transformation event: every record Ok, with
// the data it came with.
func Handle(_ context.Context, ev events.KinesisFirehoseEvent) (events.KinesisFirehoseResponse, error) {
	out := events.KinesisFirehoseResponse{Records: make([]events.KinesisFirehoseResponseRecord, len(ev.Records))}
	for i, r := range ev.Records {
		out.Records[i] = events.KinesisFirehoseResponseRecord{
			RecordID: r.RecordID,
			Result:   events.KinesisFirehoseTransformedStateOk,
			Data:     r.Data,
		}
	}
	return out, nil
}
