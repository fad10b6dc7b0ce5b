package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
)

// TestHealthChecks checks /_hydrant/health: 503 "starting" until ready,
// then 503 "unready" with one reason per failing error while a check
// fails, and 200 again once every check passes.
func TestHealthChecks(t *testing.T) {
	s := New(nil)
	var disk, other atomic.Pointer[error]
	get := func(p *atomic.Pointer[error]) func() error {
		return func() error {
			if e := p.Load(); e != nil {
				return *e
			}
			return nil
		}
	}
	s.AddHealthCheck("buffer", get(&disk))
	s.AddHealthCheck("other", get(&other))
	health := func() (int, string, []string) {
		t.Helper()
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1:4566/_hydrant/health", nil))
		var body struct {
			Status  string   `json:"status"`
			Reasons []string `json:"reasons"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("health body %q: %v", rec.Body, err)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		return rec.Code, body.Status, body.Reasons
	}
	set := func(p *atomic.Pointer[error], err error) { p.Store(&err) }

	if code, status, _ := health(); code != 503 || status != "starting" {
		t.Fatalf("before SetReady: %d %q", code, status)
	}
	s.SetReady(true)
	if code, status, reasons := health(); code != 200 || status != "ok" || reasons != nil {
		t.Fatalf("ready: %d %q %q", code, status, reasons)
	}
	set(&disk, errors.Join(errors.New(`stream "a": no space left on device`), errors.New(`stream "b": input/output error`)))
	set(&other, errors.New("down"))
	code, status, reasons := health()
	want := []string{`buffer: stream "a": no space left on device`, `buffer: stream "b": input/output error`, "other: down"}
	if code != 503 || status != "unready" || !slices.Equal(reasons, want) {
		t.Fatalf("failing checks: %d %q %q; want 503 unready %q", code, status, reasons, want)
	}
	set(&other, nil)
	set(&disk, nil)
	if code, status, reasons := health(); code != 200 || status != "ok" || reasons != nil {
		t.Fatalf("after the checks cleared: %d %q %q", code, status, reasons)
	}
}
