package console

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/parquet-go/parquet-go"
)

// column is one column of a Parquet preview or a query result.
type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// previewParquet reads a Parquet object's schema and first rows.
func (c *Console) previewParquet(p *preview, rc io.Reader, br *bufio.Reader) error {
	ra, ok := rc.(io.ReaderAt)
	size := p.Size
	if !ok || size < 0 {
		b, err := io.ReadAll(io.LimitReader(br, maxParquetBytes+1))
		if err != nil {
			return fmt.Errorf("read %s: %w", p.Key, err)
		}
		if len(b) > maxParquetBytes {
			return errorf(413, "%s is larger than the %d MiB a Parquet preview reads from this store", p.Key, maxParquetBytes>>20)
		}
		ra, size = bytes.NewReader(b), int64(len(b))
		p.Size = size
	}
	f, err := parquet.OpenFile(ra, size)
	if err != nil {
		return fmt.Errorf("open Parquet object %s: %w", p.Key, err)
	}
	p.Format, p.TotalRows = "parquet", f.NumRows()
	schema := f.Schema()
	for _, fd := range schema.Fields() {
		p.Columns = append(p.Columns, column{Name: fd.Name(), Type: parquetType(fd)})
	}
	buf := make([]parquet.Row, 16)
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for len(p.Rows) < maxPreviewRecords {
			n, err := rows.ReadRows(buf[:min(len(buf), maxPreviewRecords-len(p.Rows))])
			for _, row := range buf[:n] {
				m := map[string]any{}
				if err := schema.Reconstruct(&m, row); err != nil {
					_ = rows.Close()
					return fmt.Errorf("read Parquet row of %s: %w", p.Key, err)
				}
				out := make([]any, len(p.Columns))
				for i, col := range p.Columns {
					out[i] = cell(m[col.Name])
				}
				p.Rows = append(p.Rows, out)
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				_ = rows.Close()
				return fmt.Errorf("read Parquet rows of %s: %w", p.Key, err)
			}
		}
		_ = rows.Close()
		if len(p.Rows) >= maxPreviewRecords {
			break
		}
	}
	p.Truncated = int64(len(p.Rows)) < p.TotalRows
	return nil
}

// parquetType names a column's type as a reader would: its logical type
// when it has one, else its physical type; groups are "struct".
func parquetType(n parquet.Node) string {
	if n.Leaf() {
		t := n.Type()
		if lt := t.LogicalType(); lt != nil {
			return lt.String()
		}
		return t.String()
	}
	if lt := n.Type().LogicalType(); lt != nil {
		return lt.String()
	}
	return "struct"
}

// cell makes a reconstructed value fit for JSON: byte strings as text,
// times as RFC 3339, nested values as they are.
func cell(v any) any {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case json.RawMessage:
		return string(x)
	}
	return v
}
