// Package jslog is the replicated buffer.Log of a hydrant cluster: each log
// is a NATS JetStream stream (file storage, R replicas), one message per
// appended batch, and its committed cursor and delivery plan live in a
// JetStream key-value bucket, guarded by the delivery lease's revision
// (Fence). Every node appends to every stream's log; the node that holds a
// stream's lease indexes the log, cuts, reads and commits it.
//
// Sequence numbers: the records of the message with JetStream sequence m
// are numbered m<<20, m<<20+1, …, so that Append knows its records' numbers
// from the publish acknowledgement alone, whichever node appends. A batch
// too large for one message is published as an atomic batch of messages
// with consecutive sequences m, m+1, …, and numbered under m throughout.
package jslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/natsd"
)

// Options configure the logs of a Logs.
type Options struct {
	// Replicas is each log's replication factor (JetStream's R); default 1.
	Replicas int
	// MaxBytes caps each log's stored bytes (the JetStream stream's
	// MaxBytes, with DiscardNew: appends past it fail with buffer.ErrFull,
	// nothing stored is ever dropped to make room). Zero means no cap.
	MaxBytes int64
	// MaxMessageBytes is the largest message the log publishes; larger
	// batches are split into an atomic batch of messages. Default: the
	// server's max_payload less room for headers.
	MaxMessageBytes int
	// CacheBytes bounds the payloads the delivering node keeps in memory
	// after indexing them, so that delivery reads them without a round
	// trip; past it messages are fetched. Default 64 MiB per log.
	CacheBytes int64
	// Ready, when set, is asked before each Append and between a failed
	// publish's retries: an error means the log cannot reach a quorum now
	// (a node cut off from the others), and Append fails at once with
	// buffer.ErrFull wrapping it rather than waiting out its retries, so
	// producers go elsewhere.
	Ready func() error
	// Logger receives the logs' reports; nil discards them.
	Logger *slog.Logger
	// Now is the clock of arrival times; default time.Now.
	Now func() time.Time
}

const (
	streamPrefix  = "HYDLOG-"
	subjectPrefix = "hydrant.log."
	// CursorBucket is the key-value bucket of every log's cursor.
	CursorBucket = "hydrant_cursors"
	// headerRoom is what a message's headers may take beside its payload.
	headerRoom = 4 << 10
	// dupWindow is how long JetStream remembers message IDs, so that an
	// Append retried after a lost acknowledgement stores its batch once.
	dupWindow = 30 * time.Second
)

// Logs opens, lists and deletes JetStream logs over one connection.
type Logs struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	cursors jetstream.KeyValue
	opts    Options
	log     *slog.Logger
}

// New prepares the cursor bucket and returns the factory. The connection
// stays the caller's.
func New(ctx context.Context, nc *nats.Conn, o Options) (*Logs, error) {
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CacheBytes == 0 {
		o.CacheBytes = 64 << 20
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = int(nc.MaxPayload()) - headerRoom
	}
	if o.MaxMessageBytes < 1024 {
		return nil, fmt.Errorf("jslog: the NATS server's max_payload (%d bytes) is too small", nc.MaxPayload())
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jslog: %w", err)
	}
	kv, err := natsd.Ensure(ctx, func(ctx context.Context) (jetstream.KeyValue, error) { return js.KeyValue(ctx, CursorBucket) },
		func(ctx context.Context) (jetstream.KeyValue, error) {
			return js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
				Bucket:      CursorBucket,
				Description: "hydrant: each log's delivered cursor and delivery plan",
				History:     1,
				Storage:     jetstream.FileStorage,
				Replicas:    o.Replicas,
			})
		})
	if err != nil {
		return nil, fmt.Errorf("jslog: cursor bucket: %w", err)
	}
	return &Logs{nc: nc, js: js, cursors: kv, opts: o, log: o.Logger}, nil
}

// StreamName is the JetStream stream that holds a delivery stream's log of
// one kind.
func StreamName(stream, kind string) string { return streamPrefix + natsd.Token(logName(stream, kind)) }

// logName is the name of a delivery stream's log of one kind ("log", the
// records; others such as a partition spool): "<stream>/<kind>".
func logName(stream, kind string) string { return stream + "/" + kind }

// Open opens (creating if needed) the log of one kind of a delivery stream
// (a stream has its record log, "log", and may have others). Its
// JetStream stream's limits follow the Options.
func (ls *Logs) Open(ctx context.Context, stream, kind string) (buffer.Log, error) {
	return ls.open(ctx, logName(stream, kind))
}

