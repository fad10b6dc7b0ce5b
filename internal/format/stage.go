package format

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// Delivery-level error codes: the table a stream converts with cannot be
// used, so delivery fails and is retried with the records kept buffered.
// Firehose's spellings of these codes are not documented; these are
// hydrant's guesses in Firehose's style.
const (
	// CodeEntityNotFound: the database, table or table version is missing.
	CodeEntityNotFound = "DataFormatConversion.EntityNotFound"
	// CodeInvalidSchema: the table's columns cannot be converted to (a
	// type that does not parse, no columns).
	CodeInvalidSchema = "DataFormatConversion.InvalidSchema"
)

// TableError fails a delivery attempt because the stream's table cannot be
// used; delivery logs it and retries.
type TableError struct {
	Code string
	Err  error
}

// Error says the code and the cause.
func (e *TableError) Error() string { return e.Code + ": " + e.Err.Error() }

// Unwrap returns the cause (a catalog error, say).
func (e *TableError) Unwrap() error { return e.Err }

// FirehoseErrorCode makes the code appear in delivery logs and retry
// metrics (deliver.CodedError).
func (e *TableError) FirehoseErrorCode() string { return e.Code }

var _ deliver.CodedError = (*TableError)(nil)

// Tables is where conversion reads table schemas: the catalog.
type Tables interface {
	// Table returns a version of a table ("" or LATEST for the newest); an
	// error wrapping catalog.ErrNotFound means it does not exist.
	Table(ctx context.Context, catalogID, db, table, versionID string) (*catalog.Table, error)
}

// StageOptions configure the conversion stage.
type StageOptions struct {
	// TempDir holds row-group pages while a file is built (see
	// ParquetOptions.TempDir); "" keeps them in memory.
	TempDir string
	// Counters, when set, receive SucceedConversion/FailedConversion counts.
	Counters *Metrics
	Logger   *slog.Logger
}

// StageFunc builds a stream's format; it is a deliver.FormatFactory.
type StageFunc = func(ctx context.Context, st *streamspec.Stream) (deliver.Format, error)

// Stage returns the format half of a deliver.Stages factory: for a stream
// with format conversion enabled it resolves the table
// (at every delivery, so a new table version is picked up) and returns the
// Parquet format; otherwise it returns nil. cmd/hydrant combines it with the
// processors' pipeline factory.
func Stage(tables Tables, o StageOptions) StageFunc {
	if o.TempDir != "" {
		// Pages left by a run that crashed mid-file are garbage.
		if old, err := filepath.Glob(filepath.Join(o.TempDir, ".pages-*")); err == nil {
			for _, f := range old {
				_ = os.Remove(f)
			}
		}
	}
	// The format of each stream is kept while its table version and
	// configuration stay the same, so that its buffers are reused from one
	// object to the next.
	var mu sync.Mutex
	cache := map[string]cachedFormat{}
	return func(ctx context.Context, st *streamspec.Stream) (deliver.Format, error) {
		conv := &st.Conversion
		if !conv.Enabled {
			return nil, nil
		}
		sc := &conv.Schema
		table := map[string]string{
			"catalogId":    sc.CatalogID,
			"databaseName": sc.Database,
			"tableName":    sc.Table,
			"region":       sc.Region,
			"versionId":    sc.VersionID,
			"catalogArn":   "arn:aws:glue:" + sc.Region + ":" + sc.CatalogID + ":catalog",
		}
		t, err := tables.Table(ctx, sc.CatalogID, sc.Database, sc.Table, sc.VersionID)
		if err != nil {
			if errors.Is(err, catalog.ErrNotFound) {
				return nil, &TableError{Code: CodeEntityNotFound, Err: err}
			}
			return nil, fmt.Errorf("read table %s.%s: %w", table["databaseName"], table["tableName"], err)
		}
		key := t.CatalogId + "\x00" + t.DatabaseName + "\x00" + t.Name + "\x00" + t.VersionId + "\x00" + st.Revision
		mu.Lock()
		c, ok := cache[st.Name]
		mu.Unlock()
		if ok && c.key == key {
			return c.p, nil
		}
		cols := make([]Column, 0, len(t.Columns()))
		for _, c := range t.Columns() {
			cols = append(cols, Column{Name: c.Name, Type: c.Type})
		}
		d, po := Config(*conv)
		po.TempDir = o.TempDir
		p, err := NewParquet(cols, d, po)
		if err != nil {
			return nil, &TableError{Code: CodeInvalidSchema, Err: fmt.Errorf("table %s.%s: %w", table["databaseName"], table["tableName"], err)}
		}
		p.Table = table
		p.Counters = o.Counters.Stream(st.Name)
		mu.Lock()
		cache[st.Name] = cachedFormat{key: key, p: p}
		mu.Unlock()
		return p, nil
	}
}

// cachedFormat is a stream's format and what it was built from.
type cachedFormat struct {
	key string
	p   *Parquet
}

// Config turns a stream's resolved format conversion settings into the
// deserializer and Parquet writer options.
func Config(c streamspec.Conversion) (Deserializer, ParquetOptions) {
	in := c.Deserializer
	d := Deserializer{
		Hive:             in.Hive,
		CaseInsensitive:  in.CaseInsensitive,
		ConvertDots:      in.ConvertDots,
		ColumnToJSONKey:  in.ColumnToJSONKey,
		TimestampFormats: in.TimestampFormats,
	}
	ps := c.Parquet
	po := ParquetOptions{
		BlockSize:     ps.BlockSizeBytes,
		PageSize:      ps.PageSizeBytes,
		Compression:   ps.Compression,
		Dictionary:    ps.Dictionary,
		WriterVersion: ps.WriterVersion,
	}
	return d, po
}

// Counters are one stream's format conversion counts: Firehose's
// SucceedConversion.Records/Bytes and FailedConversion.Records/Bytes.
type Counters struct {
	SucceedRecords, SucceedBytes atomic.Int64
	FailedRecords, FailedBytes   atomic.Int64
}

func (c *Counters) succeeded(n int) {
	if c != nil {
		c.SucceedRecords.Add(1)
		c.SucceedBytes.Add(int64(n))
	}
}

func (c *Counters) failed(n int) {
	if c != nil {
		c.FailedRecords.Add(1)
		c.FailedBytes.Add(int64(n))
	}
}

// Metrics holds every stream's Counters, for the metrics endpoint to read.
type Metrics struct {
	mu sync.Mutex
	m  map[string]*Counters
}

// Stream returns a stream's counters, creating them; nil-safe (a nil
// Metrics counts nothing).
func (m *Metrics) Stream(name string) *Counters {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[string]*Counters{}
	}
	c := m.m[name]
	if c == nil {
		c = &Counters{}
		m.m[name] = c
	}
	return c
}

// Each calls f for every stream's counters.
func (m *Metrics) Each(f func(stream string, c *Counters)) {
	m.mu.Lock()
	names := make(map[string]*Counters, len(m.m))
	for k, v := range m.m {
		names[k] = v
	}
	m.mu.Unlock()
	for k, v := range names {
		f(k, v)
	}
}
