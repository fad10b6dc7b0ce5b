package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/format"
	"github.com/hydrant-io/hydrant/internal/state"
)

// conversion is record format conversion's wiring: the Glue-compatible
// catalog in <data-dir>/catalog and its API, and the Parquet stage of the
// delivery loops.
type conversion struct {
	catalog *catalog.Catalog
	glue    *catalog.Service
	metrics *format.Metrics
	// formats is the format half of deliver.Stages.
	formats format.StageFunc
}

// openConversion opens the catalog in the data dir, or, in a cluster, in
// the shared state (shared non-nil).
func openConversion(ctx context.Context, dataDir, region, accountID string, shared state.Store, log *slog.Logger) (*conversion, error) {
	var cat *catalog.Catalog
	var err error
	if shared != nil {
		cat, err = catalog.OpenStore(ctx, shared, "catalog/", true, accountID, log)
	} else {
		cat, err = catalog.Open(filepath.Join(dataDir, "catalog"), accountID, log)
	}
	if err != nil {
		return nil, err
	}
	glue, err := catalog.NewService(cat, log)
	if err != nil {
		return nil, err
	}
	// Row-group pages are spilled here while a Parquet object is built, so
	// converting a 128 MiB buffer does not hold it in memory.
	tmp := filepath.Join(dataDir, "tmp", "parquet")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", tmp, err)
	}
	m := &format.Metrics{}
	return &conversion{
		catalog: cat,
		glue:    glue,
		metrics: m,
		formats: format.Stage(cat, format.StageOptions{TempDir: tmp, Counters: m, Logger: log}),
	}, nil
}
