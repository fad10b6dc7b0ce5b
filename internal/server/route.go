package server

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// kind is the wire protocol of a request, as classify tells it.
type kind int

const (
	kindUnknown kind = iota
	kindAdmin        // hydrant's own /_hydrant/ endpoints
	kindJSON         // awsJson: X-Amz-Target
	kindCBOR         // Smithy RPC v2 CBOR: /service/S/operation/O
	kindQuery        // awsQuery: a form with Action
	kindREST         // a REST-JSON API by path (Lambda)
	kindS3           // REST-XML S3
)

// route is where a request goes and how its errors are written before it
// gets there.
type route struct {
	kind  kind
	serve func(http.ResponseWriter, *http.Request)
	fail  func(http.ResponseWriter, *awsproto.Error)
}

// classify tells a request's API apart the way AWS's SDKs send them. The
// credential scope of a signed request breaks ties: a request signed for
// "s3" is S3's even if its path looks like Lambda's (a bucket may be named
// 2015-03-31).
func (s *Server) classify(r *http.Request) route {
	if isAdmin(r.URL.Path) {
		return route{kind: kindAdmin, serve: s.admin.ServeHTTP, fail: writeAdminError}
	}
	_, scope, signed := awsproto.RequestScope(r)
	if target := r.Header.Get("X-Amz-Target"); target != "" && !(signed && scope == "s3") {
		return s.jsonRoute(target)
	}
	if r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor" {
		if name, op, ok := awsproto.SplitCBORPath(r.URL.Path); ok {
			if svc := s.targets[name]; svc != nil && svc.Model != nil {
				return route{kind: kindCBOR, serve: func(w http.ResponseWriter, r *http.Request) { svc.ServeCBOR(w, r, op) },
					fail: func(w http.ResponseWriter, e *awsproto.Error) { writeCBORError(w, e) }}
			}
		}
	}
	if s.s3 != nil && (signed && scope == "s3" || isVirtualHostedS3(r.Host)) {
		return s.s3Route()
	}
	if isQuery(r) {
		if svc := s.queryService(r, scope, signed); svc != nil {
			return route{kind: kindQuery, serve: svc.ServeQuery, fail: queryFailer(svc)}
		}
	}
	for _, rt := range s.rest {
		if r.URL.Path == rt.prefix || strings.HasPrefix(r.URL.Path, rt.prefix+"/") {
			if !signed || scope == rt.signingName || s.s3 == nil {
				return route{kind: kindREST, serve: rt.h.ServeHTTP, fail: writeRESTError}
			}
		}
	}
	if s.s3 != nil {
		return s.s3Route()
	}
	return route{kind: kindUnknown, serve: func(w http.ResponseWriter, r *http.Request) {
		awsproto.WriteJSONError(w, &awsproto.Error{Type: "InvalidAction", Status: http.StatusNotFound,
			Message: "hydrant serves AWS APIs (awsJson with X-Amz-Target, awsQuery, REST) and /_hydrant/*; nothing at " + r.Method + " " + r.URL.Path})
	}, fail: awsproto.WriteJSONError}
}

func (s *Server) jsonRoute(target string) route {
	prefix, op, ok := awsproto.SplitTarget(target)
	svc := s.targets[prefix]
	if !ok || svc == nil {
		return route{kind: kindJSON, serve: func(w http.ResponseWriter, r *http.Request) {
			awsproto.WriteJSONError(w, &awsproto.Error{Type: awsproto.UnknownOperationException, Message: "Unknown operation " + target, Status: http.StatusBadRequest})
		}, fail: awsproto.WriteJSONError}
	}
	return route{kind: kindJSON, serve: func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			awsproto.WriteJSONError(w, &awsproto.Error{Type: "InvalidAction", Message: "Only POST is supported for " + target, Status: http.StatusBadRequest})
			return
		}
		svc.ServeOperation(w, r, op)
	}, fail: awsproto.WriteJSONError}
}

func (s *Server) s3Route() route {
	return route{kind: kindS3, serve: s.s3.h.ServeHTTP, fail: writeS3Error}
}

// isQuery reports whether r looks like an awsQuery request: a form POST, or
// a GET of / with an Action parameter.
func isQuery(r *http.Request) bool {
	switch r.Method {
	case http.MethodPost:
		return mediaType(r.Header.Get("Content-Type")) == awsproto.ContentTypeForm && (r.URL.Path == "/" || r.URL.Path == "")
	case http.MethodGet:
		return (r.URL.Path == "/" || r.URL.Path == "") && r.URL.Query().Get("Action") != ""
	}
	return false
}

// maxQuerySniff bounds the body read to find the Action of an unsigned
// awsQuery request.
const maxQuerySniff = 1 << 20

// queryService picks the awsQuery service of a request: by the credential
// scope when signed; unsigned (loopback without credentials), by its
// Action, the first registered service that has it.
func (s *Server) queryService(r *http.Request, scope string, signed bool) *awsproto.Service {
	if len(s.query) == 0 {
		return nil
	}
	if signed {
		for _, svc := range s.query {
			if svc.SigningName == scope {
				return svc
			}
		}
		return nil
	}
	action, version := r.URL.Query().Get("Action"), r.URL.Query().Get("Version")
	if r.Method == http.MethodPost && r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxQuerySniff))
		if err != nil {
			return nil
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form, err := url.ParseQuery(string(body)); err == nil {
			action, version = form.Get("Action"), form.Get("Version")
		}
	}
	// Several services may have the Action (CloudWatch's and SNS's
	// TagResource): the request's Version, the API version every awsQuery
	// client sends, picks the one it was written for.
	var first *awsproto.Service
	for _, svc := range s.query {
		if _, ok := svc.Ops[action]; ok {
			if svc.Model != nil && version != "" && svc.Model.Metadata.APIVersion == version {
				return svc
			}
			if first == nil {
				first = svc
			}
		}
	}
	if first != nil {
		return first
	}
	// No service has it: the first one answers InvalidAction in its shape.
	return s.query[0]
}

// isVirtualHostedS3 reports whether host addresses a bucket the way S3's
// virtual-hosted style does on a local machine: BUCKET.localhost[:port].
func isVirtualHostedS3(host string) bool {
	h := hostname(host)
	return strings.HasSuffix(h, ".localhost") && len(h) > len(".localhost")
}

// mediaType is a Content-Type without its parameters, lower-cased.
func mediaType(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}
