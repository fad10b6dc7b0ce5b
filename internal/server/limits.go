package server

import (
	"crypto/tls"
	"net"
	"time"

	"golang.org/x/net/netutil"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// Limits bound what requests may hold, alone and together, so that slow or
// huge requests cannot exhaust the server's memory. Zero fields take the
// defaults below.
type Limits struct {
	// MaxInflightBytes bounds the request body bytes all in-flight AWS API
	// requests hold at once (awsproto.DefaultMaxInflightBytes).
	MaxInflightBytes int64
	// InflightWait is how long a request waits for its share of
	// MaxInflightBytes before it is answered ServiceUnavailableException
	// "Slow down." (awsproto.DefaultInflightWait).
	InflightWait time.Duration
	// ReadHeaderTimeout bounds reading a request's headers (10s): a client
	// that trickles headers is cut off.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included (2m: a
	// 16 MiB body at 1 Mbit/s).
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the headers to the end
	// of the response (2m).
	WriteTimeout time.Duration
	// IdleTimeout closes keep-alive connections idle this long (2m).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers (64 KiB).
	MaxHeaderBytes int
	// MaxConnections bounds the open connections (DefaultMaxConnections);
	// more wait in the kernel's accept queue. With it, what idle and slow
	// connections cost is bounded too: each holds at most a first body
	// chunk of the budget plus net/http's own buffers.
	MaxConnections int
}

// DefaultMaxConnections is the default bound on open connections.
const DefaultMaxConnections = 1024

func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&l.InflightWait, awsproto.DefaultInflightWait)
	def(&l.ReadHeaderTimeout, 10*time.Second)
	def(&l.ReadTimeout, 2*time.Minute)
	def(&l.WriteTimeout, 2*time.Minute)
	def(&l.IdleTimeout, 2*time.Minute)
	if l.MaxInflightBytes <= 0 {
		l.MaxInflightBytes = awsproto.DefaultMaxInflightBytes
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = 64 << 10
	}
	if l.MaxConnections <= 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	return l
}

// SetLimits sets the server's limits; call it before Serve.
func (s *Server) SetLimits(l Limits) {
	s.limits = l.withDefaults()
	s.budget = awsproto.NewBudget(s.limits.MaxInflightBytes, s.limits.InflightWait)
	for _, svc := range s.services() {
		svc.Budget = s.budget
	}
}

// Budget is the in-flight byte budget shared by the server's services.
func (s *Server) Budget() *awsproto.Budget { return s.budget }

// SetVerifier makes every AWS API on the server verify SigV4 signatures
// with v. Without one, any request is accepted, signed or not: the caller
// allows that only on loopback. hydrant's own /_hydrant/ endpoints are not
// signed requests and are not verified.
func (s *Server) SetVerifier(v *awsproto.Verifier) {
	s.verifier = v
	for _, svc := range s.services() {
		svc.Verifier = v
	}
}

// SetTLS makes Serve speak HTTPS (HTTP/2 and HTTP/1.1) with cfg.
func (s *Server) SetTLS(cfg *tls.Config) { s.tls = cfg }

// Verifier is the server's SigV4 verifier; nil when none is configured.
func (s *Server) Verifier() *awsproto.Verifier { return s.verifier }

// services are the RPC services added, each once.
func (s *Server) services() []*awsproto.Service {
	seen := map[*awsproto.Service]bool{}
	var out []*awsproto.Service
	for _, svc := range s.targets {
		if !seen[svc] {
			seen[svc] = true
			out = append(out, svc)
		}
	}
	for _, svc := range s.query {
		if !seen[svc] {
			seen[svc] = true
			out = append(out, svc)
		}
	}
	return out
}

// limitListener bounds the connections ln hands out at once.
func limitListener(ln net.Listener, n int) net.Listener { return netutil.LimitListener(ln, n) }

// equip gives a newly added service the server's verifier and budget.
func (s *Server) equip(svc *awsproto.Service) {
	if svc.Verifier == nil {
		svc.Verifier = s.verifier
	}
	if svc.Budget == nil {
		svc.Budget = s.budget
	}
}
