// Package lease decides which node of a cluster delivers each stream: one
// lease per stream in a JetStream key-value bucket, held by exactly one node
// at a time and renewed while it lives. The revision at which a node took a
// lease is its fence token: the node fences the stream's logs with it
// before delivering (buffer.Log.Fence), so a node that lost the lease (a
// pause, a partition) can no longer commit a plan, and the node that took
// over redoes the last plan under the same object key.
//
// Expiry needs no synchronised clocks: a node counts a lease expired when
// it has not seen its revision change for the lease time on its own clock,
// and the holder stops delivering when a renewal has not succeeded within
// three quarters of the lease time of sending it, which is earlier, even
// while its requests hang (a node cut off from the others' quorum).
//
// Streams spread over the live nodes by rendezvous hashing: the preferred
// node of a free stream takes it at once, the others after waiting one
// more lease time; a holder hands a stream back to its preferred node when
// that node is alive (a node joined or came back).
package lease

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/natsd"
)

// Buckets of the package.
const (
	NodesBucket  = "hydrant_nodes"
	LeasesBucket = "hydrant_leases"
)

// DefaultTTL is the default lease time.
const DefaultTTL = 5 * time.Second

// Target is what the leases are for: the stream registry.
type Target interface {
	// DeliverableStreams returns the streams this node can deliver.
	DeliverableStreams() []string
	// StartDelivery starts delivering stream, its logs fenced with token.
	// An error gives the lease back.
	StartDelivery(ctx context.Context, stream string, token uint64) error
	// StopDelivery stops delivering stream and returns once it has stopped.
	StopDelivery(stream string)
}

// Options configure a Manager.
type Options struct {
	// Node is this node's name, unique in the cluster.
	Node string
	// Addr is where this node serves the API (shown by /_hydrant/cluster).
	Addr string
	// TTL is the lease time; default DefaultTTL.
	TTL time.Duration
	// Replicas is the buckets' replication factor.
	Replicas int
	// Logger receives acquisitions and losses; nil discards them.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time

	// wrap, when set (by tests), stands between the manager and its
	// buckets.
	wrap func(jetstream.KeyValue) jetstream.KeyValue
}

// nodeValue is a node's heartbeat.
type nodeValue struct {
	Name    string    `json:"name"`
	Addr    string    `json:"addr,omitempty"`
	Started time.Time `json:"started"`
}

// leaseValue is a stream's lease.
type leaseValue struct {
	Node  string    `json:"node"`
	Since time.Time `json:"since"`
}

// seen is a key's value as last observed, and when (on this node's clock).
type seen struct {
	value []byte
	rev   uint64
	at    time.Time
}

// held is a lease this node holds.
type held struct {
	rev     uint64 // latest revision written
	token   uint64 // revision at acquisition: the fence token
	since   time.Time
	renewed time.Time // when the last successful renewal was sent
	value   []byte
}

// Manager takes, renews and gives back this node's leases.
type Manager struct {
	o      Options
	log    *slog.Logger
	nodes  jetstream.KeyValue
	leases jetstream.KeyValue
	target Target
	cancel context.CancelFunc
	done   chan struct{}

	mu        sync.Mutex
	seenNodes map[string]seen // by node name
	seenLease map[string]seen // by stream name
	freeSince map[string]time.Time
	owned     map[string]*held
	started   time.Time
}

// Start creates the buckets, announces the node and starts taking leases
// for target's streams.
func Start(ctx context.Context, js jetstream.JetStream, target Target, o Options) (*Manager, error) {
	if o.Node == "" {
		return nil, errors.New("lease: a node name is required")
	}
	if o.TTL <= 0 {
		o.TTL = DefaultTTL
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	bucket := func(name, desc string) (jetstream.KeyValue, error) {
		kv, err := natsd.Ensure(ctx, func(ctx context.Context) (jetstream.KeyValue, error) { return js.KeyValue(ctx, name) },
			func(ctx context.Context) (jetstream.KeyValue, error) {
				return js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
					Bucket: name, Description: desc, History: 1, Storage: jetstream.FileStorage, Replicas: o.Replicas,
				})
			})
		if err != nil {
			return nil, fmt.Errorf("lease: bucket %s: %w", name, err)
		}
		return kv, nil
	}
	nodes, err := bucket(NodesBucket, "hydrant: the nodes of the cluster and their heartbeats")
	if err != nil {
		return nil, err
	}
	leases, err := bucket(LeasesBucket, "hydrant: which node delivers each stream")
	if err != nil {
		return nil, err
	}
	if o.wrap != nil {
		nodes, leases = o.wrap(nodes), o.wrap(leases)
	}
	rctx, cancel := context.WithCancel(context.Background())
	m := &Manager{
		o: o, log: o.Logger.With("node", o.Node), nodes: nodes, leases: leases, target: target,
		cancel: cancel, done: make(chan struct{}),
		seenNodes: map[string]seen{}, seenLease: map[string]seen{}, freeSince: map[string]time.Time{},
		owned: map[string]*held{}, started: o.Now(),
	}
	if err := m.heartbeat(ctx); err != nil {
		cancel()
		return nil, err
	}
	nw, err := nodes.WatchAll(rctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("lease: watch nodes: %w", err)
	}
	lw, err := leases.WatchAll(rctx)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("lease: watch leases: %w", err)
	}
	go m.follow(nw, m.seenNodes, nil)
	go m.follow(lw, m.seenLease, m.freeSince)
	go m.expire(rctx)
	go m.run(rctx)
	return m, nil
}

