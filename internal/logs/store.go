package logs

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
)

// Errors the store returns; the API maps them to CloudWatch Logs' error
// types.
var (
	ErrGroupNotFound  = errors.New("log group not found")
	ErrStreamNotFound = errors.New("log stream not found")
	ErrGroupExists    = errors.New("log group exists")
	ErrStreamExists   = errors.New("log stream exists")
)

// Options configure a Store.
type Options struct {
	// Dir is where logs live (<data-dir>/logs).
	Dir string
	// MaxBytes caps the bytes of stored events across every group
	// (--logs-max-bytes); past it the oldest events are dropped. 0 means
	// no cap.
	MaxBytes int64
	// SegmentBytes is the size at which a stream starts a new segment file,
	// the unit in which old events are dropped. Default: MaxBytes/16,
	// between 64 KiB and 8 MiB.
	SegmentBytes int64
	// CacheBytes bounds the decoded blocks kept for reads (default 32 MiB).
	CacheBytes int64
	// Now is the clock: ingestion times, retention. Default time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = 8 << 20
		if o.MaxBytes > 0 {
			o.SegmentBytes = min(max(o.MaxBytes/16, 64<<10), 8<<20)
		}
	}
	if o.CacheBytes <= 0 {
		o.CacheBytes = 32 << 20
	}
}

