package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/state"
)

// Dashboard is a named set of charts, each drawn from a query, refreshed
// on a schedule (QuickSight's "automated refresh"): the console runs every
// chart's query again each RefreshSeconds, whether or not anyone is
// looking, and shows the latest results. It is what export writes and
// import reads.
type Dashboard struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// RefreshSeconds is the refresh interval; 0 refreshes only when asked.
	RefreshSeconds int              `json:"refreshSeconds"`
	Charts         []DashboardChart `json:"charts"`
	// Owner is the access key (and Profile its profile) that saved the
	// dashboard: scheduled refreshes run as it.
	Owner   string    `json:"owner,omitempty"`
	Profile string    `json:"profile,omitempty"`
	Updated time.Time `json:"updated,omitzero"`
}

// DashboardChart is one chart: a query and how to draw its result.
type DashboardChart struct {
	Title    string `json:"title"`
	SQL      string `json:"sql"`
	Database string `json:"database,omitempty"`
	// Type is "line" (over a time column X), "bar" (by a category X) or
	// "table".
	Type string `json:"type"`
	// X is the column along the horizontal axis; Y the measures drawn.
	X string   `json:"x,omitempty"`
	Y []string `json:"y,omitempty"`
}

// Dashboard limits.
const (
	maxDashboards      = 200
	maxCharts          = 50
	maxDashboardName   = 128
	minRefreshSeconds  = 10
	maxRefreshSeconds  = 7 * 24 * 3600
	refreshQueryWait   = 5 * time.Minute
	refreshConcurrency = 2
)

var chartTypes = []string{"line", "bar", "table"}

// check validates a dashboard as saved or imported.
func (d *Dashboard) check() error {
	switch {
	case d.Name == "" || utf8.RuneCountInString(d.Name) > maxDashboardName || !utf8.ValidString(d.Name):
		return errorf(http.StatusBadRequest, "a dashboard name is 1 to %d characters", maxDashboardName)
	case d.RefreshSeconds != 0 && (d.RefreshSeconds < minRefreshSeconds || d.RefreshSeconds > maxRefreshSeconds):
		return errorf(http.StatusBadRequest, "refreshSeconds is 0 (by hand) or %d to %d, got %d", minRefreshSeconds, maxRefreshSeconds, d.RefreshSeconds)
	case len(d.Charts) > maxCharts:
		return errorf(http.StatusBadRequest, "a dashboard holds at most %d charts, got %d", maxCharts, len(d.Charts))
	}
	for i, ch := range d.Charts {
		switch {
		case ch.SQL == "":
			return errorf(http.StatusBadRequest, "chart %d has no query", i+1)
		case len(ch.SQL) > maxSQL:
			return errorf(http.StatusBadRequest, "chart %d's query is longer than %d bytes", i+1, maxSQL)
		case !slices.Contains(chartTypes, ch.Type):
			return errorf(http.StatusBadRequest, "chart %d's type must be line, bar or table, got %q", i+1, ch.Type)
		case ch.Type != "table" && (ch.X == "" || len(ch.Y) == 0):
			return errorf(http.StatusBadRequest, "chart %d (%s) needs an x column and at least one y column", i+1, ch.Type)
		}
	}
	return nil
}

// chartResult is the latest result of one chart's query.
type chartResult struct {
	Columns   []column    `json:"columns"`
	Rows      [][]*string `json:"rows"`
	Truncated bool        `json:"truncated,omitempty"`
	Error     string      `json:"error,omitempty"`
}

// dashResults is a dashboard's latest refresh.
type dashResults struct {
	Refreshed  time.Time     `json:"refreshed,omitzero"`
	Refreshing bool          `json:"refreshing"`
	Charts     []chartResult `json:"charts"`
	// stale marks results of an older definition, or a refresh asked for:
	// due at once.
	stale bool
}

// queryRunner runs one query to its end (Console.runQuery).
type queryRunner func(ctx context.Context, sql, database string, wait time.Duration) (*queryResult, error)

