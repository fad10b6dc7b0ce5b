package process

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/itchyny/gojq"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// PartitioningFailed is the error-output type of records whose partition
// keys cannot be extracted.
const PartitioningFailed = "partitioning-failed"

// CodeExtraction is the error code of MetadataExtraction failures, with
// MsgNonJSON for records that are not JSON. Both are recalled from public
// reports of Firehose's error output, not from AWS's documentation.
const (
	CodeExtraction = "DynamicPartitioning.MetadataExtractionFailed"
	MsgNonJSON     = "Non JSON record provided"
)

// extractor is the MetadataExtraction processor: it runs the
// MetadataExtractionQuery on each record and keeps the object it builds as
// the record's partitionKeyFromQuery keys.
//
// Firehose runs jq 1.6; hydrant runs gojq with jq 1.6's number model (every
// number is a double, so integers beyond 2^53 lose precision as in jq 1.6)
// and no access to the environment ($ENV and env are empty). Key values
// that are strings are used as they are; numbers, booleans, arrays and
// objects are printed as JSON; a null value counts as a missing key.
type extractor struct {
	stream  string
	code    *gojq.Code
	obs     Observer
	timeout time.Duration
}

func newExtractor(stream, query string, opts Options) (*extractor, error) {
	q, err := gojq.Parse(query)
	if err != nil {
		return nil, fmt.Errorf("parse MetadataExtractionQuery: %w", err)
	}
	c, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, fmt.Errorf("compile MetadataExtractionQuery: %w", err)
	}
	return &extractor{stream: stream, code: c, obs: opts.Observer, timeout: opts.JQTimeout}, nil
}

func (x *extractor) run(ctx context.Context, recs []deliver.Rec, fail func(deliver.Failure)) ([]deliver.Rec, error) {
	start := time.Now()
	out := recs[:0]
	for _, r := range recs {
		keys, msg := x.extract(ctx, r.Data)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if msg != "" {
			fail(deliver.Failure{Type: PartitioningFailed, Raw: r.Data, Arrival: r.Arrival, Seq: r.Seq,
				Code: CodeExtraction, Message: msg, Attempts: 1, EndedAt: time.Now()})
			continue
		}
		r.QueryKeys = keys
		out = append(out, r)
	}
	if x.obs != nil {
		x.obs.JQ(x.stream, time.Since(start))
	}
	return out, nil
}

// extract returns the record's keys, or a message saying why there are none.
func (x *extractor) extract(ctx context.Context, data []byte) (map[string]string, string) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&v); err != nil {
		return nil, MsgNonJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, MsgNonJSON
	}
	tctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	res, ok := x.code.RunWithContext(tctx, v).Next()
	if !ok {
		return nil, "MetadataExtractionQuery produced no result for the record"
	}
	if err, isErr := res.(error); isErr {
		return nil, "MetadataExtractionQuery failed on the record: " + err.Error()
	}
	m, isObj := res.(map[string]any)
	if !isObj {
		return nil, "MetadataExtractionQuery must produce a JSON object, not " + gojq.TypeOf(res)
	}
	if len(m) > streamspec.MaxPartitionKeys {
		return nil, "MetadataExtractionQuery produced " + strconv.Itoa(len(m)) + " keys; at most 50 are allowed"
	}
	keys := make(map[string]string, len(m))
	for k, val := range m {
		switch val := val.(type) {
		case nil:
		case string:
			keys[k] = val
		default:
			b, err := gojq.Marshal(val)
			if err != nil {
				return nil, "MetadataExtractionQuery produced a value that cannot be printed: " + err.Error()
			}
			keys[k] = string(b)
		}
	}
	return keys, ""
}
