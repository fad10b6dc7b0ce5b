// Package console is hydrant's console in the browser, at /_hydrant/ui/:
// the pipeline's streams, functions, alarms and health on one live page;
// each stream's configuration, graphs, delivered objects (with previews),
// error output (with the failed records decoded), logs and a "flush now"
// button; each function's graphs, configuration and log; an SQL editor over
// the query engine whose results turn into charts, saved in dashboards that
// refresh on a schedule; alarms with their history and thresholds.
//
// The front end is plain JavaScript modules and CSS embedded in the binary
// (assets/), with uPlot vendored for the charts: nothing is fetched from
// elsewhere and no build step is needed. It reads a small JSON API under
// /_hydrant/ui/api/ that calls the owning packages and the same in-process
// API handlers the SDKs reach (awsproto.Service.Call): the console keeps no
// copy of any logic, only its sessions and its dashboards.
//
// Security (docs/AUTH.md, docs/CONSOLE.md): with credentials configured,
// the API is served only to a SigV4-signed request or to a console session,
// got by typing one of the credentials' key pairs on the login page; the
// session cookie is HttpOnly, SameSite=Strict, Secure under TLS and
// expires; every request that changes something must carry the session's
// CSRF token. The pages carry a Content-Security-Policy that allows only
// hydrant's own scripts and styles.
package console

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/lambda"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/state"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// Prefix is where the console lives.
const Prefix = "/_hydrant/ui"

// APIs finds the RPC APIs the server routes (internal/server's Server): the
// console calls their operations in process. A service that is not
// registered (a build or configuration without it) turns the pages that
// need it off.
type APIs interface {
	Service(targetPrefix string) *awsproto.Service
}

// Health reports the server's readiness, as /_hydrant/health does.
type Health interface {
	Health() (status string, reasons []string)
}

// Router is what the console registers its handlers with (internal/server's
// Server): Handle requires a signature or a session when credentials are
// configured, HandlePublic does not.
type Router interface {
	Handle(pattern string, h http.Handler)
	HandlePublic(pattern string, h http.Handler)
	SetSession(ok func(*http.Request) bool)
}

// Options configure the console.
type Options struct {
	// Streams is the delivery-stream registry; required.
	Streams *stream.Registry
	// Objects is the store streams deliver to; required.
	Objects objstore.Store
	// Functions are the hosted functions; nil hides them.
	Functions *lambda.Service
	// APIs finds the in-process APIs (Firehose, Glue, CloudWatch, Logs,
	// Athena); required.
	APIs APIs
	// Health is the server's readiness; nil reports none.
	Health Health
	// Verifier holds the credentials a person may log in with; nil means
	// the console is open (loopback without --credentials).
	Verifier *awsproto.Verifier
	// State is where dashboards are kept: the cluster's shared state, or
	// nil for files under DataDir (console/dashboards/).
	State   state.Store
	DataDir string
	// SessionTTL is how long a login lasts; zero means 12 hours.
	SessionTTL time.Duration
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Console serves the console.
type Console struct {
	opts       Options
	log        *slog.Logger
	now        func() time.Time
	sessions   *sessions
	assets     *assets
	dashboards *dashboards
}

// New builds the console and loads its dashboards. Close stops the
// dashboards' refresh.
func New(opts Options) (*Console, error) {
	if opts.Streams == nil || opts.Objects == nil || opts.APIs == nil || opts.State == nil && opts.DataDir == "" {
		return nil, fmt.Errorf("console: Streams, Objects, APIs and State or DataDir are required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Console{opts: opts, log: log, now: opts.Now}
	var err error
	if c.sessions, err = newSessions(opts.Verifier, opts.SessionTTL, opts.Now); err != nil {
		return nil, err
	}
	if c.assets, err = loadAssets(); err != nil {
		return nil, err
	}
	store := opts.State
	if store == nil {
		if store, err = openDashboardState(opts.DataDir); err != nil {
			return nil, err
		}
	}
	c.dashboards = newDashboards(store, c.runQuery, log, opts.Now)
	return c, nil
}

// Start begins the dashboards' scheduled refresh (and, in a cluster,
// following other nodes' changes to them); it stops when ctx ends or at
// Close.
func (c *Console) Start(ctx context.Context) { c.dashboards.start(ctx) }

// Close stops the dashboards' refresh and waits for it.
func (c *Console) Close() { c.dashboards.stop() }

// URL is the console's address for a server listening at addr (host:port)
// with scheme.
func URL(scheme, addr string) string { return scheme + "://" + addr + Prefix + "/" }

// Register routes the console's pages and API on r, and lets r accept the
// console's session on hydrant's other endpoints.
func (c *Console) Register(r Router) {
	page := http.HandlerFunc(c.servePage)
	r.HandlePublic("GET "+Prefix, http.RedirectHandler(Prefix+"/", http.StatusFound))
	r.HandlePublic("GET "+Prefix+"/", page)
	r.HandlePublic("GET "+Prefix+"/login", http.HandlerFunc(c.serveLoginPage))
	r.HandlePublic("GET "+Prefix+"/assets/", http.HandlerFunc(c.serveAsset))
	r.HandlePublic("GET "+Prefix+"/api/session", c.public(c.handleSession))
	r.HandlePublic("POST "+Prefix+"/api/login", c.public(c.handleLogin))
	for _, rt := range c.routes() {
		r.Handle(rt.pattern, c.api(rt.h))
	}
	r.SetSession(c.sessions.authenticates)
}

// route is one API endpoint.
type route struct {
	pattern string
	h       func(w http.ResponseWriter, r *http.Request) error
}

func (c *Console) routes() []route {
	api := Prefix + "/api"
	return []route{
		{"POST " + api + "/logout", c.handleLogout},
		{"GET " + api + "/summary", c.handleSummary},
		{"GET " + api + "/streams/{name}", c.handleStream},
		{"POST " + api + "/streams/{name}/flush", c.handleFlush},
		{"GET " + api + "/streams/{name}/objects", c.handleObjects},
		{"GET " + api + "/streams/{name}/object", c.handlePreview},
		{"GET " + api + "/streams/{name}/graphs", c.handleStreamGraphs},
		{"GET " + api + "/functions/{name}", c.handleFunction},
		{"GET " + api + "/functions/{name}/logs", c.handleFunctionLogs},
		{"GET " + api + "/functions/{name}/graphs", c.handleFunctionGraphs},
		{"GET " + api + "/logs", c.handleLogs},
		{"GET " + api + "/alarms", c.handleAlarms},
		{"GET " + api + "/alarms/{name}", c.handleAlarm},
		{"POST " + api + "/alarms/{name}/state", c.handleAlarmState},
		{"GET " + api + "/catalog", c.handleCatalog},
		{"POST " + api + "/queries", c.handleStartQuery},
		{"GET " + api + "/queries/{id}", c.handleQueryResults},
		{"GET " + api + "/dashboards", c.handleDashboards},
		{"POST " + api + "/dashboards", c.handleImportDashboard},
		{"GET " + api + "/dashboards/{name}", c.handleDashboard},
		{"PUT " + api + "/dashboards/{name}", c.handleSaveDashboard},
		{"DELETE " + api + "/dashboards/{name}", c.handleDeleteDashboard},
		{"POST " + api + "/dashboards/{name}/refresh", c.handleRefreshDashboard},
		{"GET " + api + "/dashboards/{name}/export", c.handleExportDashboard},
	}
}
