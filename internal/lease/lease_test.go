package lease

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/natsd"
)

// holders records which node delivers each stream, failing on any moment
// where two live nodes deliver the same one.
type holders struct {
	t       *testing.T
	mu      sync.Mutex
	streams []string
	by      map[string]string // stream -> node
	tokens  map[string]uint64 // stream -> last token handed out
	dead    map[string]bool
}

func (h *holders) target(node string) Target { return &fakeTarget{h: h, node: node} }

func (h *holders) owners() map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[string]string{}
	for s, n := range h.by {
		if !h.dead[n] {
			out[s] = n
		}
	}
	return out
}

type fakeTarget struct {
	h    *holders
	node string
}

func (f *fakeTarget) DeliverableStreams() []string { return f.h.streams }

func (f *fakeTarget) StartDelivery(ctx context.Context, s string, token uint64) error {
	h := f.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if cur, ok := h.by[s]; ok && !h.dead[cur] {
		h.t.Errorf("%s takes %s while %s still delivers it", f.node, s, cur)
	}
	if token <= h.tokens[s] {
		h.t.Errorf("%s takes %s with token %d, not above the previous %d", f.node, s, token, h.tokens[s])
	}
	h.by[s], h.tokens[s] = f.node, token
	return nil
}

func (f *fakeTarget) StopDelivery(s string) {
	h := f.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.by[s] == f.node {
		delete(h.by, s)
	}
}

const ttl = 400 * time.Millisecond

func setup(t *testing.T) (jetstream.JetStream, *holders) {
	srv, err := natsd.Start(t.Context(), natsd.Options{Name: "test", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := srv.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	h := &holders{t: t, by: map[string]string{}, tokens: map[string]uint64{}, dead: map[string]bool{}}
	for i := range 12 {
		h.streams = append(h.streams, fmt.Sprintf("stream-%d", i))
	}
	return js, h
}

func start(t *testing.T, js jetstream.JetStream, h *holders, node string) *Manager {
	m, err := Start(t.Context(), js, h.target(node), Options{Node: node, Addr: node + ":4566", TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-m.done:
		default:
			m.Close(context.Background())
		}
	})
	return m
}

// crash stops a manager as a killed process would: no release, no delete.
func crash(m *Manager, h *holders) {
	m.cancel()
	<-m.done
	h.mu.Lock()
	h.dead[m.o.Node] = true
	h.mu.Unlock()
}

func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > timeout {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// everyStreamOn waits until every stream is delivered by one of nodes and
// each of them delivers at least one.
func everyStreamOn(t *testing.T, h *holders, timeout time.Duration, nodes ...string) time.Duration {
	t.Helper()
	defer func() {
		if t.Failed() {
			t.Logf("owners: %v", h.owners())
		}
	}()
	return waitFor(t, timeout, fmt.Sprintf("every stream delivered, spread over %v", nodes), func() bool {
		own := h.owners()
		if len(own) != len(h.streams) {
			return false
		}
		count := map[string]int{}
		for _, n := range own {
			count[n]++
		}
		for _, n := range nodes {
			if count[n] == 0 {
				return false
			}
		}
		return len(count) == len(nodes)
	})
}

func TestSpreadFailoverAndHandBack(t *testing.T) {
	js, h := setup(t)
	a := start(t, js, h, "a")
	b := start(t, js, h, "b")
	c := start(t, js, h, "c")
	everyStreamOn(t, h, 10*ttl, "a", "b", "c")
	_, _ = b, c

	// a crashes: its streams move to b and c within two lease times (and
	// the status on b says so).
	crash(a, h)
	took := everyStreamOn(t, h, 4*ttl, "b", "c")
	t.Logf("failover after a crash took %s (lease time %s)", took, ttl)
	if took > 2*ttl+ttl/2 {
		t.Errorf("failover took %s, more than twice the lease time %s", took, ttl)
	}
	nodes, leases := b.Status()
	if len(leases) != len(h.streams) || len(nodes) < 2 {
		t.Errorf("status: %d nodes, %d leases", len(nodes), len(leases))
	}

	// a comes back: it gets its preferred streams back (hand-back).
	h.mu.Lock()
	h.dead["a"] = false
	h.mu.Unlock()
	a2 := start(t, js, h, "a")
	everyStreamOn(t, h, 20*ttl, "a", "b", "c")

	// c shuts down gracefully: its streams move at once.
	c.Close(context.Background())
	h.mu.Lock()
	h.dead["c"] = true
	h.mu.Unlock()
	took = everyStreamOn(t, h, 4*ttl, "a", "b")
	t.Logf("hand-over after a graceful shutdown took %s", took)
	if node, addr, ok := a2.Owner(h.streams[0]); !ok || addr != node+":4566" {
		t.Errorf("Owner(%s) = %q, %q, %v", h.streams[0], node, addr, ok)
	}
}

// TestRestartedNodeTakesItsLeasesBack: a node that restarts under the same
// name takes its own leases back without waiting for them to expire.
func TestRestartedNodeTakesItsLeasesBack(t *testing.T) {
	js, h := setup(t)
	a := start(t, js, h, "a")
	everyStreamOn(t, h, 10*ttl, "a")
	crash(a, h)
	h.mu.Lock()
	h.dead["a"] = false
	h.mu.Unlock()
	start(t, js, h, "a")
	took := everyStreamOn(t, h, 10*ttl, "a")
	if took >= ttl {
		t.Errorf("the restarted node took %s to take its leases back, a whole lease time (%s)", took, ttl)
	}
}

// cuttable is a bucket whose writes hang, once cut, until their context
// ends (or for a long time without a deadline), as they do on a node cut
// off from the quorum of the bucket's replicas.
type cuttable struct {
	jetstream.KeyValue
	cut chan struct{} // closed by the cut
}

func (c *cuttable) hang(ctx context.Context) error {
	select {
	case <-c.cut:
	default:
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(20 * ttl):
		return context.DeadlineExceeded
	}
}

func (c *cuttable) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	if err := c.hang(ctx); err != nil {
		return 0, err
	}
	return c.KeyValue.Put(ctx, key, value)
}

func (c *cuttable) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	if err := c.hang(ctx); err != nil {
		return 0, err
	}
	return c.KeyValue.Create(ctx, key, value, opts...)
}