// Store keeps log groups, their streams and their events on disk:
//
//	<dir>/groups/<g-name-hash>/group.json                       the group (atomic JSON)
//	<dir>/groups/<g-name-hash>/streams/<s-name-hash>/stream.json the stream (atomic JSON)
//	<dir>/groups/<g-name-hash>/streams/<s-name-hash>/<n>.seg     its events, in blocks
//
// (FORMAT.md, "CloudWatch Logs"). Every method is safe for concurrent use.
// An append is durable (written and fsynced) when it returns.
type Store struct {
	opts   Options
	log    *slog.Logger
	groups string // <dir>/groups
	cache  *blockCache

	mu     sync.RWMutex
	byName map[string]*group
	closed bool

	total atomic.Int64 // bytes in segment files
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

// group is one log group.
type group struct {
	name string
	dir  string

	mu      sync.RWMutex
	meta    groupMeta
	streams map[string]*stream
	deleted bool

	seqMu   sync.Mutex
	nextSeq uint64 // the next event's sequence number
}

// groupMeta is group.json.
type groupMeta struct {
	Name          string            `json:"name"`
	CreationTime  int64             `json:"creationTime"`
	RetentionDays int               `json:"retentionInDays,omitempty"`
	Class         string            `json:"logGroupClass"`
	Tags          map[string]string `json:"tags,omitempty"`
	// SeqFloor is above every sequence number handed out by segments since
	// deleted, so numbers are never reused after a restart.
	SeqFloor uint64 `json:"seqFloor,omitempty"`
}

// streamMeta is stream.json.
type streamMeta struct {
	Name         string `json:"name"`
	CreationTime int64  `json:"creationTime"`
}

const (
	groupFile  = "group.json"
	streamFile = "stream.json"
	trashMark  = ".deleted-"
)

// Open loads every group and stream in opts.Dir, repairing the tail a
// crash may have torn off a segment, and starts the janitor that enforces
// retention and MaxBytes.
func Open(opts Options) (*Store, error) {
	opts.defaults()
	if opts.Dir == "" {
		return nil, fmt.Errorf("logs: Options.Dir is required")
	}
	s := &Store{
		opts: opts, log: opts.Logger, groups: filepath.Join(opts.Dir, "groups"),
		cache:  newBlockCache(opts.CacheBytes),
		byName: map[string]*group{},
		wake:   make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if err := os.MkdirAll(s.groups, 0o755); err != nil {
		return nil, fmt.Errorf("create logs dir: %w", err)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
	go s.janitor()
	return s, nil
}

// Close stops the janitor and closes every open segment.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	groups := make([]*group, 0, len(s.byName))
	for _, g := range s.byName {
		groups = append(groups, g)
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	for _, g := range groups {
		g.mu.RLock()
		for _, st := range g.streams {
			st.close()
		}
		g.mu.RUnlock()
	}
	return nil
}

// now is the store's clock in epoch milliseconds.
func (s *Store) now() int64 { return s.opts.Now().UnixMilli() }

// load reads every group directory; directories a crash left half created
// (no group.json) or half deleted are removed.
func (s *Store) load() error {
	entries, err := os.ReadDir(s.groups)
	if err != nil {
		return fmt.Errorf("read logs dir: %w", err)
	}
	if _, err := atomicfile.CleanTemps(s.groups); err != nil {
		return err
	}
	events := 0
	for _, e := range entries {
		dir := filepath.Join(s.groups, e.Name())
		if !e.IsDir() {
			continue
		}
		var meta groupMeta
		if strings.HasPrefix(e.Name(), trashMark) || readJSON(filepath.Join(dir, groupFile), &meta) != nil || meta.Name == "" {
			s.log.Info("removing an incomplete or deleted log group directory", "dir", dir)
			if err := os.RemoveAll(dir); err != nil {
				return fmt.Errorf("remove %s: %w", dir, err)
			}
			continue
		}
		g := &group{name: meta.Name, dir: dir, meta: meta, streams: map[string]*stream{}, nextSeq: max(meta.SeqFloor, 1)}
		if err := s.loadStreams(g); err != nil {
			return err
		}
		for _, st := range g.streams {
			for _, seg := range st.segs {
				s.total.Add(seg.size)
				events += seg.events()
				if len(seg.blocks) > 0 {
					g.nextSeq = max(g.nextSeq, seg.maxSeq+1)
				}
			}
		}
		s.byName[g.name] = g
	}
	if len(s.byName) > 0 {
		s.log.Info("log groups loaded", "groups", len(s.byName), "events", events, "bytes", s.total.Load())
	}
	return nil
}

func (s *Store) loadStreams(g *group) error {
	dir := filepath.Join(g.dir, "streams")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", dir, err)
	}
	if _, err := atomicfile.CleanTemps(dir); err != nil {
		return err
	}
	for _, e := range entries {
		sdir := filepath.Join(dir, e.Name())
		if !e.IsDir() {
			continue
		}
		var meta streamMeta
		if strings.HasPrefix(e.Name(), trashMark) || readJSON(filepath.Join(sdir, streamFile), &meta) != nil || meta.Name == "" {
			if err := os.RemoveAll(sdir); err != nil {
				return fmt.Errorf("remove %s: %w", sdir, err)
			}
			continue
		}
		st := &stream{name: meta.Name, dir: sdir, meta: meta, log: s.log.With("log_group", g.name, "log_stream", meta.Name)}
		if err := st.load(); err != nil {
			return err
		}
		g.streams[st.name] = st
	}
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b, 0o644)
}

// group looks a group up.
func (s *Store) group(name string) (*group, error) {
	s.mu.RLock()
	g := s.byName[name]
	s.mu.RUnlock()
	if g == nil {
		return nil, ErrGroupNotFound
	}
	return g, nil
}

// stream looks a stream up.
func (s *Store) stream(groupName, name string) (*group, *stream, error) {
	g, err := s.group(groupName)
	if err != nil {
		return nil, nil, err
	}
	g.mu.RLock()
	st := g.streams[name]
	g.mu.RUnlock()
	if st == nil {
		return g, nil, ErrStreamNotFound
	}
	return g, st, nil
}

// GroupConfig is what a group is created with.
type GroupConfig struct {
	Name  string
	Class string
	Tags  map[string]string
}

// CreateGroup creates a group; an existing name gives ErrGroupExists.
func (s *Store) CreateGroup(c GroupConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byName[c.Name] != nil {
		return ErrGroupExists
	}
	if c.Class == "" {
		c.Class = "STANDARD"
	}
	dir := filepath.Join(s.groups, dirName("g-", c.Name))
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("log group %q: directory %s is taken", c.Name, dir)
	}
	meta := groupMeta{Name: c.Name, CreationTime: s.now(), Class: c.Class, Tags: c.Tags}
	if err := os.MkdirAll(filepath.Join(dir, "streams"), 0o755); err != nil {
		return fmt.Errorf("create log group: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, groupFile), meta); err != nil {
		_ = os.RemoveAll(dir)
		return fmt.Errorf("create log group: %w", err)
	}
	if err := atomicfile.SyncDir(s.groups); err != nil {
		return err
	}
	s.byName[c.Name] = &group{name: c.Name, dir: dir, meta: meta, streams: map[string]*stream{}, nextSeq: 1}
	return nil
}

// DeleteGroup deletes a group with its streams and events.
func (s *Store) DeleteGroup(name string) error {
	s.mu.Lock()
	g := s.byName[name]
	if g == nil {
		s.mu.Unlock()
		return ErrGroupNotFound
	}
	delete(s.byName, name)
	s.mu.Unlock()
	g.mu.Lock()
	g.deleted = true
	streams := g.streams
	g.streams = map[string]*stream{}
	g.mu.Unlock()
	for _, st := range streams {
		s.total.Add(-st.close())
	}
	return removeDir(g.dir)
}

// removeDir deletes a directory so that a crash cannot leave a half of it
// that looks whole: it is renamed to a trash name first (load removes
// those).
func removeDir(dir string) error {
	trash := filepath.Join(filepath.Dir(dir), trashMark+filepath.Base(dir))
	if err := os.Rename(dir, trash); err != nil {
		return fmt.Errorf("delete %s: %w", dir, err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dir)); err != nil {
		return err
	}
	return os.RemoveAll(trash)
}

// CreateStream creates a stream in a group.
func (s *Store) CreateStream(groupName, name string) error {
	g, err := s.group(groupName)
	if err != nil {
		return err
	}
	_, err = s.createStream(g, name)
	return err
}

func (s *Store) createStream(g *group, name string) (*stream, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deleted {
		return nil, ErrGroupNotFound
	}
	if g.streams[name] != nil {
		return g.streams[name], ErrStreamExists
	}
	parent := filepath.Join(g.dir, "streams")
	dir := filepath.Join(parent, dirName("s-", name))
	if _, err := os.Stat(dir); err == nil {
		return nil, fmt.Errorf("log stream %q: directory %s is taken", name, dir)
	}
	meta := streamMeta{Name: name, CreationTime: s.now()}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create log stream: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, streamFile), meta); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("create log stream: %w", err)
	}
	if err := atomicfile.SyncDir(parent); err != nil {
		return nil, err
	}
	st := &stream{name: name, dir: dir, meta: meta, log: s.log.With("log_group", g.name, "log_stream", name)}
	g.streams[name] = st
	return st, nil
}

