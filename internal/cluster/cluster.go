// Package cluster makes a hydrant process one node of a cluster: it runs
// the embedded NATS server (--cluster-listen, --cluster-peers) or joins a
// NATS cluster (--nats), and gives the rest of hydrant what cluster mode
// is made of: the shared state (state.KV), the replicated logs (jslog),
// the delivery leases (lease), and GET /_hydrant/cluster. Without its flags
// none of it runs and hydrant is the single node it always was.
package cluster

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hydrant-io/hydrant/internal/jslog"
	"github.com/hydrant-io/hydrant/internal/lease"
	"github.com/hydrant-io/hydrant/internal/natsd"
	"github.com/hydrant-io/hydrant/internal/state"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// Flags are the command-line flags of cluster mode.
type Flags struct {
	NATS      string
	NATSCreds string
	Listen    string
	Peers     string
	Advertise string
	NodeName  string
	CA        string
	Replicas  int
	LeaseTime time.Duration
}

// Register adds the flags to fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.NATS, "nats", "", "join the NATS cluster at URL[,URL…] (JetStream enabled) and run as one node of a hydrant cluster")
	fs.StringVar(&f.NATSCreds, "nats-creds", "", "NATS credentials file for --nats")
	fs.StringVar(&f.Listen, "cluster-listen", "", "run an embedded NATS server taking routes from the other nodes on HOST:PORT (its store in the data dir)")
	fs.StringVar(&f.Peers, "cluster-peers", "", "the other nodes' --cluster-listen addresses, HOST:PORT,…")
	fs.StringVar(&f.Advertise, "cluster-advertise", "", "HOST:PORT the other nodes reach this node's routes at, when not --cluster-listen")
	fs.StringVar(&f.NodeName, "node-name", "", "this node's name, unique in the cluster (default: the host name)")
	fs.StringVar(&f.CA, "cluster-ca", "", "PEM CA certificates that sign the nodes' --tls-cert, for TLS between nodes (default: trust --tls-cert itself)")
	fs.IntVar(&f.Replicas, "replicas", 0, "copies of each stream's log and of the shared state (default 3 with 3 or more nodes, else the number of nodes)")
	fs.DurationVar(&f.LeaseTime, "lease-time", lease.DefaultTTL, "how long a stream's delivery lease lasts without renewal: a dead node's streams are delivered elsewhere within twice this")
}

// Enabled reports whether the flags ask for cluster mode.
func (f *Flags) Enabled() bool { return f.NATS != "" || f.Listen != "" }

// Check validates the flags on their own.
func (f *Flags) Check() error {
	switch {
	case f.NATS != "" && f.Listen != "":
		return errors.New("serve: --nats joins a NATS cluster, --cluster-listen runs one: give one of them")
	case f.Peers != "" && f.Listen == "":
		return errors.New("serve: --cluster-peers needs --cluster-listen")
	case f.NATSCreds != "" && f.NATS == "":
		return errors.New("serve: --nats-creds needs --nats")
	case f.Replicas < 0 || f.Replicas > 5:
		return fmt.Errorf("serve: --replicas must be 1 to 5, got %d", f.Replicas)
	case f.LeaseTime < 500*time.Millisecond:
		return fmt.Errorf("serve: --lease-time must be at least 500ms, got %s", f.LeaseTime)
	}
	return nil
}

// Options are what Open needs besides the flags.
type Options struct {
	Flags
	// DataDir is the node's data directory; the embedded server keeps
	// JetStream's files in DataDir/nats.
	DataDir string
	// APIAddr is where this node serves the API (shown to other nodes).
	APIAddr string
	// Credentials is the --credentials file: when set, nodes authenticate
	// to each other with a password derived from it (every node has the
	// same file), and routes off loopback must use TLS.
	Credentials string
	// TLS is the API's certificate (--tls-cert), used for the routes too.
	TLS *tls.Config
	// Insecure allows routes off loopback without TLS (--insecure).
	Insecure bool
	// MaxStreamBytes caps each stream's log; MaxStore caps JetStream's
	// storage on this node (embedded server only). 0: no cap.
	MaxStreamBytes, MaxStore int64
	Logger                   *slog.Logger
}

// Cluster is this node's part of the cluster.
type Cluster struct {
	o        Options
	log      *slog.Logger
	srv      *natsd.Server // nil with --nats
	nc       *nats.Conn
	js       jetstream.JetStream
	node     string
	replicas int
	// State is the shared state store; Logs the replicated logs.
	State  *state.KV
	Logs   *jslog.Logs
	leases *lease.Manager
}

