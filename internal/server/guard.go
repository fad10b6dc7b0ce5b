package server

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// A server on 127.0.0.1 is reachable by every web page its user opens. A
// page can send "simple" cross-origin requests (GET, or POST with a
// text/plain, form or multipart body) without a CORS preflight, and with
// DNS rebinding it can make its own host name resolve to 127.0.0.1 and talk
// to hydrant as a same-origin page. The guard refuses both, before any
// request is dispatched (docs/AUTH.md):
//   - a request whose Origin is not this server's own origin, or whose
//     Sec-Fetch-Site says a page of another site (or another port) sent it;
//   - with checkHost (listening on loopback without credentials), a Host
//     that is not a loopback name or address or one of allowedHosts: a
//     rebound name arrives as the attacker's host name;
//   - (checkContentType) a request whose Content-Type is not its protocol's
//     own, which no simple request can carry.
type guard struct {
	checkHost    bool
	allowedHosts []string // lower-case names (and their subdomains)
}

// SetHostCheck turns the Host check on (listening on loopback without
// credentials) or off, and names hosts to accept besides loopback names
// and addresses (--allowed-hosts).
func (s *Server) SetHostCheck(on bool, allowed []string) {
	s.guard.checkHost = on
	s.guard.allowedHosts = nil
	for _, h := range allowed {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			s.guard.allowedHosts = append(s.guard.allowedHosts, strings.TrimSuffix(h, "."))
		}
	}
}

func (g *guard) check(r *http.Request, k kind) *awsproto.Error {
	if g.checkHost && !g.hostAllowed(r.Host) {
		return forbidden("hydrant refuses Host " + quote(r.Host) + ": it listens on loopback without credentials, so only loopback names (localhost, *.localhost, 127.0.0.1, [::1]) are served; " +
			"a different name is how DNS rebinding reaches a local server. Add names you use with --allowed-hosts.")
	}
	if origin := r.Header.Get("Origin"); origin != "" && !sameOrigin(origin, r) {
		return forbidden("hydrant refuses cross-origin requests: Origin " + quote(origin) + " is not this server's origin. Web pages cannot use hydrant's APIs; use an AWS SDK or the CLI.")
	}
	switch site := r.Header.Get("Sec-Fetch-Site"); site {
	case "cross-site", "same-site":
		if k == kindAdmin && isNavigation(r) && strings.HasPrefix(r.URL.Path, "/_hydrant/ui") {
			// A link to the console from another page opens it; the page
			// itself does nothing until the user acts in it.
			return nil
		}
		return forbidden("hydrant refuses requests a web page of another site sent (Sec-Fetch-Site: " + site + ").")
	}
	return nil
}

// isNavigation reports whether r is a browser's top-level navigation (a
// link followed or a URL typed), which cannot read the answer elsewhere.
func isNavigation(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.Header.Get("Sec-Fetch-Mode") == "navigate"
}

// hostAllowed reports whether the Host header names this machine's
// loopback, or one of the allowed names.
func (g *guard) hostAllowed(host string) bool {
	h := hostname(host)
	if h == "" {
		return false
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		// RFC 6761: *.localhost is loopback, and browsers resolve it so
		// without asking DNS.
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	for _, a := range g.allowedHosts {
		if h == a || strings.HasSuffix(h, "."+a) {
			return true
		}
	}
	return false
}

// hostname is the host of a Host header, lower-cased, without port or
// brackets.
func hostname(host string) string {
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
	return strings.ToLower(h)
}

// sameOrigin reports whether origin is the origin the request was sent to:
// same scheme, host and port.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // "null", opaque origins
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return strings.EqualFold(u.Scheme, scheme) && strings.EqualFold(u.Host, r.Host)
}

// simpleTypes are the Content-Types a web page may send cross-origin
// without a preflight.
var simpleTypes = map[string]bool{"text/plain": true, "multipart/form-data": true, "application/x-www-form-urlencoded": true}

// checkContentType refuses a request whose body is not in its protocol's
// own media type. awsQuery's own type is a simple one, so for it (and for
// S3, whose object bodies have any type) the Origin and Host checks are the
// protection; Lambda's Invoke sends its payload with no Content-Type.
func checkContentType(r *http.Request, k kind) *awsproto.Error {
	ct := mediaType(r.Header.Get("Content-Type"))
	hasBody := r.ContentLength != 0
	switch k {
	case kindJSON:
		if ct == "application/x-amz-json-1.1" || ct == "application/x-amz-json-1.0" {
			return nil
		}
		return unsupportedType(ct, "application/x-amz-json-1.1 (or 1.0)")
	case kindCBOR:
		if ct == awsproto.ContentTypeCBOR || (ct == "" && !hasBody) {
			return nil
		}
		return unsupportedType(ct, awsproto.ContentTypeCBOR)
	case kindREST:
		if simpleTypes[ct] {
			return unsupportedType(ct, "application/json")
		}
	case kindAdmin:
		if hasBody && r.Method != http.MethodGet && ct != "application/json" && ct != "" {
			return unsupportedType(ct, "application/json")
		}
		if hasBody && ct == "" {
			return unsupportedType(ct, "application/json")
		}
	}
	return nil
}

func unsupportedType(got, want string) *awsproto.Error {
	if got == "" {
		got = "(none)"
	}
	return &awsproto.Error{Type: "UnsupportedMediaTypeException", Status: http.StatusUnsupportedMediaType,
		Message: "Content-Type " + got + " is not accepted here: this API takes " + want + "."}
}

func forbidden(msg string) *awsproto.Error {
	return &awsproto.Error{Type: awsproto.AccessDeniedException, Message: msg, Status: http.StatusForbidden}
}

func quote(s string) string { return "'" + s + "'" }
