package buffer

import "encoding/binary"

// Batch is a set of records laid out exactly as the log frames them on disk
// (a 4-byte little-endian length before each record's data), so that the API
// decoder writes each record once, straight from base64, and the log appends
// the bytes without copying them record by record.
//
// The zero Batch is empty and ready to use. A Batch may be reused after Reset.
type Batch struct {
	buf   []byte
	count int
	data  int64
}

// recordHeader is the size of the length that precedes each record.
const recordHeader = 4

// Reset empties the batch and keeps its memory.
func (b *Batch) Reset() {
	b.buf = b.buf[:0]
	b.count = 0
	b.data = 0
}

// Grow makes room for n more bytes of record data and headers.
func (b *Batch) Grow(n int) {
	if cap(b.buf)-len(b.buf) < n {
		nb := make([]byte, len(b.buf), 2*cap(b.buf)+n)
		copy(nb, b.buf)
		b.buf = nb
	}
}

// Add appends one record, copying data.
func (b *Batch) Add(data []byte) {
	b.Grow(recordHeader + len(data))
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(data)))
	b.buf = append(b.buf, data...)
	b.count++
	b.data += int64(len(data))
}

// AddWith appends one record of at most max bytes whose data is written by
// fill into the returned space; fill returns how many bytes it wrote. It is
// how the API decoder decodes base64 straight into the batch.
func (b *Batch) AddWith(max int, fill func(dst []byte) (int, error)) error {
	b.Grow(recordHeader + max)
	start := len(b.buf)
	dst := b.buf[start+recordHeader : start+recordHeader+max]
	n, err := fill(dst)
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(b.buf[start:start+recordHeader], uint32(n))
	b.buf = b.buf[:start+recordHeader+n]
	b.count++
	b.data += int64(n)
	return nil
}

// Len returns the number of records in the batch.
func (b *Batch) Len() int { return b.count }

// DataBytes returns the total size of the records' data.
func (b *Batch) DataBytes() int64 { return b.data }

// Bytes returns the framed records: for each record a 4-byte little-endian
// length followed by the data. The log writes this verbatim.
func (b *Batch) Bytes() []byte { return b.buf }

// Each calls fn with each record's data in order; it is for tests and for
// logs that store records individually.
func (b *Batch) Each(fn func(i int, data []byte)) {
	buf := b.buf
	for i := 0; len(buf) >= recordHeader; i++ {
		n := int(binary.LittleEndian.Uint32(buf))
		fn(i, buf[recordHeader:recordHeader+n])
		buf = buf[recordHeader+n:]
	}
}