// follow records every change of a watched bucket with the time it was
// seen here.
func (m *Manager) follow(w jetstream.KeyWatcher, into map[string]seen, free map[string]time.Time) {
	defer func() { _ = w.Stop() }()
	for e := range w.Updates() {
		if e == nil {
			continue
		}
		name, err := natsd.FromToken(e.Key())
		if err != nil {
			continue
		}
		m.mu.Lock()
		now := m.o.Now()
		if e.Operation() == jetstream.KeyValuePut {
			into[name] = seen{value: e.Value(), rev: e.Revision(), at: now}
			if free != nil {
				delete(free, name)
			}
		} else {
			delete(into, name)
			if free != nil {
				free[name] = now
			}
		}
		m.mu.Unlock()
	}
}

// holdFor is how long after sending its last successful renewal a node
// keeps a lease: less than the lease time, after which the others, who
// count from when they saw that renewal, may take it.
func (m *Manager) holdFor() time.Duration { return m.o.TTL * 3 / 4 }

// expire gives up every lease not renewed within holdFor, whatever the
// loop is waiting for: a node cut off from the others (its routes down, a
// quorum lost) finds its key-value requests hanging until they time out,
// and must stop delivering before another node takes its streams over.
func (m *Manager) expire(ctx context.Context) {
	tick := time.NewTicker(m.o.TTL / 16)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := m.o.Now()
		var late []string
		m.mu.Lock()
		for s, h := range m.owned {
			if now.Sub(h.renewed) > m.holdFor() {
				late = append(late, s)
			}
		}
		m.mu.Unlock()
		for _, s := range late {
			m.lose(s, "not renewed within "+m.holdFor().String())
		}
	}
}

// run is the manager's loop: heartbeat, renew, acquire, rebalance, four
// times per lease time. Each request to the buckets is bounded, so that a
// hanging one does not hold up the renewals.
func (m *Manager) run(ctx context.Context) {
	defer close(m.done)
	tick := time.NewTicker(m.o.TTL / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := m.heartbeat(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("lease: heartbeat failed", "err", err)
		}
		m.renew(ctx)
		m.balance(ctx)
	}
}

// heartbeat announces this node.
func (m *Manager) heartbeat(ctx context.Context) error {
	b, _ := json.Marshal(nodeValue{Name: m.o.Node, Addr: m.o.Addr, Started: m.started})
	ctx, cancel := context.WithTimeout(ctx, m.o.TTL/4)
	defer cancel()
	if _, err := m.nodes.Put(ctx, natsd.Token(m.o.Node), b); err != nil {
		return fmt.Errorf("lease: heartbeat: %w", err)
	}
	return nil
}

// renew renews every held lease; a lease that cannot be renewed in time
// is given up before anyone else may take it.
func (m *Manager) renew(ctx context.Context) {
	m.mu.Lock()
	streams := make([]string, 0, len(m.owned))
	for s := range m.owned {
		streams = append(streams, s)
	}
	m.mu.Unlock()
	for _, s := range streams {
		m.mu.Lock()
		h := m.owned[s]
		m.mu.Unlock()
		if h == nil {
			continue
		}
		m.mu.Lock()
		last, prev := h.renewed, h.rev
		m.mu.Unlock()
		sent := m.o.Now()
		// No later than the lease is given up (expire).
		rctx, cancel := context.WithTimeout(ctx, min(m.o.TTL/2, last.Add(m.holdFor()).Sub(sent)))
		rev, err := m.leases.Update(rctx, natsd.Token(s), h.value, prev)
		cancel()
		switch {
		case err == nil:
			m.mu.Lock()
			h.rev, h.renewed = rev, sent
			m.mu.Unlock()
		case errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound):
			m.lose(s, "taken by another node")
		default:
			if ctx.Err() != nil {
				return
			}
			// Stop before anyone else could count the lease expired
			// (expire does too, should this loop be held up).
			if m.o.Now().Sub(last) > m.holdFor() {
				m.lose(s, "cannot renew: "+err.Error())
			} else {
				m.log.Warn("lease: renewal failed; retrying", "stream", s, "err", err)
			}
		}
	}
}

