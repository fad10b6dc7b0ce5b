package athena

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
)

// History keeps query executions across restarts. The service calls Save
// at every state change of an execution (from several goroutines), Load
// once at start, Delete for executions past the retention. It is the
// service's only persistent state, so moving it to another store (the
// cluster's key-value store) is a new History.
type History interface {
	Save(ctx context.Context, e *Execution) error
	Load(ctx context.Context) ([]*Execution, error)
	Delete(ctx context.Context, id string) error
}

// FileHistory keeps each execution as <dir>/<id>.json, written atomically.
type FileHistory struct{ dir string }

// NewFileHistory opens (creating) dir, normally <data-dir>/athena/queries.
func NewFileHistory(dir string) (*FileHistory, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("athena history: %w", err)
	}
	if _, err := atomicfile.CleanTemps(dir); err != nil {
		return nil, fmt.Errorf("athena history: %w", err)
	}
	return &FileHistory{dir: dir}, nil
}

// path is an execution's file; IDs are UUIDs, anything else is refused so
// that no ID names a path outside dir.
func (h *FileHistory) path(id string) (string, error) {
	if id == "" || strings.Trim(id, "0123456789abcdef-") != "" {
		return "", fmt.Errorf("athena history: bad query execution ID %q", id)
	}
	return filepath.Join(h.dir, id+".json"), nil
}

// Save writes an execution.
func (h *FileHistory) Save(_ context.Context, e *Execution) error {
	p, err := h.path(e.ID)
	if err != nil {
		return err
	}
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return atomicfile.Write(p, b, 0o644)
}

// Load reads every execution; unreadable files are skipped with an error
// naming them after the others are read.
func (h *FileHistory) Load(_ context.Context) ([]*Execution, error) {
	files, err := filepath.Glob(filepath.Join(h.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*Execution
	var errs []error
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var e Execution
		if err := json.Unmarshal(b, &e); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		out = append(out, &e)
	}
	return out, errors.Join(errs...)
}

// Delete removes an execution.
func (h *FileHistory) Delete(_ context.Context, id string) error {
	p, err := h.path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
