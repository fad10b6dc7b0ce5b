// Package natsd runs the NATS server (with JetStream) that a hydrant node
// embeds when it has no NATS cluster to join: `hydrant serve
// --cluster-listen HOST:PORT --cluster-peers ...` starts one on every node,
// clustered over those routes, its JetStream store in the data directory.
// hydrant talks to it in process, without a client port.
package natsd

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// DefaultMaxPayload is the largest message the embedded server takes: a
// PutRecordBatch carries up to 4 MiB, which becomes one message. NATS's own
// default is 1 MiB and it warns past 8 MiB.
const DefaultMaxPayload = 8 << 20

// Options configure an embedded server.
type Options struct {
	// Name is the server's (and node's) name, unique in the cluster.
	Name string
	// StoreDir is where JetStream keeps its files.
	StoreDir string
	// ClusterName names the cluster; default "hydrant".
	ClusterName string
	// ClusterListen is the host:port the server takes routes from other
	// nodes on; empty runs a single server without a cluster.
	ClusterListen string
	// Advertise is the host:port other nodes reach this one's routes at,
	// when it differs from ClusterListen (a container behind a service).
	Advertise string
	// Peers are the host:port route addresses of the other nodes (this
	// node's own address may be among them: it is ignored).
	Peers []string
	// ClientListen is a host:port to serve NATS clients on (the nats CLI, a
	// monitoring tool); empty serves none to others: hydrant connects in
	// process. (A clustered server still listens on a random loopback port,
	// which the server needs before it starts its routes, guarded by a
	// token only this process knows.)
	ClientListen string
	// Username and Password, when set, are required of routes and clients.
	Username, Password string
	// TLS, when set, secures and authenticates the routes (and the client
	// port): each node presents its certificate and verifies its peers'.
	TLS *tls.Config
	// MaxPayload is the largest message; default DefaultMaxPayload.
	MaxPayload int32
	// MaxStore caps JetStream's file storage on this node; 0 lets the
	// server pick (75% of the disk).
	MaxStore int64
	// Logger receives the server's log; nil discards it.
	Logger *slog.Logger
}

// Server is a running embedded NATS server.
type Server struct {
	srv   *server.Server
	opts  Options
	token string // the loopback client port's token, when it has one
}

// Start starts the server and waits until it takes connections and, in a
// cluster, until JetStream has a meta leader or ctx ends.
func Start(ctx context.Context, o Options) (*Server, error) {
	if o.Name == "" {
		return nil, errors.New("natsd: a node name is required")
	}
	if o.ClusterName == "" {
		o.ClusterName = "hydrant"
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = DefaultMaxPayload
	}
	so := &server.Options{
		ServerName:         o.Name,
		JetStream:          true,
		StoreDir:           o.StoreDir,
		JetStreamMaxStore:  o.MaxStore,
		JetStreamMaxMemory: 256 << 20,
		// An acknowledged Put must be on disk, as on one node: every
		// write is synced (see docs/ARCHITECTURE.md, "Cluster mode").
		SyncAlways: true,
		MaxPayload: o.MaxPayload,
		// Larger messages need a larger pending buffer per connection.
		MaxPending: 8 * int64(o.MaxPayload),
		DontListen: o.ClientListen == "",
		NoSigs:     true,
		NoLog:      o.Logger == nil,
		Username:   o.Username,
		Password:   o.Password,
	}
	// A node without peers is a cluster of one: a standalone server
	// (JetStream's clustered mode would wait for peers that never come).
	clustered := o.ClusterListen != "" && len(o.peers()) > 0
	var token string
	if o.ClientListen == "" && clustered {
		// The server starts its routes only once its client listener is
		// up; nobody else is to use it.
		var b [24]byte
		_, _ = rand.Read(b[:])
		token = hex.EncodeToString(b[:])
		so.DontListen, so.Host, so.Port = false, "127.0.0.1", server.RANDOM_PORT
		so.Username, so.Password, so.Authorization = "", "", token
	}
	if o.ClientListen != "" {
		host, port, err := splitHostPort(o.ClientListen)
		if err != nil {
			return nil, fmt.Errorf("natsd: client address: %w", err)
		}
		so.Host, so.Port = host, port
		if o.TLS != nil {
			so.TLSConfig, so.TLS, so.TLSVerify = o.TLS, true, true
		}
	}
	if clustered {
		host, port, err := splitHostPort(o.ClusterListen)
		if err != nil {
			return nil, fmt.Errorf("natsd: cluster address: %w", err)
		}
		so.Cluster = server.ClusterOpts{
			Name:      o.ClusterName,
			Host:      host,
			Port:      port,
			Advertise: o.Advertise,
			Username:  o.Username,
			Password:  o.Password,
			TLSConfig: o.TLS,
			// Keep reconnecting to peers that are down (a node restarting).
			ConnectRetries: -1,
		}
		if o.TLS != nil {
			so.Cluster.TLSTimeout = 5
		}
		for _, p := range o.peers() {
			scheme := "nats"
			if o.TLS != nil {
				scheme = "tls"
			}
			u := &url.URL{Scheme: scheme, Host: p}
			if o.Username != "" {
				u.User = url.UserPassword(o.Username, o.Password)
			}
			so.Routes = append(so.Routes, u)
		}
	}
	srv, err := server.NewServer(so)
	if err != nil {
		return nil, fmt.Errorf("natsd: %w", err)
	}
	if o.Logger != nil {
		srv.SetLoggerV2(&logger{l: o.Logger.With("component", "nats")}, false, false, false)
	}
	srv.Start()
	s := &Server{srv: srv, opts: o, token: token}
	for !srv.ReadyForConnections(100 * time.Millisecond) {
		if err := ctx.Err(); err != nil {
			srv.Shutdown()
			return nil, fmt.Errorf("natsd: server not ready: %w", err)
		}
	}
	return s, nil
}