// lose stops delivering a stream whose lease is gone.
func (m *Manager) lose(stream, why string) {
	m.mu.Lock()
	h := m.owned[stream]
	delete(m.owned, stream)
	m.mu.Unlock()
	if h == nil {
		return
	}
	m.log.Warn("lease: lost the delivery of a stream", "stream", stream, "why", why)
	m.target.StopDelivery(stream)
}

// balance takes free streams this node should deliver and hands back
// those another live node is preferred for.
func (m *Manager) balance(ctx context.Context) {
	streams := m.target.DeliverableStreams()
	want := map[string]bool{}
	for _, s := range streams {
		want[s] = true
	}
	now := m.o.Now()
	m.mu.Lock()
	live := m.liveLocked(now)
	type action struct {
		stream string
		rev    uint64 // observed revision of an expired lease; 0: none
		give   *held
	}
	var acts []action
	for s, h := range m.owned {
		if !want[s] {
			acts = append(acts, action{stream: s, give: h})
			continue
		}
		if p := preferred(s, live); p != m.o.Node && now.Sub(h.since) > 2*m.o.TTL {
			acts = append(acts, action{stream: s, give: h})
		}
	}
	for _, s := range streams {
		if m.owned[s] != nil {
			continue
		}
		l, ok := m.seenLease[s]
		var lv leaseValue
		if ok {
			_ = json.Unmarshal(l.value, &lv)
		}
		var free time.Time
		switch {
		case !ok:
			free = m.freeSince[s]
			if free.IsZero() {
				free = m.started
			}
		case lv.Node == m.o.Node:
			// Ours, from before this process started: take it back now.
			acts = append(acts, action{stream: s, rev: l.rev})
			continue
		case now.Sub(l.at) > m.o.TTL:
			free = l.at.Add(m.o.TTL)
		default:
			continue // held
		}
		if preferred(s, live) == m.o.Node || now.Sub(free) > m.o.TTL {
			acts = append(acts, action{stream: s, rev: l.rev})
		}
	}
	m.mu.Unlock()

	for _, a := range acts {
		if ctx.Err() != nil {
			return
		}
		if a.give != nil {
			m.handBack(ctx, a.stream, a.give)
			continue
		}
		m.acquire(ctx, a.stream, a.rev)
	}
}

// acquire takes a free or expired lease (at revision rev; 0 when absent)
// and starts delivery.
func (m *Manager) acquire(ctx context.Context, stream string, rev uint64) {
	now := m.o.Now()
	b, _ := json.Marshal(leaseValue{Node: m.o.Node, Since: now})
	key := natsd.Token(stream)
	var nrev uint64
	var err error
	actx, cancel := context.WithTimeout(ctx, m.o.TTL/2)
	if rev == 0 {
		nrev, err = m.leases.Create(actx, key, b)
	} else {
		nrev, err = m.leases.Update(actx, key, b, rev)
	}
	cancel()
	if err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) && ctx.Err() == nil {
			m.log.Warn("lease: cannot take a lease", "stream", stream, "err", err)
		}
		return // another node was faster
	}
	h := &held{rev: nrev, token: nrev, since: now, renewed: now, value: b}
	m.mu.Lock()
	m.owned[stream] = h
	m.mu.Unlock()
	m.log.Info("lease: delivering stream", "stream", stream, "token", nrev)
	// Starting may take a while (the log's leader may be in an election
	// after a node died): it runs on its own, while the loop goes on
	// renewing every lease this node holds, this one included.
	go func() {
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		err := m.target.StartDelivery(sctx, stream, nrev)
		cancel()
		m.mu.Lock()
		still := m.owned[stream] == h
		if err != nil && still {
			delete(m.owned, stream)
		}
		m.mu.Unlock()
		switch {
		case err != nil && still:
			m.log.Warn("lease: could not start delivery; giving the lease back", "stream", stream, "err", err)
			m.mu.Lock()
			rev := h.rev
			m.mu.Unlock()
			_ = m.leases.Delete(context.WithoutCancel(ctx), key, jetstream.LastRevision(rev))
		case err == nil && !still:
			// Lost while starting: stop what just started.
			m.target.StopDelivery(stream)
		}
	}()
}

