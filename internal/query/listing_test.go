package query

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// countingStore counts the listings a store is asked for.
type countingStore struct {
	*objstore.Local
	lists atomic.Int64
}

func (c *countingStore) List(ctx context.Context, bucket, prefix string) ([]objstore.ObjectInfo, error) {
	c.lists.Add(1)
	return c.Local.List(ctx, bucket, prefix)
}

// TestListingCache checks that a table's listing is kept between queries
// while nothing is written to it, and that a delivery, a replacement or a
// deletion between two queries is seen by the second.
func TestListingCache(t *testing.T) {
	f := newFixture(t)
	cs := &countingStore{Local: f.store}
	en, err := New(Options{Catalog: f.cat, Store: cs, Root: f.store.Dir(), TempDir: filepath.Join(f.dir, "tmp2"), Threads: 2, MaxMemory: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { en.Close() })
	f.en = en
	f.table("default", eventsTable("events", "s3://etl/processed-data/"))
	hour := func(h, rows int) {
		f.parquet("etl", fmt.Sprintf("processed-data/year=2026/month=11/day=25/hour=%02d/part-1.parquet", h),
			fmt.Sprintf("SELECT TIMESTAMPTZ '2026-11-25 10:30:00+00' AS timestamp, 'click' AS event_type, 'u' AS user_id, i::BIGINT AS n FROM range(%d) t(i)", rows))
	}
	count := func(where string) string {
		t.Helper()
		res, _ := f.run("SELECT count(*) FROM events" + where)
		return res.text()
	}
	hour(10, 5)
	if got := count(""); got != "5" {
		t.Fatalf("count %s", got)
	}
	lists := cs.lists.Load()
	if got := count(" WHERE hour = '10'"); got != "5" || cs.lists.Load() != lists {
		t.Fatalf("second query: count %s, %d listings (want the kept one)", got, cs.lists.Load()-lists)
	}
	// A write elsewhere in the bucket keeps the listing (once that
	// directory exists: making it changes the bucket's own directory).
	f.put("etl", "athena-results/x.csv", []byte("x"))
	count("")
	lists = cs.lists.Load()
	f.put("etl", "athena-results/y.csv", []byte("y"))
	if got := count(""); got != "5" || cs.lists.Load() != lists {
		t.Fatalf("after a write elsewhere: count %s, %d listings", got, cs.lists.Load()-lists)
	}
	// A delivery between two queries: the second sees it.
	hour(11, 7)
	if got := count(""); got != "12" {
		t.Fatalf("after a delivery: count %s, want 12", got)
	}
	if got := count(" WHERE hour = '11'"); got != "7" {
		t.Fatalf("after a delivery, the new partition: %s", got)
	}
	// A replaced object (a redo) is read as it is now.
	hour(11, 3)
	if got := count(""); got != "8" {
		t.Fatalf("after a replacement: count %s, want 8", got)
	}
	// A deleted object is not read (its file is gone: reading it would
	// fail the query).
	if err := f.store.Delete(context.Background(), "etl", "processed-data/year=2026/month=11/day=25/hour=10/part-1.parquet"); err != nil {
		t.Fatal(err)
	}
	if got := count(""); got != "3" {
		t.Fatalf("after a deletion: count %s, want 3", got)
	}
}

// TestListingCacheBound checks the cache's bound: it empties when full and
// never keeps a listing older than the one it has.
func TestListingCacheBound(t *testing.T) {
	var c listingCache
	c.put("b", "p/", 5, make([]objstore.ObjectInfo, 10))
	c.put("b", "p/", 4, make([]objstore.ObjectInfo, 3))
	if objs, ok := c.get("b", "p/", 5); !ok || len(objs) != 10 {
		t.Fatalf("an older listing replaced a newer one: %d %v", len(objs), ok)
	}
	if _, ok := c.get("b", "p/", 6); ok {
		t.Fatal("a listing was used after a change")
	}
	c.put("b", "q/", 1, make([]objstore.ObjectInfo, maxCachedObjects-5))
	if _, ok := c.get("b", "p/", 5); ok || c.objects != maxCachedObjects-5 {
		t.Fatalf("the cache was not emptied when full: %d objects", c.objects)
	}
	c.put("b", "r/", 1, make([]objstore.ObjectInfo, maxCachedObjects+1))
	if _, ok := c.get("b", "r/", 1); ok {
		t.Fatal("a listing over the bound was kept")
	}
}