// Open starts or joins NATS and prepares the shared buckets. It waits (up
// to ctx) for JetStream to be available: with an embedded server, until
// enough nodes are up for a quorum.
func Open(ctx context.Context, o Options) (*Cluster, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("cluster: --node-name not given and no host name: %w", err)
		}
		o.NodeName = h
	}
	c := &Cluster{o: o, node: o.NodeName, log: o.Logger.With("node", o.NodeName)}
	var err error
	if o.Listen != "" {
		err = c.startEmbedded(ctx)
	} else {
		err = c.connect()
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	if c.js, err = jetstream.New(c.nc); err != nil {
		c.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if c.replicas = o.Replicas; c.replicas == 0 {
		c.replicas = c.defaultReplicas()
	}
	c.log.Info("cluster: waiting for JetStream", "replicas", c.replicas)
	if err := c.waitJetStream(ctx); err != nil {
		c.Close()
		return nil, err
	}
	if c.State, err = retry(ctx, func(ctx context.Context) (*state.KV, error) { return state.OpenKV(ctx, c.js, c.replicas) }); err != nil {
		c.Close()
		return nil, err
	}
	lo := jslog.Options{Replicas: c.replicas, MaxBytes: o.MaxStreamBytes, Logger: o.Logger, Ready: c.routed}
	if c.Logs, err = retry(ctx, func(ctx context.Context) (*jslog.Logs, error) { return jslog.New(ctx, c.nc, lo) }); err != nil {
		c.Close()
		return nil, err
	}
	c.log.Info("cluster: joined", "replicas", c.replicas, "nats", c.nc.ConnectedUrlRedacted())
	return c, nil
}

// routeSecret is the password nodes present to each other: derived from
// the shared credentials file, so no other secret has to be distributed.
func routeSecret(credentials string) (string, error) {
	b, err := os.ReadFile(credentials)
	if err != nil {
		return "", fmt.Errorf("cluster: read --credentials: %w", err)
	}
	sum := sha256.Sum256(append([]byte("hydrant cluster routes\x00"), b...))
	return hex.EncodeToString(sum[:]), nil
}

// startEmbedded runs this node's NATS server and connects to it in process.
func (c *Cluster) startEmbedded(ctx context.Context) error {
	o := c.o
	no := natsd.Options{
		Name:          o.NodeName,
		StoreDir:      filepath.Join(o.DataDir, "nats"),
		ClusterListen: o.Listen,
		Advertise:     o.Advertise,
		MaxStore:      o.MaxStore,
		Logger:        o.Logger,
	}
	for p := range strings.SplitSeq(o.Peers, ",") {
		if p = strings.TrimSpace(p); p != "" {
			if _, _, err := net.SplitHostPort(p); err != nil {
				return fmt.Errorf("cluster: --cluster-peers: %q is not HOST:PORT", p)
			}
			no.Peers = append(no.Peers, p)
		}
	}
	if o.Credentials != "" {
		secret, err := routeSecret(o.Credentials)
		if err != nil {
			return err
		}
		no.Username, no.Password = "hydrant", secret
		if o.TLS != nil {
			tc, err := routeTLS(o.TLS, o.CA)
			if err != nil {
				return err
			}
			no.TLS = tc
		} else if !loopback(o.Listen) && !o.Insecure {
			return errors.New("cluster: with --credentials, routes off loopback need TLS: give --tls-cert and --tls-key (or --insecure)")
		}
	}
	srv, err := natsd.Start(ctx, no)
	if err != nil {
		return err
	}
	c.srv = srv
	nc, err := srv.Connect(nats.MaxReconnects(-1))
	if err != nil {
		return err
	}
	c.nc = nc
	return nil
}

// routeTLS makes the routes' TLS configuration from the API certificate:
// each node presents it and verifies its peers against ca (or against the
// certificate itself, for one certificate shared by every node).
func routeTLS(api *tls.Config, ca string) (*tls.Config, error) {
	pool := x509.NewCertPool()
	if ca != "" {
		b, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("cluster: read --cluster-ca: %w", err)
		}
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("cluster: --cluster-ca %s holds no PEM certificate", ca)
		}
	} else {
		for _, cert := range api.Certificates {
			for _, der := range cert.Certificate {
				x, err := x509.ParseCertificate(der)
				if err != nil {
					return nil, fmt.Errorf("cluster: parse --tls-cert: %w", err)
				}
				pool.AddCert(x)
			}
		}
	}
	return &tls.Config{
		Certificates: api.Certificates,
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}, nil
}

func loopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// connect joins an existing NATS cluster.
func (c *Cluster) connect() error {
	opts := []nats.Option{nats.Name("hydrant " + c.o.NodeName), nats.MaxReconnects(-1)}
	if c.o.NATSCreds != "" {
		opts = append(opts, nats.UserCredentials(c.o.NATSCreds))
	}
	nc, err := nats.Connect(c.o.NATS, opts...)
	if err != nil {
		return fmt.Errorf("cluster: connect to --nats %s: %w", c.o.NATS, err)
	}
	c.nc = nc
	return nil
}

// defaultReplicas is 3 when the cluster has 3 or more servers, else their
// number.
func (c *Cluster) defaultReplicas() int {
	n := 1
	if c.srv != nil {
		seen := map[string]bool{c.o.Listen: true, c.o.Advertise: true}
		for p := range strings.SplitSeq(c.o.Peers, ",") {
			if p = strings.TrimSpace(p); p != "" && !seen[p] {
				seen[p] = true
				n++
			}
		}
	} else {
		n = max(1, len(c.nc.Servers()))
	}
	return min(n, 3)
}

