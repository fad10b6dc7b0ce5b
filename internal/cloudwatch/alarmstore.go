package cloudwatch

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
	"github.com/hydrant-io/hydrant/internal/cwmetrics"
)

// Alarm state values.
const (
	StateOK           = "OK"
	StateAlarm        = "ALARM"
	StateInsufficient = "INSUFFICIENT_DATA"
)

// historyRetention is how long alarm history is kept (CloudWatch: two
// weeks), and maxHistory bounds it in count.
const (
	historyRetention = 14 * 24 * time.Hour
	maxHistory       = 20000
	maxAlarms        = 10000
)

// tag is the Tag shape.
type tag struct {
	Key   string
	Value string
}

// alarm is one metric alarm, as kept in alarms.json.
type alarm struct {
	AlarmName                          string
	AlarmArn                           string
	AlarmDescription                   *string `json:",omitempty"`
	AlarmConfigurationUpdatedTimestamp time.Time
	ActionsEnabled                     bool
	OKActions                          []string
	AlarmActions                       []string
	InsufficientDataActions            []string
	StateValue                         string
	StateReason                        string
	StateReasonData                    string `json:",omitempty"`
	StateUpdatedTimestamp              time.Time
	StateTransitionedTimestamp         time.Time
	MetricName                         string                `json:",omitempty"`
	Namespace                          string                `json:",omitempty"`
	Statistic                          string                `json:",omitempty"`
	ExtendedStatistic                  string                `json:",omitempty"`
	Dimensions                         []cwmetrics.Dimension `json:",omitempty"`
	Period                             int                   `json:",omitempty"`
	Unit                               string                `json:",omitempty"`
	EvaluationPeriods                  int
	DatapointsToAlarm                  int `json:",omitempty"`
	Threshold                          float64
	ComparisonOperator                 string
	TreatMissingData                   string      `json:",omitempty"`
	EvaluateLowSampleCountPercentile   string      `json:",omitempty"`
	Metrics                            []dataQuery `json:",omitempty"`
	Tags                               []tag       `json:",omitempty"`

	// compiled is the math alarm's queries, checked (not kept).
	compiled *compiled
}

// historyItem is the AlarmHistoryItem shape.
type historyItem struct {
	AlarmName       string
	AlarmType       string
	Timestamp       time.Time
	HistoryItemType string
	HistorySummary  string
	HistoryData     string
}

// alarmSet holds the alarms and their history: alarms.json (replaced
// atomically on each change) and history.jsonl (appended).
type alarmSet struct {
	dir string

	mu      sync.Mutex
	alarms  map[string]*alarm
	history []historyItem
	hist    *os.File
}

func openAlarms(dir string) (*alarmSet, error) {
	a := &alarmSet{dir: dir, alarms: map[string]*alarm{}}
	if dir == "" {
		return a, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cloudwatch dir: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "alarms.json"))
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, fmt.Errorf("read alarms: %w", err)
	default:
		var doc struct{ Alarms []*alarm }
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("read alarms: %w", err)
		}
		for _, al := range doc.Alarms {
			a.alarms[al.AlarmName] = al
		}
	}
	if err := a.loadHistory(); err != nil {
		return nil, err
	}
	return a, nil
}

// loadHistory reads history.jsonl (a torn last line is dropped) and
// rewrites it with only what is kept.
func (a *alarmSet) loadHistory() error {
	path := filepath.Join(a.dir, "history.jsonl")
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var h historyItem
			if json.Unmarshal(sc.Bytes(), &h) == nil {
				a.history = append(a.history, h)
			}
		}
		_ = f.Close()
	}
	a.trimHistory(time.Now())
	var buf []byte
	for _, h := range a.history {
		b, _ := json.Marshal(h)
		buf = append(append(buf, b...), '\n')
	}
	if err := atomicfile.Write(path, buf, 0o644); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open alarm history: %w", err)
	}
	a.hist = f
	return nil
}

func (a *alarmSet) trimHistory(now time.Time) {
	cut := now.Add(-historyRetention)
	i := sort.Search(len(a.history), func(i int) bool { return !a.history[i].Timestamp.Before(cut) })
	if n := len(a.history) - i; n > maxHistory {
		i = len(a.history) - maxHistory
	}
	if i > 0 {
		a.history = append([]historyItem(nil), a.history[i:]...)
	}
}

// save writes alarms.json; a.mu is held.
func (a *alarmSet) save() error {
	if a.dir == "" {
		return nil
	}
	all := make([]*alarm, 0, len(a.alarms))
	for _, al := range a.alarms {
		all = append(all, al)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].AlarmName < all[j].AlarmName })
	b, err := json.MarshalIndent(struct{ Alarms []*alarm }{all}, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(a.dir, "alarms.json"), b, 0o644)
}

// record appends history items; a.mu is held. History is best effort on
// disk: a failed append is returned but the item is kept in memory.
func (a *alarmSet) record(items ...historyItem) error {
	a.history = append(a.history, items...)
	if len(a.history) > maxHistory+maxHistory/10 {
		a.trimHistory(items[len(items)-1].Timestamp)
	}
	if a.hist == nil {
		return nil
	}
	var buf []byte
	for _, h := range items {
		b, _ := json.Marshal(h)
		buf = append(append(buf, b...), '\n')
	}
	_, err := a.hist.Write(buf)
	return err
}

func (a *alarmSet) close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.hist != nil {
		err := a.hist.Close()
		a.hist = nil
		return err
	}
	return nil
}
