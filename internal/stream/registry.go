// Package stream is hydrant's delivery-stream registry: it persists every
// stream's configuration in the data directory, owns each stream's durable
// log and delivery loop, and implements firehose.Backend.
package stream

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/state"
)

// Options configure a Registry.
type Options struct {
	// Dir is <data-dir>/streams.
	Dir       string
	Region    string
	AccountID string
	Store     objstore.Store
	Logger    *slog.Logger
	// State keeps each stream's configuration and status under
	// "streams/ds-<name>/stream.json"; nil means the files of that name in
	// the data dir (Dir's parent), as hydrant always kept them.
	State state.Store
	// Logs opens and deletes the streams' logs; nil means segment logs
	// in Dir (OpenLog opens each).
	Logs Logs
	// OpenLog opens a stream's log in dir for the default Logs; nil means
	// the local segment log.
	OpenLog func(dir string) (buffer.Log, error)
	// Clustered makes the registry one node of a cluster: streams created,
	// changed and deleted on other nodes (State is shared) are followed,
	// reads go to State, and a stream is delivered only while this node
	// holds its lease (StartDelivery, StopDelivery).
	Clustered bool
	// OpenPartitionLog opens the partition log of a dynamically partitioned
	// stream (its records buffered by partition) in dir; nil means a local
	// segment log. The default has no caps of its own: what it holds was
	// accepted within MaxStreamBytes and Budget already, and a cap there
	// could stop the records that fill the stream log from ever leaving it.
	OpenPartitionLog func(dir string) (buffer.Log, error)
	// CreateDelay keeps new streams in CREATING for this long, as AWS does
	// for a few seconds; zero makes them ACTIVE as soon as their log is open.
	CreateDelay time.Duration
	// Observer receives delivery events (metrics); may be nil.
	Observer deliver.Observer
	// Stages builds each stream's processing pipeline and record format
	// (processors, format conversion); nil delivers records as they are.
	Stages deliver.Stages
	// ErrorLog receives the CloudWatch Logs error records of streams with
	// CloudWatchLoggingOptions enabled; nil writes none.
	ErrorLog deliver.ErrorLog
	// MaxPartitions is the active-partition limit of dynamically
	// partitioned streams (--max-partitions); zero means Firehose's 500.
	MaxPartitions int
	// MaxStreamBytes caps each stream's buffered bytes on disk
	// (buffer.Options.MaxBytes); 0 means no cap. Budget is the cap shared
	// by every stream (--max-buffer-bytes); nil means none. Past either,
	// Put fails with buffer.ErrFull. Both apply to the default OpenLog only.
	MaxStreamBytes int64
	Budget         *buffer.Budget
	// Deleted, if set, is called with a stream's name once DeleteDeliveryStream
	// has removed it, so that what is kept per stream outside the registry
	// (the processing pipelines of Stages) can be dropped.
	Deleted func(name string)
}

// Registry implements firehose.Backend.
type Registry struct {
	opts   Options
	log    *slog.Logger
	state  state.Store
	logs   Logs
	prefix string // state keys: "<prefix><name>/stream.json"
	stop   context.CancelFunc
	done   chan struct{}

	mu      sync.RWMutex
	streams map[string]*entry
}

type entry struct {
	mu      sync.Mutex // serializes Update/Delete of this stream
	info    firehose.StreamInfo
	rev     uint64 // State revision of info
	log     buffer.Log
	parts   buffer.Log // the partition log; nil without dynamic partitioning
	deliver *deliver.Deliverer
	dir     string
	gone    bool // deleted: no longer in the registry
	// token is the delivery lease's fence token while this node delivers
	// the stream in a cluster (the partition log is fenced with it too).
	token uint64
}

var _ firehose.Backend = (*Registry)(nil)

const stateFile = "stream.json"

