package athena_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/hydrant-io/hydrant/internal/athena"
	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// gatedHistory holds (or fails) the first write of each execution's
// record, and records the states written, in order.
type gatedHistory struct {
	*athena.FileHistory
	entered chan string   // an execution's first write began (its ID)
	gate    chan struct{} // closed to let first writes proceed
	fail    error         // the first writes' error

	mu     sync.Mutex
	seen   map[string]bool
	states []string
}

func (h *gatedHistory) Save(ctx context.Context, e *athena.Execution) error {
	h.mu.Lock()
	first := !h.seen[e.ID]
	h.seen[e.ID] = true
	h.mu.Unlock()
	if first {
		h.entered <- e.ID
		<-h.gate
		if h.fail != nil {
			return h.fail
		}
	}
	if err := h.FileHistory.Save(ctx, e); err != nil {
		return err
	}
	h.mu.Lock()
	h.states = append(h.states, e.State)
	h.mu.Unlock()
	return nil
}

func newGated(t *testing.T, dir string, fail error) *gatedHistory {
	t.Helper()
	fh, err := athena.NewFileHistory(filepath.Join(dir, "athena"))
	if err != nil {
		t.Fatal(err)
	}
	return &gatedHistory{FileHistory: fh, entered: make(chan string, 1), gate: make(chan struct{}), fail: fail, seen: map[string]bool{}}
}

// TestQueryRunsWhileItsRecordIsWritten checks that a query starts before
// its first record is durable, that Start waits for that record, and that
// the final state is written after it, never before.
func TestQueryRunsWhileItsRecordIsWritten(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		h := newGated(t, dir, nil)
		svc := newService(t, dir, h)
		ctx := context.Background()
		type started struct {
			id  string
			err error
		}
		res := make(chan started, 1)
		go func() {
			id, err := svc.Start(ctx, athena.StartInput{Query: "rows 3"})
			res <- started{id, err}
		}()
		id := <-h.entered
		// The query runs and finishes while its record is being written;
		// its own write waits for that one.
		synctest.Wait()
		ex, err := svc.Execution(ctx, id)
		if err != nil || ex.State != athena.StateSucceeded {
			t.Fatalf("while the record is written: %+v %v", ex.State, err)
		}
		select {
		case r := <-res:
			t.Fatalf("Start returned before the record was written: %+v", r)
		default:
		}
		h.mu.Lock()
		if len(h.states) != 0 {
			t.Fatalf("records written before the first: %v", h.states)
		}
		h.mu.Unlock()
		close(h.gate)
		if r := <-res; r.err != nil || r.id != id {
			t.Fatalf("Start: %+v", r)
		}
		svc.Close() // waits for the query's own writes
		h.mu.Lock()
		states := slices.Clone(h.states)
		h.mu.Unlock()
		if !slices.Equal(states, []string{athena.StateQueued, athena.StateSucceeded}) {
			t.Fatalf("records written in the order %v", states)
		}
		list, err := h.Load(ctx)
		if err != nil || len(list) != 1 || list[0].State != athena.StateSucceeded {
			t.Fatalf("history after the query: %v %v", list, err)
		}
	})
}

// newService is the service without its HTTP front (for synctest
// bubbles).
func newService(t *testing.T, dir string, hist athena.History) *athena.Service {
	t.Helper()
	cat, err := catalog.Open(filepath.Join(dir, "catalog"), "000000000000", nil)
	if err != nil {
		t.Fatal(err)
	}
	store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := athena.New(athena.Options{Engine: fakeEngine{}, Catalog: cat, Store: store, History: hist,
		TempDir: filepath.Join(dir, "tmp"), Region: "us-east-1", AccountID: "000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); store.Close() })
	return svc
}

// TestQueryNotRecordedIsNotStarted checks that a query whose first record
// cannot be written is stopped and forgotten, and Start fails.
func TestQueryNotRecordedIsNotStarted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := newGated(t, dir, errors.New("disk full"))
	close(h.gate)
	e := startWith(t, dir, 0, h)
	ctx := context.Background()
	go func() { <-h.entered }()
	id, err := e.svc.Start(ctx, athena.StartInput{Query: "rows 3", ClientRequestToken: "token-1"})
	if err == nil || id != "" {
		t.Fatalf("Start: %q %v, want an error", id, err)
	}
	if ids := e.svc.List(ctx); len(ids) != 0 {
		t.Fatalf("executions after a failed Start: %v", ids)
	}
	e.svc.Close()
	if list, err := h.Load(ctx); err != nil || len(list) != 0 {
		t.Fatalf("history after a failed Start: %v %v", list, err)
	}
}
