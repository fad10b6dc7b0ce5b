package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// contentSecurityPolicy allows hydrant's own scripts, styles, images and
// API only: no inline script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secure sets the headers every console response carries.
func secure(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// httpError is an API error with its status; its message is shown to the
// user as is.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// unavailable is the answer of a page whose service this hydrant does not
// serve.
func unavailable(what string) error {
	return errorf(http.StatusNotImplemented, "%s is not served by this hydrant", what)
}

// maxAPIBody bounds what the console's API reads from a request (a
// dashboard with its queries).
const maxAPIBody = 1 << 20

// api wraps an API handler: security headers, no caching, the caller of a
// session in the context (a signed request already has its own), the CSRF
// check of requests that change something, and errors as JSON.
func (c *Console) api(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		w.Header().Set("Cache-Control", "no-store")
		signed := c.opts.Verifier != nil && awsproto.Caller(r.Context()) != nil
		if !signed {
			s := c.sessions.current(r)
			if c.opts.Verifier != nil && s == nil {
				// The server let it in on a session that has since ended.
				writeError(w, errorf(http.StatusUnauthorized, "log in to use the console"))
				return
			}
			if !safeMethod(r.Method) && !c.sessions.csrfOK(r, s) {
				writeError(w, errorf(http.StatusForbidden, "missing or wrong CSRF token (header %s): reload the page", csrfHeader))
				return
			}
			if s != nil {
				id := s.identity
				r = r.WithContext(awsproto.WithCaller(r.Context(), &id))
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		if err := h(w, r); err != nil {
			c.logError(r, err)
			writeError(w, err)
		}
	})
}

// public wraps a handler served without a session (login, session state).
func (c *Console) public(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secure(w)
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
		if err := h(w, r); err != nil {
			writeError(w, err)
		}
	})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// logError logs what is not the user's doing.
func (c *Console) logError(r *http.Request, err error) {
	var he *httpError
	var ae *awsproto.Error
	switch {
	case errors.As(err, &he) && he.status < 500, errors.As(err, &ae) && ae.Status < 500:
		c.log.Debug("console request refused", "path", r.URL.Path, "err", err)
	default:
		c.log.Warn("console request failed", "path", r.URL.Path, "err", err)
	}
}

// writeError answers {"error": message, "type": AWS error type}.
func writeError(w http.ResponseWriter, err error) {
	status, typ := http.StatusInternalServerError, ""
	var he *httpError
	var ae *awsproto.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		status = he.status
	case errors.As(err, &ae):
		status, typ = ae.Status, ae.Type
		if status == 0 {
			status = http.StatusBadRequest
		}
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
	}
	msg := err.Error()
	if ae != nil {
		msg = ae.Message
	}
	writeJSON(w, status, map[string]string{"error": msg, "type": typ})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode answer"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// readJSON decodes a request body into v, refusing unknown fields.
func readJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return errorf(http.StatusBadRequest, "bad request body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errorf(http.StatusBadRequest, "bad request body: more than one JSON value")
	}
	return nil
}
