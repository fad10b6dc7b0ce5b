package stream

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/hydrant-io/hydrant/internal/firehose"
)

// hydrant's own endpoints over the registry: /_hydrant/streams[/{name}] and
// /_hydrant/streams/{name}/flush. The server requires a signature for them
// when credentials are configured.

// StatsHandler serves /_hydrant/streams[/{name}]: each stream's buffer
// (acknowledged and delivered sequence numbers, backlog). hydrant bench uses
// it to measure the time from acknowledgement to a visible object.
func StatsHandler(reg *Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if name := r.PathValue("name"); name != "" {
			st, err := reg.Stats(name)
			if err != nil {
				w.WriteHeader(http.StatusNotFound)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
				return
			}
			_ = json.NewEncoder(w).Encode(st)
			return
		}
		all := []Stats{}
		for _, n := range reg.Names() {
			if st, err := reg.Stats(n); err == nil {
				all = append(all, st)
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"streams": all})
	})
}

// maxFlushWait bounds ?wait= of a flush, below the server's 2-minute write
// timeout so the answer always gets out.
const maxFlushWait = time.Minute

// flushResult is the answer of POST /_hydrant/streams/{name}/flush: the
// stream's buffer as GET /_hydrant/streams/{name} shows it, and whether the
// records buffered at the request are delivered.
type flushResult struct {
	Stats
	Flushed bool `json:"flushed"`
}

// FlushHandler serves POST /_hydrant/streams/{name}/flush[?wait=DURATION]:
// the stream's delivery loop cuts what it holds now instead of waiting for
// its buffering hints (once: later records wait for the hints again). It
// answers 202 at once, or with ?wait= (at most a minute) 200 when every
// record acknowledged before the request is delivered, with its processing
// and error output, and 202 if that takes longer than the wait. 404: no such
// stream; 409: the stream is not ACTIVE yet, or (in a cluster) another node
// delivers it; 400: a bad wait.
func FlushHandler(reg *Registry) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fail := func(code int, msg string) {
			w.WriteHeader(code)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
		}
		var wait time.Duration
		if v := r.URL.Query().Get("wait"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 || d > maxFlushWait {
				fail(http.StatusBadRequest, "wait must be a duration from 0s to "+maxFlushWait.String()+" (e.g. 30s)")
				return
			}
			wait = d
		}
		name := r.PathValue("name")
		done, err := reg.Flush(name)
		switch {
		case errors.Is(err, firehose.ErrStreamNotFound):
			fail(http.StatusNotFound, err.Error())
			return
		case errors.Is(err, firehose.ErrStreamNotActive), errors.Is(err, ErrNotDelivering):
			// In a cluster only the node that delivers the stream can cut
			// it early; GET /_hydrant/cluster says which one that is.
			fail(http.StatusConflict, err.Error())
			return
		case err != nil:
			fail(http.StatusInternalServerError, err.Error())
			return
		}
		res := flushResult{}
		if wait > 0 {
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case <-done:
				res.Flushed = true
			case <-t.C:
			case <-r.Context().Done():
				return
			}
		} else {
			select {
			case <-done:
				res.Flushed = true
			default:
			}
		}
		if res.Stats, err = reg.Stats(name); err != nil {
			fail(http.StatusNotFound, err.Error())
			return
		}
		code := http.StatusOK
		if !res.Flushed {
			code = http.StatusAccepted
		}
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(res)
	})
}
