package athena

import (
	"context"
	"fmt"
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
type FileHistory struct{ dir *atomicfile.JSONDir }

// NewFileHistory opens (creating) dir, normally <data-dir>/athena/queries.
func NewFileHistory(dir string) (*FileHistory, error) {
	d, err := atomicfile.OpenJSONDir(dir)
	if err != nil {
		return nil, fmt.Errorf("athena history: %w", err)
	}
	return &FileHistory{dir: d}, nil
}

// checkID refuses anything but a UUID's characters, so that no ID names a
// path outside the directory.
func checkID(id string) error {
	if id == "" || strings.Trim(id, "0123456789abcdef-") != "" {
		return fmt.Errorf("athena history: bad query execution ID %q", id)
	}
	return nil
}

// Save writes an execution.
func (h *FileHistory) Save(_ context.Context, e *Execution) error {
	if err := checkID(e.ID); err != nil {
		return err
	}
	return h.dir.Save(e.ID, e)
}

// Load reads every execution; unreadable files are skipped with an error
// naming them after the others are read.
func (h *FileHistory) Load(_ context.Context) ([]*Execution, error) {
	return atomicfile.LoadJSON[Execution](h.dir, nil)
}

// Delete removes an execution.
func (h *FileHistory) Delete(_ context.Context, id string) error {
	if err := checkID(id); err != nil {
		return err
	}
	return h.dir.Remove(id)
}
