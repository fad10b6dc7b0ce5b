package query

import (
	"context"
	"fmt"
	"testing"

	"github.com/hydrant-io/hydrant/internal/athena"
)

// BenchmarkOneHour measures the engine's fixed cost per query: the
// benchmark's one-hour aggregate over 24 small hourly partitions, so that
// planning (rewriting, the catalog, listing, pruning, binding) dominates.
//
//	go test -run XXX -bench OneHour -cpuprofile cpu.out ./internal/query/
func BenchmarkOneHour(b *testing.B) {
	f := newFixture(b)
	f.table("default", eventsTable("events", "s3://etl/processed-data/"))
	for h := range 24 {
		f.parquet("etl", fmt.Sprintf("processed-data/year=2026/month=11/day=25/hour=%02d/part-1.parquet", h),
			fmt.Sprintf("SELECT TIMESTAMPTZ '2026-11-25 %02d:30:00+00' AS timestamp, CASE WHEN i %% 2 = 0 THEN 'click' ELSE 'view' END AS event_type, "+
				"'u' || (i %% 3) AS user_id, i::BIGINT AS n FROM range(100) t(i)", h))
	}
	q := "SELECT event_type, count(*) AS n, count(DISTINCT user_id) AS users FROM events WHERE year = '2026' AND month = '11' AND day = '25' AND hour = '13' GROUP BY event_type ORDER BY event_type"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := &collected{}
		if _, err := f.en.Run(context.Background(), athena.Query{ID: fmt.Sprintf("q%d", i), SQL: q, Catalog: "AwsDataCatalog", Database: "default"}, c); err != nil {
			b.Fatal(err)
		}
		if len(c.rows) != 2 {
			b.Fatalf("rows %v", c.text())
		}
	}
}

// BenchmarkOneHourDirect is BenchmarkOneHour's SQL run by the engine's
// DuckDB directly over the partition's file: the floor of the engine's
// cost.
func BenchmarkOneHourDirect(b *testing.B) {
	f := newFixture(b)
	f.parquet("etl", "processed-data/year=2026/month=11/day=25/hour=13/part-1.parquet",
		"SELECT TIMESTAMPTZ '2026-11-25 13:30:00+00' AS timestamp, CASE WHEN i % 2 = 0 THEN 'click' ELSE 'view' END AS event_type, "+
			"'u' || (i % 3) AS user_id, i::BIGINT AS n FROM range(100) t(i)")
	db, err := f.en.open()
	if err != nil {
		b.Fatal(err)
	}
	file := f.dir + "/buckets/etl/processed-data/year=2026/month=11/day=25/hour=13/part-1.parquet"
	q := "SELECT event_type, count(*) AS n, count(DISTINCT user_id) AS users FROM read_parquet('" + file + "', hive_partitioning = true, hive_types_autocast = false) WHERE year = '2026' AND month = '11' AND day = '25' AND hour = '13' GROUP BY event_type ORDER BY event_type"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := db.Query(q)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		rows.Close()
		if n != 2 {
			b.Fatalf("rows %d", n)
		}
	}
}
