// Package server is hydrant's HTTP front door. One port serves every AWS
// API hydrant implements, told apart the way AWS's SDKs send them: the
// X-Amz-Target header (awsJson), the Smithy RPC v2 CBOR path, the awsQuery
// form and its SigV4 credential scope, REST paths (Lambda), and S3
// (REST-XML) for the rest. hydrant's own endpoints live under /_hydrant/.
// Before anything is dispatched, the guard refuses what a web page could
// send (guard.go).
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// Server routes requests to hydrant's APIs.
type Server struct {
	targets  map[string]*awsproto.Service // awsJson and CBOR, by target prefix
	query    []*awsproto.Service          // awsQuery services, in registration order
	rest     []restRoute
	s3       *restRoute // REST-XML S3: everything no other API claims
	admin    *http.ServeMux
	log      *slog.Logger
	ready    atomic.Bool
	http     *http.Server
	guard    guard
	verifier *awsproto.Verifier // nil: accept any request (loopback only)
	budget   *awsproto.Budget
	limits   Limits
	tls      *tls.Config // nil: plain HTTP
	// session, when set, authenticates /_hydrant/ requests by a session
	// (the console's cookie) when they carry no signature.
	session func(*http.Request) bool
	checks  healthChecks
}

// restRoute is a REST API: every path under prefix, signed for signingName.
type restRoute struct {
	signingName string
	prefix      string
	h           http.Handler
}

// New builds a server; register services and handlers, then Serve.
func New(log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{targets: map[string]*awsproto.Service{}, admin: http.NewServeMux(), log: log,
		guard: guard{checkHost: true}}
	s.SetLimits(Limits{})
	s.HandlePublic("GET /_hydrant/health", http.HandlerFunc(s.health))
	return s
}

// AddService routes an RPC-style API: awsJson requests whose X-Amz-Target
// starts with svc.TargetPrefix, RPC v2 CBOR requests to
// /service/<TargetPrefix>/operation/<Op>, and awsQuery requests signed for
// svc.SigningName (or, unsigned, naming one of its Actions) when its model
// speaks awsQuery. The service gets the server's verifier and in-flight
// budget unless it has its own.
func (s *Server) AddService(svc *awsproto.Service) {
	if svc.TargetPrefix != "" {
		s.targets[svc.TargetPrefix] = svc
	}
	if svc.Model != nil && speaks(svc.Model, "query") {
		s.query = append(s.query, svc)
	}
	s.equip(svc)
}

// speaks reports whether a model lists protocol.
func speaks(m *awsproto.Model, protocol string) bool {
	if m.Metadata.Protocol == protocol {
		return true
	}
	for _, p := range m.Metadata.Protocols {
		if p == protocol {
			return true
		}
	}
	return false
}

// AddRESTService routes every path under prefix to h: a REST-JSON API such
// as Lambda's (/2015-03-31/functions), told apart by its path (and, when
// signed, by its credential scope). With a verifier set, each request's
// SigV4 signature is checked for signingName before h sees it; the body
// (at most maxBody bytes) is read to hash it and handed on unchanged.
func (s *Server) AddRESTService(signingName, prefix string, maxBody int64, h http.Handler) {
	s.rest = append(s.rest, restRoute{signingName: signingName, prefix: prefix, h: s.signedREST(signingName, maxBody, h)})
}

// SetS3 routes S3 (REST-XML) to h: requests signed for "s3", requests to
// BUCKET.localhost, and every path no other API claims. h verifies its
// own signatures (S3 signs payloads in its own ways) and answers in S3's
// XML error shape.
func (s *Server) SetS3(h http.Handler) {
	s.s3 = &restRoute{signingName: "s3", prefix: "/", h: h}
}

// Handle registers one of hydrant's own endpoints (under /_hydrant/) that
// shows records, logs or code, or changes something: when credentials are
// configured it requires a SigV4 signature (any service name, e.g.
// `curl --aws-sigv4 aws:amz:us-east-1:hydrant`) or a console session.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.admin.Handle(pattern, s.signedAdmin(h))
}

// HandlePublic registers one of hydrant's own endpoints that is served
// without authentication (health, metrics): it must show no record data.
func (s *Server) HandlePublic(pattern string, h http.Handler) {
	s.admin.Handle(pattern, h)
}

// Service returns the RPC API registered under an awsJson target prefix
// ("Firehose_20150804", "GraniteServiceVersion20100801"), or nil: the
// console calls operations in process through it (awsproto.Service.Call).
// Register services before calling it from requests.
func (s *Server) Service(targetPrefix string) *awsproto.Service { return s.targets[targetPrefix] }

// SetSession lets /_hydrant/ requests without a signature in when ok says
// their session is valid (the console's cookie).
func (s *Server) SetSession(ok func(*http.Request) bool) { s.session = ok }

// SetReady marks the server ready: /_hydrant/health answers 200 from then
// on.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Handler returns the root handler (for tests that use httptest).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// serveHTTP is the front door: classify, guard, dispatch.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rt := s.classify(r)
	if e := s.guard.check(r, rt.kind); e != nil {
		s.log.Warn("refused a request a web page could have sent", "reason", e.Message,
			"method", r.Method, "path", r.URL.Path, "host", r.Host, "origin", r.Header.Get("Origin"), "remote", r.RemoteAddr)
		rt.fail(w, e)
		return
	}
	if e := checkContentType(r, rt.kind); e != nil {
		rt.fail(w, e)
		return
	}
	rt.serve(w, r)
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to grace) and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	if s.limits.MaxConnections > 0 {
		ln = limitListener(ln, s.limits.MaxConnections)
	}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.limits.ReadHeaderTimeout,
		ReadTimeout:       s.limits.ReadTimeout,
		WriteTimeout:      s.limits.WriteTimeout,
		IdleTimeout:       s.limits.IdleTimeout,
		MaxHeaderBytes:    s.limits.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		TLSConfig:         s.tls,
	}
	errc := make(chan error, 1)
	go func() {
		if s.tls != nil {
			// The certificate is in TLSConfig; ServeTLS adds HTTP/2.
			errc <- s.http.ServeTLS(ln, "", "")
			return
		}
		errc <- s.http.Serve(ln)
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := s.http.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// isAdmin reports whether a path is one of hydrant's own.
func isAdmin(path string) bool {
	return path == "/_hydrant" || strings.HasPrefix(path, "/_hydrant/")
}
