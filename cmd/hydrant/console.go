package main

import (
	"log/slog"

	"github.com/hydrant-io/hydrant/internal/console"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/server"
	"github.com/hydrant-io/hydrant/internal/state"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// openConsole builds the console at /_hydrant/ui/ over the registry, the
// object store, the functions and the APIs the server routes, and
// registers it on srv (after every service is added). Its dashboards are
// kept in shared, in a cluster, else in the data dir.
func openConsole(dataDir string, shared state.Store, reg *stream.Registry, objects objstore.Store, funcs *functions, srv *server.Server, sec *security, log *slog.Logger) (*console.Console, error) {
	ui, err := console.New(console.Options{
		Streams: reg, Objects: objects, Functions: funcs.svc, APIs: srv, Health: srv,
		Verifier: sec.verifier, State: shared, DataDir: dataDir, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	ui.Register(srv)
	return ui, nil
}
