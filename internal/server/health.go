package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
)

// AddHealthCheck adds a readiness check to GET /_hydrant/health. While check
// returns an error the endpoint answers 503 with
// {"status":"unready","reasons":[...]}, one reason per line of the error
// (so each error of an errors.Join on its own), prefixed by name, so that a
// load balancer stops sending requests here until it clears. Checks run on
// every health request: they must be cheap and must not block.
func (s *Server) AddHealthCheck(name string, check func() error) {
	s.checks.mu.Lock()
	defer s.checks.mu.Unlock()
	s.checks.list = append(s.checks.list, healthCheck{name, check})
}

// healthChecks are the readiness checks behind /_hydrant/health.
type healthChecks struct {
	mu   sync.Mutex
	list []healthCheck
}

type healthCheck struct {
	name  string
	check func() error
}

// failing runs every check and returns the reasons for being unready.
func (hc *healthChecks) failing() []string {
	hc.mu.Lock()
	list := hc.list
	hc.mu.Unlock()
	var reasons []string
	for _, c := range list {
		err := c.check()
		if err == nil {
			continue
		}
		// errors.Join puts each of its errors on a line of its own.
		for line := range strings.SplitSeq(err.Error(), "\n") {
			if line != "" {
				reasons = append(reasons, c.name+": "+line)
			}
		}
	}
	return reasons
}

// writeUnready answers a health request with 503 and the reasons.
func writeUnready(w http.ResponseWriter, reasons []string) {
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(struct {
		Status  string   `json:"status"`
		Reasons []string `json:"reasons"`
	}{"unready", reasons})
}

// Health is what GET /_hydrant/health answers: "starting" before the
// server is ready, "unready" with the failing checks' reasons, or "ok".
func (s *Server) Health() (status string, reasons []string) {
	if !s.ready.Load() {
		return "starting", nil
	}
	if reasons := s.checks.failing(); len(reasons) > 0 {
		return "unready", reasons
	}
	return "ok", nil
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch status, reasons := s.Health(); status {
	case "starting":
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"starting"}`))
	case "unready":
		writeUnready(w, reasons)
	default:
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}
}
