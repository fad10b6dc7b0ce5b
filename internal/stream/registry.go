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
)

// Options configure a Registry.
type Options struct {
	// Dir is <data-dir>/streams.
	Dir       string
	Region    string
	AccountID string
	Store     objstore.Store
	Logger    *slog.Logger
	// OpenLog opens a stream's log in dir; nil means the local segment log.
	OpenLog func(dir string) (buffer.Log, error)
	// CreateDelay keeps new streams in CREATING for this long, as AWS does
	// for a few seconds; zero makes them ACTIVE as soon as their log is open.
	CreateDelay time.Duration
	// Observer receives delivery events (metrics); may be nil.
	Observer deliver.Observer
	// Stages builds each stream's processing pipeline and record format
	// (processors, format conversion); nil delivers records as they are.
	Stages deliver.Stages
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

// Registry implements firehose.Backend over local files.
type Registry struct {
	opts Options
	log  *slog.Logger

	mu      sync.RWMutex
	streams map[string]*entry
}

type entry struct {
	mu      sync.Mutex // serializes Update/Delete of this stream
	info    firehose.StreamInfo
	log     buffer.Log
	deliver *deliver.Deliverer
	dir     string
}

var _ firehose.Backend = (*Registry)(nil)

const stateFile = "stream.json"

// Open loads every stream under opts.Dir, recovers its log and starts its
// delivery loop; streams left CREATING by a crash finish their creation and
// streams left DELETING finish their deletion.
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
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("open streams dir: %w", err)
	}
	if _, err := atomicfile.CleanTemps(opts.Dir); err != nil {
		return nil, err
	}
	r := &Registry{opts: opts, log: opts.Logger, streams: map[string]*entry{}}
	dirs, err := os.ReadDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("read streams dir: %w", err)
	}
	for _, de := range dirs {
		if !de.IsDir() || !strings.HasPrefix(de.Name(), dirPrefix) {
			continue
		}
		dir := filepath.Join(opts.Dir, de.Name())
		if _, err := atomicfile.CleanTemps(dir); err != nil {
			return nil, err
		}
		b, err := os.ReadFile(filepath.Join(dir, stateFile))
		if errors.Is(err, os.ErrNotExist) {
			// A create that crashed before its state was written: nothing
			// was acknowledged for it.
			r.log.Warn("removing stream directory without state", "dir", dir)
			_ = os.RemoveAll(dir)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read stream state: %w", err)
		}
		var info firehose.StreamInfo
		if err := json.Unmarshal(b, &info); err != nil {
			return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, stateFile), err)
		}
		if info.Status == firehose.StatusDeleting {
			_ = os.RemoveAll(dir)
			continue
		}
		e := &entry{info: info, dir: dir}
		if err := r.activate(e); err != nil {
			return nil, err
		}
		r.streams[info.Name] = e
	}
	r.log.Info("streams loaded", "count", len(r.streams))
	return r, nil
}

// dirPrefix keeps stream directories from ever being "." or "..": stream
// names may consist of dots only.
const dirPrefix = "ds-"

func streamDir(root, name string) string { return filepath.Join(root, dirPrefix+name) }

// activate opens the stream's log, marks it ACTIVE and starts delivery.
func (r *Registry) activate(e *entry) error {
	spec, err := firehose.Spec(e.info)
	if err != nil {
		return fmt.Errorf("open stream %s: %w", e.info.Name, err)
	}
	lg, err := r.opts.OpenLog(filepath.Join(e.dir, "log"))
	if err != nil {
		return fmt.Errorf("open log of stream %s: %w", e.info.Name, err)
	}
	e.log = lg
	if e.info.Status != firehose.StatusActive {
		e.info.Status = firehose.StatusActive
		if err := r.persist(e); err != nil {
			return err
		}
	}
	e.deliver = deliver.Start(deliver.Config{
		Stream:   spec,
		Log:      lg,
		Store:    r.opts.Store,
		Logger:   r.log,
		Observer: r.opts.Observer,
		Stages:   r.opts.Stages,
		// Partition spools live with the stream and go with it on delete.
		SpoolDir:      filepath.Join(e.dir, "spool"),
		MaxPartitions: r.opts.MaxPartitions,
	})
	return nil
}

