package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// dashboardPage is GET /api/dashboards/{name}: the definition and its
// latest results, chart by chart.
type dashboardPage struct {
	Dashboard Dashboard   `json:"dashboard"`
	Results   dashResults `json:"results"`
}

func (c *Console) handleDashboards(w http.ResponseWriter, r *http.Request) error {
	list, err := c.dashboards.list()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"dashboards": list})
	return nil
}

func (c *Console) handleDashboard(w http.ResponseWriter, r *http.Request) error {
	def, res, ok := c.dashboards.get(r.PathValue("name"))
	if !ok {
		return errorf(http.StatusNotFound, "no dashboard %q", r.PathValue("name"))
	}
	writeJSON(w, http.StatusOK, dashboardPage{Dashboard: def, Results: res})
	return nil
}

// owned stamps a dashboard with the caller it will refresh as.
func owned(r *http.Request, d *Dashboard) {
	d.Owner, d.Profile = "", ""
	if id := awsproto.Caller(r.Context()); id != nil {
		d.Owner, d.Profile = id.AccessKeyID, id.Profile
	}
}

// handleSaveDashboard is PUT /api/dashboards/{name}: create or replace.
func (c *Console) handleSaveDashboard(w http.ResponseWriter, r *http.Request) error {
	var d Dashboard
	if err := readJSON(r, &d); err != nil {
		return err
	}
	if d.Name != r.PathValue("name") {
		return errorf(http.StatusBadRequest, "the dashboard's name %q is not the one in the path, %q", d.Name, r.PathValue("name"))
	}
	owned(r, &d)
	if err := c.dashboards.save(d, false); err != nil {
		return err
	}
	c.log.Info("dashboard saved", "dashboard", d.Name, "charts", len(d.Charts), "refresh_seconds", d.RefreshSeconds)
	def, res, _ := c.dashboards.get(d.Name)
	writeJSON(w, http.StatusOK, dashboardPage{Dashboard: def, Results: res})
	return nil
}

// handleImportDashboard is POST /api/dashboards: a dashboard exported
// before (its JSON file), created under its own name or ?name=; an
// existing dashboard of that name is replaced only with ?replace=true.
func (c *Console) handleImportDashboard(w http.ResponseWriter, r *http.Request) error {
	var d Dashboard
	if err := readJSON(r, &d); err != nil {
		return err
	}
	q := r.URL.Query()
	if n := q.Get("name"); n != "" {
		d.Name = n
	}
	owned(r, &d)
	err := c.dashboards.save(d, q.Get("replace") != "true")
	if errors.Is(err, errDashboardExists) {
		return errorf(http.StatusConflict, "a dashboard named %q exists: import under another name, or replace it", d.Name)
	}
	if err != nil {
		return err
	}
	c.log.Info("dashboard imported", "dashboard", d.Name, "charts", len(d.Charts))
	def, res, _ := c.dashboards.get(d.Name)
	writeJSON(w, http.StatusCreated, dashboardPage{Dashboard: def, Results: res})
	return nil
}

func (c *Console) handleDeleteDashboard(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	found, err := c.dashboards.remove(name)
	if err != nil {
		return err
	}
	if !found {
		return errorf(http.StatusNotFound, "no dashboard %q", name)
	}
	c.log.Info("dashboard deleted", "dashboard", name)
	writeJSON(w, http.StatusOK, map[string]string{"deleted": name})
	return nil
}

func (c *Console) handleRefreshDashboard(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	if !c.dashboards.refreshNow(name) {
		return errorf(http.StatusNotFound, "no dashboard %q", name)
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"refreshing": name})
	return nil
}

// handleExportDashboard downloads a dashboard as a JSON file, without who
// saved it: importing it makes the importer its owner.
func (c *Console) handleExportDashboard(w http.ResponseWriter, r *http.Request) error {
	def, _, ok := c.dashboards.get(r.PathValue("name"))
	if !ok {
		return errorf(http.StatusNotFound, "no dashboard %q", r.PathValue("name"))
	}
	def.Owner, def.Profile = "", ""
	b, err := json.MarshalIndent(def, "", "  ")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(def.Name)+".dashboard.json")
	_, _ = w.Write(append(b, '\n'))
	return nil
}