// dashboards holds the dashboards, their latest results, and the loop that
// refreshes them.
type dashboards struct {
	store state.Store
	run   queryRunner
	log   *slog.Logger
	now   func() time.Time
	sem   chan struct{}
	wake  chan struct{}

	mu      sync.Mutex
	defs    map[string]Dashboard
	results map[string]*dashResults
	loaded  error // why the store could not be read, if it could not

	stopOnce sync.Once
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

func newDashboards(store state.Store, run queryRunner, log *slog.Logger, now func() time.Time) *dashboards {
	d := &dashboards{store: store, run: run, log: log, now: now, sem: make(chan struct{}, refreshConcurrency),
		wake: make(chan struct{}, 1), defs: map[string]Dashboard{}, results: map[string]*dashResults{}, cancel: func() {}}
	d.reload(context.Background())
	return d
}

// reload reads every dashboard from the store again.
func (d *dashboards) reload(ctx context.Context) {
	list, err := loadDashboards(ctx, d.store)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.loaded = err
	if err != nil {
		d.log.Error("load dashboards", "err", err)
		return
	}
	defs := map[string]Dashboard{}
	for _, db := range list {
		defs[db.Name] = db
		if old, ok := d.defs[db.Name]; ok && !old.Updated.Equal(db.Updated) {
			d.markStale(db.Name)
		}
	}
	for name := range d.results {
		if _, ok := defs[name]; !ok {
			delete(d.results, name)
		}
	}
	d.defs = defs
}

// start runs the refresh loop, and follows the changes other nodes make
// to the dashboards, until ctx ends or stop.
func (d *dashboards) start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	d.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.loop(ctx)
	}()
	events, err := d.store.Watch(ctx, dashboardPrefix)
	if err != nil {
		d.log.Error("watch dashboards", "err", err)
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.follow(ctx, events)
	}()
}

// follow applies the store's changes (this node's own saves come back
// too, and change nothing).
func (d *dashboards) follow(ctx context.Context, events <-chan state.Event) {
	for ev := range events {
		if ev.Reset {
			d.reload(ctx)
			d.poke()
			continue
		}
		d.mu.Lock()
		switch {
		case ev.Deleted:
			for name := range d.defs {
				if dashboardKey(name) == ev.Key {
					delete(d.defs, name)
					delete(d.results, name)
				}
			}
		default:
			db, err := decodeDashboard(ev.Entry)
			if err != nil {
				d.log.Warn("dashboard changed to something unreadable", "key", ev.Key, "err", err)
				break
			}
			if old, ok := d.defs[db.Name]; !ok || !old.Updated.Equal(db.Updated) {
				d.defs[db.Name] = db
				d.markStale(db.Name)
			}
		}
		d.mu.Unlock()
		d.poke()
	}
}

// markStale makes a dashboard's refresh due at once; d.mu is held.
func (d *dashboards) markStale(name string) {
	if res := d.results[name]; res != nil {
		res.stale = true
	}
}

func (d *dashboards) stop() {
	d.stopOnce.Do(func() {
		d.cancel()
		d.wg.Wait()
	})
}