// handBack stops delivering a stream and deletes its lease, so that its
// preferred node (which watches the bucket) takes it at once.
func (m *Manager) handBack(ctx context.Context, stream string, h *held) {
	m.mu.Lock()
	if m.owned[stream] != h {
		m.mu.Unlock()
		return
	}
	delete(m.owned, stream)
	rev := h.rev
	m.mu.Unlock()
	m.log.Info("lease: handing a stream over", "stream", stream)
	m.target.StopDelivery(stream)
	if err := m.leases.Delete(ctx, natsd.Token(stream), jetstream.LastRevision(rev)); err != nil && ctx.Err() == nil {
		m.log.Warn("lease: delete lease", "stream", stream, "err", err)
	}
}

// Close stops delivering every stream and gives the leases back, so that
// other nodes take over at once (a graceful shutdown), then stops.
func (m *Manager) Close(ctx context.Context) {
	m.cancel()
	<-m.done
	m.mu.Lock()
	owned := m.owned
	m.owned = map[string]*held{}
	m.mu.Unlock()
	for s, h := range owned {
		m.target.StopDelivery(s)
		_ = m.leases.Delete(ctx, natsd.Token(s), jetstream.LastRevision(h.rev))
	}
	_ = m.nodes.Delete(ctx, natsd.Token(m.o.Node))
}

// liveLocked returns the nodes seen within the lease time, this one
// included, sorted.
func (m *Manager) liveLocked(now time.Time) []string {
	live := []string{m.o.Node}
	for n, s := range m.seenNodes {
		if n != m.o.Node && now.Sub(s.at) <= m.o.TTL {
			live = append(live, n)
		}
	}
	slices.Sort(live)
	return live
}

// preferred is the node a stream goes to: the highest rendezvous hash.
func preferred(stream string, nodes []string) string {
	var best string
	var top uint64
	for _, n := range nodes {
		h := fnv.New64a()
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write([]byte(stream))
		if v := mix(h.Sum64()); best == "" || v > top {
			best, top = n, v
		}
	}
	return best
}

// mix is splitmix64's finalizer: FNV alone hashes names that differ in one
// byte too alike for a fair spread.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Node is a node as the status shows it.
type Node struct {
	Name string `json:"name"`
	Addr string `json:"addr,omitempty"`
	// Live says its heartbeat was seen within the lease time.
	Live bool `json:"live"`
	// LastSeen is how long ago its heartbeat was seen here.
	LastSeen string    `json:"lastSeen"`
	Started  time.Time `json:"started"`
}

// Lease is a stream's lease as the status shows it.
type Lease struct {
	Stream string `json:"stream"`
	Node   string `json:"node,omitempty"`
	// Token is the revision at which this node took it (only for leases
	// this node holds); Revision is the lease's latest revision.
	Token    uint64 `json:"token,omitempty"`
	Revision uint64 `json:"revision,omitempty"`
	Expired  bool   `json:"expired,omitempty"`
}

// Status returns the nodes and leases as this node sees them.
func (m *Manager) Status() ([]Node, []Lease) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.o.Now()
	var nodes []Node
	for name, s := range m.seenNodes {
		var v nodeValue
		_ = json.Unmarshal(s.value, &v)
		nodes = append(nodes, Node{Name: name, Addr: v.Addr, Live: name == m.o.Node || now.Sub(s.at) <= m.o.TTL,
			LastSeen: now.Sub(s.at).Round(time.Millisecond).String(), Started: v.Started})
	}
	slices.SortFunc(nodes, func(a, b Node) int { return cmpString(a.Name, b.Name) })
	var leases []Lease
	for stream, s := range m.seenLease {
		var v leaseValue
		_ = json.Unmarshal(s.value, &v)
		l := Lease{Stream: stream, Node: v.Node, Revision: s.rev, Expired: now.Sub(s.at) > m.o.TTL}
		if h := m.owned[stream]; h != nil {
			l.Token, l.Node, l.Expired = h.token, m.o.Node, false
			l.Revision = max(l.Revision, h.rev)
		}
		leases = append(leases, l)
	}
	slices.SortFunc(leases, func(a, b Lease) int { return cmpString(a.Stream, b.Stream) })
	return nodes, leases
}

// Owner returns the node delivering stream and its API address, as this
// node last saw the lease.
func (m *Manager) Owner(stream string) (node, addr string, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.owned[stream] != nil {
		return m.o.Node, m.o.Addr, true
	}
	s, found := m.seenLease[stream]
	if !found || m.o.Now().Sub(s.at) > m.o.TTL {
		return "", "", false
	}
	var v leaseValue
	_ = json.Unmarshal(s.value, &v)
	var nv nodeValue
	if n, ok := m.seenNodes[v.Node]; ok {
		_ = json.Unmarshal(n.value, &nv)
	}
	return v.Node, nv.Addr, true
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
