package console

import (
	"context"
	"net/http"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// The awsJson target prefixes of the APIs the console calls.
const (
	firehoseAPI   = "Firehose_20150804"
	glueAPI       = "AWSGlue"
	cloudwatchAPI = "GraniteServiceVersion20100801"
	logsAPI       = "Logs_20140328"
	athenaAPI     = "AmazonAthena"
)

// features says which pages this hydrant can show: each needs its API.
type features struct {
	Functions bool `json:"functions"`
	Metrics   bool `json:"metrics"`
	Alarms    bool `json:"alarms"`
	Logs      bool `json:"logs"`
	Catalog   bool `json:"catalog"`
	Query     bool `json:"query"`
}

func (c *Console) features() features {
	has := func(p string) bool { return c.opts.APIs.Service(p) != nil }
	return features{
		Functions: c.opts.Functions != nil,
		Metrics:   has(cloudwatchAPI),
		Alarms:    has(cloudwatchAPI),
		Logs:      has(logsAPI),
		Catalog:   has(glueAPI),
		Query:     has(athenaAPI),
	}
}

// summary is the overview's live data: GET /api/summary, polled every few
// seconds by each open overview, so it is computed from what the owners
// hold in memory (the registry's buffer stats and delivery status, the
// functions' pools, the alarms' states) and kept compact.
type summary struct {
	Time      time.Time         `json:"time"`
	Health    healthSummary     `json:"health"`
	Features  features          `json:"features"`
	Streams   []streamSummary   `json:"streams"`
	Functions []functionSummary `json:"functions"`
	Alarms    []alarmSummary    `json:"alarms"`
	// AlarmsError says why the alarms could not be read, if they could not.
	AlarmsError string `json:"alarmsError,omitempty"`
}

type healthSummary struct {
	Status  string   `json:"status"`
	Reasons []string `json:"reasons,omitempty"`
}

// streamSummary is one stream's row on the overview. Rates are the
// browser's to compute: it divides the growth of Appended and of the
// delivery counters between two polls by the time between them.
type streamSummary struct {
	Name            string  `json:"name"`
	Status          string  `json:"status"`
	Appended        uint64  `json:"appended"`
	Delivered       uint64  `json:"delivered"`
	BufferedRecords int     `json:"bufferedRecords"`
	BufferedBytes   int64   `json:"bufferedBytes"`
	LogBytes        int64   `json:"logBytes"`
	Freshness       float64 `json:"freshness"` // seconds the oldest undelivered record has waited
	LostRecords     int64   `json:"lostRecords,omitempty"`
	// The delivery loop's counters and failures (deliver.Status).
	Objects        uint64               `json:"objects"`
	FailedAttempts uint64               `json:"failedAttempts"`
	Failing        bool                 `json:"failing"`
	ErrorRecords   uint64               `json:"errorRecords"`
	LastError      *deliver.StatusError `json:"lastError,omitempty"`
}

// functionSummary is one hosted function on the overview.
type functionSummary struct {
	Name      string `json:"name"`
	Runtime   string `json:"runtime"`
	State     string `json:"state"`
	Instances int    `json:"instances"`
	Idle      int    `json:"idle"`
}

// alarmSummary is one alarm on the overview.
type alarmSummary struct {
	Name    string    `json:"name"`
	State   string    `json:"state"`
	Reason  string    `json:"reason"`
	Updated time.Time `json:"updated,omitzero"`
}

func (c *Console) handleSummary(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, c.summary(r.Context()))
	return nil
}

func (c *Console) summary(ctx context.Context) summary {
	now := c.now()
	s := summary{Time: now, Features: c.features(), Streams: []streamSummary{}, Functions: []functionSummary{}, Alarms: []alarmSummary{}}
	if c.opts.Health != nil {
		s.Health.Status, s.Health.Reasons = c.opts.Health.Health()
	}
	for _, name := range c.opts.Streams.Names() {
		st, err := c.opts.Streams.Stats(name)
		if err != nil {
			continue // deleted since Names
		}
		s.Streams = append(s.Streams, summarizeStream(st, now))
	}
	if fns := c.opts.Functions; fns != nil {
		for _, name := range fns.Names() {
			cfg, ok := fns.Configuration(name)
			if !ok {
				continue
			}
			live, idle := fns.Instances(name)
			s.Functions = append(s.Functions, functionSummary{Name: name, Runtime: cfg.Runtime, State: cfg.State, Instances: live, Idle: idle})
		}
	}
	if s.Features.Alarms {
		alarms, err := c.describeAlarms(ctx)
		if err != nil {
			s.AlarmsError = err.Error()
		}
		for _, a := range alarms {
			s.Alarms = append(s.Alarms, alarmSummary{Name: a.AlarmName, State: a.StateValue, Reason: a.StateReason, Updated: a.StateUpdatedTimestamp.Time()})
		}
	}
	return s
}

// summarizeStream turns the registry's stats into an overview row. The last
// error is the later of the last failed attempt and the last record sent to
// the error output.
func summarizeStream(st stream.Stats, now time.Time) streamSummary {
	row := streamSummary{
		Name: st.Name, Status: st.Status, Appended: st.Appended, Delivered: st.Delivered,
		BufferedRecords: st.BufferedRecords, BufferedBytes: st.BufferedBytes, LogBytes: st.LogBytes, LostRecords: st.LostRecords,
	}
	if st.OldestUndelivered != nil {
		row.Freshness = max(now.Sub(*st.OldestUndelivered).Seconds(), 0)
	}
	if d := st.Delivery; d != nil {
		row.Objects, row.FailedAttempts, row.Failing, row.ErrorRecords = d.Objects, d.FailedAttempts, d.Failing, d.ErrorRecords
		row.LastError = d.LastError
		if e := d.LastRecordError; e != nil && (row.LastError == nil || e.Time.After(row.LastError.Time)) {
			row.LastError = e
		}
	}
	return row
}
