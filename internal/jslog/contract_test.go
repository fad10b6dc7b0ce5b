package jslog_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/nats-io/nats.go"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/buffer/logtest"
	"github.com/hydrant-io/hydrant/internal/jslog"
	"github.com/hydrant-io/hydrant/internal/natsd"
)

// startServer runs an embedded JetStream server for the test.
func startServer(t *testing.T) *natsd.Server {
	t.Helper()
	s, err := natsd.Start(t.Context(), natsd.Options{Name: "test", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// harness opens each handle over a connection of its own, as a node of a
// cluster would; a crash closes that connection under the log.
func harness(srv *natsd.Server, prefix string, o jslog.Options) func(t *testing.T) logtest.Harness {
	var n int
	var mu sync.Mutex
	return func(t *testing.T) logtest.Harness {
		mu.Lock()
		n++
		id := fmt.Sprintf("%s%d/", prefix, n)
		mu.Unlock()
		conns := map[buffer.Log]*nats.Conn{}
		var cmu sync.Mutex
		logs := func(t *testing.T, o jslog.Options) (*jslog.Logs, *nats.Conn) {
			nc, err := srv.Connect()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(nc.Close)
			ls, err := jslog.New(t.Context(), nc, o)
			if err != nil {
				t.Fatal(err)
			}
			return ls, nc
		}
		return logtest.Harness{
			Open: func(t *testing.T, name string, lo logtest.Options) (buffer.Log, error) {
				o := o
				o.MaxBytes = lo.MaxBytes
				ls, nc := logs(t, o)
				l, err := ls.Open(t.Context(), id+name, "log")
				if err != nil {
					return nil, err
				}
				cmu.Lock()
				conns[l] = nc
				cmu.Unlock()
				return l, nil
			},
			Delete: func(t *testing.T, name string) error {
				ls, _ := logs(t, o)
				return ls.Delete(t.Context(), id+name)
			},
			Crash: func(t *testing.T, l buffer.Log) {
				cmu.Lock()
				nc := conns[l]
				cmu.Unlock()
				nc.Close()
			},
			Shared: true,
		}
	}
}

func TestContract(t *testing.T) {
	srv := startServer(t)
	logtest.Run(t, harness(srv, "c", jslog.Options{}))
}

// TestContractSmallMessages runs the contract with messages of at most
// 1.1 MB, as with a NATS server at its default max_payload (1 MiB): the
// suite's 5 MB batch is split into an atomic batch of messages. (A single
// Firehose record, at most 1000 KiB, always fits in one message.)
func TestContractSmallMessages(t *testing.T) {
	srv := startServer(t)
	logtest.Run(t, harness(srv, "s", jslog.Options{MaxMessageBytes: 1100_000}))
}

func TestNames(t *testing.T) {
	srv := startServer(t)
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ls, err := jslog.New(context.Background(), nc, jslog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"a.b", "..", "x_y-z", "UPPER9"}
	for _, n := range names {
		l, err := ls.Open(t.Context(), n, "log")
		if err != nil {
			t.Fatalf("Open(%q): %v", n, err)
		}
		l.Close()
	}
	got, err := ls.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, n := range got {
		have[n] = true
	}
	for _, n := range names {
		if !have[n] {
			t.Errorf("List() = %q, missing %q", got, n)
		}
	}
	// Delete removes every log of one stream, and only those.
	for _, kind := range []string{"log", "spool"} {
		l, err := ls.Open(t.Context(), "a", kind)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
	}
	if err := ls.Delete(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	got, _ = ls.List(t.Context())
	if strings.Join(got, ",") != strings.Join(names, ",") && len(got) != len(names) {
		t.Fatalf("after deleting a: List() = %q", got)
	}
	for _, n := range got {
		if n == "a" {
			t.Fatalf("after deleting a: List() = %q", got)
		}
	}
}

// TestReadyRefusesAppends: while Options.Ready fails (a node without a
// route to a quorum), Append fails at once with buffer.ErrFull naming the
// reason, and stores nothing; once it passes, Appends are stored again.
func TestReadyRefusesAppends(t *testing.T) {
	srv := startServer(t)
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var mu sync.Mutex
	var cut error
	ls, err := jslog.New(t.Context(), nc, jslog.Options{Ready: func() error {
		mu.Lock()
		defer mu.Unlock()
		return cut
	}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ls.Open(t.Context(), "ready", "log")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	one := func() (uint64, error) {
		var b buffer.Batch
		b.Add([]byte("r"))
		return l.Append(t.Context(), &b)
	}
	first, err := one()
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	cut = errors.New("no route to any other node of the cluster")
	mu.Unlock()
	if _, err := one(); !errors.Is(err, buffer.ErrFull) || !strings.Contains(err.Error(), "no route") {
		t.Fatalf("Append while not ready: %v; want ErrFull with the reason", err)
	}
	mu.Lock()
	cut = nil
	mu.Unlock()
	// The next message after the first: nothing was stored in between.
	seq, err := one()
	if err != nil || seq != first+1<<20 {
		t.Fatalf("Append once ready = %d, %v; want %d, the next message's", seq, err, first+1<<20)
	}
}
