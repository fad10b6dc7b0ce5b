package format

import (
	"bytes"
	"encoding/binary"
	"math"

	"github.com/parquet-go/parquet-go/format"
)

// rawPage is one column's values as the converter appends them, before
// encoding: levels one byte each, present values by physical kind.
type rawPage struct {
	defs, reps []byte
	ints       []int64   // BOOLEAN (0/1), INT32, INT64
	flts       []float64 // FLOAT, DOUBLE
	data       []byte    // BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY values, back to back
	ends       []int32   // ends[i] is where byte value i ends in data
	n          int       // level entries (values and nulls)
	rows       int       // entries that start a row (repetition level 0)
	nulls      int
}

// size estimates the page's encoded size.
func (p *rawPage) size() int {
	return len(p.defs) + len(p.reps) + 8*len(p.ints) + 8*len(p.flts) + len(p.data) + 4*len(p.ends)
}

func (p *rawPage) reset() {
	p.defs, p.reps, p.ints, p.flts, p.data, p.ends = p.defs[:0], p.reps[:0], p.ints[:0], p.flts[:0], p.data[:0], p.ends[:0]
	p.n, p.rows, p.nulls = 0, 0, 0
}

// pageMark is a page's counts, to roll a failed record back: every entry
// has a definition level (all columns are nullable) and, in repeated
// columns, a repetition level, and only one of the value slices is used, so
// the counts say every length.
type pageMark struct{ n, rows, nulls int }

func (p *rawPage) mark() pageMark { return pageMark{p.n, p.rows, p.nulls} }

func (p *rawPage) rollback(m pageMark) {
	present := m.n - m.nulls
	p.defs = p.defs[:m.n]
	p.reps = p.reps[:min(len(p.reps), m.n)]
	p.ints = p.ints[:min(len(p.ints), present)]
	p.flts = p.flts[:min(len(p.flts), present)]
	p.ends = p.ends[:min(len(p.ends), present)]
	p.data = p.data[:0]
	if len(p.ends) > 0 {
		p.data = p.data[:p.ends[len(p.ends)-1]]
	}
	p.n, p.rows, p.nulls = m.n, m.rows, m.nulls
}

func (p *rawPage) bytesAt(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = p.ends[i-1]
	}
	return p.data[start:p.ends[i]]
}

// chunk is one column's chunk of the row group being built: its encoded
// pages (in the spool), dictionary and statistics.
type chunk struct {
	leaf     *leafInfo
	dict     *dictionary // nil: PLAIN values
	fallback bool        // the dictionary outgrew its limit: PLAIN from now on
	dictUsed bool        // some page of this chunk is dictionary-encoded
	plain    bool        // some page is PLAIN-encoded
	segs     []segment
	pages    int
	values   int64
	rawSize  int64 // uncompressed page bytes, headers included
	compSize int64 // compressed page bytes, headers included
	stats    stats
}

// stats are a chunk's statistics: null count, and min and max when they
// can be written (ints, floats without NaN, short byte arrays).
type stats struct {
	nulls      int64
	has, valid bool
	minI, maxI int64
	minF, maxF float64
	minB, maxB []byte
}

// maxStatBytes bounds the byte-array values kept as min and max.
const maxStatBytes = 64

func (s *stats) int(v int64) {
	if !s.has {
		s.has, s.valid, s.minI, s.maxI = true, true, v, v
		return
	}
	s.minI, s.maxI = min(s.minI, v), max(s.maxI, v)
}

func (s *stats) float(v float64) {
	if math.IsNaN(v) {
		s.has, s.valid = true, false
		return
	}
	if !s.has {
		s.has, s.valid, s.minF, s.maxF = true, true, v, v
		return
	}
	s.minF, s.maxF = min(s.minF, v), max(s.maxF, v)
}

