package console

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hydrant-io/hydrant/internal/state"
)

// Dashboards are kept in the state store where every service keeps what
// its API creates (internal/state): on one node the files
// <data-dir>/console/dashboards/<hex of the name>.json, written atomically;
// in a cluster the shared bucket, so that every node shows the same
// dashboards. The name is hex-encoded, so any name is a valid key.
const dashboardPrefix = "console/dashboards/"

// dashboardPattern is the keys a local state store holds for dashboards.
const dashboardPattern = dashboardPrefix + "*.json"

func dashboardKey(name string) string {
	return dashboardPrefix + hex.EncodeToString([]byte(name)) + ".json"
}

// openDashboardState opens the dashboards' local state store in dataDir.
func openDashboardState(dataDir string) (state.Store, error) {
	st, err := state.OpenLocal(dataDir, dashboardPattern)
	if err != nil {
		return nil, fmt.Errorf("open dashboards: %w", err)
	}
	return st, nil
}

// loadDashboards reads every dashboard in the store.
func loadDashboards(ctx context.Context, st state.Store) ([]Dashboard, error) {
	entries, err := st.List(ctx, dashboardPrefix)
	if err != nil {
		return nil, fmt.Errorf("read dashboards: %w", err)
	}
	var out []Dashboard
	for _, e := range entries {
		if !strings.HasSuffix(e.Key, ".json") || strings.Contains(strings.TrimPrefix(e.Key, dashboardPrefix), "/") {
			continue
		}
		d, err := decodeDashboard(e)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func decodeDashboard(e state.Entry) (Dashboard, error) {
	var d Dashboard
	if err := json.Unmarshal(e.Value, &d); err != nil {
		return d, fmt.Errorf("parse dashboard %s: %w", e.Key, err)
	}
	if dashboardKey(d.Name) != e.Key {
		return d, fmt.Errorf("dashboard %s holds the dashboard named %q", e.Key, d.Name)
	}
	return d, nil
}

// saveDashboard stores a dashboard, durably before it returns.
func saveDashboard(ctx context.Context, st state.Store, d Dashboard) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if _, err := st.Put(ctx, dashboardKey(d.Name), b, state.Any); err != nil {
		return fmt.Errorf("save dashboard %s: %w", d.Name, err)
	}
	return nil
}

// deleteDashboard removes a dashboard; a missing one is not an error.
func deleteDashboard(ctx context.Context, st state.Store, name string) error {
	if err := st.Delete(ctx, dashboardKey(name), state.Any); err != nil {
		return fmt.Errorf("delete dashboard %s: %w", name, err)
	}
	return nil
}
