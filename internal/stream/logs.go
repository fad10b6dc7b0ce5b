package stream

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
	"github.com/hydrant-io/hydrant/internal/buffer"
)

// Logs opens and deletes the logs of delivery streams. A stream has its
// record log (kind LogKind) and may have others (a partition spool), each
// opened by kind. On one node they are segment logs in the stream's
// directory; in a cluster they are JetStream streams (jslog.Logs).
type Logs interface {
	// Open opens the stream's log of the given kind, creating it empty
	// when there is none and recovering it otherwise.
	Open(ctx context.Context, stream, kind string) (buffer.Log, error)
	// Delete removes every log of the stream and what they hold; they are
	// closed on this node.
	Delete(ctx context.Context, stream string) error
	// List returns the streams that have logs, so that the registry can
	// delete those of streams that no longer exist (a create or delete
	// interrupted by a crash).
	List(ctx context.Context) ([]string, error)
}

// LogKind is the kind of a stream's record log, PartitionKind that of a
// dynamically partitioned stream's partition log (its records buffered by
// partition across batches).
const (
	LogKind       = "log"
	PartitionKind = "partitions"
)

// LocalLogs keeps each stream's logs as directories of its stream
// directory: <dir>/ds-<name>/<kind>.
type LocalLogs struct {
	// Dir is <data-dir>/streams.
	Dir string
	// OpenDir opens the log in a directory.
	OpenDir func(dir string) (buffer.Log, error)
}

var _ Logs = LocalLogs{}

// Open implements Logs.
func (l LocalLogs) Open(ctx context.Context, stream, kind string) (buffer.Log, error) {
	return l.OpenDir(filepath.Join(streamDir(l.Dir, stream), kind))
}

// Delete implements Logs: every directory in the stream's directory goes,
// and the directory itself once nothing else (its stream.json) is left.
func (l LocalLogs) Delete(ctx context.Context, stream string) error {
	dir := streamDir(l.Dir, stream)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete logs of %s: %w", stream, err)
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("delete logs of %s: %w", stream, err)
			}
		}
	}
	if err := os.Remove(dir); err == nil {
		return atomicfile.SyncDir(l.Dir)
	}
	return atomicfile.SyncDir(dir)
}

// List implements Logs: every stream directory.
func (l LocalLogs) List(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(l.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list stream dirs: %w", err)
	}
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutPrefix(e.Name(), dirPrefix); ok && e.IsDir() {
			out = append(out, name)
		}
	}
	return out, nil
}