func (s *stats) bytes(v []byte) {
	if len(v) > maxStatBytes {
		s.has, s.valid = true, false
		return
	}
	if !s.has {
		s.has, s.valid = true, true
		s.minB, s.maxB = append(s.minB[:0], v...), append(s.maxB[:0], v...)
		return
	}
	if !s.valid {
		return
	}
	if bytes.Compare(v, s.minB) < 0 {
		s.minB = append(s.minB[:0], v...)
	}
	if bytes.Compare(v, s.maxB) > 0 {
		s.maxB = append(s.maxB[:0], v...)
	}
}

// thrift renders the statistics for the column's physical type.
func (s *stats) thrift(l *leafInfo) format.Statistics {
	st := format.Statistics{NullCount: s.nulls}
	if !s.has || !s.valid {
		return st
	}
	var lo, hi []byte
	switch l.ptype {
	case format.Boolean:
		lo, hi = []byte{byte(s.minI)}, []byte{byte(s.maxI)}
	case format.Int32:
		lo, hi = binary.LittleEndian.AppendUint32(nil, uint32(s.minI)), binary.LittleEndian.AppendUint32(nil, uint32(s.maxI))
	case format.Int64:
		lo, hi = binary.LittleEndian.AppendUint64(nil, uint64(s.minI)), binary.LittleEndian.AppendUint64(nil, uint64(s.maxI))
	case format.Float:
		lo = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(s.minF)))
		hi = binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(s.maxF)))
	case format.Double:
		lo, hi = binary.LittleEndian.AppendUint64(nil, math.Float64bits(s.minF)), binary.LittleEndian.AppendUint64(nil, math.Float64bits(s.maxF))
	case format.ByteArray:
		// Never nil: an empty string is a minimum (or maximum) like any
		// other, and a nil slice would leave the field out.
		lo, hi = append([]byte{}, s.minB...), append([]byte{}, s.maxB...)
	default:
		return st
	}
	st.MinValue, st.MaxValue = lo, hi
	return st
}

// appendPlain appends a page's present values in PLAIN encoding, and
// updates the statistics.
func appendPlain(dst []byte, l *leafInfo, p *rawPage, st *stats) []byte {
	switch l.ptype {
	case format.Boolean:
		var acc byte
		for i, v := range p.ints {
			acc |= byte(v) << (i % 8)
			if i%8 == 7 {
				dst, acc = append(dst, acc), 0
			}
			st.int(v)
		}
		if len(p.ints)%8 != 0 {
			dst = append(dst, acc)
		}
	case format.Int32:
		for _, v := range p.ints {
			dst = binary.LittleEndian.AppendUint32(dst, uint32(v))
			st.int(v)
		}
	case format.Int64:
		for _, v := range p.ints {
			dst = binary.LittleEndian.AppendUint64(dst, uint64(v))
			st.int(v)
		}
	case format.Float:
		for _, v := range p.flts {
			dst = binary.LittleEndian.AppendUint32(dst, math.Float32bits(float32(v)))
			st.float(v)
		}
	case format.Double:
		for _, v := range p.flts {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
			st.float(v)
		}
	case format.ByteArray:
		for i := range p.ends {
			v := p.bytesAt(i)
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v)))
			dst = append(dst, v...)
			st.bytes(v)
		}
	case format.FixedLenByteArray:
		dst = append(dst, p.data...)
	}
	return dst
}

// appendDictIndices appends a page's byte-array values as dictionary
// indices (bit width byte, then the hybrid encoding), adding new values to
// the dictionary; idx is scratch.
func appendDictIndices(dst []byte, d *dictionary, p *rawPage, st *stats, idx *[]uint32) []byte {
	ix := (*idx)[:0]
	for i := range p.ends {
		v := p.bytesAt(i)
		k, added := d.index(v)
		if added {
			st.bytes(v)
		}
		ix = append(ix, uint32(k))
	}
	*idx = ix
	w := max(bitWidth(d.len()-1), 1)
	dst = append(dst, byte(w))
	return appendHybrid(dst, ix, w)
}

// appendDictPage appends the PLAIN encoding of a dictionary's values.
func appendDictPage(dst []byte, d *dictionary) []byte {
	for i := range d.len() {
		v := d.value(i)
		dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v)))
		dst = append(dst, v...)
	}
	return dst
}
