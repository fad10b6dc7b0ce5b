package console

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/state"
)

// recordingRunner answers every query with one row of the query text and
// the caller, and records the queries it ran.
type recordingRunner struct {
	mu  sync.Mutex
	ran []string
}

func (r *recordingRunner) run(ctx context.Context, sql, database string, wait time.Duration) (*queryResult, error) {
	r.mu.Lock()
	r.ran = append(r.ran, sql)
	r.mu.Unlock()
	if strings.Contains(sql, "fail") {
		return nil, errors.New("no such table")
	}
	caller := ""
	if id := awsproto.Caller(ctx); id != nil {
		caller = id.AccessKeyID
	}
	return &queryResult{State: "SUCCEEDED", Columns: []column{{Name: "q"}, {Name: "caller"}}, Rows: [][]*string{{&sql, &caller}}}, nil
}

func chartOf(sql string) DashboardChart {
	return DashboardChart{Title: sql, SQL: sql, Type: "line", X: "t", Y: []string{"n"}}
}

func TestDashboardsPersistAndRefresh(t *testing.T) {
	dir := t.TempDir()
	clock := &fakeClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	store := mustStore(t, dir)
	runner := &recordingRunner{}
	d := newDashboards(store, runner.run, slog.New(slog.DiscardHandler), clock.now)
	for _, def := range []Dashboard{
		{Name: "ops/../etc", RefreshSeconds: 60, Charts: []DashboardChart{chartOf("q1"), chartOf("fail")}, Owner: "AKID"},
		{Name: "by hand", Charts: []DashboardChart{{Title: "t", SQL: "q2", Type: "table"}}},
	} {
		if err := d.save(def, true); err != nil {
			t.Fatalf("save %s: %v", def.Name, err)
		}
	}
	if err := d.save(Dashboard{Name: "by hand", Charts: []DashboardChart{}}, true); !errors.Is(err, errDashboardExists) {
		t.Errorf("create over an existing dashboard: %v", err)
	}

	// Both are due at once: never refreshed.
	if due := d.due(clock.t); strings.Join(due, ",") != "by hand,ops/../etc" {
		t.Fatalf("due %v", due)
	}
	ctx := context.Background()
	d.refreshAsync(ctx, "ops/../etc")
	d.refreshAsync(ctx, "by hand")
	d.wg.Wait()
	_, res, _ := d.get("ops/../etc")
	if len(res.Charts) != 2 || res.Charts[1].Error != "no such table" || *res.Charts[0].Rows[0][1] != "AKID" || !res.Refreshed.Equal(clock.t) {
		t.Fatalf("results %+v", res)
	}
	if due := d.due(clock.t.Add(59 * time.Second)); len(due) != 0 {
		t.Errorf("due before the interval: %v", due)
	}
	if due := d.due(clock.t.Add(60 * time.Second)); strings.Join(due, ",") != "ops/../etc" {
		t.Errorf("due after the interval: %v (by hand is never due by itself)", due)
	}
	if !d.refreshNow("by hand") || strings.Join(d.due(clock.t), ",") != "by hand" {
		t.Errorf("refresh now: due %v", d.due(clock.t))
	}

	// A restart keeps the definitions, not the results.
	d2 := newDashboards(mustStore(t, dir), runner.run, slog.New(slog.DiscardHandler), clock.now)
	list, err := d2.list()
	if err != nil || len(list) != 2 || list[1].Name != "ops/../etc" || list[1].RefreshSeconds != 60 || len(list[1].Charts) != 2 || list[1].Owner != "AKID" {
		t.Fatalf("after restart: %+v %v", list, err)
	}
	if due := d2.due(clock.t); len(due) != 2 {
		t.Errorf("after restart due %v", due)
	}
	if found, err := d2.remove("ops/../etc"); !found || err != nil {
		t.Fatalf("remove: %v %v", found, err)
	}
	d3 := newDashboards(mustStore(t, dir), runner.run, slog.New(slog.DiscardHandler), clock.now)
	if list, _ := d3.list(); len(list) != 1 {
		t.Errorf("removed dashboard back after restart: %+v", list)
	}
}

func mustStore(t *testing.T, dir string) state.Store {
	t.Helper()
	s, err := openDashboardState(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDashboardCheck(t *testing.T) {
	for _, c := range []struct {
		d    Dashboard
		want string
	}{
		{Dashboard{Name: ""}, "name is 1 to"},
		{Dashboard{Name: strings.Repeat("x", 129)}, "name is 1 to"},
		{Dashboard{Name: "d", RefreshSeconds: 5}, "refreshSeconds is 0"},
		{Dashboard{Name: "d", Charts: []DashboardChart{{Title: "t", Type: "line", X: "a", Y: []string{"b"}}}}, "has no query"},
		{Dashboard{Name: "d", Charts: []DashboardChart{{SQL: "s", Type: "pie"}}}, "type must be line, bar or table"},
		{Dashboard{Name: "d", Charts: []DashboardChart{{SQL: "s", Type: "bar", X: "a"}}}, "needs an x column"},
		{Dashboard{Name: "d", RefreshSeconds: 10, Charts: []DashboardChart{{SQL: "s", Type: "table"}}}, ""},
	} {
		err := c.d.check()
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.d, err, c.want)
		}
	}
}

