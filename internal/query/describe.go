package query

import (
	"context"
	"fmt"
	"strings"

	"github.com/hydrant-io/hydrant/internal/catalog"
)

// DescribeParquet reads the columns of Parquet objects of a local bucket
// (by name, merged across files) as Hive types, for the crawlers.
func (en *Engine) DescribeParquet(ctx context.Context, bucket string, keys []string) ([]catalog.Column, error) {
	if en.opts.IsLocal != nil && !en.opts.IsLocal(bucket) {
		return nil, fmt.Errorf("bucket %s is delivered to S3; hydrant reads Parquet schemas only in local buckets", bucket)
	}
	if len(keys) == 0 {
		return nil, nil
	}
	files := make([]string, len(keys))
	for i, k := range keys {
		p, err := en.filePath(bucket, k)
		if err != nil {
			return nil, err
		}
		files[i] = p
	}
	db, err := en.open()
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, "DESCRIBE SELECT * FROM read_parquet("+fileList(files)+", union_by_name = true, hive_partitioning = false)")
	if err != nil {
		return nil, fmt.Errorf("read Parquet schema: %w", err)
	}
	defer rows.Close()
	var cols []catalog.Column
	for rows.Next() {
		var name, typ string
		var a, b, c, d any
		if err := rows.Scan(&name, &typ, &a, &b, &c, &d); err != nil {
			return nil, err
		}
		cols = append(cols, catalog.Column{Name: strings.ToLower(name), Type: hiveType(parseDuckType(typ))})
	}
	return cols, rows.Err()
}

// hiveType is the Hive type of a DuckDB type.
func hiveType(t *duckType) string {
	switch t.base {
	case "BOOLEAN":
		return "boolean"
	case "TINYINT", "UTINYINT":
		return "tinyint"
	case "SMALLINT", "USMALLINT":
		return "smallint"
	case "INTEGER", "UINTEGER":
		return "int"
	case "BIGINT", "UBIGINT", "HUGEINT":
		return "bigint"
	case "FLOAT":
		return "float"
	case "DOUBLE":
		return "double"
	case "DECIMAL":
		return fmt.Sprintf("decimal(%d,%d)", t.precision, t.scale)
	case "DATE":
		return "date"
	case "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP_S":
		return "timestamp"
	case "BLOB":
		return "binary"
	case "LIST", "ARRAY":
		return "array<" + hiveType(t.elem) + ">"
	case "MAP":
		return "map<" + hiveType(t.key) + "," + hiveType(t.val) + ">"
	case "STRUCT":
		parts := make([]string, len(t.fields))
		for i, f := range t.fields {
			parts[i] = strings.ToLower(f.name) + ":" + hiveType(f.typ)
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	}
	return "string"
}