// Open loads every stream kept in State, recovers its log and, on one
// node, starts its delivery loop; streams left CREATING by a crash finish
// their creation and streams left DELETING finish their deletion. Logs
// without a stream (a create or delete a crash interrupted) are removed.
func Open(opts Options) (*Registry, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OpenLog == nil {
		lg := opts.Logger
		opts.OpenLog = func(dir string) (buffer.Log, error) {
			return buffer.Open(dir, buffer.Options{Logger: lg, MaxBytes: opts.MaxStreamBytes, Budget: opts.Budget})
		}
	}
	if opts.OpenPartitionLog == nil {
		lg := opts.Logger
		opts.OpenPartitionLog = func(dir string) (buffer.Log, error) {
			return buffer.Open(dir, buffer.Options{Logger: lg})
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("open streams dir: %w", err)
	}
	r := &Registry{opts: opts, log: opts.Logger, state: opts.State, logs: opts.Logs, streams: map[string]*entry{},
		prefix: filepath.Base(opts.Dir) + "/" + dirPrefix, done: make(chan struct{})}
	if r.state == nil {
		st, err := state.OpenLocal(filepath.Dir(opts.Dir), filepath.Base(opts.Dir)+"/*/"+stateFile)
		if err != nil {
			return nil, err
		}
		r.state = st
	}
	if r.logs == nil {
		r.logs = LocalLogs{Dir: opts.Dir, OpenDir: opts.OpenLog}
	}
	ctx := context.Background()
	// Logs are listed before the states: a create writes its state before
	// it opens its log, so no log listed here belongs to a stream whose
	// state the list below misses.
	withLogs, err := r.logs.List(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := r.state.List(ctx, r.prefix)
	if err != nil {
		return nil, fmt.Errorf("read stream states: %w", err)
	}
	known := map[string]bool{}
	for _, se := range entries {
		name, ok := r.nameOf(se.Key)
		if !ok {
			continue
		}
		known[name] = true
		var info firehose.StreamInfo
		if err := json.Unmarshal(se.Value, &info); err != nil {
			return nil, fmt.Errorf("parse %s: %w", se.Key, err)
		}
		e := &entry{info: info, rev: se.Revision, dir: streamDir(opts.Dir, info.Name)}
		if info.Status == firehose.StatusDeleting {
			if err := r.remove(ctx, e); err != nil {
				return nil, err
			}
			continue
		}
		if err := r.activate(e, !opts.Clustered); err != nil {
			return nil, err
		}
		r.streams[info.Name] = e
	}
	for _, name := range withLogs {
		if !known[name] {
			if opts.Clustered {
				// The shared state a restarting node lists may not have
				// caught up yet (its replica of the bucket is behind):
				// removing a replicated log on that view lost every
				// record of a live stream. A delete removes the logs
				// itself, on the node that deletes.
				r.log.Warn("a log without stream state is kept: the state may not have caught up", "stream", name)
				continue
			}
			// A create that crashed before its state was written, or a
			// delete after it: nothing was acknowledged for it.
			r.log.Warn("removing the logs of a stream without state", "stream", name)
			if err := r.logs.Delete(ctx, name); err != nil {
				return nil, err
			}
		}
	}
	if opts.Clustered {
		wctx, cancel := context.WithCancel(context.Background())
		r.stop = cancel
		if err := r.follow(wctx); err != nil {
			cancel()
			r.Close()
			return nil, err
		}
	} else {
		close(r.done)
	}
	r.log.Info("streams loaded", "count", len(r.streams))
	return r, nil
}

// dirPrefix keeps stream directories from ever being "." or "..": stream
// names may consist of dots only.
const dirPrefix = "ds-"

func streamDir(root, name string) string { return filepath.Join(root, dirPrefix+name) }

// key is the State key of a stream's configuration.
func (r *Registry) key(name string) string { return r.prefix + name + "/" + stateFile }

// nameOf returns the stream a State key belongs to.
func (r *Registry) nameOf(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, r.prefix)
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/"+stateFile)
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// activate opens the stream's log and marks it ACTIVE; with deliver, it
// also starts the delivery loop. The caller holds e.mu or owns e alone.
func (r *Registry) activate(e *entry, deliver bool) error {
	if e.log == nil {
		lg, err := r.logs.Open(context.Background(), e.info.Name, LogKind)
		if err != nil {
			return fmt.Errorf("open log of stream %s: %w", e.info.Name, err)
		}
		e.log = lg
	}
	if e.info.Status != firehose.StatusActive {
		next := e.info
		next.Status = firehose.StatusActive
		if err := r.persist(e, next); err != nil {
			if !errors.Is(err, state.ErrConflict) {
				return err
			}
			// Another node activated it first: take its version.
			if err := r.reload(e); err != nil {
				return err
			}
		}
	}
	if deliver {
		return r.startDeliver(e)
	}
	return nil
}

// startDeliver starts e's delivery loop with its configuration resolved
// once, here. The caller holds e.mu.
func (r *Registry) startDeliver(e *entry) error {
	spec, err := firehose.Spec(e.info)
	if err != nil {
		return fmt.Errorf("open stream %s: %w", e.info.Name, err)
	}
	if spec.Partitioning.Enabled && e.parts == nil {
		parts, err := r.openParts(e)
		if err != nil {
			return err
		}
		e.parts = parts
	}
	e.deliver = deliver.Start(deliver.Config{
		Stream:   spec,
		Log:      e.log,
		Store:    r.opts.Store,
		Logger:   r.log,
		Observer: r.opts.Observer,
		Stages:   r.opts.Stages,
		// Partition buffers live with the stream and go with it on delete.
		PartitionLog:  e.parts,
		MaxPartitions: r.opts.MaxPartitions,
		ErrorLog:      r.opts.ErrorLog,
	})
	return nil
}

// openParts opens the partition log of a dynamically partitioned stream:
// a log of kind PartitionKind through a replicated Logs (fenced with the
// stream's lease token in a cluster), or OpenPartitionLog in the stream's
// directory. The caller holds e.mu.
func (r *Registry) openParts(e *entry) (buffer.Log, error) {
	if r.opts.Logs != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		lg, err := r.logs.Open(ctx, e.info.Name, PartitionKind)
		if err != nil {
			return nil, fmt.Errorf("open partition log of stream %s: %w", e.info.Name, err)
		}
		if r.opts.Clustered {
			if err := lg.Fence(ctx, e.token); err != nil {
				_ = lg.Close()
				return nil, fmt.Errorf("fence partition log of stream %s: %w", e.info.Name, err)
			}
		}
		return lg, nil
	}
	// Earlier versions spooled one batch's partitions here; what a spool
	// held is in the stream log still.
	_ = os.RemoveAll(filepath.Join(e.dir, "spool"))
	parts, err := r.opts.OpenPartitionLog(filepath.Join(e.dir, "partitions"))
	if err != nil {
		return nil, fmt.Errorf("open partition log of stream %s: %w", e.info.Name, err)
	}
	return parts, nil
}

// updateDeliver hands e's delivery loop, if it runs here, its new
// configuration. The caller holds e.mu.
func (r *Registry) updateDeliver(e *entry) {
	if e.deliver == nil {
		return
	}
	spec, err := firehose.Spec(e.info)
	if err != nil {
		r.log.Error("stream configuration not applied to delivery", "stream", e.info.Name, "err", err)
		return
	}
	e.deliver.Update(spec)
}

// persist stores next as e's state if e's revision is still current, and
// makes it e's info. The caller holds e.mu.
func (r *Registry) persist(e *entry, next firehose.StreamInfo) error {
	b, err := json.MarshalIndent(next, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stream state: %w", err)
	}
	rev, err := r.state.Put(context.Background(), r.key(next.Name), b, e.rev)
	if err != nil {
		return fmt.Errorf("save stream %s: %w", next.Name, err)
	}
	e.info, e.rev = next, rev
	return nil
}

// reload reads e's state again (another node changed it). The caller holds
// e.mu.
func (r *Registry) reload(e *entry) error {
	se, err := r.state.Get(context.Background(), r.key(e.info.Name))
	if errors.Is(err, state.ErrNotFound) {
		return fmt.Errorf("stream %s: %w", e.info.Name, firehose.ErrStreamNotFound)
	}
	if err != nil {
		return err
	}
	var info firehose.StreamInfo
	if err := json.Unmarshal(se.Value, &info); err != nil {
		return fmt.Errorf("parse %s: %w", se.Key, err)
	}
	if se.Revision > e.rev {
		e.info, e.rev = info, se.Revision
		r.updateDeliver(e)
	}
	return nil
}

// Create implements firehose.Backend.
func (r *Registry) Create(ctx context.Context, cfg firehose.StreamConfig) (firehose.StreamInfo, error) {
	r.mu.Lock()
	if _, ok := r.streams[cfg.Name]; ok {
		r.mu.Unlock()
		return firehose.StreamInfo{}, fmt.Errorf("create %s: %w", cfg.Name, firehose.ErrStreamExists)
	}
	now := time.Now()
	var salt [8]byte
	_, _ = rand.Read(salt[:])
	e := &entry{dir: streamDir(r.opts.Dir, cfg.Name)}
	info := firehose.StreamInfo{
		StreamConfig:  cfg,
		ARN:           fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", r.opts.Region, r.opts.AccountID, cfg.Name),
		Status:        firehose.StatusCreating,
		VersionID:     1,
		DestinationID: "destinationId-000000000001",
		Created:       now,
		Updated:       now,
		Salt:          binary.LittleEndian.Uint64(salt[:]),
	}
	e.info = info
	e.mu.Lock()
	r.streams[cfg.Name] = e
	r.mu.Unlock()
	defer e.mu.Unlock()

	fail := func(err error) (firehose.StreamInfo, error) {
		r.mu.Lock()
		if r.streams[cfg.Name] == e {
			delete(r.streams, cfg.Name)
		}
		r.mu.Unlock()
		return firehose.StreamInfo{}, err
	}
	if err := r.persist(e, info); err != nil {
		if errors.Is(err, state.ErrConflict) {
			// Created on another node a moment ago.
			return fail(fmt.Errorf("create %s: %w", cfg.Name, firehose.ErrStreamExists))
		}
		return fail(err)
	}
	deliverHere := !r.opts.Clustered
	if r.opts.CreateDelay > 0 {
		go func() {
			time.Sleep(r.opts.CreateDelay)
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.gone {
				return
			}
			if err := r.activate(e, deliverHere); err != nil {
				r.log.Error("activate stream", "stream", e.info.Name, "err", err)
			}
		}()
		return info, nil
	}
	if err := r.activate(e, deliverHere); err != nil {
		if e.log != nil {
			_ = e.log.Close()
		}
		_ = r.logs.Delete(ctx, cfg.Name)
		_ = r.state.Delete(ctx, r.key(cfg.Name), state.Any)
		return fail(err)
	}
	return info, nil
}

func (r *Registry) get(name string) (*entry, error) {
	r.mu.RLock()
	e, ok := r.streams[name]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("stream %s: %w", name, firehose.ErrStreamNotFound)
	}
	return e, nil
}