// peers returns the other nodes' route addresses, without this node's own.
func (o Options) peers() []string {
	self := map[string]bool{o.ClusterListen: true, o.Advertise: true}
	var out []string
	for _, p := range o.Peers {
		if p != "" && !self[p] {
			out = append(out, p)
		}
	}
	return out
}

// Connect opens an in-process client connection to the server.
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{nats.InProcessServer(s.srv), nats.Name(s.opts.Name)}, opts...)
	switch {
	case s.token != "":
		opts = append(opts, nats.Token(s.token))
	case s.opts.Username != "":
		opts = append(opts, nats.UserInfo(s.opts.Username, s.opts.Password))
	}
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("natsd: connect: %w", err)
	}
	return nc, nil
}

// ClientURL is the URL of the client port, or "" when there is none.
func (s *Server) ClientURL() string {
	if s.opts.ClientListen == "" {
		return ""
	}
	return s.srv.ClientURL()
}

// ClusterAddr is the address the server takes routes on ("" when it is
// not clustered); with port 0 in ClusterListen it is the port picked.
func (s *Server) ClusterAddr() string {
	if a := s.srv.ClusterAddr(); a != nil {
		return a.String()
	}
	return ""
}

// Shutdown stops the server. JetStream's files are flushed; a server that
// is killed instead recovers them at its next start.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

// Routes returns how many other nodes this one is connected to.
func (s *Server) Routes() int { return s.srv.NumRoutes() }

func splitHostPort(hp string) (string, int, error) {
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", hp)
	}
	return host, port, nil
}

// logger sends the server's log lines to slog.
type logger struct{ l *slog.Logger }

func (g *logger) Noticef(format string, v ...any) { g.l.Info(fmt.Sprintf(format, v...)) }
func (g *logger) Warnf(format string, v ...any)   { g.l.Warn(fmt.Sprintf(format, v...)) }
func (g *logger) Fatalf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *logger) Errorf(format string, v ...any)  { g.l.Error(fmt.Sprintf(format, v...)) }
func (g *logger) Debugf(format string, v ...any)  { g.l.Debug(fmt.Sprintf(format, v...)) }
func (g *logger) Tracef(format string, v ...any)  { g.l.Debug(fmt.Sprintf(format, v...)) }
