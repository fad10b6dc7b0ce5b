package query

import (
	"context"
	"fmt"
	"testing"

	"github.com/hydrant-io/hydrant/internal/catalog"
)

// refsOf rewrites a query over a table partitioned by s (string), n (int)
// and t (tinyint) and returns the table's references with their
// partition conjuncts.
func refsOf(t *testing.T, sqlText string) []*tableRef {
	t.Helper()
	toks, err := lex(sqlText)
	if err != nil {
		t.Fatal(err)
	}
	tbl := &catalog.Table{DatabaseName: "default", TableInput: catalog.TableInput{Name: "p", PartitionKeys: []catalog.Column{
		{Name: "s", Type: "string"}, {Name: "n", Type: "int"}, {Name: "t", Type: "tinyint"}}}}
	r := &rewriter{toks: toks, views: map[string]string{}, resolve: func(token, string, string, string) (*catalog.Table, error) {
		return tbl, nil
	}}
	var e emitter
	if err := r.query(&e, 0, len(toks), true); err != nil {
		t.Fatalf("%s: %v", sqlText, err)
	}
	return r.refs
}

var pruneKeys = []column{{"s", "VARCHAR"}, {"n", "INTEGER"}, {"t", "TINYINT"}}

// pruneParts are partition values, odd ones included: empty strings,
// leading zeros, negative numbers, and missing values (NULL).
func pruneParts() []partition {
	var parts []partition
	for _, s := range []string{"a", "b", "B", "", "10", "9", "a'b", "é"} {
		for _, n := range []string{"1", "2", "10", "-3", "013", "0"} {
			parts = append(parts, partition{values: []string{s, n, "5"}})
		}
	}
	parts = append(parts, partition{values: []string{"a"}}, partition{values: []string{"b", "2"}}, partition{values: nil},
		partition{values: []string{"a", "1", "-128"}}, partition{values: []string{"a", "1", "127"}})
	return parts
}

// TestPruneGoMatchesDuckDB holds the Go evaluation of partition predicates
// to DuckDB's on the same predicates and partitions.
func TestPruneGoMatchesDuckDB(t *testing.T) {
	f := newFixture(t)
	db, err := f.en.open()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	parts := pruneParts()
	compiled := []string{
		"s = 'a'", "'a' = s", "s <> 'a'", "s != 'a'", "s < 'b'", "s <= 'B'", "s > '9'", "s >= ''", "s = ''",
		"n = 10", "n = -3", "n < 2", "n <= 1", "n > 1", "n >= 10", "n <> 13", "10 < n", "t = 5", "t >= -128",
		"s IN ('a', 'b')", "s NOT IN ('a', 'b')", "n IN (1, 13, -3)", "n NOT IN (1, NULL)", "n IN (2, NULL)",
		"s BETWEEN 'a' AND 'b'", "n BETWEEN 1 AND 10", "n NOT BETWEEN 1 AND 10", "s IS NULL", "n IS NOT NULL",
		"s = 'a' AND n = 1", "s = 'a' OR n = 1", "NOT s = 'a'", "NOT (s = 'a' OR n > 2)", "(s = 'a' OR s = 'b') AND (n = 1 OR n = 2)",
		"s = 'a' AND n = 1 OR s = 'b' AND NOT n = 2", "s = NULL", "n <> NULL", "NOT n IN (1, NULL)", "s = 'a''b'", "s = 'é'",
		"e.s = 'a'", "e.n BETWEEN -5 AND 1 AND e.s IN ('', 'B')", `"S" = 'b'`, "s = 'a' AND (n IS NULL OR n = 1)",
		"n = 013", "t IN (127, -128)",
	}
	fallback := []string{
		"s = 1", "n = '10'", "CAST(n AS varchar) = '10'", "lower(s) = 'b'", "s LIKE 'a%'", "n + 1 = 2", "n = 1.0", "s || 'x' = 'ax'",
		"n IN (SELECT 1)", "n = 99999999999999999999",
	}
	check := func(pred string, wantGo bool) {
		t.Helper()
		refs := refsOf(t, "SELECT count(*) FROM p e WHERE ("+pred+") AND e.s IS NOT DISTINCT FROM e.s")
		if len(refs) != 1 || !refs[0].pruned {
			t.Fatalf("%s: not a partition predicate: %+v", pred, refs)
		}
		_, ok := pruneGo(refs, pruneKeys, parts)
		if !wantGo {
			if ok {
				t.Errorf("%s: decided in Go, want DuckDB", pred)
			}
			return
		}
		// The conjunct Go cannot decide (IS NOT DISTINCT FROM) is left out:
		// compare the one under test alone.
		refs[0].filters, refs[0].conjuncts = refs[0].filters[:1], refs[0].conjuncts[:1]
		goKeep, ok := pruneGo(refs, pruneKeys, parts)
		if !ok {
			t.Errorf("%s: not decided in Go", pred)
			return
		}
		duckKeep, err := f.en.pruneDuck(context.Background(), conn, refs, pruneKeys, parts)
		if err != nil || duckKeep == nil {
			t.Fatalf("%s: DuckDB: %v", pred, err)
		}
		n := 0
		for i := range parts {
			if goKeep[i] != duckKeep[i] {
				t.Errorf("%s: partition %q: Go %v, DuckDB %v", pred, parts[i].values, goKeep[i], duckKeep[i])
			}
			if duckKeep[i] {
				n++
			}
		}
		t.Logf("%-50s keeps %d of %d", pred, n, len(parts))
	}
	for _, p := range compiled {
		check(p, true)
	}
	for _, p := range fallback {
		check(p, false)
	}
	// Two references: a partition is read if either needs it.
	refs := refsOf(t, "SELECT count(*) FROM p a JOIN p b ON a.s = b.s WHERE a.n = 1 AND b.n = 2")
	goKeep, ok := pruneGo(refs, pruneKeys, parts)
	duckKeep, err := f.en.pruneDuck(context.Background(), conn, refs, pruneKeys, parts)
	if !ok || err != nil {
		t.Fatalf("join: go %v, duck %v", ok, err)
	}
	if fmt.Sprint(goKeep) != fmt.Sprint(duckKeep) {
		t.Errorf("join: Go %v, DuckDB %v", goKeep, duckKeep)
	}
	// A value Go does not cast as DuckDB would leaves the partitions to
	// DuckDB.
	odd := append(pruneParts(), partition{values: []string{"a", " 7", "1"}})
	if _, ok := pruneGo(refsOf(t, "SELECT 1 FROM p WHERE n = 7"), pruneKeys, odd); ok {
		t.Error("n = ' 7' decided in Go")
	}
	odd = append(pruneParts(), partition{values: []string{"a", "1", "300"}})
	if _, ok := pruneGo(refsOf(t, "SELECT 1 FROM p WHERE t = 1"), pruneKeys, odd); ok {
		t.Error("tinyint 300 decided in Go")
	}
}