// loop refreshes each dashboard when it is due: at start (nothing is kept
// of earlier results), then every RefreshSeconds.
func (d *dashboards) loop(ctx context.Context) {
	for {
		for _, name := range d.due(d.now()) {
			d.refreshAsync(ctx, name)
		}
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// due lists the dashboards whose refresh is due at now and not running:
// never refreshed, or scheduled and past their interval.
func (d *dashboards) due(now time.Time) []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for name, def := range d.defs {
		res := d.results[name]
		switch {
		case res == nil:
			out = append(out, name)
		case res.Refreshing:
		case res.stale:
			out = append(out, name)
		case def.RefreshSeconds == 0:
		case !now.Before(res.Refreshed.Add(time.Duration(def.RefreshSeconds) * time.Second)):
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// refreshAsync refreshes a dashboard in the background (at most
// refreshConcurrency at once); it marks it refreshing first, so the loop
// does not start it twice.
func (d *dashboards) refreshAsync(ctx context.Context, name string) {
	d.mu.Lock()
	def, ok := d.defs[name]
	res := d.results[name]
	if !ok || res != nil && res.Refreshing {
		d.mu.Unlock()
		return
	}
	if res == nil {
		res = &dashResults{Charts: []chartResult{}}
		d.results[name] = res
	}
	res.Refreshing = true
	d.mu.Unlock()
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		select {
		case d.sem <- struct{}{}:
		case <-ctx.Done():
			d.finish(name, def, nil, time.Time{})
			return
		}
		defer func() { <-d.sem }()
		charts := d.refresh(ctx, def)
		d.finish(name, def, charts, d.now())
	}()
}

// refresh runs every chart's query of def, as its owner.
func (d *dashboards) refresh(ctx context.Context, def Dashboard) []chartResult {
	if def.Owner != "" {
		ctx = awsproto.WithCaller(ctx, &awsproto.Identity{AccessKeyID: def.Owner, Profile: def.Profile})
	}
	out := make([]chartResult, len(def.Charts))
	for i, ch := range def.Charts {
		res, err := d.run(ctx, ch.SQL, ch.Database, refreshQueryWait)
		switch {
		case err != nil:
			out[i].Error = err.Error()
		case res.State != "SUCCEEDED":
			out[i].Error = fmt.Sprintf("query %s: %s", res.State, res.Reason)
		default:
			out[i] = chartResult{Columns: res.Columns, Rows: res.Rows, Truncated: res.Next != ""}
		}
		if out[i].Error != "" {
			d.log.Warn("dashboard chart refresh failed", "dashboard", def.Name, "chart", ch.Title, "err", out[i].Error)
		}
	}
	return out
}

// finish stores a refresh's results, unless the dashboard changed or went
// meanwhile (its new definition is refreshed on its own).
func (d *dashboards) finish(name string, def Dashboard, charts []chartResult, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	res := d.results[name]
	cur, ok := d.defs[name]
	if res == nil {
		return
	}
	res.Refreshing = false
	if !ok || !cur.Updated.Equal(def.Updated) || charts == nil {
		if charts == nil && res.Refreshed.IsZero() {
			delete(d.results, name) // cancelled before its first refresh
		}
		return
	}
	res.Charts, res.Refreshed, res.stale = charts, at, false
}

func (d *dashboards) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// list returns every dashboard, by name.
func (d *dashboards) list() ([]Dashboard, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loaded != nil {
		return nil, fmt.Errorf("dashboards could not be loaded: %w", d.loaded)
	}
	out := make([]Dashboard, 0, len(d.defs))
	for _, def := range d.defs {
		out = append(out, def)
	}
	slices.SortFunc(out, func(a, b Dashboard) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return out, nil
}

// get returns a dashboard and a copy of its latest results.
func (d *dashboards) get(name string) (Dashboard, dashResults, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	def, ok := d.defs[name]
	var res dashResults
	if r := d.results[name]; r != nil {
		res = *r
	}
	if res.Charts == nil {
		res.Charts = []chartResult{}
	}
	return def, res, ok
}

// errDashboardExists is returned by save when create is set and the name
// is taken.
var errDashboardExists = errors.New("dashboard exists")

// save stores a dashboard (durably first) and refreshes it at once.
func (d *dashboards) save(def Dashboard, create bool) error {
	if err := def.check(); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.loaded != nil {
		return fmt.Errorf("dashboards could not be loaded: %w", d.loaded)
	}
	_, exists := d.defs[def.Name]
	if exists && create {
		return errDashboardExists
	}
	if !exists && len(d.defs) >= maxDashboards {
		return errorf(http.StatusBadRequest, "hydrant keeps at most %d dashboards", maxDashboards)
	}
	def.Updated = d.now().UTC()
	if err := saveDashboard(context.Background(), d.store, def); err != nil {
		return err
	}
	d.defs[def.Name] = def
	d.markStale(def.Name)
	d.poke()
	return nil
}

// refreshNow marks a dashboard's results stale, so the loop refreshes it
// at once; false if there is no such dashboard.
func (d *dashboards) refreshNow(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.defs[name]; !ok {
		return false
	}
	d.markStale(name)
	d.poke()
	return true
}

// remove deletes a dashboard.
func (d *dashboards) remove(name string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.defs[name]; !ok {
		return false, nil
	}
	if err := deleteDashboard(context.Background(), d.store, name); err != nil {
		return true, err
	}
	delete(d.defs, name)
	delete(d.results, name)
	return true, nil
}
