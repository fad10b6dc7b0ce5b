package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
)

// Options is one `hydrant bench` invocation: the load, where it goes, and
// whether to run the baseline after it.
type Options struct {
	// Load is the load; its Endpoint is replaced when Serve is set.
	Load Config
	// Create creates Load.Stream with Spec's hints if it is missing.
	Create bool
	Spec   StreamSpec
	// Serve starts `hydrant serve` (Executable) on a free port with a
	// temporary data directory for the run, and stops it after.
	Serve bool
	// ServerCPUProfile, with Serve, makes the served child write a CPU
	// profile of the whole run to this file.
	ServerCPUProfile string
	// Baseline also runs the same load against the baseline server
	// (Executable bench-baseline-server) and reports the ratio.
	Baseline bool
	// Executable is the hydrant binary that child processes run.
	Executable string
	Logger     *slog.Logger
}

// RunAll runs the load against hydrant and, if asked, the baseline.
func RunAll(ctx context.Context, o Options) (Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Load.Logger = o.Logger
	var res Result
	rep, err := runHydrant(ctx, o)
	if err != nil {
		return res, err
	}
	res.Hydrant = rep
	if !o.Baseline {
		return res, nil
	}
	base, err := runBaseline(ctx, o)
	if err != nil {
		return res, err
	}
	res.Baseline = &base
	if base.RecordsPerSec > 0 {
		res.Ratio = rep.RecordsPerSec / base.RecordsPerSec
	}
	return res, nil
}

func runHydrant(ctx context.Context, o Options) (rep Report, err error) {
	load := o.Load
	if o.Serve {
		dir, err := os.MkdirTemp("", "hydrant-bench-")
		if err != nil {
			return rep, fmt.Errorf("bench: temp data dir: %w", err)
		}
		defer os.RemoveAll(dir)
		addr, err := FreeAddr()
		if err != nil {
			return rep, err
		}
		argv := []string{o.Executable, "serve", "--listen", addr, "--data-dir", dir, "--log-level", "warn"}
		if o.ServerCPUProfile != "" {
			argv = append(argv, "--cpuprofile", o.ServerCPUProfile)
		}
		p, err := StartProcess(ctx, argv, addr)
		if err != nil {
			return rep, err
		}
		o.Logger.Info("started hydrant serve", "url", p.URL, "data_dir", dir)
		defer func() {
			// Stopping writes the CPU profile; a failed stop taints the run.
			err = errors.Join(err, p.Stop())
		}()
		load.Endpoint = p.URL
	}
	if o.Create {
		spec := o.Spec
		spec.Name = load.Stream
		if err := EnsureStream(ctx, load.Endpoint, spec, o.Logger); err != nil {
			return rep, err
		}
	}
	rep, err = Run(ctx, load)
	rep.Target = "hydrant"
	if o.Serve {
		rep.ServerCPUProfile = o.ServerCPUProfile
	}
	return rep, err
}

func runBaseline(ctx context.Context, o Options) (rep Report, err error) {
	dir, err := os.MkdirTemp("", "hydrant-bench-baseline-")
	if err != nil {
		return rep, fmt.Errorf("bench: temp baseline dir: %w", err)
	}
	defer os.RemoveAll(dir)
	addr, err := FreeAddr()
	if err != nil {
		return rep, err
	}
	p, err := StartProcess(ctx, []string{o.Executable, "bench-baseline-server", "--listen", addr, "--dir", dir}, addr)
	if err != nil {
		return rep, err
	}
	defer func() { err = errors.Join(err, p.Stop()) }()
	o.Logger.Info("started baseline server", "url", p.URL, "dir", dir)
	load := o.Load
	load.Endpoint = p.URL
	load.Visible = false
	load.DrainTimeout = 0
	rep, err = Run(ctx, load)
	rep.Target = "baseline"
	return rep, err
}
