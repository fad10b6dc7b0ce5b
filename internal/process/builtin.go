package process

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

// Error-output types and codes of the built-in processors. The types are
// Firehose's (reference §5.4); the codes and messages are hydrant's, as AWS
// documents none for these cases.
const (
	DecompressionFailed = "decompression-failed"

	CodeDecompression = "Decompression.Failed"
	CodeCWLExtraction = "CloudWatchLogProcessing.ExtractionFailed"
	CodeDeAggregation = "RecordDeAggregation.MalformedJson"
)

// maxDecompressed bounds what one record may decompress to, so that a
// small record cannot exhaust memory.
const maxDecompressed = 64 << 20

// decompressor is the Decompression processor (GZIP), optionally followed
// by CloudWatchLogProcessing with DataMessageExtraction: each
// logEvents[].message of a DATA_MESSAGE becomes a record, and CONTROL_MESSAGE
// records (CloudWatch Logs' reachability checks) are dropped. A record that
// fails either step goes to decompression-failed still compressed, and the
// rest continue.
type decompressor struct{ cloudWatchLogs bool }

// cwlEnvelope is the JSON CloudWatch Logs subscription filters send.
type cwlEnvelope struct {
	MessageType string `json:"messageType"`
	LogEvents   []struct {
		Message string `json:"message"`
	} `json:"logEvents"`
}

func (d *decompressor) run(_ context.Context, recs []deliver.Rec, fail func(deliver.Failure)) ([]deliver.Rec, error) {
	out := make([]deliver.Rec, 0, len(recs))
	failed := func(r deliver.Rec, code, msg string) {
		fail(deliver.Failure{Type: DecompressionFailed, Raw: r.Data, Arrival: r.Arrival, Seq: r.Seq,
			Code: code, Message: msg, Attempts: 1, EndedAt: time.Now()})
	}
	for _, r := range recs {
		data, err := gunzip(r.Data)
		if err != nil {
			failed(r, CodeDecompression, "The record could not be decompressed as GZIP: "+err.Error())
			continue
		}
		if !d.cloudWatchLogs {
			out = append(out, deliver.Rec{Data: data, Arrival: r.Arrival, Seq: r.Seq})
			continue
		}
		var env cwlEnvelope
		if err := json.Unmarshal(data, &env); err != nil {
			failed(r, CodeCWLExtraction, "The decompressed record is not a CloudWatch Logs subscription message: "+err.Error())
			continue
		}
		switch env.MessageType {
		case "CONTROL_MESSAGE":
		case "DATA_MESSAGE":
			for _, ev := range env.LogEvents {
				out = append(out, deliver.Rec{Data: []byte(ev.Message), Arrival: r.Arrival, Seq: r.Seq})
			}
		default:
			failed(r, CodeCWLExtraction, fmt.Sprintf("The decompressed record has messageType %q; CloudWatch Logs sends DATA_MESSAGE or CONTROL_MESSAGE.", env.MessageType))
		}
	}
	return out, nil
}

var errTooLarge = errors.New("decompressed record larger than 64 MiB")

// gunzip decompresses one GZIP record (several members allowed).
func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	n, err := io.Copy(&out, io.LimitReader(zr, maxDecompressed+1))
	if err != nil {
		return nil, err
	}
	if n > maxDecompressed {
		return nil, errTooLarge
	}
	return out.Bytes(), nil
}

// deaggregator is RecordDeAggregation: it splits each record into the JSON
// values it holds (concatenated or newline-delimited), or at each
// occurrence of a delimiter (DELIMITED). The separators are not kept, and
// empty pieces of a DELIMITED record are skipped. A record that is not a
// sequence of JSON values goes to processing-failed as it was.
type deaggregator struct {
	json  bool
	delim []byte
}

func (d *deaggregator) run(_ context.Context, recs []deliver.Rec, fail func(deliver.Failure)) ([]deliver.Rec, error) {
	out := make([]deliver.Rec, 0, len(recs))
	for _, r := range recs {
		if !d.json {
			for _, piece := range bytes.Split(r.Data, d.delim) {
				if len(piece) > 0 {
					out = append(out, deliver.Rec{Data: piece, Arrival: r.Arrival, Seq: r.Seq})
				}
			}
			continue
		}
		n := len(out)
		dec := json.NewDecoder(bytes.NewReader(r.Data))
		var err error
		for {
			var v json.RawMessage
			if err = dec.Decode(&v); err != nil {
				break
			}
			out = append(out, deliver.Rec{Data: v, Arrival: r.Arrival, Seq: r.Seq})
		}
		if err != io.EOF {
			out = out[:n]
			fail(deliver.Failure{Type: ProcessingFailed, Raw: r.Data, Arrival: r.Arrival, Seq: r.Seq,
				Code: CodeDeAggregation, Message: "The record is not a sequence of JSON values: " + err.Error(), Attempts: 1, EndedAt: time.Now()})
		}
	}
	return out, nil
}
