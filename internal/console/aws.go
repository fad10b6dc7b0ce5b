package console

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// apiNames are what the pages call each API when it is missing.
var apiNames = map[string]string{
	firehoseAPI:   "The Firehose API",
	glueAPI:       "The Glue catalog",
	cloudwatchAPI: "CloudWatch (metrics and alarms)",
	logsAPI:       "CloudWatch Logs",
	athenaAPI:     "The query engine (Athena)",
}

// call runs an operation of one of hydrant's APIs in process, as the
// caller in ctx: the console reads and changes state only through the
// handlers the SDKs reach.
func (c *Console) call(ctx context.Context, api, op string, in, out any) error {
	svc := c.opts.APIs.Service(api)
	if svc == nil {
		return unavailable(apiNames[api])
	}
	return svc.Call(ctx, op, in, out)
}

// awsTime is a timestamp in an awsJson answer: epoch seconds (a number,
// possibly fractional), or an ISO 8601 string.
type awsTime time.Time

// UnmarshalJSON implements json.Unmarshaler.
func (t *awsTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.000-0700", "2006-01-02T15:04:05Z0700"} {
			if v, err := time.Parse(layout, s); err == nil {
				*t = awsTime(v)
				return nil
			}
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			*t = awsTime(epochTime(f))
			return nil
		}
		return &json.UnmarshalTypeError{Value: "timestamp " + s}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*t = awsTime(epochTime(f))
	return nil
}

// MarshalJSON writes the time as RFC 3339, as the console's API does.
func (t awsTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(time.Time(t).UTC())
}

// Time is t as a time.Time.
func (t awsTime) Time() time.Time { return time.Time(t) }

// epochTime reads epoch seconds to the millisecond, the precision AWS's
// timestamps have (a float64 holds no better).
func epochTime(f float64) time.Time {
	return time.UnixMilli(int64(math.Round(f * 1000))).UTC()
}

// epochSeconds is t as awsJson sends a timestamp.
func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
