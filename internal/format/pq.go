package format

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// pqWriter writes a Parquet file: pages are encoded and compressed as they
// come (encodePage), kept in the spool until their row group is written
// (writeRowGroup), and the footer ends the file (close). It runs on the
// encoder's writer goroutine only.
//
// hydrant writes Parquet itself, with parquet-go's thrift definitions of
// the format, because converting straight from JSON into typed column
// buffers is several times cheaper than building generic row values.
type pqWriter struct {
	w       *bufio.Writer
	offset  int64
	s       *Schema
	opts    ParquetOptions
	codec   format.CompressionCodec
	chunks  []chunk
	spool   spool
	groups  []format.RowGroup
	rows    int64
	rgRows  int64
	proto   thrift.CompactProtocol
	scratch struct {
		idx       []uint32
		levels    []uint32
		page, val []byte
		comp      []byte
		gz        bytes.Buffer
		gzw       *gzip.Writer
		hdr       bytes.Buffer
		enc       *thrift.Encoder
	}
}

func newPQWriter(out io.Writer, s *Schema, o ParquetOptions) (*pqWriter, error) {
	w := &pqWriter{w: bufio.NewWriterSize(out, 256<<10), s: s, opts: o, spool: spool{dir: o.TempDir}}
	switch o.Compression {
	case "", "SNAPPY":
		w.codec = format.Snappy
	case "GZIP":
		w.codec = format.Gzip
	case "UNCOMPRESSED":
		w.codec = format.Uncompressed
	}
	w.chunks = make([]chunk, len(s.leaves))
	for i := range w.chunks {
		l := &s.leaves[i]
		w.chunks[i].leaf = l
		if o.Dictionary && l.ptype == format.ByteArray {
			w.chunks[i].dict = newDictionary()
		}
	}
	if err := w.write([]byte("PAR1")); err != nil {
		return nil, err
	}
	return w, nil
}

// reset readies a finished writer for a new file written to out, keeping
// its dictionaries and buffers.
func (w *pqWriter) reset(out io.Writer) error {
	w.w.Reset(out)
	w.offset, w.groups, w.rows, w.rgRows = 0, nil, 0, 0
	w.spool = spool{dir: w.opts.TempDir}
	for i := range w.chunks {
		w.resetChunk(i)
	}
	return w.write([]byte("PAR1"))
}

func (w *pqWriter) write(b []byte) error {
	n, err := w.w.Write(b)
	w.offset += int64(n)
	if err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	return nil
}

// compress compresses b with the file's codec (b itself when uncompressed).
func (w *pqWriter) compress(b []byte) ([]byte, error) {
	switch w.codec {
	case format.Snappy:
		if n := s2.MaxEncodedLen(len(b)); cap(w.scratch.comp) < n {
			w.scratch.comp = make([]byte, n)
		}
		w.scratch.comp = s2.EncodeSnappy(w.scratch.comp[:cap(w.scratch.comp)], b)
		return w.scratch.comp, nil
	case format.Gzip:
		w.scratch.gz.Reset()
		if w.scratch.gzw == nil {
			w.scratch.gzw = gzip.NewWriter(&w.scratch.gz)
		} else {
			w.scratch.gzw.Reset(&w.scratch.gz)
		}
		if _, err := w.scratch.gzw.Write(b); err != nil {
			return nil, err
		}
		if err := w.scratch.gzw.Close(); err != nil {
			return nil, err
		}
		return w.scratch.gz.Bytes(), nil
	}
	return b, nil
}

func (w *pqWriter) dictEncoding() format.Encoding {
	if w.opts.WriterVersion == "V2" {
		return format.RLEDictionary
	}
	//lint:ignore SA1019 V1 files use PLAIN_DICTIONARY as parquet-mr's V1 writer does, for readers that predate RLE_DICTIONARY (docs/FORMAT.md)
	return format.PlainDictionary
}

