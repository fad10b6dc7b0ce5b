package awsproto

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// appendCanonicalRequest appends SigV4's canonical request for r:
//
//	METHOD \n canonical URI \n canonical query \n canonical headers \n
//	signed header list \n payload hash
//
// It is built from the request as it arrived on the wire (the raw request
// target, the header values received), never from a re-encoded form.
func appendCanonicalRequest(buf []byte, r *http.Request, singleEncode, presigned bool, signedHeaders string, payloadHash []byte) []byte {
	buf = append(buf, r.Method...)
	buf = append(buf, '\n')
	buf = appendCanonicalURI(buf, requestPath(r), singleEncode)
	buf = append(buf, '\n')
	buf = appendCanonicalQuery(buf, r.URL.RawQuery, presigned)
	buf = append(buf, '\n')
	buf = appendCanonicalHeaders(buf, r, signedHeaders)
	buf = append(buf, '\n')
	buf = append(buf, signedHeaders...)
	buf = append(buf, '\n')
	return append(buf, payloadHash...)
}

// requestPath is the path of the request target exactly as the client
// sent it (still percent-encoded), without the query.
func requestPath(r *http.Request) string {
	p := r.RequestURI
	if p == "" { // a request built in-process rather than read from a socket
		return r.URL.EscapedPath()
	}
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if !strings.HasPrefix(p, "/") { // absolute form: scheme://authority/path
		if i := strings.Index(p, "://"); i >= 0 {
			p = p[i+3:]
			if j := strings.IndexByte(p, '/'); j >= 0 {
				p = p[j:]
			} else {
				p = ""
			}
		}
	}
	return p
}

// appendCanonicalURI appends the canonical URI. S3 signs the path as sent;
// every other service signs it normalized (no empty, "." or ".."
// segments) and URI-encoded once more, so "%20" on the wire is "%2520".
func appendCanonicalURI(buf []byte, p string, singleEncode bool) []byte {
	if p == "" {
		return append(buf, '/')
	}
	if singleEncode {
		return append(buf, p...)
	}
	if needsNormalizing(p) {
		p = normalizePath(p)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '/' || isUnreserved(c) {
			buf = append(buf, c)
		} else {
			buf = appendPercent(buf, c)
		}
	}
	return buf
}

func needsNormalizing(p string) bool {
	return strings.Contains(p, "//") || strings.Contains(p, "/./") || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..") || p[0] != '/'
}

// normalizePath removes empty, "." and ".." segments (RFC 3986 §5.2.4),
// keeping a trailing slash.
func normalizePath(p string) string {
	var segs []string
	for _, s := range strings.Split(p, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	out := "/" + strings.Join(segs, "/")
	if len(segs) > 0 && (strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")) {
		out += "/"
	}
	return out
}

// appendCanonicalQuery appends the query parameters decoded, then
// re-encoded strictly (RFC 3986 unreserved characters only, space as
// %20) and sorted by name, then value. A presigned request's
// X-Amz-Signature is not part of what it signs.
func appendCanonicalQuery(buf []byte, raw string, presigned bool) []byte {
	if raw == "" {
		return buf
	}
	type pair struct{ k, v string }
	var pairs []pair
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{uriEncode(k), uriEncode(v)})
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	for i, p := range pairs {
		if i > 0 {
			buf = append(buf, '&')
		}
		buf = append(buf, p.k...)
		buf = append(buf, '=')
		buf = append(buf, p.v...)
	}
	return buf
}

// queryUnescape decodes a query component as the SDKs do ('+' is a
// space); a malformed escape is kept as sent.
func queryUnescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// uriEncode percent-encodes every byte but the unreserved ones.
func uriEncode(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); i++ {
		if c := s[i]; isUnreserved(c) {
			b = append(b, c)
		} else {
			b = appendPercent(b, c)
		}
	}
	return string(b)
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

func appendPercent(b []byte, c byte) []byte {
	const hexUpper = "0123456789ABCDEF"
	return append(b, '%', hexUpper[c>>4], hexUpper[c&15])
}

// appendCanonicalHeaders appends "name:value\n" for each signed header, in
// the order of the signed list. Several values of one header are joined
// with commas; each value is trimmed and its runs of spaces folded to one.
// Header names are matched without regard to case and without
// allocating: the list is short and so is the header map.
func appendCanonicalHeaders(buf []byte, r *http.Request, list string) []byte {
	for list != "" {
		var name string
		name, list, _ = strings.Cut(list, ";")
		buf = append(buf, name...)
		buf = append(buf, ':')
		switch {
		case strings.EqualFold(name, "host") || name == ":authority":
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			buf = appendHeaderValue(buf, host)
		default:
			n := 0
			for k, vs := range r.Header {
				if !strings.EqualFold(k, name) {
					continue
				}
				for _, v := range vs {
					if n > 0 {
						buf = append(buf, ',')
					}
					buf = appendHeaderValue(buf, v)
					n++
				}
			}
			// Go's server keeps Content-Length out of the header map for
			// some requests; the signer saw the length the client sent.
			if n == 0 && strings.EqualFold(name, "content-length") && r.ContentLength > 0 {
				buf = strconv.AppendInt(buf, r.ContentLength, 10)
			}
		}
		buf = append(buf, '\n')
	}
	return buf
}

// appendHeaderValue appends v trimmed, with sequential spaces folded.
func appendHeaderValue(buf []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		buf = append(buf, c)
	}
	return buf
}