func (ls *Logs) open(ctx context.Context, name string) (*Log, error) {
	if name == "" {
		return nil, errors.New("jslog: empty log name")
	}
	enc := natsd.Token(name)
	maxBytes := ls.opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = -1
	}
	cfg := jetstream.StreamConfig{
		Name:        streamPrefix + enc,
		Description: "hydrant record log " + name,
		Subjects:    []string{subjectPrefix + enc},
		Retention:   jetstream.LimitsPolicy,
		// Nothing acknowledged is ever dropped by a limit: past MaxBytes
		// new appends are refused ("Slow down."), old records stay until
		// they are delivered and purged.
		Discard:            jetstream.DiscardNew,
		MaxBytes:           maxBytes,
		MaxMsgs:            -1,
		MaxAge:             0,
		Storage:            jetstream.FileStorage,
		Replicas:           ls.opts.Replicas,
		Duplicates:         dupWindow,
		AllowAtomicPublish: true,
		// Reads go to the leader, never to a replica that may lag.
		AllowDirect: false,
	}
	st, err := natsd.Ensure(ctx, func(ctx context.Context) (jetstream.Stream, error) { return ls.js.Stream(ctx, cfg.Name) },
		func(ctx context.Context) (jetstream.Stream, error) { return ls.js.CreateStream(ctx, cfg) })
	if err == nil && st.CachedInfo().Config.MaxBytes != cfg.MaxBytes {
		// The cap changed (--max-stream-buffer-bytes): it applies from now.
		st, err = ls.js.UpdateStream(ctx, cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("jslog: open %s: %w", name, err)
	}
	l := &Log{
		ls:      ls,
		name:    name,
		key:     enc,
		subject: subjectPrefix + enc,
		stream:  st,
		log:     ls.log.With("log", name),
		notify:  make(chan struct{}),
		purge:   make(chan uint64, 1),
		done:    make(chan struct{}),
		work:    make(chan struct{}, 1),
	}
	if err := l.loadCursor(ctx); err != nil {
		return nil, err
	}
	go l.purger()
	for range publishers {
		go l.publisher()
	}
	return l, nil
}

// Delete removes every log of a delivery stream, records and cursors. The
// logs must be closed on this node; other nodes' handles fail from then on
// (the registry deletes a stream's logs after stopping its delivery).
func (ls *Logs) Delete(ctx context.Context, stream string) error {
	names, err := ls.names(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n, stream+"/") && !strings.Contains(n[len(stream)+1:], "/") {
			if err := ls.deleteLog(ctx, n); err != nil {
				return err
			}
		}
	}
	return nil
}

func (ls *Logs) deleteLog(ctx context.Context, name string) error {
	enc := natsd.Token(name)
	if err := ls.js.DeleteStream(ctx, streamPrefix+enc); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("jslog: delete %s: %w", name, err)
	}
	if err := ls.cursors.Purge(ctx, enc); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("jslog: delete cursor of %s: %w", name, err)
	}
	return nil
}

// List returns the delivery streams that have logs.
func (ls *Logs) List(ctx context.Context) ([]string, error) {
	names, err := ls.names(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if i := strings.LastIndexByte(n, '/'); i > 0 && !seen[n[:i]] {
			seen[n[:i]] = true
			out = append(out, n[:i])
		}
	}
	return out, nil
}

// names returns the names of every log in the JetStream account.
func (ls *Logs) names(ctx context.Context) ([]string, error) {
	var out []string
	names := ls.js.StreamNames(ctx)
	for n := range names.Name() {
		if enc, ok := strings.CutPrefix(n, streamPrefix); ok {
			if name, err := natsd.FromToken(enc); err == nil {
				out = append(out, name)
			}
		}
	}
	if err := names.Err(); err != nil {
		return nil, fmt.Errorf("jslog: list logs: %w", err)
	}
	return out, nil
}

// isFull reports whether a publish error means the log (or the account's
// storage) refuses new data: back-pressure, never loss.
func isFull(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch apiErr.ErrorCode {
	case 10002, 10023, 10028, 10047: // account, resources, memory, storage
		return true
	case 10077: // store failed: the limits of a DiscardNew stream
		return strings.Contains(apiErr.Description, "maximum")
	}
	return false
}

var _ buffer.Log = (*Log)(nil)