// waitJetStream waits until the JetStream API answers (a meta leader is
// elected).
func (c *Cluster) waitJetStream(ctx context.Context) error {
	_, err := retry(ctx, func(ctx context.Context) (*jetstream.AccountInfo, error) { return c.js.AccountInfo(ctx) })
	if err != nil {
		return fmt.Errorf("cluster: JetStream not available: %w", err)
	}
	return nil
}

// retry calls fn until it succeeds or ctx ends: JetStream refuses requests
// while a cluster is forming or electing.
func retry[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		v, err := fn(cctx)
		cancel()
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			var zero T
			return zero, fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(wait):
		}
	}
}

// Node is this node's name.
func (c *Cluster) Node() string { return c.node }

// Replicas is the replication factor of the logs and the state.
func (c *Cluster) Replicas() int { return c.replicas }

// Start starts taking delivery leases for the registry's streams.
func (c *Cluster) Start(ctx context.Context, reg *stream.Registry) error {
	m, err := retry(ctx, func(ctx context.Context) (*lease.Manager, error) {
		return lease.Start(ctx, c.js, reg, lease.Options{Node: c.node, Addr: c.o.APIAddr, TTL: c.o.LeaseTime, Replicas: c.replicas, Logger: c.o.Logger})
	})
	if err != nil {
		return fmt.Errorf("cluster: leases: %w", err)
	}
	c.leases = m
	return nil
}

// Leave stops delivering and gives every lease back, so that the other
// nodes take this node's streams over at once (a graceful shutdown).
func (c *Cluster) Leave(ctx context.Context) {
	if c.leases != nil {
		c.leases.Close(ctx)
		c.leases = nil
	}
}

// Close closes the connection and stops the embedded server.
func (c *Cluster) Close() {
	if c.nc != nil {
		_ = c.nc.Drain()
		c.nc.Close()
	}
	if c.srv != nil {
		c.srv.Shutdown()
	}
}

// Health is the node's readiness check for /_hydrant/health: unready
// while it is not connected to NATS, or while its embedded server has no
// route to any of its peers (a node cut off from the others cannot reach a
// quorum, so a load balancer should send elsewhere). It answers from
// memory.
func (c *Cluster) Health() error {
	if !c.nc.IsConnected() {
		return errors.New("not connected to NATS")
	}
	return c.routed()
}

// routed fails while the embedded server has peers configured and a
// route to none of them: no replicated write can reach a quorum, so the
// logs refuse Appends at once (jslog.Options.Ready).
func (c *Cluster) routed() error {
	if c.srv != nil && strings.Trim(c.o.Peers, ", ") != "" && c.srv.Routes() == 0 {
		return errors.New("no route to any other node of the cluster")
	}
	return nil
}

// status is GET /_hydrant/cluster.
type status struct {
	Node     string        `json:"node"`
	Replicas int           `json:"replicas"`
	NATS     string        `json:"nats"`
	Routes   *int          `json:"routes,omitempty"`
	Nodes    []lease.Node  `json:"nodes"`
	Streams  []streamState `json:"streams"`
}

type streamState struct {
	lease.Lease
	// Log is the JetStream stream holding the records.
	Log         string    `json:"log"`
	Leader      string    `json:"leader,omitempty"`
	Messages    uint64    `json:"messages"`
	Bytes       uint64    `json:"bytes"`
	Replication []replica `json:"replication,omitempty"`
	Error       string    `json:"error,omitempty"`
}

type replica struct {
	Name    string `json:"name"`
	Current bool   `json:"current"`
	Offline bool   `json:"offline,omitempty"`
	Lag     uint64 `json:"lag"`
	Active  string `json:"active"`
}

// Handler serves GET /_hydrant/cluster: the nodes, who delivers which
// stream, and each stream's replication state.
func (c *Cluster) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := status{Node: c.node, Replicas: c.replicas, NATS: c.nc.ConnectedUrlRedacted(), Nodes: []lease.Node{}, Streams: []streamState{}}
		if c.srv != nil {
			n := c.srv.Routes()
			st.Routes = &n
		}
		if c.leases != nil {
			nodes, leases := c.leases.Status()
			st.Nodes = nodes
			for _, l := range leases {
				s := streamState{Lease: l, Log: jslog.StreamName(l.Stream, stream.LogKind)}
				ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
				info, err := c.streamInfo(ctx, s.Log)
				cancel()
				if err != nil {
					s.Error = err.Error()
				} else {
					s.Messages, s.Bytes = info.State.Msgs, info.State.Bytes
					if ci := info.Cluster; ci != nil {
						s.Leader = ci.Leader
						for _, p := range ci.Replicas {
							s.Replication = append(s.Replication, replica{Name: p.Name, Current: p.Current, Offline: p.Offline, Lag: p.Lag, Active: p.Active.Round(time.Millisecond).String()})
						}
					}
				}
				st.Streams = append(st.Streams, s)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
}

func (c *Cluster) streamInfo(ctx context.Context, name string) (*jetstream.StreamInfo, error) {
	s, err := c.js.Stream(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.Info(ctx)
}
