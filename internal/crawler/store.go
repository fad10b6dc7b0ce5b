package crawler

import (
	"context"
	"encoding/hex"
	"fmt"

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
type FileStore struct{ dir *atomicfile.JSONDir }

// NewFileStore opens (creating) dir, normally <data-dir>/crawlers.
func NewFileStore(dir string) (*FileStore, error) {
	d, err := atomicfile.OpenJSONDir(dir)
	if err != nil {
		return nil, fmt.Errorf("crawlers: %w", err)
	}
	return &FileStore{dir: d}, nil
}

// Save writes a crawler.
func (s *FileStore) Save(_ context.Context, c *Crawler) error {
	return s.dir.Save(hex.EncodeToString([]byte(c.Name)), c)
}

// Load reads every crawler.
func (s *FileStore) Load(_ context.Context) ([]*Crawler, error) {
	return atomicfile.LoadJSON[Crawler](s.dir, func(name string) bool {
		_, err := hex.DecodeString(name)
		return err == nil
	})
}

// Delete removes a crawler.
func (s *FileStore) Delete(_ context.Context, name string) error {
	return s.dir.Remove(hex.EncodeToString([]byte(name)))
}
