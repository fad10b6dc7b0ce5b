package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/cluster"
	"github.com/hydrant-io/hydrant/internal/console"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/metrics"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/server"
	"github.com/hydrant-io/hydrant/internal/state"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// serveConfig is everything `hydrant serve` is told by its flags.
type serveConfig struct {
	listen      string
	dataDir     string
	region      string
	accountID   string
	logLevel    string
	logFormat   string
	createDelay time.Duration
	cpuProfile  string
	configFile  string
	stores      storeFlags
	buffers     bufferFlags
	security    securityConfig
	query       queryFlags
	functions   functionFlags
	transforms  transformFlags
	cluster     cluster.Flags
	monitoring  monitoringFlags
	identity    identityFlags
	logs        logsFlags
}

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:4566", "address to serve the AWS APIs on")
	fs.StringVar(&c.dataDir, "data-dir", "./hydrant-data", "directory for buffers, stream state and local buckets")
	fs.StringVar(&c.region, "region", "us-east-1", "AWS region hydrant reports in ARNs")
	fs.StringVar(&c.accountID, "account-id", "000000000000", "12-digit AWS account ID hydrant reports in ARNs")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	fs.DurationVar(&c.createDelay, "create-delay", 0, "how long new streams stay CREATING before ACTIVE (AWS takes seconds)")
	fs.StringVar(&c.configFile, "config", "", "YAML or JSON file whose streams: are created or updated at start-up")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	c.stores.register(fs)
	c.buffers.register(fs)
	c.security.register(fs)
	c.functions.register(fs)
	c.transforms.register(fs)
	c.query.register(fs)
	c.cluster.Register(fs)
	c.monitoring.register(fs)
	c.identity.register(fs)
	c.logs.register(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.security.validate(); err != nil {
		return c, err
	}
	if err := c.functions.check(); err != nil {
		return c, err
	}
	if err := c.transforms.check(); err != nil {
		return c, err
	}
	if err := c.query.check(); err != nil {
		return c, err
	}
	if err := c.cluster.Check(); err != nil {
		return c, err
	}
	if err := c.monitoring.check(); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if len(c.accountID) != 12 || strings.Trim(c.accountID, "0123456789") != "" {
		return c, fmt.Errorf("serve: --account-id must be 12 digits, got %q", c.accountID)
	}
	return c, nil
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, o)), nil
	}
	return nil, fmt.Errorf("--log-format must be text or json, got %q", format)
}

