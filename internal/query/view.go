package query

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"

	"github.com/hydrant-io/hydrant/internal/catalog"
)

// view finds what a table's view reads for one query: the partitions
// every reference's WHERE may match and their files. It returns the
// builder of the view's SELECT (the files read with the table's format and
// cast to its Glue types) and the bytes of the files. The builder assumes
// every column is in the files unless told to probe them (a DESCRIBE):
// the caller probes only when the view does not bind without.
func (en *Engine) view(ctx context.Context, conn *sql.Conn, refs []*tableRef, tmp string) (func(probe bool) (string, error), int64, error) {
	t := refs[0].table
	format, serde, err := tableFormat(t)
	if err != nil {
		return nil, 0, err
	}
	var cols []column
	for _, c := range t.Columns() {
		dt, err := duckTypeOf(c.Type)
		if err != nil {
			return nil, 0, fmt.Errorf("table %s.%s column %s: %w", t.DatabaseName, t.Name, c.Name, err)
		}
		cols = append(cols, column{name: strings.ToLower(c.Name), typ: dt})
	}
	var keys []column
	for _, k := range t.PartitionKeys {
		dt, err := duckTypeOf(k.Type)
		if err != nil {
			return nil, 0, fmt.Errorf("table %s.%s partition key %s: %w", t.DatabaseName, t.Name, k.Name, err)
		}
		keys = append(keys, column{name: strings.ToLower(k.Name), typ: dt})
	}
	loc := ""
	if t.StorageDescriptor != nil && t.StorageDescriptor.Location != nil {
		loc = *t.StorageDescriptor.Location
	}
	if loc == "" {
		return nil, 0, fmt.Errorf("table %s.%s has no location (StorageDescriptor.Location); set one to query it", t.DatabaseName, t.Name)
	}
	bucket, prefix, err := location(loc)
	if err != nil {
		return nil, 0, err
	}
	parts, err := en.candidates(ctx, t, bucket, prefix)
	if err != nil {
		return nil, 0, err
	}
	parts, err = en.prune(ctx, conn, refs, keys, parts)
	if err != nil {
		return nil, 0, err
	}
	// The files of each partition, and whether every one sits at
	// location/k=v/... so that DuckDB's hive_partitioning reads the values.
	var scanned int64
	hive := len(keys) > 0
	spooled := 0
	type group struct {
		values []string
		files  []string
	}
	var groups []group
	for _, p := range parts {
		objs := p.files
		if !p.listed {
			if objs, err = en.list(ctx, p.bucket, p.prefix); err != nil {
				return nil, 0, err
			}
		}
		if len(objs) == 0 {
			continue
		}
		if p.bucket != bucket || p.prefix != prefix+hivePath(t.PartitionKeys, p.values) {
			hive = false
		}
		g := group{values: p.values}
		for _, o := range objs {
			// DuckDB reads a path with glob characters as a pattern, which
			// could match other objects: such keys are refused, not guessed.
			if strings.ContainsAny(o.Key, "*?[{") {
				return nil, 0, fmt.Errorf("object s3://%s/%s of table %s.%s has a glob character (* ? [ {) in its key, which the engine cannot read as a name; rename it",
					p.bucket, o.Key, t.DatabaseName, t.Name)
			}
			path, err := en.filePath(p.bucket, o.Key)
			if err != nil {
				return nil, 0, err
			}
			scanned += o.Size
			if format != fmtParquet {
				codec, err := codecOf(path, o.Key)
				if err != nil {
					return nil, 0, err
				}
				if codec != "" && !(codec == "GZIP" && strings.HasSuffix(o.Key, ".gz")) {
					if err := os.MkdirAll(tmp, 0o755); err != nil {
						return nil, 0, err
					}
					spooled++
					if path, err = decode(path, codec, tmp, spooled); err != nil {
						return nil, 0, err
					}
					hive = false
				}
			}
			g.files = append(g.files, path)
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return func(bool) (string, error) { return emptyView(cols, keys), nil }, 0, nil
	}
	build := func(probe bool) (string, error) {
		if len(keys) == 0 || hive {
			var files []string
			for _, g := range groups {
				files = append(files, g.files...)
			}
			return en.readSelect(ctx, conn, format, serde, t, cols, keys, files, nil, hive, probe)
		}
		var parts []string
		for _, g := range groups {
			sel, err := en.readSelect(ctx, conn, format, serde, t, cols, keys, g.files, g.values, false, probe)
			if err != nil {
				return "", err
			}
			parts = append(parts, sel)
		}
		return strings.Join(parts, " UNION ALL "), nil
	}
	return build, scanned, nil
}

// column is a table column with its DuckDB type.
type column struct{ name, typ string }

func emptyView(cols, keys []column) string {
	var sel []string
	for _, c := range append(append([]column(nil), cols...), keys...) {
		sel = append(sel, "CAST(NULL AS "+c.typ+") AS "+quoteIdent(c.name))
	}
	if len(sel) == 0 {
		sel = []string{"NULL AS __hydrant_empty"}
	}
	return "SELECT " + strings.Join(sel, ", ") + " WHERE false"
}

func fileList(files []string) string {
	q := make([]string, len(files))
	for i, f := range files {
		q[i] = quoteString(f)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// readSelect is the SELECT over one read_* call: the data columns cast to
// the table's types, then the partition keys (from the paths with hive, or
// the given values).
func (en *Engine) readSelect(ctx context.Context, conn *sql.Conn, format string, serde map[string]string, t *catalog.Table,
	cols, keys []column, files []string, values []string, hive, probe bool) (string, error) {
	var from string
	have := map[string]string{} // column -> type in the files
	switch format {
	case fmtParquet:
		opts := "union_by_name = true"
		if hive {
			var ht []string
			for _, k := range keys {
				ht = append(ht, quoteString(k.name)+": "+quoteString(k.typ))
			}
			opts += ", hive_partitioning = true, hive_types = {" + strings.Join(ht, ", ") + "}, hive_types_autocast = false"
		} else {
			opts += ", hive_partitioning = false"
		}
		from = "read_parquet(" + fileList(files) + ", " + opts + ")"
		if !probe {
			have = nil
			break
		}
		rows, err := conn.QueryContext(ctx, "DESCRIBE SELECT * FROM "+from)
		if err != nil {
			return "", fmt.Errorf("read %s.%s: %w", t.DatabaseName, t.Name, err)
		}
		for rows.Next() {
			var name, typ string
			var a, b, c, d any
			if err := rows.Scan(&name, &typ, &a, &b, &c, &d); err != nil {
				rows.Close()
				return "", err
			}
			have[strings.ToLower(name)] = typ
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", err
		}
	case fmtJSON:
		var spec []string
		for _, c := range cols {
			spec = append(spec, quoteString(c.name)+": "+quoteString(c.typ))
			have[c.name] = c.typ
		}
		ignore := strings.EqualFold(serde["ignore.malformed.json"], "true")
		from = fmt.Sprintf("read_json(%s, format = 'auto', records = true, columns = {%s}, maximum_object_size = 2097152, ignore_errors = %t)",
			fileList(files), strings.Join(spec, ", "), ignore)
		if hive {
			from = strings.TrimSuffix(from, ")") + ", hive_partitioning = true)"
			for _, k := range keys {
				have[k.name] = "VARCHAR"
			}
		}
	case fmtCSV:
		delim, quote, escape := csvOptions(t, serde)
		var spec []string
		for _, c := range cols {
			spec = append(spec, quoteString(c.name)+": 'VARCHAR'")
			have[c.name] = "VARCHAR"
		}
		skip := 0
		fmt.Sscanf(t.Parameters["skip.header.line.count"], "%d", &skip)
		null := `\N`
		if v, ok := serde["serialization.null.format"]; ok {
			null = v
		}
		from = fmt.Sprintf("read_csv(%s, delim = %s, quote = %s, escape = %s, header = false, skip = %d, columns = {%s}, auto_detect = false, nullstr = %s, null_padding = true, strict_mode = false",
			fileList(files), quoteString(delim), quoteString(quote), quoteString(escape), skip, strings.Join(spec, ", "), quoteString(null))
		if hive {
			from += ", hive_partitioning = true"
			for _, k := range keys {
				have[k.name] = "VARCHAR"
			}
		}
		from += ")"
	}
	var sel []string
	for _, c := range cols {
		ft, ok := have[c.name]
		switch {
		case have == nil:
			// Not probed: a no-op cast costs nothing in DuckDB.
			sel = append(sel, "CAST("+quoteIdent(c.name)+" AS "+c.typ+") AS "+quoteIdent(c.name))
		case !ok:
			sel = append(sel, "CAST(NULL AS "+c.typ+") AS "+quoteIdent(c.name))
		case strings.EqualFold(ft, c.typ):
			sel = append(sel, quoteIdent(c.name))
		case format == fmtCSV:
			sel = append(sel, "TRY_CAST("+quoteIdent(c.name)+" AS "+c.typ+") AS "+quoteIdent(c.name))
		default:
			sel = append(sel, "CAST("+quoteIdent(c.name)+" AS "+c.typ+") AS "+quoteIdent(c.name))
		}
	}
	for i, k := range keys {
		switch {
		case values != nil:
			sel = append(sel, "CAST("+quoteString(values[i])+" AS "+k.typ+") AS "+quoteIdent(k.name))
		case hive && (have == nil || strings.EqualFold(have[k.name], k.typ)):
			sel = append(sel, quoteIdent(k.name))
		default:
			sel = append(sel, "CAST("+quoteIdent(k.name)+" AS "+k.typ+") AS "+quoteIdent(k.name))
		}
	}
	return "SELECT " + strings.Join(sel, ", ") + " FROM " + from, nil
}

// csvOptions are DuckDB's read_csv delimiter, quote and escape for a
// table's SerDe: LazySimpleSerDe's field.delim (default Ctrl-A, no
// quoting) or OpenCSVSerde's separatorChar, quoteChar and escapeChar.
func csvOptions(t *catalog.Table, serde map[string]string) (delim, quote, escape string) {
	lib := ""
	if sd := t.StorageDescriptor; sd != nil && sd.SerdeInfo != nil && sd.SerdeInfo.SerializationLibrary != nil {
		lib = strings.ToLower(*sd.SerdeInfo.SerializationLibrary)
	}
	if strings.Contains(lib, "opencsvserde") {
		// opencsv reads "" inside quotes as a quote; DuckDB has one escape
		// character, so the default escape is the quote itself.
		delim, quote, escape = ",", `"`, `"`
		if v := serde["separatorChar"]; v != "" {
			delim = v
		}
		if v := serde["quoteChar"]; v != "" {
			quote = v
		}
		if v := serde["escapeChar"]; v != "" {
			escape = v
		}
		return delim, quote, escape
	}
	delim = "\x01"
	if v := serde["field.delim"]; v != "" {
		delim = v
	} else if v := serde["serialization.format"]; v != "" && len(v) == 1 && (v[0] < '0' || v[0] > '9') {
		delim = v
	}
	return delim, "", serde["escape.delim"]
}
