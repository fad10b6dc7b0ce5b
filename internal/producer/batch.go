package producer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Limits of PutRecordBatch (the same hydrant and AWS enforce).
const (
	// MaxBatchRecords is the most records one PutRecordBatch may carry.
	MaxBatchRecords = 500
	// MaxBatchBytes is the most data, before base64, one PutRecordBatch may
	// carry.
	MaxBatchBytes = 4 << 20
	// MaxRecordBytes is the largest record, before base64 (1,000 KiB).
	MaxRecordBytes = 1_024_000
)

// batch is a set of records that fits one PutRecordBatch. Records live in
// one buffer, as offsets, so that a batch costs two allocations however
// many records it holds.
type batch struct {
	data []byte
	ends []int // record i is data[ends[i-1]:ends[i]]
	// src is how many input bytes the batch stands for (its lines, and the
	// blank or oversized lines skipped before them), for progress.
	src int64
}

func (b *batch) len() int { return len(b.ends) }

// record returns record i; valid once the batch is complete.
func (b *batch) record(i int) []byte {
	start := 0
	if i > 0 {
		start = b.ends[i-1]
	}
	return b.data[start:b.ends[i]:b.ends[i]]
}

// batcher cuts records into batches within the PutRecordBatch limits.
type batcher struct {
	maxRecords, maxBytes int
	cur                  *batch
}

func newBatcher() *batcher {
	return &batcher{maxRecords: MaxBatchRecords, maxBytes: MaxBatchBytes}
}

// add appends a copy of rec (at most MaxRecordBytes) and src input bytes.
// When rec does not fit the current batch, that batch is returned complete
// and rec starts the next one.
func (b *batcher) add(rec []byte, src int64) (full *batch) {
	if b.cur != nil && (b.cur.len() == b.maxRecords || len(b.cur.data)+len(rec) > b.maxBytes) {
		full, b.cur = b.cur, nil
	}
	if b.cur == nil {
		b.cur = &batch{}
	}
	b.cur.data = append(b.cur.data, rec...)
	b.cur.ends = append(b.cur.ends, len(b.cur.data))
	b.cur.src += src
	return full
}

// flush returns the batch being filled, or nil when it has no records.
func (b *batcher) flush() *batch {
	full := b.cur
	b.cur = nil
	return full
}

// lineReader splits an input into records, one per line.
type lineReader struct {
	r           *bufio.Reader
	keepNewline bool
	line        int64  // number of the line last read, from 1
	long        []byte // a line longer than the bufio buffer, being gathered
}

// errOversized reports a line over MaxRecordBytes; it was skipped.
type errOversized struct {
	line int64
	size int64
}

func (e *errOversized) Error() string {
	return fmt.Sprintf("line %d: record of %d bytes exceeds the limit of %d bytes", e.line, e.size, MaxRecordBytes)
}

func newLineReader(r io.Reader, keepNewline bool) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 256<<10), keepNewline: keepNewline}
}

// next returns the next record and the input bytes it consumed. Blank lines
// are skipped (their bytes are counted in the next record's src). The record
// is only valid until the next call. A final line without a newline gets one
// when newlines are kept, so that every record ends the same way. At the end
// of the input it returns io.EOF with the bytes of trailing blank lines; a
// line over MaxRecordBytes gives *errOversized, and reading may go on.
func (l *lineReader) next() (rec []byte, src int64, err error) {
	for {
		line, n, err := l.readLine()
		src += n
		if err != nil {
			return nil, src, err
		}
		content := bytes.TrimSuffix(line, []byte("\n"))
		if len(content) == 0 {
			continue
		}
		if l.keepNewline {
			if len(line) == len(content) { // last line, no newline
				line = append(line, '\n')
			}
			return line, src, nil
		}
		return content, src, nil
	}
}

// readLine reads one line with its newline. A line whose record would be
// over MaxRecordBytes is read to its end but not kept.
func (l *lineReader) readLine() (line []byte, n int64, err error) {
	l.long = l.long[:0]
	for {
		chunk, err := l.r.ReadSlice('\n')
		n += int64(len(chunk))
		// Keep at most a full record and its newline; beyond that the line
		// is oversized whatever follows.
		if len(l.long)+len(chunk) <= MaxRecordBytes+1 {
			l.long = append(l.long, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && (err != io.EOF || n == 0) {
			return nil, n, err
		}
		l.line++
		content := n
		if err == nil {
			content-- // ends with the newline
		}
		size := content
		if l.keepNewline {
			size++
		}
		if content > 0 && size > MaxRecordBytes {
			return nil, n, &errOversized{line: l.line, size: size}
		}
		return l.long, n, nil
	}
}