// encodePage encodes and compresses one column's page into the spool.
func (w *pqWriter) encodePage(col int, p *rawPage) error {
	c := &w.chunks[col]
	l := c.leaf
	c.stats.nulls += int64(p.nulls)
	c.values += int64(p.n)
	enc := format.Plain
	val := w.scratch.val[:0]
	if c.dict != nil && !c.fallback && len(p.ends) > 0 {
		enc = w.dictEncoding()
		c.dictUsed = true
		val = appendDictIndices(val, c.dict, p, &c.stats, &w.scratch.idx)
		// As parquet-mr: once the dictionary outgrows a page, the rest of
		// the chunk is PLAIN, so unique values (ids) do not pay for it; and
		// a first page with mostly distinct values gives up at once.
		if c.dict.bytes() > w.opts.PageSize || (c.pages == 0 && c.dict.len() > (p.n-p.nulls)/2 && p.n > 1000) {
			c.fallback = true
		}
	} else {
		c.plain = true
		val = appendPlain(val, l, p, &c.stats)
	}
	w.scratch.val = val
	c.pages++
	var levels []byte
	if l.maxRep > 0 {
		levels = w.appendLevels(levels, p.reps, l.maxRep)
	}
	repLen := len(levels)
	if l.maxDef > 0 {
		levels = w.appendLevels(levels, p.defs, l.maxDef)
	}
	h := format.PageHeader{}
	var body []byte
	if w.opts.WriterVersion == "V2" {
		comp, err := w.compress(val)
		if err != nil {
			return err
		}
		body = append(append(w.scratch.page[:0], levels...), comp...)
		h.Type = format.DataPageV2
		h.UncompressedPageSize = int32(len(levels) + len(val))
		v2 := format.DataPageHeaderV2{NumValues: int32(p.n), NumNulls: int32(p.nulls), NumRows: int32(p.rows), Encoding: enc,
			DefinitionLevelsByteLength: int32(len(levels) - repLen), RepetitionLevelsByteLength: int32(repLen),
			Statistics: format.Statistics{NullCount: int64(p.nulls)}}
		v2.IsCompressed.Set(w.codec != format.Uncompressed)
		h.DataPageHeaderV2.Set(v2)
	} else {
		// V1: each level stream is prefixed by its 4-byte length, and the
		// whole page is compressed.
		raw := w.scratch.page[:0]
		if l.maxRep > 0 {
			raw = binary.LittleEndian.AppendUint32(raw, uint32(repLen))
			raw = append(raw, levels[:repLen]...)
		}
		if l.maxDef > 0 {
			raw = binary.LittleEndian.AppendUint32(raw, uint32(len(levels)-repLen))
			raw = append(raw, levels[repLen:]...)
		}
		raw = append(raw, val...)
		w.scratch.page = raw
		comp, err := w.compress(raw)
		if err != nil {
			return err
		}
		body = comp
		h.Type = format.DataPage
		h.UncompressedPageSize = int32(len(raw))
		h.DataPageHeader.Set(format.DataPageHeader{NumValues: int32(p.n), Encoding: enc,
			DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE,
			Statistics: format.Statistics{NullCount: int64(p.nulls)}})
	}
	h.CompressedPageSize = int32(len(body))
	return w.spoolPage(c, &h, body)
}

func (w *pqWriter) appendLevels(dst, levels []byte, max int) []byte {
	return appendLevels(dst, levels, max, &w.scratch.levels)
}

// spoolPage stores a page with its header.
func (w *pqWriter) spoolPage(c *chunk, h *format.PageHeader, body []byte) error {
	hdr, err := w.header(h)
	if err != nil {
		return err
	}
	seg, err := w.spool.add(hdr, body)
	if err != nil {
		return err
	}
	c.segs = append(c.segs, seg)
	c.rawSize += int64(len(hdr)) + int64(h.UncompressedPageSize)
	c.compSize += seg.n
	return nil
}

// header encodes a page header (valid until the next call).
func (w *pqWriter) header(h *format.PageHeader) ([]byte, error) {
	w.scratch.hdr.Reset()
	if w.scratch.enc == nil {
		w.scratch.enc = thrift.NewEncoder(w.proto.NewWriter(&w.scratch.hdr))
	}
	if err := w.scratch.enc.Encode(h); err != nil {
		return nil, fmt.Errorf("encode page header: %w", err)
	}
	return w.scratch.hdr.Bytes(), nil
}

