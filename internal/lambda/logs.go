package lambda

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// LogEvent is one line of a function's log, shaped like a CloudWatch Logs
// event so the Logs API can serve it later.
type LogEvent struct {
	Timestamp     int64  `json:"timestamp"` // milliseconds since the epoch
	Message       string `json:"message"`
	LogStreamName string `json:"logStreamName"`
	RequestID     string `json:"requestId,omitempty"`
}

// logRing keeps a function's most recent log lines, up to max bytes of
// messages; the oldest lines go first.
type logRing struct {
	mu     sync.Mutex
	events []LogEvent
	start  int // events[start:] are live
	bytes  int
	max    int
}

func newLogRing(max int) *logRing { return &logRing{max: max} }

func (r *logRing) add(ev LogEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	r.bytes += len(ev.Message)
	for r.bytes > r.max && r.start < len(r.events)-1 {
		r.bytes -= len(r.events[r.start].Message)
		r.events[r.start] = LogEvent{}
		r.start++
	}
	if r.start > 1024 && r.start > len(r.events)/2 {
		r.events = append([]LogEvent(nil), r.events[r.start:]...)
		r.start = 0
	}
}

// snapshot returns the kept lines, oldest first.
func (r *logRing) snapshot() []LogEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]LogEvent(nil), r.events[r.start:]...)
}

// maxLogLine bounds a line that never ends (output without newlines).
const maxLogLine = 256 << 10

// tailSize is how much of an invocation's log LogType Tail returns.
const tailSize = 4 << 10

// logPipe carries an instance's stdout and stderr into the function's log.
// hydrant keeps the pipe's write end open and writes its own control
// records into the same pipe (a random token, a command and a request ID,
// one line, written atomically): because the pipe is one ordered stream,
// everything the function printed before it answered comes before the
// record hydrant writes after the answer. That is how START and END frame
// exactly an invocation's output without timing guesses.
type logPipe struct {
	r, w   *os.File
	token  []byte
	fn     string
	stream string
	ring   *logRing
	log    *slog.Logger
	group  string  // the function's log group, for sink
	sink   LogSink // nil: lines stay in the ring only

	mu     sync.Mutex
	expect map[string]*invocation // by record ("start <id>"), written but not yet read
	cur    *invocation            // the invocation whose output is flowing
	done   chan struct{}          // closed when the reader has finished
}

func newLogPipe(fn, stream string, ring *logRing, log *slog.Logger) (*logPipe, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("log pipe: %w", err)
	}
	var t [12]byte
	_, _ = rand.Read(t[:])
	return &logPipe{
		r: r, w: w, token: []byte("\x00hydrant-" + hex.EncodeToString(t[:]) + " "),
		fn: fn, stream: stream, ring: ring, log: log,
		expect: map[string]*invocation{}, done: make(chan struct{}),
	}, nil
}

// begin marks the start of inv's output: its START line is logged at this
// point of the stream.
func (p *logPipe) begin(inv *invocation) {
	p.mu.Lock()
	p.expect["start "+inv.id] = inv
	p.mu.Unlock()
	_ = p.control("start", inv.id)
}

// end logs inv's closing lines (END, REPORT and any error line) after
// everything the function printed so far, and waits until they are in the
// log, or a moment at most.
func (p *logPipe) end(inv *invocation, lines []string) {
	p.mu.Lock()
	inv.endLines = lines
	p.expect["end "+inv.id] = inv
	p.mu.Unlock()
	if p.control("end", inv.id) != nil {
		return
	}
	select {
	case <-inv.logged:
	case <-p.done:
	case <-time.After(2 * time.Second):
	}
}

func (p *logPipe) control(cmd, id string) error {
	rec := make([]byte, 0, len(p.token)+len(cmd)+len(id)+2)
	rec = append(append(append(append(append(rec, p.token...), cmd...), ' '), id...), '\n')
	_, err := p.w.Write(rec)
	return err
}

// closeWrite closes hydrant's write end; the reader ends once the
// function's processes have closed theirs.
func (p *logPipe) closeWrite() { _ = p.w.Close() }

// run reads the pipe until EOF, splitting it into lines and control
// records.
func (p *logPipe) run() {
	defer close(p.done)
	defer p.r.Close()
	buf := make([]byte, 0, 64<<10)
	chunk := make([]byte, 32<<10)
	for {
		n, err := p.r.Read(chunk)
		buf = p.consume(append(buf, chunk[:n]...))
		if err != nil {
			if len(buf) > 0 {
				p.emit(string(buf))
			}
			if err != io.EOF {
				p.log.Debug("function log pipe", "function", p.fn, "err", err)
			}
			return
		}
	}
}

// consume handles every complete line and control record in buf and
// returns what is left (a partial line), moved to the front.
func (p *logPipe) consume(buf []byte) []byte {
	for {
		i := bytes.Index(buf, p.token)
		if i < 0 {
			break
		}
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			// The record is not complete yet; lines before it are
			// (a partial line is cut by the record).
			p.lines(buf[:i], true)
			return append(buf[:0], buf[i:]...)
		}
		p.lines(buf[:i], true)
		p.handle(string(buf[i+len(p.token) : i+j]))
		buf = buf[i+j+1:]
	}
	if k := bytes.LastIndexByte(buf, '\n'); k >= 0 {
		p.lines(buf[:k+1], false)
		buf = buf[k+1:]
	}
	if len(buf) > maxLogLine {
		p.emit(string(buf))
		buf = buf[:0]
	}
	return append(make([]byte, 0, 64<<10), buf...)
}

// lines emits each line of b; with partial, a last line without a
// newline is emitted too.
func (p *logPipe) lines(b []byte, partial bool) {
	for len(b) > 0 {
		k := bytes.IndexByte(b, '\n')
		if k < 0 {
			if partial {
				p.emit(string(b))
			}
			return
		}
		p.emit(string(bytes.TrimSuffix(b[:k], []byte("\r"))))
		b = b[k+1:]
	}
}

func (p *logPipe) handle(rec string) {
	cmd, id, _ := strings.Cut(rec, " ")
	p.mu.Lock()
	inv := p.expect[rec]
	delete(p.expect, rec)
	p.mu.Unlock()
	if inv == nil {
		return
	}
	switch cmd {
	case "start":
		p.cur = inv
		p.emit("START RequestId: " + id + " Version: " + LatestVersion)
	case "end":
		p.cur = inv
		for _, l := range inv.endLines {
			p.emit(l)
		}
		p.cur = nil
		close(inv.logged)
	}
}

// emit records one line: in the function's ring, in the current
// invocation's tail, in the log sink (CloudWatch Logs) and in hydrant's
// own log at debug level.
func (p *logPipe) emit(line string) {
	ev := LogEvent{Timestamp: time.Now().UnixMilli(), Message: line, LogStreamName: p.stream}
	if inv := p.cur; inv != nil {
		ev.RequestID = inv.id
		inv.addTail(line)
	}
	p.ring.add(ev)
	if p.sink != nil {
		p.sink.FunctionLog(p.group, p.stream, ev.Timestamp, line)
	}
	p.log.Debug("function log", "function", p.fn, "request_id", ev.RequestID, "line", line)
}
