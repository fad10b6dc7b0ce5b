package query

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// prune keeps the partitions whose values satisfy the WHERE conjuncts on
// partition keys of any reference (a reference without any keeps all):
// decided in Go when the conjuncts are simple comparisons (prune_go.go),
// and otherwise by DuckDB over the values alone, so that Trino's semantics
// of the predicate are DuckDB's too. When the predicates cannot be
// evaluated over the values alone, nothing is pruned: the query still
// filters.
func (en *Engine) prune(ctx context.Context, conn *sql.Conn, refs []*tableRef, keys []column, parts []partition) ([]partition, error) {
	if len(keys) == 0 || len(parts) == 0 {
		return parts, nil
	}
	for _, r := range refs {
		if !r.pruned {
			return parts, nil
		}
	}
	keep, ok := pruneGo(refs, keys, parts)
	if !ok {
		var err error
		if keep, err = en.pruneDuck(ctx, conn, refs, keys, parts); err != nil || keep == nil {
			return parts, err
		}
	}
	out := parts[:0:0]
	for i, p := range parts {
		if keep[i] {
			out = append(out, p)
		}
	}
	return out, nil
}

// pruneDuck evaluates the conjuncts in DuckDB; nil keeps every partition
// (the predicate is not evaluable over the values alone).
func (en *Engine) pruneDuck(ctx context.Context, conn *sql.Conn, refs []*tableRef, keys []column, parts []partition) ([]bool, error) {
	var ors []string
	for _, r := range refs {
		ors = append(ors, "("+strings.Join(r.filters, ") AND (")+")")
	}
	pred := "(" + strings.Join(ors, ") OR (") + ")"
	keep := make([]bool, len(parts))
	const chunk = 5000
	for start := 0; start < len(parts); start += chunk {
		end := min(start+chunk, len(parts))
		var rows []string
		for i := start; i < end; i++ {
			vals := []string{fmt.Sprint(i)}
			for k := range keys {
				v := "NULL"
				if k < len(parts[i].values) {
					v = quoteString(parts[i].values[k])
				}
				vals = append(vals, v)
			}
			rows = append(rows, "("+strings.Join(vals, ", ")+")")
		}
		var raw, typed []string
		for k, c := range keys {
			raw = append(raw, fmt.Sprintf("v%d", k))
			typed = append(typed, fmt.Sprintf("TRY_CAST(v%d AS %s) AS %s", k, c.typ, quoteIdent(c.name)))
		}
		q := fmt.Sprintf("SELECT __i FROM (SELECT __i, %s FROM (VALUES %s) AS __p(__i, %s)) WHERE %s",
			strings.Join(typed, ", "), strings.Join(rows, ", "), strings.Join(raw, ", "), pred)
		res, err := conn.QueryContext(ctx, q)
		if err != nil {
			en.log.Debug("partition predicate not evaluable over the values; reading every partition", "predicate", pred, "err", err)
			return nil, nil
		}
		for res.Next() {
			var i int
			if err := res.Scan(&i); err != nil {
				res.Close()
				return nil, err
			}
			keep[i] = true
		}
		res.Close()
		if err := res.Err(); err != nil {
			return nil, nil
		}
	}
	return keep, nil
}
