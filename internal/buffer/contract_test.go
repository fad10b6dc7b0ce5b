package buffer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/buffer/logtest"
)

// TestContract runs the buffer.Log contract against the segment log: each
// log is a directory, a crash is an abandoned log (every append is synced
// before it returns, so Close writes nothing a crash would lose), and only
// one process can open a directory at a time.
func TestContract(t *testing.T) {
	logtest.Run(t, func(t *testing.T) logtest.Harness {
		root := t.TempDir()
		return logtest.Harness{
			Open: func(t *testing.T, name string, o logtest.Options) (buffer.Log, error) {
				return buffer.Open(filepath.Join(root, name), buffer.Options{MaxBytes: o.MaxBytes})
			},
			Delete: func(t *testing.T, name string) error {
				return os.RemoveAll(filepath.Join(root, name))
			},
		}
	})
}
