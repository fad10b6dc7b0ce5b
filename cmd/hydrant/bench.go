package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/bench"
)

// runBench runs `hydrant bench`: flags here, the load generator in
// internal/bench.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	if endpoint == "" {
		endpoint = "http://127.0.0.1:4566"
	}
	var (
		o       = bench.Options{Load: bench.Config{DrainTimeout: time.Minute}}
		jsonOut bool
		logLvl  string
	)
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Load.Endpoint, "endpoint-url", endpoint, "hydrant to load ($AWS_ENDPOINT_URL when set)")
	fs.StringVar(&o.Load.Stream, "stream", "bench", "delivery stream to write to")
	fs.BoolVar(&o.Create, "create", true, "create the stream if it is missing (ExtendedS3, UNCOMPRESSED)")
	fs.IntVar(&o.Spec.SizeInMBs, "size-mb", 128, "BufferingHints.SizeInMBs of a created stream")
	fs.IntVar(&o.Spec.IntervalInSeconds, "interval", 0, "BufferingHints.IntervalInSeconds of a created stream")
	fs.Int64Var(&o.Load.Records, "records", 5_000_000, "records to send in total (ignored with --duration)")
	fs.DurationVar(&o.Load.Duration, "duration", 0, "send for this long instead of a number of records")
	fs.IntVar(&o.Load.RecordSize, "record-size", 300, "bytes of data per record")
	fs.IntVar(&o.Load.Batch, "batch", 500, "records per PutRecordBatch")
	fs.IntVar(&o.Load.Concurrency, "concurrency", 8, "requests in flight (one connection each)")
	fs.Float64Var(&o.Load.Rate, "rate", 0, "pace the load at this many records/s (0: as fast as possible)")
	fs.BoolVar(&o.Load.Visible, "visible", true, "measure ack-to-visible through GET /_hydrant/streams/{name}")
	fs.DurationVar(&o.Load.DrainTimeout, "drain-timeout", time.Minute, "after the load, wait this long at most for the backlog to be delivered (0: do not wait)")
	fs.BoolVar(&o.Serve, "serve", false, "start a hydrant serve child process on a free port with a temporary data dir")
	fs.StringVar(&o.ServerCPUProfile, "server-cpuprofile", "", "with --serve: write the server's CPU profile of the run to this file")
	fs.BoolVar(&o.Baseline, "baseline", false, "also run the load against the bare encoding/json + group-commit baseline and report the ratio")
	var compare string
	fs.StringVar(&compare, "compare-serve-args", "", `with --serve: also run the load against a hydrant served with these extra flags (space-separated, e.g. "--cloudwatch-metrics=false"), alternating, and report the ratio`)
	fs.IntVar(&o.Rounds, "rounds", 1, "with --compare-serve-args: runs of each side; the median of each is reported")
	fs.BoolVar(&jsonOut, "json", false, "print the result as one JSON line")
	fs.StringVar(&logLvl, "log-level", "warn", "log level on stderr: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	o.CompareArgs = strings.Fields(compare)
	if len(o.CompareArgs) > 0 && !o.Serve {
		return fmt.Errorf("bench: --compare-serve-args needs --serve")
	}
	if o.ServerCPUProfile != "" && !o.Serve {
		return fmt.Errorf("bench: --server-cpuprofile needs --serve (profile a separate server with hydrant serve --cpuprofile)")
	}
	log, err := newLogger(stderr, logLvl, "text")
	if err != nil {
		return err
	}
	o.Logger = log
	if o.Serve || o.Baseline {
		if o.Executable, err = os.Executable(); err != nil {
			return fmt.Errorf("bench: find own executable: %w", err)
		}
	}
	res, err := bench.RunAll(ctx, o)
	if err != nil {
		return err
	}
	if jsonOut {
		b, err := json.Marshal(res)
		if err != nil {
			return fmt.Errorf("bench: encode result: %w", err)
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	res.WriteText(stdout)
	return nil
}

// benchBaselineServer runs the hidden `hydrant bench-baseline-server`: the
// baseline `hydrant bench --baseline` compares hydrant with, as its own
// process.
func benchBaselineServer(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench-baseline-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:4578", "address to serve on")
	dir := fs.String("dir", "", "directory of the baseline's log file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("bench-baseline-server: --dir is required")
	}
	log, err := newLogger(stderr, "warn", "text")
	if err != nil {
		return err
	}
	return bench.ServeBaseline(ctx, *listen, *dir, log)
}