func (r *Registry) persist(e *entry) error {
	b, err := json.MarshalIndent(e.info, "", "  ")
	if err != nil {
		return fmt.Errorf("encode stream state: %w", err)
	}
	return atomicfile.Write(filepath.Join(e.dir, stateFile), b, 0o644)
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
	e := &entry{
		dir: streamDir(r.opts.Dir, cfg.Name),
		info: firehose.StreamInfo{
			StreamConfig:  cfg,
			ARN:           fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", r.opts.Region, r.opts.AccountID, cfg.Name),
			Status:        firehose.StatusCreating,
			VersionID:     1,
			DestinationID: "destinationId-000000000001",
			Created:       now,
			Updated:       now,
			Salt:          binary.LittleEndian.Uint64(salt[:]),
		},
	}
	e.mu.Lock()
	r.streams[cfg.Name] = e
	r.mu.Unlock()
	defer e.mu.Unlock()

	fail := func(err error) (firehose.StreamInfo, error) {
		r.mu.Lock()
		delete(r.streams, cfg.Name)
		r.mu.Unlock()
		_ = os.RemoveAll(e.dir)
		return firehose.StreamInfo{}, err
	}
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return fail(fmt.Errorf("create stream dir: %w", err))
	}
	if err := r.persist(e); err != nil {
		return fail(err)
	}
	if err := atomicfile.SyncDir(r.opts.Dir); err != nil {
		return fail(err)
	}
	info := e.info
	if r.opts.CreateDelay > 0 {
		go func() {
			time.Sleep(r.opts.CreateDelay)
			e.mu.Lock()
			defer e.mu.Unlock()
			if err := r.activate(e); err != nil {
				r.log.Error("activate stream", "stream", e.info.Name, "err", err)
			}
		}()
		return info, nil
	}
	if err := r.activate(e); err != nil {
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

// Get implements firehose.Backend.
func (r *Registry) Get(ctx context.Context, name string) (firehose.StreamInfo, error) {
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
// stops, and its directory (log included) is removed.
func (r *Registry) Delete(ctx context.Context, name string) error {
	e, err := r.get(name)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.info.Status = firehose.StatusDeleting
	if err := r.persist(e); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.streams, name)
	r.mu.Unlock()
	if e.deliver != nil {
		e.deliver.Stop()
	}
	if e.log != nil {
		_ = e.log.Close()
	}
	if r.opts.Deleted != nil {
		// The loop is stopped: nothing builds a pipeline for it any more.
		r.opts.Deleted(name)
	}
	if err := os.RemoveAll(e.dir); err != nil {
		return fmt.Errorf("remove stream %s: %w", name, err)
	}
	r.log.Info("delivery stream deleted", "stream", name)
	return atomicfile.SyncDir(r.opts.Dir)
}

// Update implements firehose.Backend.
func (r *Registry) Update(ctx context.Context, name string, fn func(*firehose.StreamInfo) error) error {
	e, err := r.get(name)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	next := e.info
	if err := fn(&next); err != nil {
		return err
	}
	// Delivery gets the configuration resolved once, here.
	spec, err := firehose.Spec(next)
	if err != nil {
		return err
	}
	prev := e.info
	e.info = next
	if err := r.persist(e); err != nil {
		e.info = prev
		return err
	}
	if e.deliver != nil {
		e.deliver.Update(spec)
	}
	return nil
}

// Put implements firehose.Backend.
func (r *Registry) Put(ctx context.Context, name string, b *buffer.Batch) (uint64, uint64, error) {
	r.mu.RLock()
	e, ok := r.streams[name]
	r.mu.RUnlock()
	if !ok {
		return 0, 0, fmt.Errorf("stream %s: %w", name, firehose.ErrStreamNotFound)
	}
	// The log and salt are fixed once the stream is ACTIVE; reading them
	// without e.mu keeps Update from stalling producers.
	lg, salt, cwlOnly := e.activeLog()
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
	if e.deliver == nil {
		return nil, fmt.Errorf("stream %s: %w", name, firehose.ErrStreamNotActive)
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
	if e.deliver == nil {
		return nil, fmt.Errorf("stream %s: %w", name, firehose.ErrStreamNotActive)
	}
	r.log.Info("flush requested: cutting the buffer now", "stream", name)
	return e.deliver.Flush(), nil
}

// Close stops every delivery loop and closes every log. Objects being
// written are abandoned and redone at the next Open.
func (r *Registry) Close() error {
	r.mu.Lock()
	es := r.streams
	r.streams = map[string]*entry{}
	r.mu.Unlock()
	var errs []error
	for _, e := range es {
		e.mu.Lock()
		if e.deliver != nil {
			e.deliver.Stop()
		}
		if e.log != nil {
			if err := e.log.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		e.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Stats is a stream's buffer as hydrant's own endpoints report it.
type Stats struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// Appended is the sequence number of the last acknowledged record (0
	// when none was ever appended since the log's start).
	Appended uint64 `json:"appended"`
	// Delivered is the sequence number of the last record whose object is
	// stored and committed.
	Delivered uint64 `json:"delivered"`
	// BufferedRecords and BufferedBytes are what is acknowledged but not yet
	// delivered; OldestUndelivered is the arrival of the oldest of it.
	BufferedRecords   int        `json:"bufferedRecords"`
	BufferedBytes     int64      `json:"bufferedBytes"`
	OldestUndelivered *time.Time `json:"oldestUndelivered,omitempty"`
	// LogBytes is what the buffer holds on disk for it, frame overhead
	// included: the figure --max-stream-buffer-bytes caps. It is reported
	// only by logs that know it (the local segment log).
	LogBytes int64 `json:"logBytes"`
	// LostRecords and LostBytes are what damage on disk cost when the log
	// was opened: acknowledged records that could not be read back, and the
	// damaged bytes quarantined (docs/FORMAT.md, "Recovery at open").
	// Reported only by logs that know it (the local segment log).
	LostRecords int64 `json:"lostRecords,omitempty"`
	LostBytes   int64 `json:"lostBytes,omitempty"`
	// Delivery is what the stream's delivery loop has done since it
	// started (objects, failed attempts, the last error); nil until the
	// stream is ACTIVE.
	Delivery *deliver.Status `json:"delivery,omitempty"`
}

// Stats reports a stream's buffer.
func (r *Registry) Stats(name string) (Stats, error) {
	e, err := r.get(name)
	if err != nil {
		return Stats{}, err
	}
	e.mu.Lock()
	st := Stats{Name: e.info.Name, Status: e.info.Status}
	lg := e.log
	if e.deliver != nil {
		ds := e.deliver.Status()
		st.Delivery = &ds
	}
	e.mu.Unlock()
	if lg == nil {
		return st, nil
	}
	if sized, ok := lg.(interface{ BufferedBytes() int64 }); ok {
		st.LogBytes = sized.BufferedBytes()
	}
	if damaged, ok := lg.(interface{ Lost() (int64, int64) }); ok {
		st.LostRecords, st.LostBytes = damaged.Lost()
	}
	upto, _ := lg.Committed()
	b := lg.Backlog(upto)
	st.Delivered = upto - 1
	st.Appended = upto - 1
	if !b.Empty() {
		st.Appended = b.To - 1
		st.BufferedRecords = b.Records
		st.BufferedBytes = b.Bytes
		oldest := b.Oldest
		st.OldestUndelivered = &oldest
	}
	return st, nil
}

// Health reports every stream whose log refuses records because writes
// fail (a full disk, a failed write or fsync), one error per stream joined
// with errors.Join, or nil when none does. It is the buffer's readiness
// check behind /_hydrant/health: the logs retry on their own, so it clears
// once the cause has (a full disk once space returns) without a Put having
// to try. Logs that cannot tell are taken as healthy.
func (r *Registry) Health() error {
	var errs []error
	for _, name := range r.Names() {
		e, err := r.get(name)
		if err != nil {
			continue // deleted since Names
		}
		e.mu.Lock()
		lg := e.log
		e.mu.Unlock()
		if w, ok := lg.(interface{ WriteError() error }); ok {
			if err := w.WriteError(); err != nil {
				errs = append(errs, fmt.Errorf("stream %s refuses records: %w", name, err))
			}
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
