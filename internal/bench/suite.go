package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
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
	// CompareArgs, with Serve, also runs the load against a hydrant served
	// with these extra flags (e.g. --cloudwatch-metrics=false), the two
	// alternating Rounds times; each side reports its median round.
	CompareArgs []string
	// Rounds is how many times each side of a comparison runs (default 1).
	Rounds int
}

// RunAll runs the load against hydrant and, if asked, the baseline.
func RunAll(ctx context.Context, o Options) (Result, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Load.Logger = o.Logger
	var res Result
	if len(o.CompareArgs) > 0 {
		if !o.Serve {
			return res, errors.New("bench: a comparison needs --serve")
		}
		var a, b []Report
		for range max(o.Rounds, 1) {
			rep, err := runHydrant(ctx, o, nil)
			if err != nil {
				return res, err
			}
			a = append(a, rep)
			if rep, err = runHydrant(ctx, o, o.CompareArgs); err != nil {
				return res, err
			}
			rep.Target = "hydrant " + strings.Join(o.CompareArgs, " ")
			b = append(b, rep)
		}
		res.Hydrant, res.Compare = median(a), ptr(median(b))
		if res.Hydrant.RecordsPerSec > 0 {
			res.CompareRatio = res.Compare.RecordsPerSec / res.Hydrant.RecordsPerSec
		}
	} else {
		rep, err := runHydrant(ctx, o, nil)
		if err != nil {
			return res, err
		}
		res.Hydrant = rep
	}
	rep := res.Hydrant
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

// median is the round with the median records/s.
func median(rs []Report) Report {
	sort.Slice(rs, func(i, j int) bool { return rs[i].RecordsPerSec < rs[j].RecordsPerSec })
	return rs[len(rs)/2]
}

func ptr[T any](v T) *T { return &v }

func runHydrant(ctx context.Context, o Options, extra []string) (rep Report, err error) {
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
		argv = append(argv, extra...)
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
