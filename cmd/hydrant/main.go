// Command hydrant is a self-hosted Amazon Data Firehose: the Firehose API,
// a durable buffer, and delivery to local disk or S3-compatible storage, in
// one binary. `hydrant` alone means `hydrant serve`.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // CustomTimeZone must work on machines without a zoneinfo database
)

// version is set by the build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stderr)
	case "bench":
		err = runBench(ctx, args, stdout, stderr)
	case "bench-baseline-server": // hidden: the child of bench --baseline
		err = benchBaselineServer(ctx, args, stderr)
	case "validate":
		err = runValidate(args, stdout, stderr)
	case "put":
		err = runPut(ctx, args, os.Stdin, stdout, stderr)
	case "catalog":
		err = runCatalog(ctx, args, stdout, stderr)
	case "query":
		err = runQuery(ctx, args, os.Stdin, stdout, stderr)
	case "version":
		_, _ = fmt.Fprintln(stdout, "hydrant", version)
	case "help":
		usage(stdout)
	default:
		_, _ = fmt.Fprintf(stderr, "hydrant: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		_, _ = fmt.Fprintln(stderr, "hydrant:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	_, _ = fmt.Fprint(w, `usage: hydrant [command] [flags]

commands:
  serve     serve the Firehose API (the default)
  bench     generate load against a running hydrant and report throughput
  validate  check a --config file without serving
  put       send newline-delimited records from files or stdin to a stream
  catalog   infer a Glue table's columns from sample records (catalog infer)
  query     run SQL (Athena's dialect) against a running hydrant and print the result
  version   print the version

Run 'hydrant <command> -h' for the flags of a command.
`)
}