// Get implements firehose.Backend. In a cluster it reads the shared state,
// so that a change made on any node a moment ago shows.
func (r *Registry) Get(ctx context.Context, name string) (firehose.StreamInfo, error) {
	if r.opts.Clustered {
		if err := r.learn(ctx, name); err != nil {
			return firehose.StreamInfo{}, err
		}
	}
	e, err := r.get(name)
	if err != nil {
		return firehose.StreamInfo{}, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.info, nil
}

// List implements firehose.Backend.
func (r *Registry) List(ctx context.Context) ([]firehose.StreamInfo, error) {
	if r.opts.Clustered {
		return r.listShared(ctx)
	}
	r.mu.RLock()
	es := make([]*entry, 0, len(r.streams))
	for _, e := range r.streams {
		es = append(es, e)
	}
	r.mu.RUnlock()
	out := make([]firehose.StreamInfo, 0, len(es))
	for _, e := range es {
		e.mu.Lock()
		out = append(out, e.info)
		e.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete implements firehose.Backend: the stream goes DELETING, its loop
// stops, its logs are deleted, then its state.
func (r *Registry) Delete(ctx context.Context, name string) error {
	if r.opts.Clustered {
		if err := r.learn(ctx, name); err != nil {
			return err
		}
	}
	e, err := r.get(name)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		next := e.info
		next.Status = firehose.StatusDeleting
		err := r.persist(e, next)
		if err == nil {
			break
		}
		if !errors.Is(err, state.ErrConflict) {
			return err
		}
		if err := r.reload(e); err != nil {
			return err
		}
	}
	r.forget(e)
	if err := r.remove(ctx, e); err != nil {
		return err
	}
	r.log.Info("delivery stream deleted", "stream", name)
	return nil
}

// forget takes e out of the registry and stops its delivery and log. The
// caller holds e.mu.
func (r *Registry) forget(e *entry) {
	r.mu.Lock()
	if r.streams[e.info.Name] == e {
		delete(r.streams, e.info.Name)
	}
	r.mu.Unlock()
	e.gone = true
	if e.deliver != nil {
		e.deliver.Stop()
		e.deliver = nil
	}
	_ = e.closeLogs()
	e.log, e.parts = nil, nil
	if r.opts.Deleted != nil {
		// The loop is stopped: nothing builds a pipeline for it any more.
		r.opts.Deleted(e.info.Name)
	}
}

// remove deletes a DELETING stream's logs, spool and state.
func (r *Registry) remove(ctx context.Context, e *entry) error {
	name := e.info.Name
	if err := r.logs.Delete(ctx, name); err != nil {
		return fmt.Errorf("remove stream %s: %w", name, err)
	}
	if err := os.RemoveAll(filepath.Join(e.dir, "spool")); err != nil {
		return fmt.Errorf("remove stream %s: %w", name, err)
	}
	if err := r.state.Delete(ctx, r.key(name), state.Any); err != nil {
		return fmt.Errorf("remove stream %s: %w", name, err)
	}
	if err := os.Remove(e.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		r.log.Warn("stream directory not empty after delete", "dir", e.dir, "err", err)
	}
	return atomicfile.SyncDir(r.opts.Dir)
}

// Update implements firehose.Backend. In a cluster fn is applied to the
// latest version and the write is a compare-and-set, retried when another
// node changed the stream in between.
func (r *Registry) Update(ctx context.Context, name string, fn func(*firehose.StreamInfo) error) error {
	if r.opts.Clustered {
		if err := r.learn(ctx, name); err != nil {
			return err
		}
	}
	e, err := r.get(name)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		next := e.info
		if err := fn(&next); err != nil {
			return err
		}
		// Delivery gets the configuration resolved once; one that does
		// not resolve is refused before it is stored.
		if _, err := firehose.Spec(next); err != nil {
			return err
		}
		err := r.persist(e, next)
		if err == nil {
			break
		}
		if !errors.Is(err, state.ErrConflict) {
			return err
		}
		if err := r.reload(e); err != nil {
			return err
		}
	}
	r.updateDeliver(e)
	return nil
}

// Put implements firehose.Backend.
func (r *Registry) Put(ctx context.Context, name string, b *buffer.Batch) (uint64, uint64, error) {
	r.mu.RLock()
	e, ok := r.streams[name]
	r.mu.RUnlock()
	if !ok && r.opts.Clustered {
		// Created on another node a moment ago, before its event came.
		if err := r.learn(ctx, name); err != nil {
			return 0, 0, err
		}
		r.mu.RLock()
		e, ok = r.streams[name]
		r.mu.RUnlock()
	}
	if !ok {
		return 0, 0, fmt.Errorf("stream %s: %w", name, firehose.ErrStreamNotFound)
	}
	// The log and salt are fixed once the stream is ACTIVE; reading them
	// without e.mu keeps Update from stalling producers.
	lg, salt, cwlOnly := e.activeLog()
	if lg == nil && r.opts.Clustered {
		// Activated on another node a moment ago, before its event came.
		if err := r.learn(ctx, name); err != nil {
			return 0, 0, err
		}
		lg, salt, cwlOnly = e.activeLog()
	}
	if lg == nil {
		return 0, 0, fmt.Errorf("stream %s: %w", name, firehose.ErrStreamNotActive)
	}
	if cwlOnly && !firehose.FromCloudWatchLogs(ctx) {
		return 0, 0, fmt.Errorf("put to %s: %w", name, firehose.ErrInvalidSource)
	}
	first, err := lg.Append(ctx, b)
	if err != nil {
		return 0, 0, fmt.Errorf("append to %s: %w", name, err)
	}
	return salt, first, nil
}

// activeLog returns the log and salt of an ACTIVE stream, and whether it
// only accepts records from CloudWatch Logs (Decompression enabled).
func (e *entry) activeLog() (buffer.Log, uint64, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.info.Status != firehose.StatusActive {
		return nil, 0, false
	}
	return e.log, e.info.Salt, firehose.NeedsCloudWatchLogsSource(&e.info.Destination)
}

// Idle returns a channel closed when the stream's delivery loop next finds
// nothing left to deliver (tests, benchmarks and shutdown).
func (r *Registry) Idle(name string) (<-chan struct{}, error) {
	e, err := r.get(name)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := r.delivering(e); err != nil {
		return nil, err
	}
	return e.deliver.Idle(), nil
}

// Flush asks the stream's delivery loop to cut what it holds now, ignoring
// the buffering hints once (deliver.Deliverer.Flush). The channel is closed
// when every record acknowledged before the call is delivered.
func (r *Registry) Flush(name string) (<-chan struct{}, error) {
	e, err := r.get(name)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := r.delivering(e); err != nil {
		return nil, err
	}
	if s, ok := e.log.(interface{ Sync(context.Context) error }); ok {
		// A replicated log: make this node's view include every record
		// acknowledged before the flush, wherever it was appended.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := s.Sync(ctx)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("flush %s: %w", name, err)
		}
	}
	r.log.Info("flush requested: cutting the buffer now", "stream", name)
	return e.deliver.Flush(), nil
}

