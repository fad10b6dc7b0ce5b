package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// maxAdminBody bounds the body of a /_hydrant/ request (a dashboard, a
// flush): read in full to verify its signature.
const maxAdminBody = 1 << 20

// signedREST checks a REST request's SigV4 signature for signingName
// before h sees it; the body (at most maxBody bytes, charged to the
// in-flight budget) is read to hash it and handed on unchanged.
func (s *Server) signedREST(signingName string, maxBody int64, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.verifier
		if v == nil {
			r = r.WithContext(awsproto.WithCaller(r.Context(), awsproto.UnverifiedCaller(r)))
			h.ServeHTTP(w, r)
			return
		}
		signed, e := v.Check(r, awsproto.SigningService{Name: signingName})
		if e != nil {
			writeRESTError(w, e)
			return
		}
		body, release, err := s.budget.ReadBody(r, maxBody, 0)
		defer release()
		if err != nil {
			writeRESTError(w, bodyError(err))
			return
		}
		id, e := signed.VerifyBody(body)
		if e != nil {
			writeRESTError(w, e)
			return
		}
		r = r.WithContext(awsproto.WithCaller(r.Context(), id))
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		h.ServeHTTP(w, r)
	})
}

// signedAdmin requires, when credentials are configured, a valid SigV4
// signature (for any service name) or a session on a /_hydrant/ request.
func (s *Server) signedAdmin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := s.verifier
		if v == nil {
			h.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Algorithm") == "" && s.session != nil && s.session(r) {
			h.ServeHTTP(w, r)
			return
		}
		signed, e := v.Check(r, awsproto.SigningService{})
		if e != nil {
			writeAdminError(w, e)
			return
		}
		body, release, err := s.budget.ReadBody(r, maxAdminBody, 0)
		defer release()
		if err != nil {
			writeAdminError(w, bodyError(err))
			return
		}
		id, e := signed.VerifyBody(body)
		if e != nil {
			writeAdminError(w, e)
			return
		}
		r = r.WithContext(awsproto.WithCaller(r.Context(), id))
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		h.ServeHTTP(w, r)
	})
}

// bodyError turns a ReadBody failure into an API error.
func bodyError(err error) *awsproto.Error {
	if ae, ok := err.(*awsproto.Error); ok {
		return ae
	}
	return &awsproto.Error{Type: awsproto.SerializationException, Message: "Could not read request body", Status: http.StatusBadRequest}
}

// writeRESTError answers a REST-JSON request that was refused: signature
// errors are sent with 403 Forbidden, as REST services send them.
func writeRESTError(w http.ResponseWriter, e *awsproto.Error) {
	ae := *e
	if ae.Status < http.StatusInternalServerError && isAuthError(ae.Type) {
		ae.Status = http.StatusForbidden
	}
	awsproto.WriteRESTJSONError(w, &ae, nil)
}

func isAuthError(typ string) bool {
	switch typ {
	case awsproto.MissingAuthenticationTokenException, awsproto.IncompleteSignatureException,
		awsproto.InvalidSignatureException, awsproto.UnrecognizedClientException, awsproto.ExpiredTokenException:
		return true
	}
	return false
}

// writeAdminError answers a /_hydrant/ request that was refused:
// {"error": "...", "type": "..."}; signature errors with 403.
func writeAdminError(w http.ResponseWriter, e *awsproto.Error) {
	status := e.Status
	if status == 0 || status < http.StatusInternalServerError && isAuthError(e.Type) {
		status = http.StatusForbidden
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e.Message, "type": e.Type})
}

func writeS3Error(w http.ResponseWriter, e *awsproto.Error) {
	ae := *e
	if ae.Status < http.StatusInternalServerError && isAuthError(ae.Type) {
		ae.Status = http.StatusForbidden
	}
	awsproto.WriteXMLError(w, &ae)
}

func writeCBORError(w http.ResponseWriter, e *awsproto.Error) { awsproto.WriteCBORError(w, e) }

func queryFailer(svc *awsproto.Service) func(http.ResponseWriter, *awsproto.Error) {
	return func(w http.ResponseWriter, e *awsproto.Error) { svc.WriteQueryError(w, e) }
}
