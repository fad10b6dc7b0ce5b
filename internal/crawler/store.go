package crawler

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
)

// Store keeps crawlers and their last runs across restarts. The service
// calls Save at every change (from several goroutines, never for the same
// crawler at once), Load once at start and Delete with DeleteCrawler.
type Store interface {
	Save(ctx context.Context, c *Crawler) error
	Load(ctx context.Context) ([]*Crawler, error)
	Delete(ctx context.Context, name string) error
}

// FileStore keeps each crawler as <dir>/<hex of name>.json (Glue's names
// allow characters file names do not).
type FileStore struct{ dir string }

// NewFileStore opens (creating) dir, normally <data-dir>/crawlers.
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("crawlers: %w", err)
	}
	if _, err := atomicfile.CleanTemps(dir); err != nil {
		return nil, fmt.Errorf("crawlers: %w", err)
	}
	return &FileStore{dir: dir}, nil
}

func (s *FileStore) path(name string) string {
	return filepath.Join(s.dir, hex.EncodeToString([]byte(name))+".json")
}

// Save writes a crawler.
func (s *FileStore) Save(_ context.Context, c *Crawler) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path(c.Name), b, 0o644)
}

// Load reads every crawler.
func (s *FileStore) Load(_ context.Context) ([]*Crawler, error) {
	files, err := filepath.Glob(filepath.Join(s.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Crawler
	var errs []error
	for _, f := range files {
		if _, err := hex.DecodeString(strings.TrimSuffix(filepath.Base(f), ".json")); err != nil {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var c Crawler
		if err := json.Unmarshal(b, &c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		out = append(out, &c)
	}
	return out, errors.Join(errs...)
}

// Delete removes a crawler.
func (s *FileStore) Delete(_ context.Context, name string) error {
	if err := os.Remove(s.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
