package lambda

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// HydrantPrefix is where hydrant's own function endpoints live.
const HydrantPrefix = "/_hydrant/functions"

// HydrantHandler serves hydrant's own view of its functions:
//
//	GET /_hydrant/functions                  names and instance counts
//	GET /_hydrant/functions/{name}/logs      the kept log ({"events":[...]};
//	                                         ?format=text for plain lines)
//	GET /_hydrant/functions/{name}/code.zip  the deployment package
//	                                         (GetFunction's Code.Location)
func (s *Service) HydrantHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HydrantPrefix, s.handleHydrantList)
	mux.HandleFunc("GET "+HydrantPrefix+"/{$}", s.handleHydrantList)
	mux.HandleFunc("GET "+HydrantPrefix+"/{name}/logs", s.handleLogs)
	mux.HandleFunc("GET "+HydrantPrefix+"/{name}/code.zip", s.handleCode)
	return mux
}

// FunctionStatus is one function in GET /_hydrant/functions.
type FunctionStatus struct {
	Name      string `json:"name"`
	Runtime   string `json:"runtime"`
	Instances int    `json:"instances"`
	Idle      int    `json:"idle"`
}

func (s *Service) handleHydrantList(w http.ResponseWriter, r *http.Request) {
	out := []FunctionStatus{}
	for _, n := range s.Names() {
		fn, rec := s.lookup(n)
		if fn == nil {
			continue
		}
		live, idle := fn.pool.stats()
		out = append(out, FunctionStatus{Name: n, Runtime: rec.Config.Runtime, Instances: live, Idle: idle})
	}
	writeJSON(w, http.StatusOK, map[string]any{"functions": out})
}

func (s *Service) handleLogs(w http.ResponseWriter, r *http.Request) {
	events, ok := s.Logs(r.PathValue("name"))
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no function " + r.PathValue("name")})
		return
	}
	if r.URL.Query().Get("format") == "text" {
		var b strings.Builder
		for _, ev := range events {
			b.WriteString(time.UnixMilli(ev.Timestamp).UTC().Format("2006-01-02T15:04:05.000Z"))
			b.WriteByte(' ')
			b.WriteString(ev.Message)
			b.WriteByte('\n')
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": events})
}

func (s *Service) handleCode(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	fn, rec := s.lookup(name)
	if fn == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no function " + name})
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	http.ServeFile(w, r, s.store.codePath(name, rec.CodeFile))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
