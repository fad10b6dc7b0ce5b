package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// Baseline is the server hydrant's throughput is compared with: what a bare
// PutRecordBatch handler costs when it does none of hydrant's real work (no
// validation, no stream lookup, no delivery) but is still durable. It
// decodes the body with encoding/json (reflection, one allocation per
// record), frames the records into one file through a group-commit writer
// (one goroutine; everything queued goes out in one write and one
// fdatasync before any of it is acknowledged) and answers with
// encoding/json.
type Baseline struct {
	f    *os.File
	reqs chan *baselineAppend
	done chan struct{}
	log  *slog.Logger
}

// baselineAppend is one request's records waiting for the writer.
type baselineAppend struct {
	data  []byte // length-prefixed records
	n     uint64 // record count
	first uint64 // set by the writer
	err   error
	done  chan struct{}
}

// putRecordBatchInput is the request as a typical handler declares it.
type putRecordBatchInput struct {
	DeliveryStreamName string
	Records            []struct{ Data []byte }
}

type putRecordBatchOutput struct {
	FailedPutCount   int
	Encrypted        bool
	RequestResponses []putRecordBatchEntry
}

type putRecordBatchEntry struct{ RecordId string }

// OpenBaseline creates dir/baseline.log and starts the writer.
func OpenBaseline(dir string, log *slog.Logger) (*Baseline, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("baseline: create dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "baseline.log"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("baseline: open log: %w", err)
	}
	b := &Baseline{f: f, reqs: make(chan *baselineAppend, 1024), done: make(chan struct{}), log: log}
	go b.run()
	return b, nil
}

// run is the group-commit writer.
func (b *Baseline) run() {
	defer close(b.done)
	var (
		group []*baselineAppend
		buf   []byte
		next  uint64 = 1
		fd           = int(b.f.Fd())
	)
	for r := range b.reqs {
		group = append(group[:0], r)
	more:
		for {
			select {
			case r, ok := <-b.reqs:
				if !ok {
					break more
				}
				group = append(group, r)
			default:
				break more
			}
		}
		buf = buf[:0]
		for _, g := range group {
			g.first = next
			next += g.n
			buf = append(buf, g.data...)
		}
		_, err := b.f.Write(buf)
		if err == nil {
			err = unix.Fdatasync(fd)
		}
		if err != nil {
			err = fmt.Errorf("baseline: write log: %w", err)
		}
		for _, g := range group {
			g.err = err
			close(g.done)
		}
		clear(group)
	}
}

// ServeHTTP serves PutRecordBatch (any POST) and GET /_hydrant/health.
func (b *Baseline) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/_hydrant/health" {
		_, _ = w.Write([]byte(`{"status":"ok"}`))
		return
	}
	var in putRecordBatchInput
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeBaselineError(w, "SerializationException", err.Error())
		return
	}
	if len(in.Records) == 0 {
		writeBaselineError(w, "ValidationException", "no records")
		return
	}
	size := 0
	for _, rec := range in.Records {
		size += 4 + len(rec.Data)
	}
	req := &baselineAppend{data: make([]byte, 0, size), n: uint64(len(in.Records)), done: make(chan struct{})}
	for _, rec := range in.Records {
		req.data = binary.LittleEndian.AppendUint32(req.data, uint32(len(rec.Data)))
		req.data = append(req.data, rec.Data...)
	}
	b.reqs <- req
	<-req.done
	if req.err != nil {
		b.log.Error("baseline append", "err", req.err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	out := putRecordBatchOutput{RequestResponses: make([]putRecordBatchEntry, len(in.Records))}
	for i := range out.RequestResponses {
		out.RequestResponses[i].RecordId = baselineRecordID(req.first + uint64(i))
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

// baselineRecordID makes a 48-hex-character id like hydrant's (one string
// allocation per record, as a handler building ids would have).
func baselineRecordID(seq uint64) string {
	const digits = "0123456789abcdef"
	var id [48]byte
	for i, v := range [3]uint64{0, seq, seq * 0x9e3779b97f4a7c15} {
		for j := 15; j >= 0; j-- {
			id[i*16+j] = digits[v&15]
			v >>= 4
		}
	}
	return string(id[:])
}

func writeBaselineError(w http.ResponseWriter, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
}

// Close stops the writer and closes the file. The caller must have stopped
// serving requests first.
func (b *Baseline) Close() error {
	close(b.reqs)
	<-b.done
	if err := b.f.Close(); err != nil {
		return fmt.Errorf("baseline: close log: %w", err)
	}
	return nil
}

// ServeBaseline serves the baseline on listen with its log in dir until
// ctx ends (the hidden `hydrant bench-baseline-server` command).
func ServeBaseline(ctx context.Context, listen, dir string, log *slog.Logger) error {
	b, err := OpenBaseline(dir, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		_ = b.Close()
		return fmt.Errorf("baseline: listen: %w", err)
	}
	srv := &http.Server{Handler: b, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
		<-errc
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(err, b.Close())
}
