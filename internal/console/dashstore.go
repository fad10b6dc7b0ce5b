package console

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
)

// DashboardStore keeps dashboards across restarts. The console calls it
// from its handlers and its refresh loop; implementations must be safe for
// concurrent use. A shared state store (files locally, a key-value bucket
// in a cluster) implements the same methods.
type DashboardStore interface {
	// Load returns every dashboard, sorted by name.
	Load() ([]Dashboard, error)
	// Save creates or replaces a dashboard, durably before it returns.
	Save(d Dashboard) error
	// Delete removes a dashboard; a missing one is not an error.
	Delete(name string) error
}

// fileStore keeps each dashboard in <dir>/<hex of its name>.json, written
// atomically; hex keeps any name inside dir.
type fileStore struct {
	dir string
}

// memStore keeps dashboards in memory (no data dir).
type memStore struct {
	mu sync.Mutex
	m  map[string]Dashboard
}

var (
	_ DashboardStore = (*fileStore)(nil)
	_ DashboardStore = (*memStore)(nil)
)

func openDashboardStore(dir string) (DashboardStore, error) {
	if dir == "" {
		return &memStore{m: map[string]Dashboard{}}, nil
	}
	dir = filepath.Join(dir, "dashboards")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open dashboards dir: %w", err)
	}
	if _, err := atomicfile.CleanTemps(dir); err != nil {
		return nil, err
	}
	return &fileStore{dir: dir}, nil
}

func (s *fileStore) path(name string) string {
	return filepath.Join(s.dir, hex.EncodeToString([]byte(name))+".json")
}

func (s *fileStore) Load() ([]Dashboard, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("read dashboards: %w", err)
	}
	var out []Dashboard
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read dashboard: %w", err)
		}
		var d Dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("parse dashboard %s: %w", filepath.Join(s.dir, e.Name()), err)
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *fileStore) Save(d Dashboard) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.path(d.Name), b, 0o644); err != nil {
		return fmt.Errorf("save dashboard %s: %w", d.Name, err)
	}
	return nil
}

func (s *fileStore) Delete(name string) error {
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete dashboard %s: %w", name, err)
	}
	return atomicfile.SyncDir(s.dir)
}

func (s *memStore) Load() ([]Dashboard, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Dashboard, 0, len(s.m))
	for _, d := range s.m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *memStore) Save(d Dashboard) error {
	s.mu.Lock()
	s.m[d.Name] = d
	s.mu.Unlock()
	return nil
}

func (s *memStore) Delete(name string) error {
	s.mu.Lock()
	delete(s.m, name)
	s.mu.Unlock()
	return nil
}
