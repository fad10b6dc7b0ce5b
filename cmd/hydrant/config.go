package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/hydrant-io/hydrant/internal/config"
	"github.com/hydrant-io/hydrant/internal/firehose"
)

// runValidate is `hydrant validate --config FILE`: it checks a configuration
// file with the rules serve applies, without opening a data dir, and prints
// "ok: N streams" or every problem as file:line: message.
func runValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file to check (YAML or JSON)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("validate: unexpected arguments %q", fs.Args())
	}
	if *path == "" {
		return errors.New("validate: --config FILE is required")
	}
	// No Backend: checking a document never touches stream state. The
	// options must turn on the same Features serve does, or validate would
	// refuse what serve accepts.
	svc, err := firehose.NewService(nil, firehose.Options{Features: transformFeatures(firehose.Features{FormatConversion: true})})
	if err != nil {
		return err
	}
	f, err := config.Load(*path, svc)
	var ps config.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			_, _ = fmt.Fprintln(stderr, p.String())
		}
		noun := "problems"
		if len(ps) == 1 {
			noun = "problem"
		}
		return fmt.Errorf("%s: %d %s", *path, len(ps), noun)
	}
	if err != nil {
		return err
	}
	noun := "streams"
	if len(f.Streams) == 1 {
		noun = "stream"
	}
	_, _ = fmt.Fprintf(stdout, "ok: %d %s\n", len(f.Streams), noun)
	return nil
}

// applyConfigFile checks the file at path, then creates or updates its
// streams through svc; serve calls it after the registry opens and before it
// reports ready. Nothing is applied when any stream has a problem.
func applyConfigFile(ctx context.Context, path string, svc *firehose.Service, log *slog.Logger) error {
	f, err := config.Load(path, svc)
	var ps config.Problems
	if errors.As(err, &ps) {
		return fmt.Errorf("config %s is not valid (nothing applied):\n%w", path, err)
	}
	if err != nil {
		return err
	}
	if err := f.Apply(ctx, svc, log); err != nil {
		return fmt.Errorf("apply config %s:\n%w", path, err)
	}
	return nil
}