// DeleteStream deletes a stream and its events.
func (s *Store) DeleteStream(groupName, name string) error {
	g, err := s.group(groupName)
	if err != nil {
		return err
	}
	g.mu.Lock()
	st := g.streams[name]
	if st == nil {
		g.mu.Unlock()
		return ErrStreamNotFound
	}
	delete(g.streams, name)
	g.mu.Unlock()
	s.total.Add(-st.close())
	return removeDir(st.dir)
}

// updateGroup changes a group's metadata durably.
func (s *Store) updateGroup(name string, fn func(*groupMeta)) error {
	g, err := s.group(name)
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.deleted {
		return ErrGroupNotFound
	}
	meta := g.meta
	meta.Tags = cloneTags(g.meta.Tags)
	fn(&meta)
	if err := writeJSON(filepath.Join(g.dir, groupFile), meta); err != nil {
		return err
	}
	g.meta = meta
	return nil
}

func cloneTags(t map[string]string) map[string]string {
	if t == nil {
		return nil
	}
	out := make(map[string]string, len(t))
	for k, v := range t {
		out[k] = v
	}
	return out
}

// SetRetention sets (days > 0) or removes (0) a group's retention. Events
// older than it are no longer returned at once, and their files go at the
// janitor's next round.
func (s *Store) SetRetention(name string, days int) error {
	err := s.updateGroup(name, func(m *groupMeta) { m.RetentionDays = days })
	if err == nil {
		s.poke()
	}
	return err
}

// TagGroup adds or replaces tags; UntagGroup removes them.
func (s *Store) TagGroup(name string, tags map[string]string) error {
	return s.updateGroup(name, func(m *groupMeta) {
		if m.Tags == nil {
			m.Tags = map[string]string{}
		}
		for k, v := range tags {
			m.Tags[k] = v
		}
	})
}

// UntagGroup removes the named tags.
func (s *Store) UntagGroup(name string, keys []string) error {
	return s.updateGroup(name, func(m *groupMeta) {
		for _, k := range keys {
			delete(m.Tags, k)
		}
		if len(m.Tags) == 0 {
			m.Tags = nil
		}
	})
}

// GroupInfo describes a group.
type GroupInfo struct {
	Name          string
	CreationTime  int64
	RetentionDays int // 0: never expire
	Class         string
	Tags          map[string]string
	StoredBytes   int64
}

// Group describes one group.
func (s *Store) Group(name string) (GroupInfo, error) {
	g, err := s.group(name)
	if err != nil {
		return GroupInfo{}, err
	}
	return g.info(), nil
}

func (g *group) info() GroupInfo {
	g.mu.RLock()
	defer g.mu.RUnlock()
	gi := GroupInfo{Name: g.name, CreationTime: g.meta.CreationTime, RetentionDays: g.meta.RetentionDays,
		Class: g.meta.Class, Tags: cloneTags(g.meta.Tags)}
	for _, st := range g.streams {
		gi.StoredBytes += st.stats().StoredBytes
	}
	return gi
}

// Groups describes every group, sorted by name.
func (s *Store) Groups() []GroupInfo {
	s.mu.RLock()
	gs := make([]*group, 0, len(s.byName))
	for _, g := range s.byName {
		gs = append(gs, g)
	}
	s.mu.RUnlock()
	out := make([]GroupInfo, len(gs))
	for i, g := range gs {
		out[i] = g.info()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// StreamInfo describes a stream. The event timestamps are zero while the
// stream holds no events.
type StreamInfo struct {
	Name                string
	CreationTime        int64
	FirstEventTimestamp int64
	LastEventTimestamp  int64
	LastIngestionTime   int64
	StoredBytes         int64
	Events              int
}

// Streams describes a group's streams, sorted by name.
func (s *Store) Streams(groupName string) ([]StreamInfo, error) {
	g, err := s.group(groupName)
	if err != nil {
		return nil, err
	}
	g.mu.RLock()
	sts := make([]*stream, 0, len(g.streams))
	for _, st := range g.streams {
		sts = append(sts, st)
	}
	g.mu.RUnlock()
	out := make([]StreamInfo, len(sts))
	for i, st := range sts {
		out[i] = st.stats()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// StoredBytes is the size of every segment file.
func (s *Store) StoredBytes() int64 { return s.total.Load() }

// cutoff is the oldest timestamp a group's retention keeps (ms), or
// math.MinInt64 when it keeps everything.
func (s *Store) cutoff(g *group) int64 {
	g.mu.RLock()
	days := g.meta.RetentionDays
	g.mu.RUnlock()
	if days <= 0 {
		return -1 << 63
	}
	return s.now() - int64(days)*86_400_000
}