func serve(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	// Credentials, TLS and the loopback rule are settled before anything
	// is opened, so a refusal leaves nothing behind.
	sec, err := c.security.load(ctx, c.listen, log)
	if err != nil {
		return err
	}
	c.security.applyMemoryLimit(log)
	if c.cpuProfile != "" {
		stop, err := startCPUProfile(c.cpuProfile)
		if err != nil {
			return err
		}
		defer func() {
			if err := stop(); err != nil {
				log.Error("write CPU profile", "err", err)
			}
		}()
	}
	if err := os.MkdirAll(c.dataDir, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	// In a cluster, streams, their logs and their delivery are shared
	// with the other nodes; without the flags, nothing of it runs.
	var cl *cluster.Cluster
	if c.cluster.Enabled() {
		if cl, err = openCluster(ctx, c, sec, log); err != nil {
			return err
		}
		defer cl.Close()
	}
	store, err := objstore.NewLocal(filepath.Join(c.dataDir, "buckets"), log)
	if err != nil {
		return err
	}
	objects, err := openStores(ctx, c.stores, c.region, store, log)
	if err != nil {
		return err
	}
	// What the APIs create is kept in the data dir, or, in a cluster, in
	// the state every node shares.
	var shared state.Store
	if cl != nil {
		shared = cl.State
	}
	conv, err := openConversion(ctx, c.dataDir, c.region, c.accountID, shared, log)
	if err != nil {
		return err
	}
	ident, err := openIdentity(c.identity, c.dataDir, c.accountID, sec, log)
	if err != nil {
		return err
	}
	// The metric store closes last (deferred first): everything else
	// records into it until it stops.
	endpoint := sec.scheme() + "://" + loopbackAddr(c.listen)
	mon, err := openMonitoring(c.monitoring, c.dataDir, log)
	if err != nil {
		return err
	}
	defer mon.close(log)
	// Logs close after functions and the registry, which write to them.
	cwl, err := openLogs(c.logs, c.dataDir, c.region, c.accountID, log)
	if err != nil {
		return err
	}
	defer cwl.close(log)
	// Functions close after the registry (deferred first): delivery may be
	// invoking them until it stops.
	funcs, err := openFunctions(ctx, functionDeps{flags: c.functions, dataDir: c.dataDir, region: c.region, accountID: c.accountID,
		endpoint: endpoint, ident: ident, shared: shared, logs: cwl.functions, observer: mon.lambdaObserver(), log: log})
	if err != nil {
		return err
	}
	defer funcs.close(log)
	if err := mon.openServices(c.monitoring, c.dataDir, c.region, c.accountID, endpoint, funcs.invoker, log); err != nil {
		return err
	}
	// The metrics read the registry's buffers at scrape time; the registry
	// reports deliveries to the metrics.
	budget := c.buffers.budget(c.dataDir, log)
	var reg *stream.Registry
	mx := metrics.New(metrics.Options{
		Buffers:     func() []metrics.Buffer { return bufferStats(reg) },
		Budget:      func() (int64, int64) { return budget.Used(), budget.Max() },
		StreamLimit: int64(c.buffers.maxStream),
	})
	procs := newProcessing(funcs.invoker, c.functions.concurrency, c.region, log, mon.processObserver(mx))
	so := stream.Options{
		Dir:            filepath.Join(c.dataDir, "streams"),
		Region:         c.region,
		AccountID:      c.accountID,
		Store:          objects,
		Logger:         log,
		CreateDelay:    c.createDelay,
		Observer:       mon.deliveryObserver(mx),
		MaxStreamBytes: int64(c.buffers.maxStream),
		Budget:         budget,
		Stages:         deliver.CombineStages(procs.Pipeline, conv.formats),
		MaxPartitions:  c.transforms.maxPartitions,
		Deleted:        func(name string) { procs.Forget(name); mon.forget(name) },
		ErrorLog:       cwl.firehose,
	}
	if cl != nil {
		so.State, so.Logs, so.Clustered = cl.State, cl.Logs, true
	}
	reg, err = stream.Open(so)
	if err != nil {
		return err
	}
	defer func() {
		if err := reg.Close(); err != nil {
			log.Error("close streams", "err", err)
		}
	}()
	if cl != nil {
		if err := cl.Start(ctx, reg); err != nil {
			return err
		}
		// First at shutdown: hand the streams to the other nodes.
		defer cl.Leave(context.Background())
	}
	fh, err := firehose.NewService(reg, firehose.Options{Region: c.region, AccountID: c.accountID, Logger: log, Metrics: mon.putObserver(mx), Roles: ident.firehoseRoles(),
		Features: transformFeatures(firehose.Features{FormatConversion: true})})
	if err != nil {
		return err
	}
	if c.configFile != "" {
		// Before the server is ready: clients never see a half-applied file.
		if err := applyConfigFile(ctx, c.configFile, fh, log); err != nil {
			return err
		}
	}
	srv := server.New(log)
	srv.AddHealthCheck("buffer", reg.Health)
	sec.install(srv)
	srv.AddService(fh.API())
	sqlEng, err := openSQL(c.query, c.dataDir, c.region, c.accountID, conv.catalog, store, objects, log)
	if err != nil {
		return err
	}
	defer sqlEng.close(log)
	srv.AddService(sqlEng.athena.API())
	crawlers, err := openCrawlers(c.dataDir, conv.glue, conv.catalog, objects, sqlEng.engine, log)
	if err != nil {
		return err
	}
	defer crawlers.Close()
	srv.SetS3(newS3API(store, objects, sec, srv, c.region, c.accountID, log))
	srv.AddService(conv.glue.API())
	ident.register(srv)
	cwl.register(srv)
	srv.Handle("GET /_hydrant/streams", stream.StatsHandler(reg))
	srv.Handle("GET /_hydrant/streams/{name}", stream.StatsHandler(reg))
	srv.Handle("POST /_hydrant/streams/{name}/flush", stream.FlushHandler(reg))
	if err := mx.AddConversion(conv.metrics); err != nil {
		return err
	}
	srv.HandlePublic("GET /_hydrant/metrics", mx.Handler())
	if cl != nil {
		srv.Handle("GET /_hydrant/cluster", cl.Handler())
		srv.AddHealthCheck("cluster", cl.Health)
	}
	funcs.register(srv)
	mon.register(srv)
	mon.start(reg, conv.metrics)
	// The minute loop reads the registry: it stops before the registry
	// closes (deferred later, run earlier).
	defer mon.stopLoop()
	ui, err := openConsole(c.dataDir, shared, reg, objects, funcs, srv, sec, log)
	if err != nil {
		return err
	}
	ui.Start(ctx)
	defer ui.Close()

	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv.SetReady(true)
	abs, _ := filepath.Abs(c.dataDir)
	log.Info("hydrant serving", "version", version, "addr", ln.Addr().String(), "scheme", sec.scheme(), "data_dir", abs, "region", c.region, "account_id", c.accountID)
	log.Info("console: open "+console.URL(sec.scheme(), loopbackAddr(ln.Addr().String())), "url", console.URL(sec.scheme(), loopbackAddr(ln.Addr().String())))
	err = srv.Serve(ctx, ln, 10*time.Second)
	log.Info("hydrant stopped")
	return err
}

// openCluster starts or joins the NATS cluster (--cluster-listen, --nats)
// and waits for JetStream, up to two minutes: the other nodes may be
// starting too.
func openCluster(ctx context.Context, c serveConfig, sec *security, log *slog.Logger) (*cluster.Cluster, error) {
	creds := c.security.credentials
	if creds == "" {
		creds = os.Getenv("HYDRANT_CREDENTIALS")
	}
	octx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return cluster.Open(octx, cluster.Options{
		Flags:          c.cluster,
		DataDir:        c.dataDir,
		APIAddr:        sec.scheme() + "://" + c.listen,
		Credentials:    creds,
		TLS:            sec.tls,
		Insecure:       c.security.insecure,
		MaxStreamBytes: int64(c.buffers.maxStream),
		MaxStore:       int64(c.buffers.maxTotal),
		Logger:         log,
	})
}

// startCPUProfile starts profiling the process into path; stop ends the
// profile and closes the file.
func startCPUProfile(path string) (stop func() error, err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("start CPU profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}
