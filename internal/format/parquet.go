package format

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

// Firehose's record format conversion error codes.
const (
	// CodeParseError: the record is not JSON objects (or is a JSON array).
	CodeParseError = "DataFormatConversion.ParseError"
	// CodeMalformedData: a value does not fit its column's type.
	CodeMalformedData = "DataFormatConversion.MalformedData"
)

// ParquetOptions are the ParquetSerDe settings.
type ParquetOptions struct {
	// BlockSize is BlockSizeBytes: a row group is flushed once its buffered
	// (encoded and compressed) pages reach it. Default 256 MiB.
	BlockSize int64
	// PageSize is PageSizeBytes, the target size of a data page before
	// compression. Default 1 MiB.
	PageSize int
	// Compression is SNAPPY (the default), GZIP or UNCOMPRESSED.
	Compression string
	// Dictionary turns on dictionary encoding (EnableDictionaryCompression).
	Dictionary bool
	// WriterVersion is V1 (the default) or V2: data page header version.
	WriterVersion string
	// TempDir, when set, holds the pages of the row group being built in
	// temporary files there instead of memory, so that memory stays
	// bounded by a page per column whatever the row group size.
	TempDir string
}

// Parquet is a deliver.Format that converts JSON records to Parquet with a
// table's schema.
type Parquet struct {
	schema *Schema
	deser  Deserializer
	opts   ParquetOptions
	codec  compress.Codec
	pq     *parquet.Schema
	// Table is reported in dataCatalogTable of failed records.
	Table map[string]string
	// Counters, when set, count converted and failed records.
	Counters *Counters
}

var _ deliver.Format = (*Parquet)(nil)

// NewParquet builds the format for a table's columns.
func NewParquet(cols []Column, d Deserializer, o ParquetOptions) (*Parquet, error) {
	s, err := NewSchema(cols)
	if err != nil {
		return nil, err
	}
	if _, err := newTimestampParser(d); err != nil {
		return nil, err
	}
	if o.BlockSize <= 0 {
		o.BlockSize = 256 << 20
	}
	if o.PageSize <= 0 {
		o.PageSize = 1 << 20
	}
	p := &Parquet{schema: s, deser: d, opts: o, pq: s.parquetSchema(o.Dictionary)}
	switch o.Compression {
	case "", "SNAPPY":
		p.codec = &snappy.Codec{}
	case "GZIP":
		p.codec = &gzip.Codec{Level: gzip.DefaultCompression}
	case "UNCOMPRESSED":
		p.codec = &parquet.Uncompressed
	default:
		return nil, fmt.Errorf("ParquetSerDe Compression %q is not one of SNAPPY, GZIP, UNCOMPRESSED", o.Compression)
	}
	switch o.WriterVersion {
	case "", "V1", "V2":
	default:
		return nil, fmt.Errorf("ParquetSerDe WriterVersion %q is not V1 or V2", o.WriterVersion)
	}
	return p, nil
}

// Extension is .parquet, the extension Firehose gives converted objects.
func (p *Parquet) Extension() string { return ".parquet" }

// NewEncoder starts a Parquet file written to w.
func (p *Parquet) NewEncoder(w io.Writer) (deliver.Encoder, error) {
	conv, err := newConverter(p.schema, p.deser)
	if err != nil {
		return nil, err
	}
	version := 1
	if p.opts.WriterVersion == "V2" {
		version = 2
	}
	opts := []parquet.WriterOption{
		p.pq,
		parquet.Compression(p.codec),
		parquet.PageBufferSize(p.opts.PageSize),
		parquet.DataPageVersion(version),
		parquet.CreatedBy("hydrant", "", ""),
		parquet.WriteBufferSize(256 << 10),
	}
	if p.opts.TempDir != "" {
		opts = append(opts, parquet.ColumnPageBuffers(parquet.NewFileBufferPool(p.opts.TempDir, ".pages-*")))
	}
	return &encoder{p: p, conv: conv, w: parquet.NewWriter(w, opts...)}, nil
}

// batchRows is how many rows are converted before they are handed to the
// Parquet column writers together.
const batchRows = 1024

// batchBytes bounds the bytes a batch copies before it is handed over.
const batchBytes = 4 << 20

type encoder struct {
	p    *Parquet
	conv *converter
	w    *parquet.Writer
	// flushed is the file size after the last row group: what Size()
	// reports beyond it is the row group being built.
	flushed int64
	err     error
}

// Encode converts one record (one or more JSON objects) into rows.
func (e *encoder) Encode(r deliver.Rec) error {
	if e.err != nil {
		return e.err
	}
	if _, err := e.conv.convert(r.Data); err != nil {
		ce := &deliver.ConversionError{Code: CodeMalformedData, Message: err.Error(), Table: e.p.Table}
		if isParseError(err) {
			ce.Code = CodeParseError
		}
		e.p.Counters.failed(len(r.Data))
		return ce
	}
	e.p.Counters.succeeded(len(r.Data))
	if e.conv.rows >= batchRows || len(e.conv.arena) >= batchBytes {
		return e.flushBatch()
	}
	return nil
}

// flushBatch hands the converted rows to the column writers, and flushes
// the row group when it has reached BlockSize.
func (e *encoder) flushBatch() (err error) {
	defer e.recover(&err)
	if e.conv.rows == 0 {
		return nil
	}
	for i, cw := range e.w.ColumnWriters() {
		if _, err := cw.WriteRowValues(e.conv.cols[i]); err != nil {
			e.err = fmt.Errorf("write parquet column %d: %w", i, err)
			return e.err
		}
	}
	e.conv.reset()
	if e.w.Size()-e.flushed >= e.p.opts.BlockSize {
		if err := e.w.Flush(); err != nil {
			e.err = fmt.Errorf("flush parquet row group: %w", err)
			return e.err
		}
		e.flushed = e.w.Size()
	}
	return nil
}

// Close writes the last row group and the footer.
func (e *encoder) Close() (err error) {
	defer e.recover(&err)
	if e.err != nil {
		return e.err
	}
	if err := e.flushBatch(); err != nil {
		return err
	}
	if err := e.w.Close(); err != nil {
		return fmt.Errorf("close parquet file: %w", err)
	}
	return nil
}

// recover turns a panic in the Parquet library into an error that fails
// the object (and is retried) instead of the process.
func (e *encoder) recover(err *error) {
	if p := recover(); p != nil {
		e.err = fmt.Errorf("parquet writer: %v", p)
		*err = e.err
	}
}