// TestDashboardLoop runs the refresh loop (in a synctest bubble, on its
// fake clock): a saved dashboard is refreshed at once, again when saved
// anew, and then every RefreshSeconds.
func TestDashboardLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		runner := &recordingRunner{}
		d := newDashboards(mustStore(t, t.TempDir()), runner.run, slog.New(slog.DiscardHandler), time.Now)
		d.start(context.Background())
		defer d.stop()
		refreshed := func(sql string) bool {
			_, res, _ := d.get("d")
			return len(res.Charts) == 1 && res.Charts[0].Rows != nil && *res.Charts[0].Rows[0][0] == sql
		}
		if err := d.save(Dashboard{Name: "d", RefreshSeconds: 60, Charts: []DashboardChart{chartOf("one")}}, false); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if !refreshed("one") {
			t.Fatal("not refreshed at once")
		}
		if err := d.save(Dashboard{Name: "d", RefreshSeconds: 60, Charts: []DashboardChart{chartOf("two")}}, false); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if !refreshed("two") {
			t.Fatal("not refreshed when saved")
		}
		before := len(runner.ran)
		time.Sleep(59 * time.Second)
		synctest.Wait()
		if len(runner.ran) != before {
			t.Fatalf("refreshed before the interval: %v", runner.ran)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if len(runner.ran) != before+1 {
			t.Fatalf("not refreshed after the interval: %v", runner.ran)
		}
	})
}

// TestDashboardsShared runs two nodes' dashboards over one state store, as
// a cluster's nodes share theirs: a dashboard saved, changed or deleted on
// one shows on the other, which refreshes it itself.
func TestDashboardsShared(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := mustStore(t, t.TempDir())
		runner := &recordingRunner{}
		a := newDashboards(store, runner.run, slog.New(slog.DiscardHandler), time.Now)
		b := newDashboards(store, runner.run, slog.New(slog.DiscardHandler), time.Now)
		ctx := context.Background()
		a.start(ctx)
		b.start(ctx)
		defer a.stop()
		defer b.stop()
		if err := a.save(Dashboard{Name: "ops", Charts: []DashboardChart{chartOf("one")}}, true); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		def, res, ok := b.get("ops")
		if !ok || len(def.Charts) != 1 || len(res.Charts) != 1 || *res.Charts[0].Rows[0][0] != "one" {
			t.Fatalf("the other node: %+v %+v %v", def, res, ok)
		}
		time.Sleep(time.Second) // a later Updated
		if err := a.save(Dashboard{Name: "ops", Charts: []DashboardChart{chartOf("two")}}, false); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if _, res, _ := b.get("ops"); len(res.Charts) != 1 || *res.Charts[0].Rows[0][0] != "two" {
			t.Fatalf("the other node after a change: %+v", res)
		}
		if found, err := a.remove("ops"); !found || err != nil {
			t.Fatal(found, err)
		}
		synctest.Wait()
		if _, _, ok := b.get("ops"); ok {
			t.Fatal("deleted on one node, still on the other")
		}
	})
}

// TestDashboardExportImport sends a dashboard's export back through the
// import handler, as the console's import form does: refused under the
// name it has (which exists), created under another with the importer as
// its owner, and replacing the original only when asked.
func TestDashboardExportImport(t *testing.T) {
	clock := &fakeClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := &Console{log: slog.New(slog.DiscardHandler)}
	c.dashboards = newDashboards(mustStore(t, t.TempDir()), (&recordingRunner{}).run, c.log, clock.now)
	if err := c.dashboards.save(Dashboard{Name: "Sales overview", RefreshSeconds: 60, Owner: "AKIDSAVER",
		Charts: []DashboardChart{chartOf("q1"), {Title: "by region", SQL: "q2", Type: "bar", X: "region", Y: []string{"total"}}}}, true); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for pattern, h := range map[string]func(http.ResponseWriter, *http.Request) error{
		"GET /dashboards/{name}/export": c.handleExportDashboard,
		"POST /dashboards":              c.handleImportDashboard,
	} {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if err := h(w, r); err != nil {
				writeError(w, err)
			}
		})
	}
	do := func(method, target, body string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r = r.WithContext(awsproto.WithCaller(r.Context(), &awsproto.Identity{AccessKeyID: "AKIDIMPORTER"}))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}

	exp := do("GET", "/dashboards/Sales%20overview/export", "")
	file := exp.Body.String()
	if exp.Code != http.StatusOK || strings.Contains(file, "AKIDSAVER") || !strings.Contains(file, `"refreshSeconds": 60`) ||
		exp.Header().Get("Content-Disposition") != "attachment; filename*=UTF-8''Sales%20overview.dashboard.json" {
		t.Fatalf("export: %d %v\n%s", exp.Code, exp.Header(), file)
	}
	if w := do("POST", "/dashboards", file); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), `a dashboard named \"Sales overview\" exists`) {
		t.Errorf("import under an existing name: %d %s", w.Code, w.Body)
	}
	if w := do("POST", "/dashboards?name=Sales%20copy", file); w.Code != http.StatusCreated {
		t.Fatalf("import as a copy: %d %s", w.Code, w.Body)
	}
	cp, _, ok := c.dashboards.get("Sales copy")
	orig, _, _ := c.dashboards.get("Sales overview")
	if !ok || cp.Owner != "AKIDIMPORTER" || cp.RefreshSeconds != 60 || len(cp.Charts) != 2 || cp.Charts[1].X != "region" || orig.Owner != "AKIDSAVER" {
		t.Errorf("the copy %+v, the original %+v", cp, orig)
	}
	if w := do("POST", "/dashboards?replace=true", strings.Replace(file, `"refreshSeconds": 60`, `"refreshSeconds": 0`, 1)); w.Code != http.StatusCreated {
		t.Fatalf("import replacing: %d %s", w.Code, w.Body)
	}
	if orig, _, _ := c.dashboards.get("Sales overview"); orig.RefreshSeconds != 0 || orig.Owner != "AKIDIMPORTER" {
		t.Errorf("replaced: %+v", orig)
	}
}
