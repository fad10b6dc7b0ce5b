package stream

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/jslog"
	"github.com/hydrant-io/hydrant/internal/natsd"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/state"
)

// node opens a clustered registry over its own connection to srv, sharing
// the state, logs and bucket store with the other nodes of the test.
func node(t *testing.T, srv *natsd.Server, store objstore.Store) *Registry {
	t.Helper()
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	st, err := state.OpenKV(t.Context(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	logs, err := jslog.New(t.Context(), nc, jslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(Options{Dir: filepath.Join(t.TempDir(), "streams"), Region: "us-east-1", AccountID: "000000000000",
		Store: store, State: st, Logs: logs, Clustered: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// TestClusterSharedStreams: a stream created on one node takes Puts on
// another at once and is described on a third; changes and deletions
// show everywhere; delivery runs only where StartDelivery put it, and a
// takeover with a newer token fences the old holder.
func TestClusterSharedStreams(t *testing.T) {
	srv, err := natsd.Start(t.Context(), natsd.Options{Name: "test", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	store, err := objstore.NewLocal(filepath.Join(t.TempDir(), "buckets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := node(t, srv, store), node(t, srv, store), node(t, srv, store)
	ctx := context.Background()

	cfg := config("shared")
	cfg.Destination.BufferingHints.IntervalInSeconds = ptr(0)
	if _, err := a.Create(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var batch buffer.Batch
	batch.Add([]byte("from b\n"))
	if _, _, err := b.Put(ctx, "shared", &batch); err != nil {
		t.Fatalf("Put on another node right after Create: %v", err)
	}
	info, err := c.Get(ctx, "shared")
	if err != nil || info.Status != firehose.StatusActive {
		t.Fatalf("Get on a third node: %+v, %v", info, err)
	}
	if _, err := c.Create(ctx, cfg); !errors.Is(err, firehose.ErrStreamExists) {
		t.Fatalf("Create of the same name on another node = %v, want ErrStreamExists", err)
	}
	// An update on c is seen on a.
	if err := c.Update(ctx, "shared", func(i *firehose.StreamInfo) error { i.VersionID++; return nil }); err != nil {
		t.Fatal(err)
	}
	if info, err := a.Get(ctx, "shared"); err != nil || info.VersionID != 2 {
		t.Fatalf("after an update on another node: VersionID %d, %v", info.VersionID, err)
	}
	if l, err := b.List(ctx); err != nil || len(l) != 1 {
		t.Fatalf("List on b = %d streams, %v", len(l), err)
	}

	// No node delivers until one is given the lease.
	if _, err := a.Flush("shared"); !errors.Is(err, ErrNotDelivering) {
		t.Fatalf("Flush without a lease = %v, want ErrNotDelivering", err)
	}
	if err := a.StartDelivery(ctx, "shared", 10); err != nil {
		t.Fatal(err)
	}
	waitDelivered := func(r *Registry, want int) {
		t.Helper()
		done, err := r.Flush("shared")
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("flush did not finish")
		}
		objs, err := store.List(ctx, "bucket", "")
		if err != nil || len(objs) != want {
			t.Fatalf("%d objects delivered (%v), want %d", len(objs), err, want)
		}
	}
	waitDelivered(a, 1)

	// b takes over with a newer lease; a (which did not stop) is fenced.
	if err := b.StartDelivery(ctx, "shared", 11); err != nil {
		t.Fatal(err)
	}
	batch.Reset()
	batch.Add([]byte("from c\n"))
	if _, _, err := c.Put(ctx, "shared", &batch); err != nil {
		t.Fatal(err)
	}
	waitDelivered(b, 2)
	a.StopDelivery("shared")

	// Deleted on c: gone everywhere.
	if err := c.Delete(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Registry{a, b} {
		if _, err := r.Get(ctx, "shared"); !errors.Is(err, firehose.ErrStreamNotFound) {
			t.Fatalf("Get after a delete on another node = %v", err)
		}
	}
	batch.Reset()
	batch.Add([]byte("late"))
	if _, _, err := b.Put(ctx, "shared", &batch); !errors.Is(err, firehose.ErrStreamNotFound) {
		t.Fatalf("Put after delete = %v", err)
	}
}
