package state

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
)

// Local is the Store of one node: each key is the file at the same path
// under Root, replaced atomically (temp file, fsync, rename, fsync of the
// directory). Only keys matching one of its patterns are its own, so that
// it shares directories with other files (a stream's log next to its
// stream.json). Revisions live in memory: they are numbered from 1 when
// the store opens, which is enough because only one process opens a data
// directory.
type Local struct {
	root     string
	patterns []string

	mu       sync.Mutex
	revs     map[string]uint64
	next     uint64
	watchers map[*watcher]struct{}
}

var _ Store = (*Local)(nil)

// OpenLocal opens the store rooted at root for keys matching patterns
// (path.Match syntax, such as "streams/*/stream.json"), removing temporary
// files an interrupted write left in their directories.
func OpenLocal(root string, patterns ...string) (*Local, error) {
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("state: bad pattern %q: %w", p, err)
		}
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	s := &Local{root: root, patterns: patterns, revs: map[string]uint64{}, next: 1, watchers: map[*watcher]struct{}{}}
	for _, p := range patterns {
		dirs, err := filepath.Glob(filepath.Join(root, filepath.FromSlash(path.Dir(p))))
		if err != nil {
			return nil, fmt.Errorf("state: %w", err)
		}
		for _, d := range dirs {
			if _, err := atomicfile.CleanTemps(d); err != nil {
				return nil, fmt.Errorf("state: %w", err)
			}
		}
	}
	return s, nil
}

// owns reports whether key is one of the store's.
func (s *Local) owns(key string) bool {
	for _, p := range s.patterns {
		if ok, _ := path.Match(p, key); ok {
			return true
		}
	}
	return false
}

func (s *Local) check(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	if !s.owns(key) {
		return fmt.Errorf("state: key %q is not one this store keeps", key)
	}
	return nil
}

func (s *Local) file(key string) string { return filepath.Join(s.root, filepath.FromSlash(key)) }

// revLocked returns the key's revision, 0 when it does not exist. The
// caller holds mu.
func (s *Local) revLocked(key string) (uint64, error) {
	if r, ok := s.revs[key]; ok {
		return r, nil
	}
	_, err := os.Stat(s.file(key))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	r := s.next
	s.next++
	s.revs[key] = r
	return r, nil
}

// Get implements Store.
func (s *Local) Get(ctx context.Context, key string) (Entry, error) {
	if err := s.check(key); err != nil {
		return Entry{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := os.ReadFile(s.file(key))
	if errors.Is(err, fs.ErrNotExist) {
		delete(s.revs, key)
		return Entry{}, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("state: %w", err)
	}
	r, err := s.revLocked(key)
	if err != nil {
		return Entry{}, err
	}
	return Entry{Key: key, Value: b, Revision: r}, nil
}

// Put implements Store.
func (s *Local) Put(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := s.check(key); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.revLocked(key)
	if err != nil {
		return 0, err
	}
	if rev != Any && rev != cur {
		return 0, fmt.Errorf("%s: %w: at revision %d, not %d", key, ErrConflict, cur, rev)
	}
	f := s.file(key)
	if cur == 0 {
		if err := s.mkdirs(filepath.Dir(f)); err != nil {
			return 0, err
		}
	}
	if err := atomicfile.Write(f, value, 0o644); err != nil {
		return 0, fmt.Errorf("state: %w", err)
	}
	r := s.next
	s.next++
	s.revs[key] = r
	s.notify(Event{Entry: Entry{Key: key, Value: slices.Clone(value), Revision: r}})
	return r, nil
}

// mkdirs creates dir and its missing parents under root, durably.
func (s *Local) mkdirs(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := s.mkdirs(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("state: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(dir)); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	return nil
}

// Delete implements Store. Directories the key leaves empty are removed,
// up to the key's first segment.
func (s *Local) Delete(ctx context.Context, key string, rev uint64) error {
	if err := s.check(key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.revLocked(key)
	if err != nil {
		return err
	}
	if rev != Any && rev != cur {
		return fmt.Errorf("%s: %w: at revision %d, not %d", key, ErrConflict, cur, rev)
	}
	if cur == 0 {
		return nil
	}
	f := s.file(key)
	if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("state: %w", err)
	}
	delete(s.revs, key)
	dir := filepath.Dir(f)
	if err := atomicfile.SyncDir(dir); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	for {
		// Empty directories go up to, not including, the key's first
		// segment (streams/, catalog/, ...), which the services keep.
		rel, err := filepath.Rel(s.root, dir)
		if err != nil || !strings.Contains(filepath.ToSlash(rel), "/") {
			break
		}
		if os.Remove(dir) != nil {
			break // not empty
		}
		dir = filepath.Dir(dir)
		if err := atomicfile.SyncDir(dir); err != nil {
			return fmt.Errorf("state: %w", err)
		}
	}
	s.notify(Event{Entry: Entry{Key: key, Revision: s.next}, Deleted: true})
	s.next++
	return nil
}

// List implements Store.
func (s *Local) List(ctx context.Context, prefix string) ([]Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Entry
	err := filepath.WalkDir(s.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(s.root, p)
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip directories no wanted key can be under.
			if p != s.root && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) || !s.owns(key) || CheckKey(key) != nil {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r, err := s.revLocked(key)
		if err != nil {
			return err
		}
		out = append(out, Entry{Key: key, Value: b, Revision: r})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: list %q: %w", prefix, err)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// Watch implements Store: changes made through this store (the only
// writer of its directory) are sent as they happen.
func (s *Local) Watch(ctx context.Context, prefix string) (<-chan Event, error) {
	w := &watcher{prefix: prefix, out: make(chan Event), kick: make(chan struct{}, 1)}
	s.mu.Lock()
	s.watchers[w] = struct{}{}
	s.mu.Unlock()
	go func() {
		w.run(ctx)
		s.mu.Lock()
		delete(s.watchers, w)
		s.mu.Unlock()
	}()
	return w.out, nil
}

// notify queues ev for every watcher of its key. The caller holds mu.
func (s *Local) notify(ev Event) {
	for w := range s.watchers {
		if strings.HasPrefix(ev.Key, w.prefix) {
			w.push(ev)
		}
	}
}

// watcher hands queued events to its channel without ever blocking the
// writer.
type watcher struct {
	prefix string
	out    chan Event
	kick   chan struct{}
	mu     sync.Mutex
	queue  []Event
}

func (w *watcher) push(ev Event) {
	w.mu.Lock()
	w.queue = append(w.queue, ev)
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *watcher) run(ctx context.Context) {
	defer close(w.out)
	for {
		w.mu.Lock()
		q := w.queue
		w.queue = nil
		w.mu.Unlock()
		for _, ev := range q {
			select {
			case w.out <- ev:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-w.kick:
		case <-ctx.Done():
			return
		}
	}
}
