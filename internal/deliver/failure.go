package deliver

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
)

// renderFailure appends one error-output record in Firehose's layout. The
// member order follows what AWS writes: for processing failures the shape
// captured from the live service in 2026 (rawData first, lambdaARN), for
// format-conversion failures the documented one (lastErrorCode,
// lastErrorMessage, dataCatalogTable); other types use the processing
// layout with errorCode/errorMessage. Timestamps are epoch milliseconds.
func renderFailure(b []byte, f Failure, now time.Time) []byte {
	ended := f.EndedAt
	if ended.IsZero() {
		ended = now
	}
	attempts := f.Attempts
	if attempts == 0 {
		attempts = 1
	}
	raw := base64.StdEncoding.EncodeToString(f.Raw)
	if f.Type == "format-conversion-failed" {
		b = append(b, `{"attemptsMade":`...)
		b = strconv.AppendInt(b, int64(attempts), 10)
		b = append(b, `,"arrivalTimestamp":`...)
		b = strconv.AppendInt(b, f.Arrival.UnixMilli(), 10)
		b = appendJSONField(b, "lastErrorCode", f.Code)
		b = appendJSONField(b, "lastErrorMessage", f.Message)
		b = append(b, `,"attemptEndingTimestamp":`...)
		b = strconv.AppendInt(b, ended.UnixMilli(), 10)
		b = appendJSONField(b, "rawData", raw)
		b = appendJSONField(b, "sequenceNumber", strconv.FormatUint(f.Seq, 10))
		b = append(b, `,"subSequenceNumber":0`...)
		if f.Table != nil {
			t, _ := json.Marshal(f.Table)
			b = append(b, `,"dataCatalogTable":`...)
			b = append(b, t...)
		}
		return append(b, '}')
	}
	b = append(b, `{"rawData":`...)
	b = appendJSONString(b, raw)
	b = appendJSONField(b, "errorCode", f.Code)
	b = appendJSONField(b, "errorMessage", f.Message)
	b = append(b, `,"attemptsMade":`...)
	b = strconv.AppendInt(b, int64(attempts), 10)
	b = append(b, `,"arrivalTimestamp":`...)
	b = strconv.AppendInt(b, f.Arrival.UnixMilli(), 10)
	b = append(b, `,"attemptEndingTimestamp":`...)
	b = strconv.AppendInt(b, ended.UnixMilli(), 10)
	if f.LambdaARN != "" {
		b = appendJSONField(b, "lambdaARN", f.LambdaARN)
	}
	return append(b, '}')
}

func appendJSONField(b []byte, name, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, value)
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}
