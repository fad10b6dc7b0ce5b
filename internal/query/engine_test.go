package query

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/athena"
	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/objstore"

	_ "github.com/duckdb/duckdb-go/v2"
)

// fixture is an engine over a catalog and a local store in a temp dir.
type fixture struct {
	t     testing.TB
	dir   string
	cat   *catalog.Catalog
	store *objstore.Local
	en    *Engine
	n     int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	dir := t.TempDir()
	cat, err := catalog.Open(filepath.Join(dir, "catalog"), "000000000000", nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	en, err := New(Options{Catalog: cat, Store: store, Root: store.Dir(), TempDir: filepath.Join(dir, "tmp"), Threads: 2, MaxMemory: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { en.Close(); store.Close() })
	return &fixture{t: t, dir: dir, cat: cat, store: store, en: en}
}

// put stores an object in the local store.
func (f *fixture) put(bucket, key string, data []byte) {
	f.t.Helper()
	err := f.store.Put(context.Background(), bucket, key, objstore.Meta{}, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

// parquet writes rows (a DuckDB SELECT) as a Parquet object.
func (f *fixture) parquet(bucket, key, selectSQL string) {
	f.t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		f.t.Fatal(err)
	}
	defer db.Close()
	tmp := filepath.Join(f.t.TempDir(), "x.parquet")
	if _, err := db.Exec("COPY (" + selectSQL + ") TO '" + tmp + "' (FORMAT parquet)"); err != nil {
		f.t.Fatal(err)
	}
	b, err := os.ReadFile(tmp)
	if err != nil {
		f.t.Fatal(err)
	}
	f.put(bucket, key, b)
}

// table creates a Glue table.
func (f *fixture) table(db string, in catalog.TableInput) {
	f.t.Helper()
	if db != catalog.DefaultDatabase {
		_ = f.cat.CreateDatabase(context.Background(), "", catalog.DatabaseInput{Name: db})
	}
	if err := f.cat.CreateTable(context.Background(), "", db, in); err != nil {
		f.t.Fatal(err)
	}
}

// collected is a query's result.
type collected struct {
	cols   []athena.Column
	header bool
	rows   [][]*string
}

func (c *collected) Begin(cols []athena.Column, header bool) error {
	c.cols, c.header = cols, header
	return nil
}

func (c *collected) Row(vals []*string) error {
	c.rows = append(c.rows, append([]*string(nil), vals...))
	return nil
}

// text renders rows as "a|b;c|d" (NULL as \N).
func (c *collected) text() string {
	var rows []string
	for _, r := range c.rows {
		var vals []string
		for _, v := range r {
			if v == nil {
				vals = append(vals, `\N`)
			} else {
				vals = append(vals, *v)
			}
		}
		rows = append(rows, strings.Join(vals, "|"))
	}
	return strings.Join(rows, ";")
}

// run runs SQL and returns its result, or fails the test.
func (f *fixture) run(sqlText string) (*collected, athena.Outcome) {
	f.t.Helper()
	c, out, err := f.try(sqlText)
	if err != nil {
		f.t.Fatalf("%s: %v", sqlText, err)
	}
	return c, out
}

func (f *fixture) try(sqlText string) (*collected, athena.Outcome, error) {
	f.n++
	c := &collected{}
	out, err := f.en.Run(context.Background(), athena.Query{ID: "q" + strings.Repeat("x", f.n%3) + string(rune('a'+f.n%26)), SQL: sqlText, Catalog: "AwsDataCatalog", Database: "default"}, c)
	return c, out, err
}

// fails runs SQL that must fail with a message containing want.
func (f *fixture) fails(sqlText, want string) {
	f.t.Helper()
	_, _, err := f.try(sqlText)
	var qe *athena.QueryError
	if err == nil || !errors.As(err, &qe) || !strings.Contains(qe.Message, want) {
		f.t.Errorf("%s: got %v, want a query error containing %q", sqlText, err, want)
	}
}

func TestSelectWithoutTables(t *testing.T) {
	f := newFixture(t)
	c, out := f.run("SELECT 1, 'a' AS x, 5/2, count(*) c FROM (VALUES 1, 2) AS t(v)")
	if got := c.text(); got != "1|a|2|2" {
		t.Fatalf("rows %s", got)
	}
	var names []string
	for _, col := range c.cols {
		names = append(names, col.Name+":"+col.Type)
	}
	if got := strings.Join(names, ","); got != "_col0:integer,x:varchar,_col2:integer,c:bigint" {
		t.Fatalf("columns %s", got)
	}
	if out.StatementType != "DML" || out.SubstatementType != "SELECT" || !c.header {
		t.Fatalf("outcome %+v", out)
	}
}
