package console

import (
	"net/http"
	"strconv"

	"github.com/hydrant-io/hydrant/internal/lambda"
)

// functionPage is GET /api/functions/{name}: the configuration as
// GetFunctionConfiguration answers it, and the instances running it.
type functionPage struct {
	Name          string                       `json:"name"`
	Configuration lambda.FunctionConfiguration `json:"configuration"`
	Instances     int                          `json:"instances"`
	Idle          int                          `json:"idle"`
	// LogGroup is the function's CloudWatch Logs group (LoggingConfig's,
	// /aws/lambda/NAME by default).
	LogGroup string `json:"logGroup"`
}

func (c *Console) function(name string) (lambda.FunctionConfiguration, error) {
	if c.opts.Functions == nil {
		return lambda.FunctionConfiguration{}, unavailable("Lambda")
	}
	cfg, ok := c.opts.Functions.Configuration(name)
	if !ok {
		return cfg, errorf(http.StatusNotFound, "no function %q", name)
	}
	return cfg, nil
}

func (c *Console) handleFunction(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	cfg, err := c.function(name)
	if err != nil {
		return err
	}
	live, idle := c.opts.Functions.Instances(name)
	group := cfg.LoggingConfig.LogGroup
	if group == "" {
		group = "/aws/lambda/" + name
	}
	writeJSON(w, http.StatusOK, functionPage{Name: name, Configuration: cfg, Instances: live, Idle: idle, LogGroup: group})
	return nil
}

// maxLogEvents bounds the events one log request returns.
const maxLogEvents = 1000

// functionLogs is GET /api/functions/{name}/logs?since=MS&seen=N: the
// lines the lambda service keeps of the function's log (its most recent,
// in memory) after the N lines at millisecond MS the page already has
// (all of them without since), and the cursor to ask from next. The page
// reads the function's CloudWatch Logs group instead when this hydrant
// serves CloudWatch Logs.
type functionLogs struct {
	Events []lambda.LogEvent `json:"events"`
	Since  int64             `json:"since"`
	Seen   int               `json:"seen"`
}

func (c *Console) handleFunctionLogs(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if _, err := c.function(name); err != nil {
		return err
	}
	q := r.URL.Query()
	since, _ := strconv.ParseInt(q.Get("since"), 10, 64)
	seen, _ := strconv.Atoi(q.Get("seen"))
	events, _ := c.opts.Functions.Logs(name)
	writeJSON(w, http.StatusOK, tail(events, since, seen))
	return nil
}

// tail returns the events after the first seen ones at millisecond since
// (events are in time order), at most maxLogEvents of the newest.
func tail(events []lambda.LogEvent, since int64, seen int) functionLogs {
	out := functionLogs{Events: []lambda.LogEvent{}, Since: since, Seen: seen}
	skip := seen
	for _, ev := range events {
		if ev.Timestamp < since {
			continue
		}
		if ev.Timestamp == since && skip > 0 {
			skip--
			continue
		}
		out.Events = append(out.Events, ev)
	}
	if len(out.Events) > maxLogEvents {
		out.Events = out.Events[len(out.Events)-maxLogEvents:]
	}
	if n := len(out.Events); n > 0 {
		last := out.Events[n-1].Timestamp
		if last != since {
			out.Since, out.Seen = last, 0
		}
		for _, ev := range out.Events {
			if ev.Timestamp == last {
				out.Seen++
			}
		}
	}
	return out
}
