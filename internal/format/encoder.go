package format

import (
	"fmt"
	"sync"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

// checkEvery is how many records are converted between checks of the
// pages' sizes.
const checkEvery = 16

// queuedPages bounds the pages waiting for the writer goroutine.
const queuedPages = 8

// encoder converts records on the caller's goroutine, straight into each
// column's current page, and hands full pages to a writer goroutine that
// encodes, compresses and writes them: JSON parsing and Parquet encoding use
// two cores. Memory is bounded by the pages being filled (each at most
// PageSize, and all together at most heldBudget), the queued pages, and
// the spool (a file when TempDir is set).
type encoder struct {
	p    *Parquet
	conv *converter
	w    *pqWriter

	work chan message
	done chan struct{}

	mu  sync.Mutex
	err error // the writer goroutine's first error

	rgRows  int64 // rows of the row group being built
	rgBytes int64 // raw bytes of its pages handed over so far
	since   int   // records since the last size check
	started bool
	closed  bool
}

// message is a page to encode, or the end of a row group.
type message struct {
	col  int
	page *rawPage
	rows int64 // > 0: write the row group, which holds rows rows
}

func newEncoder(p *Parquet, conv *converter, w *pqWriter) *encoder {
	e := &encoder{p: p, conv: conv, w: w, work: make(chan message, queuedPages), done: make(chan struct{})}
	for i := range conv.pages {
		conv.pages[i] = p.page(i)
	}
	return e
}

// start starts the writer goroutine, on the first page handed over: an
// encoder whose records all failed, which the delivery loop abandons
// without Close, leaves no goroutine behind.
func (e *encoder) start() {
	if !e.started {
		e.started = true
		go e.writeLoop()
	}
}

func (e *encoder) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

func (e *encoder) fail(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
}

// Encode converts one record (one or more JSON objects) into rows.
func (e *encoder) Encode(r deliver.Rec) error {
	if err := e.failed(); err != nil {
		return err
	}
	rows, err := e.conv.convert(r.Data)
	if err != nil {
		ce := &deliver.ConversionError{Code: CodeMalformedData, Message: err.Error(), Table: e.p.Table}
		if isParseError(err) {
			ce.Code = CodeParseError
		}
		e.p.Counters.failed(len(r.Data))
		return ce
	}
	e.p.Counters.succeeded(len(r.Data))
	e.rgRows += int64(rows)
	e.since++
	if e.since >= checkEvery || len(r.Data) > 64<<10 {
		e.since = 0
		e.check()
	}
	return nil
}

// heldBudget bounds the bytes held in pages being filled: a wide table's
// pages are handed over before they are full rather than all growing
// toward PageSize.
func (e *encoder) heldBudget() int { return max(8*e.p.opts.PageSize, 8<<20) }

// check hands over full pages, pages of a table whose pages together hold
// too much, and the row group when it has reached BlockSize.
func (e *encoder) check() {
	held := 0
	for i, p := range e.conv.pages {
		if n := p.size(); n >= e.p.opts.PageSize {
			e.handOver(i)
		} else {
			held += n
		}
	}
	if held > e.heldBudget() {
		for i, p := range e.conv.pages {
			if p.size() >= e.p.opts.PageSize/16 {
				e.handOver(i)
			}
		}
	}
	if e.rgBytes+int64(held) >= e.p.opts.BlockSize {
		e.endRowGroup()
	}
}

// handOver queues column i's page for the writer and starts a new one.
func (e *encoder) handOver(i int) {
	p := e.conv.pages[i]
	if p.n == 0 {
		return
	}
	e.rgBytes += int64(p.size())
	e.start()
	e.work <- message{col: i, page: p}
	e.conv.pages[i] = e.p.page(i)
}

// endRowGroup hands over every page and ends the row group.
func (e *encoder) endRowGroup() {
	if e.rgRows == 0 {
		return
	}
	for i := range e.conv.pages {
		e.handOver(i)
	}
	e.start()
	e.work <- message{rows: e.rgRows}
	e.rgRows, e.rgBytes = 0, 0
}

// writeLoop encodes pages and writes row groups until work is closed.
// After an error it only recycles pages; the error is reported by the next
// Encode or Close.
func (e *encoder) writeLoop() {
	defer close(e.done)
	for m := range e.work {
		if e.failed() == nil {
			if err := e.handle(m); err != nil {
				e.fail(err)
			}
		}
		if m.page != nil {
			e.p.recycle(m.col, m.page)
		}
	}
}

func (e *encoder) handle(m message) (err error) {
	defer recoverPanic(&err)
	if m.page != nil {
		return e.w.encodePage(m.col, m.page)
	}
	return e.w.writeRowGroup(m.rows)
}

// Close writes the last rows and the footer, and stops the writer
// goroutine. It must be called once rows were converted, also after an
// error.
func (e *encoder) Close() (err error) {
	if e.closed {
		return e.failed()
	}
	e.closed = true
	e.endRowGroup()
	if e.started {
		close(e.work)
		<-e.done
	}
	for i, p := range e.conv.pages {
		e.p.recycle(i, p)
	}
	if err := e.failed(); err != nil {
		e.w.spool.close()
		return err
	}
	defer recoverPanic(&err)
	if err := e.w.close(); err != nil {
		return err
	}
	// The next file of this format reuses the writer's buffers.
	select {
	case e.p.writers <- e.w:
	default:
	}
	return nil
}

// recoverPanic turns a panic while writing into an error that fails the
// object (and is retried) instead of the process.
func recoverPanic(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("parquet writer: %v", p)
	}
}
