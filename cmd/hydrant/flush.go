package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// maxFlushWait bounds ?wait= of a flush, below the server's 2-minute write
// timeout so the answer always gets out.
const maxFlushWait = time.Minute

// flushResult is the answer of POST /_hydrant/streams/{name}/flush: the
// stream's buffer as GET /_hydrant/streams/{name} shows it, and whether the
// records buffered at the request are delivered.
type flushResult struct {
	stream.Stats
	Flushed bool `json:"flushed"`
}

// flushHandler serves POST /_hydrant/streams/{name}/flush[?wait=DURATION]:
// the stream's delivery loop cuts what it holds now instead of waiting for
// its buffering hints (once: later records wait for the hints again). It
// answers 202 at once, or with ?wait= (at most a minute) 200 when every
// record acknowledged before the request is delivered, with its processing
// and error output, and 202 if that takes longer than the wait. 404: no such
// stream; 409: the stream is not ACTIVE yet; 400: a bad wait.
func flushHandler(reg *stream.Registry) http.Handler {
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
		case errors.Is(err, firehose.ErrStreamNotActive):
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
