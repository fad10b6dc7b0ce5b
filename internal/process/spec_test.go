package process

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// procOpt adds one processor to a stream's resolved processing.
type procOpt func(*streamspec.Processing)

// streamWith returns a stream whose processing is the given processors.
func streamWith(procs ...procOpt) *streamspec.Stream {
	st := &streamspec.Stream{
		Name: "s", ARN: "arn:aws:firehose:eu-west-1:000000000000:deliverystream/s",
		Region: "eu-west-1", AccountID: "000000000000", VersionID: 1, Revision: "0/1",
		Processing: streamspec.Processing{Enabled: true},
	}
	for _, p := range procs {
		p(&st.Processing)
	}
	return st
}

// proc is a processor given as in a ProcessingConfiguration (type and
// parameter name/value pairs), as firehose.ParseProcessing resolves it.
// Only what these tests use is understood; anything else panics.
func proc(typ string, params ...string) procOpt {
	m := map[string]string{}
	for i := 0; i+1 < len(params); i += 2 {
		m[params[i]] = params[i+1]
	}
	return func(p *streamspec.Processing) {
		switch typ {
		case "AppendDelimiterToRecord":
			p.AppendDelimiter = true
		case "RecordDeAggregation":
			d := streamspec.DeAggregation{Enabled: true, JSON: m["SubRecordType"] == "JSON"}
			if !d.JSON {
				b, err := base64.StdEncoding.DecodeString(m["Delimiter"])
				if err != nil {
					panic(err)
				}
				d.Delimiter = b
			}
			p.DeAggregation = d
		case "Decompression":
			p.Decompression = m["CompressionFormat"]
		case "CloudWatchLogProcessing":
			p.CloudWatchLogs = true
		case "MetadataExtraction":
			p.MetadataExtraction = streamspec.MetadataExtraction{Enabled: true, Query: m["MetadataExtractionQuery"]}
		default:
			panic(fmt.Sprintf("proc: processor type %s", typ))
		}
	}
}

// lambdaProc is a Lambda processor calling testARN with Firehose's defaults
// and the given parameters (NumberOfRetries, BufferSizeInMBs).
func lambdaProc(params ...string) procOpt {
	return func(p *streamspec.Processing) {
		l := streamspec.Lambda{Enabled: true, ARN: testARN, Retries: 3, BufferBytes: 1 << 20, BufferInterval: time.Minute}
		for i := 0; i+1 < len(params); i += 2 {
			switch v := params[i+1]; params[i] {
			case "NumberOfRetries":
				n, err := strconv.Atoi(v)
				if err != nil {
					panic(err)
				}
				l.Retries = n
			case "BufferSizeInMBs":
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					panic(err)
				}
				l.BufferBytes = int64(f * (1 << 20))
			default:
				panic("lambdaProc: parameter " + params[i])
			}
		}
		p.Lambda = l
	}
}
