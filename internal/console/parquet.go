package console

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
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
	fields := schema.Fields()
	// Top-level primitive columns are read from the row's raw values, so
	// that decimals, times and dates are shown exactly; nested ones are
	// reconstructed.
	leafOf := map[int]int{} // leaf column index → output column
	leafConv := make([]func(parquet.Value) any, len(fields))
	nested := false
	for i, fd := range fields {
		p.Columns = append(p.Columns, column{Name: fd.Name(), Type: parquetType(fd)})
		if fd.Leaf() && !fd.Repeated() {
			leafConv[i] = converter(fd)
		} else {
			nested = true
		}
	}
	for i, path := range schema.Columns() {
		if len(path) != 1 {
			continue
		}
		for j, fd := range fields {
			if fd.Name() == path[0] && leafConv[j] != nil {
				leafOf[i] = j
			}
		}
	}
	buf := make([]parquet.Row, 16)
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for len(p.Rows) < maxPreviewRecords {
			n, err := rows.ReadRows(buf[:min(len(buf), maxPreviewRecords-len(p.Rows))])
			for _, row := range buf[:n] {
				out := make([]any, len(fields))
				for _, v := range row {
					if j, ok := leafOf[v.Column()]; ok {
						out[j] = leafConv[j](v)
					}
				}
				if nested {
					m := map[string]any{}
					if err := schema.Reconstruct(&m, row); err != nil {
						_ = rows.Close()
						return fmt.Errorf("read Parquet row of %s: %w", p.Key, err)
					}
					for j, fd := range fields {
						if leafConv[j] == nil {
							out[j] = cell(m[fd.Name()])
						}
					}
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

// converter returns how a top-level primitive column's raw values are
// shown: times, dates and decimals as a reader prints them, byte arrays as
// text, numbers and booleans as they are.
func converter(n parquet.Node) func(parquet.Value) any {
	t := n.Type()
	var logical format.LogicalTypeValue
	if lt := t.LogicalType(); lt != nil {
		logical = lt.Value
	}
	return func(v parquet.Value) any {
		if v.IsNull() {
			return nil
		}
		switch l := logical.(type) {
		case *format.TimestampType:
			if i, ok := integer(v); ok {
				return time.Unix(0, i*int64(l.Unit.Value.Duration())).UTC().Format(time.RFC3339Nano)
			}
		case *format.DateType:
			if i, ok := integer(v); ok {
				return time.Unix(i*86400, 0).UTC().Format(time.DateOnly)
			}
		case *format.DecimalType:
			var u *big.Int
			if i, ok := integer(v); ok {
				u = big.NewInt(i)
			} else if b := v.ByteArray(); len(b) > 0 {
				u = new(big.Int).SetBytes(b)
				if b[0]&0x80 != 0 { // two's complement
					u.Sub(u, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
				}
			}
			if u != nil {
				return decimalString(u, int(l.Scale))
			}
		}
		switch v.Kind() {
		case parquet.Boolean:
			return v.Boolean()
		case parquet.Int32:
			return v.Int32()
		case parquet.Int64:
			return v.Int64()
		case parquet.Float:
			return v.Float()
		case parquet.Double:
			return v.Double()
		case parquet.Int96:
			x := v.Int96()
			nanos := int64(uint64(x[1])<<32 | uint64(x[0]))
			days := int64(x[2]) - julianUnixEpoch
			return time.Unix(days*86400, nanos).UTC().Format(time.RFC3339Nano)
		}
		return string(v.ByteArray())
	}
}

// julianUnixEpoch is the Julian day number of 1970-01-01 (INT96 times).
const julianUnixEpoch = 2440588

// integer is an INT32 or INT64 value.
func integer(v parquet.Value) (int64, bool) {
	switch v.Kind() {
	case parquet.Int32:
		return int64(v.Int32()), true
	case parquet.Int64:
		return v.Int64(), true
	}
	return 0, false
}

// decimalString writes an unscaled value with scale digits after the
// point.
func decimalString(u *big.Int, scale int) string {
	s := new(big.Int).Abs(u).String()
	if scale > 0 {
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	}
	if u.Sign() < 0 {
		s = "-" + s
	}
	return s
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
