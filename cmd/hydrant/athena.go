package main

import (
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/hydrant-io/hydrant/internal/athena"
	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/crawler"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/query"
)

// queryFlags configure the SQL engine behind the Athena API.
type queryFlags struct {
	timeout     time.Duration
	maxMemory   capSize
	concurrency int
	output      string
}

func (f *queryFlags) register(fs *flag.FlagSet) {
	f.maxMemory = 4 << 30
	fs.DurationVar(&f.timeout, "query-timeout", 30*time.Minute, "Athena queries running longer are cancelled (FAILED, Query timeout)")
	fs.Var(&f.maxMemory, "query-max-memory", "memory the embedded query engine (DuckDB) may use; past it a query spills to disk, then fails (0: DuckDB's default, 80% of RAM)")
	fs.IntVar(&f.concurrency, "query-concurrency", 2, "Athena queries running at once; the others wait QUEUED")
	fs.StringVar(&f.output, "query-output-location", "", "result location of the primary workgroup (default s3://aws-athena-query-results-ACCOUNT-REGION/)")
}

func (f *queryFlags) check() error {
	if f.timeout <= 0 {
		return fmt.Errorf("--query-timeout must be positive, got %s", f.timeout)
	}
	if f.concurrency < 1 {
		return fmt.Errorf("--query-concurrency must be at least 1, got %d", f.concurrency)
	}
	return nil
}

// sqlEngine is the Athena API and the DuckDB engine behind it.
type sqlEngine struct {
	engine *query.Engine
	athena *athena.Service
}

// openSQL starts the Athena service over the catalog and the local bucket
// store (objects, which may route some buckets to S3, gets the results).
func openSQL(f queryFlags, dataDir, region, accountID string, cat *catalog.Catalog, local *objstore.Local, objects objstore.Store, log *slog.Logger) (*sqlEngine, error) {
	isLocal := func(string) bool { return true }
	if r, ok := objects.(*objstore.Router); ok {
		isLocal = func(bucket string) bool { return r.For(bucket) == objstore.Store(local) }
	}
	en, err := query.New(query.Options{Catalog: cat, Store: local, Root: local.Dir(), IsLocal: isLocal,
		TempDir: filepath.Join(dataDir, "tmp", "query"), MaxMemory: int64(f.maxMemory), Logger: log})
	if err != nil {
		return nil, err
	}
	hist, err := athena.NewFileHistory(filepath.Join(dataDir, "athena", "queries"))
	if err != nil {
		return nil, err
	}
	svc, err := athena.New(athena.Options{Engine: en, Catalog: cat, Store: objects, History: hist,
		TempDir: filepath.Join(dataDir, "tmp", "athena"), OutputLocation: f.output, Region: region, AccountID: accountID,
		Timeout: f.timeout, Concurrency: f.concurrency, Logger: log})
	if err != nil {
		en.Close()
		return nil, err
	}
	return &sqlEngine{engine: en, athena: svc}, nil
}

// close stops running queries, then DuckDB.
func (s *sqlEngine) close(log *slog.Logger) {
	s.athena.Close()
	if err := s.engine.Close(); err != nil {
		log.Error("close query engine", "err", err)
	}
}

// openCrawlers starts Glue's crawlers, their operations served under the
// Glue API, reading Parquet schemas with the query engine.
func openCrawlers(dataDir string, glue *catalog.Service, cat *catalog.Catalog, objects objstore.Store, en *query.Engine, log *slog.Logger) (*crawler.Service, error) {
	st, err := crawler.NewFileStore(filepath.Join(dataDir, "crawlers"))
	if err != nil {
		return nil, err
	}
	c, err := crawler.New(crawler.Options{Catalog: cat, Objects: objects, Describe: en.DescribeParquet, State: st,
		Model: glue.Model(), Logger: log})
	if err != nil {
		return nil, err
	}
	glue.AddOps(c.Ops())
	c.Run(30 * time.Second)
	return c, nil
}
