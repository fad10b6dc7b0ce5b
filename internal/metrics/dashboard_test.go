package metrics

import (
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

// dashboardPath is the Grafana dashboard shipped in the repository.
const dashboardPath = "../../grafana/hydrant-dashboard.json"

// metricRef finds metric names in PromQL: hydrant exports only firehose_*
// and hydrant_* families (plus the Go and process collectors').
var metricRef = regexp.MustCompile(`\b(?:firehose|hydrant)_[a-z0-9_]+`)

// exported scrapes a live registry, with every family populated, and
// returns the names a query may use: each family, and for histograms their
// _bucket, _sum and _count series.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	f := newFixture()
	f.setBuffers(Buffer{Stream: "s", Bytes: 1, Records: 1, Oldest: f.now})
	m := f.m
	m.ObservePut("s", "PutRecord", 1, 1, 1, time.Millisecond)
	m.ObservePut("s", "PutRecordBatch", 1, 1, 1, time.Millisecond)
	m.Delivered("s", deliver.Delivery{Objects: 1, Records: 1, Bytes: 1, ErrorRecords: 1})
	m.Failed("s", deliver.Plan{}, errors.New("x"))
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, fam := range fams {
		names[fam.GetName()] = true
		if fam.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[fam.GetName()+s] = true
			}
		}
	}
	return names
}

// TestDashboard checks that the Grafana dashboard parses, has the datasource
// and stream variables, and that every query names a metric hydrant
// exports, so that renaming a metric cannot silently blank a panel.
func TestDashboard(t *testing.T) {
	raw, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		SchemaVersion int `json:"schemaVersion"`
		Templating    struct {
			List []struct {
				Name  string          `json:"name"`
				Type  string          `json:"type"`
				Query json.RawMessage `json:"query"`
			} `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int    `json:"id"`
			Type       string `json:"type"`
			Title      string `json:"title"`
			Datasource *struct {
				UID string `json:"uid"`
			} `json:"datasource"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("parse %s: %v", dashboardPath, err)
	}
	if dash.SchemaVersion < 36 {
		t.Errorf("schemaVersion = %d, want a current Grafana schema", dash.SchemaVersion)
	}

	names := exported(t)
	var queries []string
	vars := map[string]string{}
	for _, v := range dash.Templating.List {
		vars[v.Name] = v.Type
		queries = append(queries, string(v.Query))
	}
	if vars["datasource"] != "datasource" || vars["stream"] != "query" {
		t.Errorf("template variables = %v, want datasource (datasource) and stream (query)", vars)
	}

	ids := map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not use the $datasource variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries = append(queries, tg.Expr)
		}
	}

	used := map[string]bool{}
	for _, q := range queries {
		refs := metricRef.FindAllString(q, -1)
		if len(refs) == 0 && strings.Contains(q, "(") && !strings.Contains(q, "label_values") {
			t.Errorf("query names no hydrant metric: %s", q)
		}
		for _, name := range refs {
			used[name] = true
			if !names[name] {
				t.Errorf("query uses %s, which hydrant does not export: %s", name, q)
			}
		}
	}
	// Every Firehose and hydrant family is on the dashboard somewhere.
	var missing []string
	for name := range names {
		if !metricRef.MatchString(name) || strings.HasSuffix(name, "_sum") || strings.HasSuffix(name, "_count") || strings.HasSuffix(name, "_bucket") {
			continue
		}
		if !used[name] && !used[name+"_bucket"] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("metrics no panel shows: %v", missing)
	}
}
