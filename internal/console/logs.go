package console

import (
	"net/http"
	"strconv"
)

// logEvent is CloudWatch Logs' FilteredLogEvent shape.
type logEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

// logPage is GET /api/logs?group=&stream=&start=MS&filter=&next=: one page
// of a log group's events from start (FilterLogEvents), oldest first. The
// page polls with start at its newest event's time, and drops the events
// it already has by eventId.
type logPage struct {
	Group  string     `json:"group"`
	Events []logEvent `json:"events"`
	Next   string     `json:"next,omitempty"`
}

func (c *Console) handleLogs(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	group := q.Get("group")
	if group == "" {
		return errorf(http.StatusBadRequest, "group is required")
	}
	in := map[string]any{"logGroupName": group, "limit": maxLogEvents}
	if s := q.Get("stream"); s != "" {
		in["logStreamNames"] = []string{s}
	}
	if v := q.Get("start"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 {
			return errorf(http.StatusBadRequest, "start must be epoch milliseconds, got %q", v)
		}
		in["startTime"] = ms
	}
	if f := q.Get("filter"); f != "" {
		in["filterPattern"] = f
	}
	if n := q.Get("next"); n != "" {
		in["nextToken"] = n
	}
	var res struct {
		Events    []logEvent `json:"events"`
		NextToken string     `json:"nextToken"`
	}
	if err := c.call(r.Context(), logsAPI, "FilterLogEvents", in, &res); err != nil {
		return err
	}
	out := logPage{Group: group, Events: res.Events, Next: res.NextToken}
	if out.Events == nil {
		out.Events = []logEvent{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
