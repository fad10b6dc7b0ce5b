package state_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/natsd"
	"github.com/hydrant-io/hydrant/internal/state"
	"github.com/hydrant-io/hydrant/internal/state/statetest"
)

func TestLocalContract(t *testing.T) {
	statetest.Run(t, func(t *testing.T) state.Store {
		s, err := state.OpenLocal(t.TempDir(), "*", "*/*", "*/*/*")
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestKVContract(t *testing.T) {
	srv, err := natsd.Start(t.Context(), natsd.Options{Name: "test", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	statetest.Run(t, func(t *testing.T) state.Store {
		nc, err := srv.Connect()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		// A fresh, empty store per subtest.
		_ = js.DeleteKeyValue(t.Context(), state.Bucket)
		_ = js.DeleteObjectStore(t.Context(), state.BlobBucket)
		s, err := state.OpenKV(t.Context(), js, 1)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestLocalLayout checks that the local store keeps each key at its path,
// leaves files that are not its own alone, and reads what an older
// hydrant wrote.
func TestLocalLayout(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "streams", "ds-old")
	if err := os.MkdirAll(filepath.Join(dir, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "stream.json"), []byte(`{"name":"old"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "log", "00000000000000000001.seg"), []byte("segment"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".stream.json.tmp-123"), []byte("torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := state.OpenLocal(root, "streams/*/stream.json")
	if err != nil {
		t.Fatal(err)
	}
	es, err := s.List(t.Context(), "streams/")
	if err != nil || len(es) != 1 || es[0].Key != "streams/ds-old/stream.json" || string(es[0].Value) != `{"name":"old"}` {
		t.Fatalf("List = %+v, %v", es, err)
	}
	if _, err := s.Put(t.Context(), "streams/ds-old/log/x", []byte("no"), state.Any); err == nil {
		t.Fatal("Put of a key outside the patterns succeeded")
	}
	if _, err := s.Put(t.Context(), "streams/ds-new/stream.json", []byte("{}"), 0); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "streams", "ds-new", "stream.json")); err != nil || string(b) != "{}" {
		t.Fatalf("new key on disk: %q, %v", b, err)
	}
	// Deleting the state file keeps the directory while the log is there.
	if err := s.Delete(t.Context(), "streams/ds-old/stream.json", state.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "log", "00000000000000000001.seg")); err != nil {
		t.Fatalf("the log next to a deleted key: %v", err)
	}
	if err := s.Delete(t.Context(), "streams/ds-new/stream.json", state.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "streams", "ds-new")); !os.IsNotExist(err) {
		t.Fatalf("an emptied directory stays: %v", err)
	}
}