func (c *cuttable) Update(ctx context.Context, key string, value []byte, rev uint64) (uint64, error) {
	if err := c.hang(ctx); err != nil {
		return 0, err
	}
	return c.KeyValue.Update(ctx, key, value, rev)
}

func (c *cuttable) Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	if err := c.hang(ctx); err != nil {
		return err
	}
	return c.KeyValue.Delete(ctx, key, opts...)
}

// TestCutOffHolderStopsBeforeTakeover: a node whose bucket writes hang
// (cut off from the quorum) stops delivering its streams before another
// node takes them over, although its heartbeats and renewals never return
// an error in time; holders fails on any overlap.
func TestCutOffHolderStopsBeforeTakeover(t *testing.T) {
	js, h := setup(t)
	cut := make(chan struct{})
	a, err := Start(t.Context(), js, h.target("a"), Options{Node: "a", TTL: ttl,
		wrap: func(kv jetstream.KeyValue) jetstream.KeyValue { return &cuttable{KeyValue: kv, cut: cut} }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.cancel(); <-a.done })
	everyStreamOn(t, h, 10*ttl, "a")
	start(t, js, h, "b")
	cutAt := time.Now()
	close(cut)
	waitFor(t, ttl, "a giving its streams up", func() bool {
		_, leases := a.Status()
		for _, l := range leases {
			if l.Token != 0 {
				return false
			}
		}
		return true
	})
	t.Logf("a gave its streams up %s after the cut", time.Since(cutAt).Round(time.Millisecond))
	everyStreamOn(t, h, 4*ttl, "b")
	t.Logf("b delivers every stream %s after the cut", time.Since(cutAt).Round(time.Millisecond))
}
