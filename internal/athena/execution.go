package athena

import (
	"time"
)

// Query execution states.
const (
	StateQueued    = "QUEUED"
	StateRunning   = "RUNNING"
	StateSucceeded = "SUCCEEDED"
	StateFailed    = "FAILED"
	StateCancelled = "CANCELLED"
)

// Execution is one query execution as kept in the history: what was
// asked, where it is, and what it produced.
type Execution struct {
	ID                 string      `json:"id"`
	Query              string      `json:"query"`
	Catalog            string      `json:"catalog"`
	Database           string      `json:"database"`
	WorkGroup          string      `json:"workGroup"`
	Parameters         []string    `json:"parameters,omitempty"`
	ClientRequestToken string      `json:"clientRequestToken,omitempty"`
	OutputLocation     string      `json:"outputLocation"` // s3://bucket/prefix/<id>.csv or .txt
	State              string      `json:"state"`
	StateChangeReason  string      `json:"stateChangeReason,omitempty"`
	Error              *QueryError `json:"error,omitempty"`
	StatementType      string      `json:"statementType,omitempty"`
	SubstatementType   string      `json:"substatementType,omitempty"`
	Submitted          time.Time   `json:"submitted"`
	Started            time.Time   `json:"started,omitzero"`
	Completed          time.Time   `json:"completed,omitzero"`
	PlanningMillis     int64       `json:"planningMillis,omitempty"`
	DataScanned        int64       `json:"dataScanned"`
	// Columns, Header and Rows describe the stored result.
	Columns []Column `json:"columns,omitempty"`
	Header  bool     `json:"header,omitempty"`
	Rows    int64    `json:"rows,omitempty"`
}

// Done reports whether the execution has reached a final state.
func (e *Execution) Done() bool {
	return e.State == StateSucceeded || e.State == StateFailed || e.State == StateCancelled
}

// statistics is Athena's QueryExecutionStatistics of an execution.
func (e *Execution) statistics(now time.Time) map[string]any {
	end := e.Completed
	if end.IsZero() {
		end = now
	}
	var queue, engine time.Duration
	switch {
	case e.Started.IsZero():
		queue = end.Sub(e.Submitted)
	default:
		queue = e.Started.Sub(e.Submitted)
		engine = end.Sub(e.Started)
	}
	total := end.Sub(e.Submitted)
	return map[string]any{
		"EngineExecutionTimeInMillis":      engine.Milliseconds(),
		"DataScannedInBytes":               e.DataScanned,
		"TotalExecutionTimeInMillis":       total.Milliseconds(),
		"QueryQueueTimeInMillis":           queue.Milliseconds(),
		"ServicePreProcessingTimeInMillis": int64(0),
		"QueryPlanningTimeInMillis":        e.PlanningMillis,
		"ServiceProcessingTimeInMillis":    max(total.Milliseconds()-engine.Milliseconds()-queue.Milliseconds(), 0),
		"ResultReuseInformation":           map[string]any{"ReusedPreviousResult": false},
	}
}
