package stream

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// failingLog is a real segment log whose WriteError can be set, standing in
// for a disk that fails.
type failingLog struct {
	*buffer.SegmentLog
	err atomic.Pointer[error]
}

func (f *failingLog) WriteError() error {
	if e := f.err.Load(); e != nil {
		return *e
	}
	return f.SegmentLog.WriteError()
}

// TestHealth checks that the registry reports each stream whose log refuses
// records, and nothing once they accept again.
func TestHealth(t *testing.T) {
	dir := t.TempDir()
	store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	logs := map[string]*failingLog{}
	r, err := Open(Options{Dir: filepath.Join(dir, "streams"), Region: "us-east-1", AccountID: "000000000000", Store: store,
		OpenLog: func(d string) (buffer.Log, error) {
			l, err := buffer.Open(d, buffer.Options{})
			if err != nil {
				return nil, err
			}
			f := &failingLog{SegmentLog: l}
			logs[filepath.Base(filepath.Dir(d))] = f
			return f, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, n := range []string{"a", "b", "c"} {
		if _, err := r.Create(context.Background(), config(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Health(); err != nil {
		t.Fatalf("Health of healthy streams = %v", err)
	}
	full := error(syscall.ENOSPC)
	logs[dirPrefix+"a"].err.Store(&full)
	eio := error(syscall.EIO)
	logs[dirPrefix+"c"].err.Store(&eio)
	err = r.Health()
	lines := strings.Split(fmtErr(err), "\n")
	if len(lines) != 2 || !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, syscall.EIO) ||
		!strings.HasPrefix(lines[0], "stream a refuses records: ") || !strings.HasPrefix(lines[1], "stream c refuses records: ") {
		t.Fatalf("Health = %q, want one line each for a and c", lines)
	}
	logs[dirPrefix+"a"].err.Store(nil)
	logs[dirPrefix+"c"].err.Store(nil)
	if err := r.Health(); err != nil {
		t.Fatalf("Health after the errors cleared = %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
