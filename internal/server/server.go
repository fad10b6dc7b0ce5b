// Package server is hydrant's HTTP front door: it routes AWS API requests to
// the service that owns them (by X-Amz-Target for awsJson services) and
// serves hydrant's own endpoints under /_hydrant/.
package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// Server routes requests to hydrant's APIs.
type Server struct {
	json  map[string]*awsproto.JSONService
	mux   *http.ServeMux
	log   *slog.Logger
	ready atomic.Bool
	http  *http.Server

	verifier *awsproto.Verifier // nil: accept any request (loopback only)
	budget   *awsproto.Budget
	limits   Limits
	tls      *tls.Config // nil: plain HTTP
	checks   healthChecks
}

// New builds a server; register services and handlers, then Serve.
func New(log *slog.Logger) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{json: map[string]*awsproto.JSONService{}, mux: http.NewServeMux(), log: log}
	s.SetLimits(Limits{})
	s.mux.HandleFunc("GET /_hydrant/health", s.health)
	s.mux.HandleFunc("/", s.root)
	return s
}

// AddJSONService routes X-Amz-Target: <svc.TargetPrefix>.<Op> to svc. The
// service gets the server's verifier and in-flight budget unless it has
// its own.
func (s *Server) AddJSONService(svc *awsproto.JSONService) {
	s.json[svc.TargetPrefix] = svc
	s.equip(svc)
}

// AddRESTService routes every path under prefix to h: a REST-JSON API such
// as Lambda's (/2015-03-31/functions), which is told apart by its path
// rather than by X-Amz-Target. With a verifier set, each request's SigV4
// signature is checked for signingName before h sees it; the body (at most
// maxBody bytes) is read to hash it and handed on unchanged.
func (s *Server) AddRESTService(signingName, prefix string, maxBody int64, h http.Handler) {
	guarded := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := s.verifier; v != nil {
			signed, e := v.Check(r, awsproto.SigningService{Name: signingName})
			if e != nil {
				writeAuthError(w, e)
				return
			}
			body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
			if err != nil {
				awsproto.WriteRESTJSONError(w, &awsproto.Error{Type: awsproto.SerializationException, Message: "Could not read request body", Status: http.StatusBadRequest}, nil)
				return
			}
			if int64(len(body)) > maxBody {
				awsproto.WriteRESTJSONError(w, &awsproto.Error{Type: awsproto.RequestEntityTooLarge, Message: "Request body exceeds the limit of " + strconv.FormatInt(maxBody, 10) + " bytes", Status: http.StatusRequestEntityTooLarge}, nil)
				return
			}
			if _, e := signed.VerifyBody(body); e != nil {
				writeAuthError(w, e)
				return
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		h.ServeHTTP(w, r)
	})
	s.mux.Handle(prefix, guarded)
	s.mux.Handle(prefix+"/", guarded)
}

// writeAuthError answers a request whose signature was refused: REST
// services send these errors with 403 Forbidden.
func writeAuthError(w http.ResponseWriter, e *awsproto.Error) {
	ae := *e
	if ae.Status < http.StatusInternalServerError {
		ae.Status = http.StatusForbidden
	}
	awsproto.WriteRESTJSONError(w, &ae, nil)
}

// Handle registers a handler for hydrant's own endpoints (metrics, UI, ...).
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// SetReady marks the server ready: /_hydrant/health answers 200 from then
// on, unless a health check (AddHealthCheck) fails.
func (s *Server) SetReady(ok bool) { s.ready.Store(ok) }

// Handler returns the root handler (for tests that use httptest).
func (s *Server) Handler() http.Handler { return s.mux }

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !s.ready.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"starting"}`))
		return
	}
	if reasons := s.checks.failing(); len(reasons) > 0 {
		writeUnready(w, reasons)
		return
	}
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

func (s *Server) root(w http.ResponseWriter, r *http.Request) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		prefix, op, ok := awsproto.SplitTarget(target)
		if svc := s.json[prefix]; ok && svc != nil {
			if r.Method != http.MethodPost {
				awsproto.WriteJSONError(w, &awsproto.Error{Type: "InvalidAction", Message: "Only POST is supported for " + target, Status: http.StatusBadRequest})
				return
			}
			svc.ServeOperation(w, r, op)
			return
		}
		awsproto.WriteJSONError(w, &awsproto.Error{Type: awsproto.UnknownOperationException, Message: "Unknown operation " + target, Status: http.StatusBadRequest})
		return
	}
	awsproto.WriteJSONError(w, &awsproto.Error{Type: "InvalidAction", Message: "hydrant serves the Firehose API (POST / with X-Amz-Target) and /_hydrant/*; nothing at " + r.Method + " " + r.URL.Path, Status: http.StatusNotFound})
}

// Serve serves on ln until ctx ends, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to grace) and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	s.http = &http.Server{
		Handler:           s.mux,
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
