package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"

	"github.com/hydrant-io/hydrant/internal/lambda"
	"github.com/hydrant-io/hydrant/internal/server"
	"github.com/hydrant-io/hydrant/internal/state"
)

// functionFlags are serve's flags for Lambda functions.
type functionFlags struct {
	endpoint    string
	python      string
	node        string
	concurrency int
}

func (f *functionFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.endpoint, "lambda-endpoint", "", `Lambda API endpoint for functions hydrant does not host: a URL, or "aws" for AWS Lambda itself (standard credential chain)`)
	fs.StringVar(&f.python, "python", "", "interpreter for python3.* functions (default: python3 from PATH)")
	fs.StringVar(&f.node, "node", "", "interpreter for nodejs* functions (default: node from PATH)")
	fs.IntVar(&f.concurrency, "lambda-concurrency", 4, "instances of one hosted function that may run at once")
}

func (f *functionFlags) check() error {
	if f.concurrency < 1 {
		return fmt.Errorf("serve: --lambda-concurrency must be at least 1, got %d", f.concurrency)
	}
	return nil
}

// functions are the hosted functions and the invoker the Lambda processor
// uses: hosted functions locally, others at --lambda-endpoint.
type functions struct {
	svc     *lambda.Service
	invoker lambda.Invoker
}

// functionDeps is what the hosted functions are opened with.
type functionDeps struct {
	flags                      functionFlags
	dataDir, region, accountID string
	// endpoint is where functions reach hydrant's own APIs
	// (AWS_ENDPOINT_URL).
	endpoint string
	ident    *identity
	// shared, in a cluster, is the state every node shares; nil keeps
	// functions in <data-dir>/functions.
	shared state.Store
	// logs receives what functions print (CloudWatch Logs).
	logs lambda.LogSink
	// observer receives the AWS/Lambda metrics.
	observer lambda.Observer
	log      *slog.Logger
}

// openFunctions loads the hosted functions.
func openFunctions(ctx context.Context, d functionDeps) (*functions, error) {
	f, log := d.flags, d.log
	opts := lambda.Options{
		Dir: filepath.Join(d.dataDir, "functions"), Region: d.region, AccountID: d.accountID, Logger: log, Observer: d.observer,
		Python: f.python, Node: f.node, Concurrency: f.concurrency,
		EndpointURL: d.endpoint, LogSink: d.logs,
		State: d.shared,
	}
	d.ident.functionOptions(&opts)
	svc, err := lambda.Open(opts)
	if err != nil {
		return nil, err
	}
	fns := &functions{svc: svc}
	router := &lambda.Router{Local: svc}
	if f.endpoint != "" {
		remote, err := lambda.NewRemote(ctx, f.endpoint, d.region)
		if err != nil {
			_ = svc.Close()
			return nil, err
		}
		router.Remote = remote
		log.Info("functions hydrant does not host are invoked remotely", "lambda_endpoint", f.endpoint)
	}
	fns.invoker = router
	return fns, nil
}

// register routes the Lambda API and hydrant's function endpoints.
func (f *functions) register(srv *server.Server) {
	srv.AddRESTService("lambda", lambda.APIPrefix, lambda.MaxRequestBody, f.svc.Handler())
	srv.Handle(lambda.HydrantPrefix, f.svc.HydrantHandler())
	srv.Handle(lambda.HydrantPrefix+"/", f.svc.HydrantHandler())
}

// close stops every function instance.
func (f *functions) close(log *slog.Logger) {
	if err := f.svc.Close(); err != nil {
		log.Error("close functions", "err", err)
	}
}

// loopbackAddr is where a process on this machine reaches the listen
// address: an unspecified host (":4566", "0.0.0.0:4566") becomes
// 127.0.0.1.
func loopbackAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
