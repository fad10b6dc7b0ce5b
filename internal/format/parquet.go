package format

import (
	"fmt"
	"io"

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
	// BlockSize is BlockSizeBytes: a row group is written once its encoded
	// (uncompressed) pages reach it. Default 256 MiB.
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
	// TempDir, when set, holds the pages of the row group being built in a
	// temporary file there instead of memory, so that memory stays bounded
	// by a few pages per column whatever the row group size.
	TempDir string
}

// Parquet is a deliver.Format that converts JSON records to Parquet with a
// table's schema.
type Parquet struct {
	schema *Schema
	deser  Deserializer
	opts   ParquetOptions
	// Table is reported in dataCatalogTable of failed records.
	Table map[string]string
	// Counters, when set, count converted and failed records.
	Counters *Counters
	// pages recycles each column's raw pages between the pages and files
	// of this format, and writers keeps a finished file's writer (its
	// dictionaries and buffers): bounded free lists, which unlike a
	// sync.Pool survive collections.
	pages   []chan *rawPage
	writers chan *pqWriter
}

// page returns an empty raw page for column col, recycled when one is
// available (sized as that column's pages grow).
func (p *Parquet) page(col int) *rawPage {
	select {
	case rp := <-p.pages[col]:
		rp.reset()
		return rp
	default:
		return &rawPage{}
	}
}

// recycle keeps a page of column col for reuse, unless enough are kept.
func (p *Parquet) recycle(col int, rp *rawPage) {
	select {
	case p.pages[col] <- rp:
	default:
	}
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
	switch o.Compression {
	case "", "SNAPPY", "GZIP", "UNCOMPRESSED":
	default:
		return nil, fmt.Errorf("ParquetSerDe Compression %q is not one of SNAPPY, GZIP, UNCOMPRESSED", o.Compression)
	}
	switch o.WriterVersion {
	case "", "V1", "V2":
	default:
		return nil, fmt.Errorf("ParquetSerDe WriterVersion %q is not V1 or V2", o.WriterVersion)
	}
	p := &Parquet{schema: s, deser: d, opts: o, pages: make([]chan *rawPage, len(s.leaves)), writers: make(chan *pqWriter, 1)}
	for i := range p.pages {
		p.pages[i] = make(chan *rawPage, 4)
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
	var pw *pqWriter
	select {
	case pw = <-p.writers:
		err = pw.reset(w)
	default:
		pw, err = newPQWriter(w, p.schema, p.opts)
	}
	if err != nil {
		return nil, err
	}
	return newEncoder(p, conv, pw), nil
}
