package catalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	hstate "github.com/hydrant-io/hydrant/internal/state"
)

// TestSharedStore runs two catalogs over one store, as two nodes of a
// cluster do: each sees the other's changes at once, and concurrent
// changes are all kept (compare-and-set, retried).
func TestSharedStore(t *testing.T) {
	st, err := hstate.OpenLocal(t.TempDir(), "catalog/*.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	open := func() *Catalog {
		c, err := OpenStore(ctx, st, "catalog/", true, "123456789012", nil)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := open(), open()
	if err := a.CreateDatabase(ctx, "", DatabaseInput{Name: "Sales"}); err != nil {
		t.Fatal(err)
	}
	if err := b.CreateTable(ctx, "", "sales", TableInput{Name: "orders"}); err != nil {
		t.Fatalf("CreateTable on b in a database created on a: %v", err)
	}
	if _, err := a.Table(ctx, "", "sales", "orders", ""); err != nil {
		t.Fatalf("Table on a after a create on b: %v", err)
	}
	var wg sync.WaitGroup
	for _, c := range []*Catalog{a, b, a, b} {
		wg.Go(func() {
			if err := c.UpdateTable(ctx, "", "sales", TableInput{Name: "orders"}, ""); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, c := range []*Catalog{a, b} {
		vs, err := c.TableVersions(ctx, "", "sales", "orders")
		if err != nil || len(vs) != 5 || vs[0].VersionId != "4" {
			t.Fatalf("versions after four concurrent updates: %d (latest %v), %v", len(vs), vs, err)
		}
	}
	// A stale version is refused, as in Glue.
	if err := a.UpdateTable(ctx, "", "sales", TableInput{Name: "orders"}, "3"); !errors.Is(err, ErrConcurrent) {
		t.Fatalf("UpdateTable at a stale version = %v", err)
	}
	if err := b.DeleteDatabase(ctx, "", "sales"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GetDatabase(ctx, "", "sales"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetDatabase on a after a delete on b = %v", err)
	}
}

// TestOpenKeepsLayout opens a catalog directory an earlier hydrant wrote.
func TestOpenKeepsLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "catalog")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	old := `{"v":1,"databases":{"logs":{"Name":"logs","CatalogId":"000000000000","tables":{}}}}`
	if err := os.WriteFile(filepath.Join(dir, "000000000000.json"), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Open(dir, "000000000000", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetDatabase(context.Background(), "", "logs"); err != nil {
		t.Fatalf("database of an existing catalog file: %v", err)
	}
	if err := c.CreateTable(context.Background(), "", "logs", TableInput{Name: "t"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "000000000000.json")); err != nil {
		t.Fatal(err)
	}
}