// delivering returns nil when e's delivery loop runs on this node. The
// caller holds e.mu.
func (r *Registry) delivering(e *entry) error {
	switch {
	case e.deliver != nil:
		return nil
	case r.opts.Clustered && e.info.Status == firehose.StatusActive && !e.gone:
		return fmt.Errorf("stream %s: %w", e.info.Name, ErrNotDelivering)
	}
	return fmt.Errorf("stream %s: %w", e.info.Name, firehose.ErrStreamNotActive)
}

// Close stops every delivery loop and closes every log. Objects being
// written are abandoned and redone at the next Open.
func (r *Registry) Close() error {
	if r.stop != nil {
		r.stop()
	}
	<-r.done
	r.mu.Lock()
	es := r.streams
	r.streams = map[string]*entry{}
	r.mu.Unlock()
	var errs []error
	for _, e := range es {
		e.mu.Lock()
		e.gone = true
		if e.deliver != nil {
			e.deliver.Stop()
			e.deliver = nil
		}
		if err := e.closeLogs(); err != nil {
			errs = append(errs, err)
		}
		e.log, e.parts = nil, nil
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

// closeLogs closes the stream's logs.
func (e *entry) closeLogs() error {
	var errs []error
	for _, lg := range []buffer.Log{e.log, e.parts} {
		if lg != nil {
			errs = append(errs, lg.Close())
		}
	}
	return errors.Join(errs...)
}

// Names returns the names of every stream, sorted.
func (r *Registry) Names() []string {
	r.mu.RLock()
	out := make([]string, 0, len(r.streams))
	for n := range r.streams {
		out = append(out, n)
	}
	r.mu.RUnlock()
	sort.Strings(out)
	return out
}