// writeRowGroup writes every chunk of the row group (dictionary page
// first, then the spooled data pages) and records its metadata. rows is
// the number of rows it holds.
func (w *pqWriter) writeRowGroup(rows int64) error {
	rg := format.RowGroup{NumRows: rows, FileOffset: w.offset, Ordinal: int16(len(w.groups))}
	for i := range w.chunks {
		c := &w.chunks[i]
		start := w.offset
		md := format.ColumnMetaData{Type: c.leaf.ptype, PathInSchema: c.leaf.path, Codec: w.codec, NumValues: c.values}
		encs := []format.Encoding{format.RLE}
		dictRaw := int64(0)
		if c.dictUsed {
			n, err := w.writeDictPage(c.dict)
			if err != nil {
				return err
			}
			dictRaw = n
			md.DictionaryPageOffset = start
			encs = append(encs, w.dictEncoding(), format.Plain)
		}
		if c.plain && !c.dictUsed {
			encs = append(encs, format.Plain)
		}
		md.DataPageOffset = w.offset
		if err := w.w.Flush(); err != nil {
			return fmt.Errorf("write parquet: %w", err)
		}
		if err := w.spool.copy(w.w, c.segs); err != nil {
			return err
		}
		for _, g := range c.segs {
			w.offset += g.n
		}
		md.Encoding = encs
		md.TotalUncompressedSize = c.rawSize + dictRaw
		md.TotalCompressedSize = w.offset - start
		md.Statistics = c.stats.thrift(c.leaf)
		rg.Columns = append(rg.Columns, format.ColumnChunk{FileOffset: start, MetaData: md})
		rg.TotalByteSize += md.TotalUncompressedSize
		rg.TotalCompressedSize += md.TotalCompressedSize
		w.resetChunk(i)
	}
	w.groups = append(w.groups, rg)
	w.rows += rows
	return w.spool.reset()
}

// resetChunk starts a column's chunk of the next row group.
func (w *pqWriter) resetChunk(i int) {
	c := &w.chunks[i]
	d := c.dict
	if d != nil {
		d.reset()
	}
	st := c.stats
	*c = chunk{leaf: c.leaf, dict: d, segs: c.segs[:0]}
	c.stats.minB, c.stats.maxB = st.minB[:0], st.maxB[:0]
}

// close writes the footer. rows of the last row group must have been
// written.
func (w *pqWriter) close() error {
	defer w.spool.close()
	md := format.FileMetaData{Version: 1, Schema: w.s.elements(), NumRows: w.rows, RowGroups: w.groups,
		CreatedBy: "hydrant (record format conversion)"}
	for range w.chunks {
		md.ColumnOrders = append(md.ColumnOrders, format.ColumnOrder{Value: &format.TypeDefinedOrder{}})
	}
	b, err := thrift.Marshal(&w.proto, &md)
	if err != nil {
		return fmt.Errorf("encode parquet footer: %w", err)
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(b)))
	b = append(b, "PAR1"...)
	if err := w.write(b); err != nil {
		return err
	}
	if err := w.w.Flush(); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	return nil
}

// writeDictPage writes a chunk's dictionary page and returns its
// uncompressed size, header included.
func (w *pqWriter) writeDictPage(d *dictionary) (int64, error) {
	raw := appendDictPage(w.scratch.page[:0], d)
	w.scratch.page = raw
	body, err := w.compress(raw)
	if err != nil {
		return 0, err
	}
	//lint:ignore SA1019 V1 dictionary pages are PLAIN_DICTIONARY, as parquet-mr's V1 writer makes them (docs/FORMAT.md)
	enc := format.PlainDictionary
	if w.opts.WriterVersion == "V2" {
		enc = format.Plain
	}
	h := format.PageHeader{Type: format.DictionaryPage, UncompressedPageSize: int32(len(raw)), CompressedPageSize: int32(len(body))}
	h.DictionaryPageHeader.Set(format.DictionaryPageHeader{NumValues: int32(d.len()), Encoding: enc})
	hdr, err := w.header(&h)
	if err != nil {
		return 0, err
	}
	if err := w.write(hdr); err != nil {
		return 0, err
	}
	return int64(len(hdr) + len(raw)), w.write(body)
}
