package main

import (
	"flag"
	"log/slog"
	"path/filepath"

	"github.com/hydrant-io/hydrant/internal/logs"
	"github.com/hydrant-io/hydrant/internal/server"
)

// defaultLogsMaxBytes caps the CloudWatch Logs events kept on disk.
const defaultLogsMaxBytes = 1 << 30

// logsFlags are serve's flags for CloudWatch Logs.
type logsFlags struct {
	maxBytes capSize
}

func (f *logsFlags) register(fs *flag.FlagSet) {
	f.maxBytes = defaultLogsMaxBytes
	fs.Var(&f.maxBytes, "logs-max-bytes",
		"cap on CloudWatch Logs events kept on disk; past it the oldest are dropped (0: no cap; units KiB, MiB, GiB, ...)")
}

// cloudWatchLogs is the Logs store, its API and the sinks that hosted
// functions and delivery streams write to.
type cloudWatchLogs struct {
	store     *logs.Store
	api       *logs.Service
	functions *logs.FunctionLogs
	firehose  *logs.FirehoseLogs
}

// openLogs loads <data-dir>/logs.
func openLogs(f logsFlags, dataDir, region, accountID string, log *slog.Logger) (*cloudWatchLogs, error) {
	st, err := logs.Open(logs.Options{Dir: filepath.Join(dataDir, "logs"), MaxBytes: int64(f.maxBytes), Logger: log})
	if err != nil {
		return nil, err
	}
	api, err := logs.NewService(st, logs.ServiceOptions{Region: region, AccountID: accountID, Logger: log})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return &cloudWatchLogs{store: st, api: api, functions: logs.NewFunctionLogs(st, log), firehose: logs.NewFirehoseLogs(st, log)}, nil
}

func (l *cloudWatchLogs) register(srv *server.Server) { srv.AddService(l.api.API()) }

// close writes the functions' last lines and closes the store.
func (l *cloudWatchLogs) close(log *slog.Logger) {
	l.functions.Close()
	if err := l.store.Close(); err != nil {
		log.Error("close logs", "err", err)
	}
}
