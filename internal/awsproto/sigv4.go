package awsproto

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SigV4 failures, named as awsJson (Coral) services name them. All are
// answered with HTTP 400.
const (
	MissingAuthenticationTokenException = "MissingAuthenticationTokenException"
	IncompleteSignatureException        = "IncompleteSignatureException"
	InvalidSignatureException           = "InvalidSignatureException"
	UnrecognizedClientException         = "UnrecognizedClientException"
	ExpiredTokenException               = "ExpiredTokenException"
)

// Messages AWS sends with those errors (see docs/AUTH.md for the evidence).
const (
	msgMissingToken      = "Request is missing Authentication Token"
	msgInvalidToken      = "The security token included in the request is invalid."
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgHostNotSigned     = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgBothAuthForms     = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
	msgExpiredToken      = "The security token included in the request is expired"
	msgTargetNotSigned   = "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
)

const (
	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	sigV4Terminator = "aws4_request"
	amzDateLayout   = "20060102T150405Z"
	// UnsignedPayload is the X-Amz-Content-Sha256 of an S3 request whose
	// body is not covered by the signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// DefaultMaxSkew is how far a request's date may be from the server's
	// clock: Firehose (like Kinesis) allows five minutes either way.
	DefaultMaxSkew = 5 * time.Minute
	// maxPresignExpires is SigV4's upper bound on X-Amz-Expires (7 days).
	maxPresignExpires = 7 * 24 * time.Hour
)

// SigningService says how one API's requests are signed.
type SigningService struct {
	// Name is the signing name the credential scope must carry
	// ("firehose", "s3", "lambda"); empty accepts any.
	Name string
	// Region, when set, is the only region the scope may name; empty
	// accepts any (hydrant answers for every region on one port).
	Region string
	// SingleEncodePath makes the canonical URI the path exactly as sent
	// (S3). Every other service normalizes the path and URI-encodes it
	// once more ("double encoding").
	SingleEncodePath bool
}

// Identity is who signed a verified request, and the scope they signed it
// for (region and service come from the credential scope, so one port can
// serve several services).
type Identity struct {
	AccessKeyID string
	Profile     string
	// ARN is the identity a temporary key was issued to (STS), if any.
	ARN       string
	Region    string
	Service   string
	Time      time.Time
	Presigned bool
}

// Verifier checks AWS Signature Version 4 on incoming requests, in the
// Authorization header form and the presigned query-string form, against
// a fixed set of credentials. It is safe for concurrent use and must not
// be copied after first use.
type Verifier struct {
	Credentials *Credentials
	// Temporary, when set, is asked for keys the credentials file does not
	// hold: STS sessions and the keys hydrant gives its hosted functions.
	Temporary KeySource
	// MaxSkew bounds the distance between a request's date and Now;
	// zero means DefaultMaxSkew.
	MaxSkew time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives the canonical request of signatures that do not
	// match, at debug level, to help users debug their clients.
	Logger *slog.Logger

	keys keyCache
}

// KeySource finds the secret of an access key that is not in the
// credentials file (temporary keys). Lookup must be safe for concurrent use.
type KeySource interface {
	Lookup(accessKeyID string) (Credential, bool)
}

func (v *Verifier) lookup(akid string) (Credential, bool) {
	if v.Credentials != nil {
		if c, ok := v.Credentials.Lookup(akid); ok {
			return c, true
		}
	}
	if v.Temporary != nil {
		return v.Temporary.Lookup(akid)
	}
	return Credential{}, false
}

// hasSignedHeader reports whether the ';'-separated lower-case list holds
// name.
func hasSignedHeader(list, name string) bool {
	for h := range strings.SplitSeq(list, ";") {
		if strings.TrimSpace(h) == name {
			return true
		}
	}
	return false
}

// Signed is a request whose signature fields have been parsed and whose
// date, scope and access key have been checked. What is left needs the
// payload: VerifyBody or VerifyPayloadHash.
type Signed struct {
	v             *Verifier
	r             *http.Request
	svc           SigningService
	secret        string
	stamp         string // the request time in ISO 8601 basic format
	scope         string // date/region/service/aws4_request
	signedHeaders string
	signature     string
	id            Identity
}

// Verify checks r completely: signature, date, scope and key, with the
// payload hash taken over body (the awsJson services read the body anyway).
func (v *Verifier) Verify(r *http.Request, body []byte, svc SigningService) (*Identity, *Error) {
	s, e := v.Check(r, svc)
	if e != nil {
		return nil, e
	}
	return s.VerifyBody(body)
}

// Check does everything that needs no body, so that unsigned, expired and
// unknown-key requests are refused before their body is read. The checks
// run in the order AWS runs them, so the first failure is the one AWS
// would report.
func (v *Verifier) Check(r *http.Request, svc SigningService) (*Signed, *Error) {
	auth := r.Header.Get("Authorization")
	presigned := strings.Contains(r.URL.RawQuery, "X-Amz-Algorithm=")
	switch {
	case auth != "" && presigned:
		return nil, sigErr(InvalidSignatureException, msgBothAuthForms)
	case auth == "" && !presigned, auth != "" && !strings.HasPrefix(strings.TrimSpace(auth), "AWS4-"):
		return nil, sigErr(MissingAuthenticationTokenException, msgMissingToken)
	}
	var f authFields
	var e *Error
	if presigned {
		f, e = parsePresigned(r)
	} else {
		f, e = parseAuthHeader(r, auth)
	}
	if e != nil {
		return nil, e
	}
	t, e := parseRequestTime(f.date, f.dateFromHeader)
	if e != nil {
		return nil, e
	}
	if e := v.checkTime(t, f.expires); e != nil {
		return nil, e
	}
	if !hasHostHeader(f.signedHeaders) {
		return nil, sigErr(InvalidSignatureException, msgHostNotSigned)
	}
	if f.algorithm != sigV4Algorithm {
		return nil, sigErr(IncompleteSignatureException, "Unsupported AWS 'algorithm': '"+f.algorithm+"' (only AWS4-HMAC-SHA256 for now). ")
	}
	parts, e := splitCredential(f.credential)
	if e != nil {
		return nil, e
	}
	stamp := t.Format(amzDateLayout)
	if e := checkScope(parts, svc, stamp); e != nil {
		return nil, e
	}
	cred, ok := v.lookup(parts[0])
	if !ok || (cred.SessionToken != "" && cred.SessionToken != f.token) {
		return nil, sigErr(UnrecognizedClientException, msgInvalidToken)
	}
	if !cred.Expires.IsZero() && !t.Before(cred.Expires) {
		// A temporary key (STS) past its expiry: AWS's answer for an
		// expired session token.
		return nil, sigErr(ExpiredTokenException, msgExpiredToken)
	}
	if r.Header.Get("X-Amz-Target") != "" && !hasSignedHeader(f.signedHeaders, "x-amz-target") {
		// The operation of an awsJson request is its X-Amz-Target: left
		// unsigned, a captured Describe could be replayed as a Delete.
		// botocore and every SDK sign it.
		return nil, sigErr(InvalidSignatureException, msgTargetNotSigned)
	}
	return &Signed{
		v: v, r: r, svc: svc, secret: cred.SecretAccessKey, stamp: stamp,
		scope:         strings.TrimRight(f.credential, "/")[len(parts[0])+1:],
		signedHeaders: f.signedHeaders, signature: f.signature,
		id: Identity{AccessKeyID: cred.AccessKeyID, Profile: cred.Profile, ARN: cred.ARN, Region: parts[2], Service: parts[3], Time: t, Presigned: presigned},
	}, nil
}

// VerifyBody finishes verification with the SHA-256 of body as the payload
// hash. A request that declared X-Amz-Content-Sha256 as anything else
// (UNSIGNED-PAYLOAD, a hash of other bytes) fails: its signature covers a
// payload that is not the one received.
func (s *Signed) VerifyBody(body []byte) (*Identity, *Error) {
	sum := sha256.Sum256(body)
	var hexSum [64]byte
	hex.Encode(hexSum[:], sum[:])
	return s.verify(hexSum[:])
}

// VerifyPayloadHash finishes verification with the payload hash the client
// declared (S3's X-Amz-Content-Sha256: a hex SHA-256, UNSIGNED-PAYLOAD or
// STREAMING-*), used as given. The caller checks the body against it as it
// streams.
func (s *Signed) VerifyPayloadHash(hash string) (*Identity, *Error) {
	return s.verify([]byte(hash))
}

// Identity is the signer, valid once verification has succeeded.
func (s *Signed) Identity() *Identity { return &s.id }

var canonicalBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func (s *Signed) verify(payloadHash []byte) (*Identity, *Error) {
	bp := canonicalBufs.Get().(*[]byte)
	defer canonicalBufs.Put(bp)
	buf := appendCanonicalRequest((*bp)[:0], s.r, s.svc.SingleEncodePath, s.id.Presigned, s.signedHeaders, payloadHash)
	creqLen := len(buf)
	crHash := sha256.Sum256(buf)
	buf = append(buf, sigV4Algorithm...)
	buf = append(buf, '\n')
	buf = append(buf, s.stamp...)
	buf = append(buf, '\n')
	buf = append(buf, s.scope...)
	buf = append(buf, '\n')
	buf = hex.AppendEncode(buf, crHash[:])
	mac := hmac.New(sha256.New, s.v.keys.signingKey(s.id.AccessKeyID, s.secret, s.scope))
	mac.Write(buf[creqLen:])
	var sum [sha256.Size]byte
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], mac.Sum(sum[:0]))
	*bp = buf
	if !hmac.Equal(want[:], []byte(s.signature)) {
		if s.v.Logger != nil && s.v.Logger.Enabled(s.r.Context(), slog.LevelDebug) {
			s.v.Logger.Debug("SigV4 signature mismatch", "access_key_id", s.id.AccessKeyID,
				"canonical_request", string(buf[:creqLen]), "string_to_sign", string(buf[creqLen:]))
		}
		return nil, sigErr(InvalidSignatureException, msgSignatureMismatch)
	}
	return &s.id, nil
}

// authFields are the signature parameters of either form, as sent.
type authFields struct {
	algorithm      string
	credential     string // keyid/date/region/service/aws4_request
	signedHeaders  string // lower-case names joined by ';'
	signature      string // lower-case hex
	date           string
	dateFromHeader bool          // date is an HTTP Date header, not X-Amz-Date
	expires        time.Duration // presigned X-Amz-Expires; 0 when absent
	token          string        // X-Amz-Security-Token
}

// parseAuthHeader reads "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=...". Parameters are separated by commas and/or spaces, as
// AWS's own parser accepts.
func parseAuthHeader(r *http.Request, auth string) (authFields, *Error) {
	var f authFields
	rest := strings.TrimSpace(auth)
	if i := strings.IndexAny(rest, " \t,"); i >= 0 {
		f.algorithm, rest = rest[:i], rest[i:]
	} else {
		f.algorithm, rest = rest, ""
	}
	for rest != "" {
		rest = strings.TrimLeft(rest, " \t,")
		if rest == "" {
			break
		}
		tok := rest
		if i := strings.IndexAny(rest, " \t,"); i >= 0 {
			tok, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		k, val, ok := strings.Cut(tok, "=")
		if !ok {
			return f, sigErr(IncompleteSignatureException, "'"+tok+"' not a valid key=value pair (missing equal-sign) in Authorization header: '"+auth+"'.")
		}
		switch k {
		case "Credential":
			f.credential = val
		case "SignedHeaders":
			f.signedHeaders = val
		case "Signature":
			f.signature = val
		}
	}
	if f.date = r.Header.Get("X-Amz-Date"); f.date == "" {
		f.date, f.dateFromHeader = r.Header.Get("Date"), true
	}
	var msg strings.Builder
	for _, p := range [...]struct{ name, val string }{{"Credential", f.credential}, {"Signature", f.signature}, {"SignedHeaders", f.signedHeaders}} {
		if p.val == "" {
			msg.WriteString("Authorization header requires '" + p.name + "' parameter. ")
		}
	}
	if f.date == "" {
		msg.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
	}
	if msg.Len() > 0 {
		return f, sigErr(IncompleteSignatureException, msg.String()+"Authorization="+auth)
	}
	f.token = r.Header.Get("X-Amz-Security-Token")
	return f, nil
}

// parsePresigned reads the X-Amz-* query parameters of a presigned URL.
func parsePresigned(r *http.Request) (authFields, *Error) {
	q := r.URL.Query()
	f := authFields{
		algorithm: q.Get("X-Amz-Algorithm"), credential: q.Get("X-Amz-Credential"),
		signedHeaders: q.Get("X-Amz-SignedHeaders"), signature: q.Get("X-Amz-Signature"),
		date: q.Get("X-Amz-Date"), token: q.Get("X-Amz-Security-Token"),
	}
	var msg strings.Builder
	for _, p := range [...]struct{ name, val string }{{"X-Amz-Algorithm", f.algorithm}, {"X-Amz-Credential", f.credential}, {"X-Amz-Signature", f.signature}, {"X-Amz-SignedHeaders", f.signedHeaders}, {"X-Amz-Date", f.date}} {
		if p.val == "" {
			msg.WriteString("AWS query-string parameters must include '" + p.name + "'. ")
		}
	}
	if msg.Len() > 0 {
		return f, sigErr(IncompleteSignatureException, msg.String()+"Re-examine the query-string parameters.")
	}
	if raw := q.Get("X-Amz-Expires"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return f, sigErr(IncompleteSignatureException, "X-Amz-Expires should be a number")
		}
		if time.Duration(n)*time.Second > maxPresignExpires {
			return f, sigErr(IncompleteSignatureException, "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds")
		}
		f.expires = time.Duration(n) * time.Second
	}
	return f, nil
}

// parseRequestTime reads X-Amz-Date (ISO 8601 basic) or an HTTP Date.
func parseRequestTime(date string, httpDate bool) (time.Time, *Error) {
	var t time.Time
	var err error
	if httpDate {
		t, err = http.ParseTime(date)
	} else {
		t, err = time.Parse(amzDateLayout, date)
	}
	if err != nil {
		return t, sigErr(IncompleteSignatureException, "Date must be in ISO-8601 'basic format'. Got '"+date+"'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	return t.UTC(), nil
}

// checkTime refuses requests dated too far from now: more than MaxSkew
// either way, or, for a presigned URL with X-Amz-Expires, past its expiry.
func (v *Verifier) checkTime(t time.Time, expires time.Duration) *Error {
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	now = now.UTC().Truncate(time.Second)
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	window := skew
	if expires > 0 {
		window = expires
	}
	if t.Before(now.Add(-window)) {
		return sigErr(InvalidSignatureException, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %s.)",
			t.Format(amzDateLayout), now.Add(-window).Format(amzDateLayout), now.Format(amzDateLayout), durationWords(window)))
	}
	if t.After(now.Add(skew)) {
		return sigErr(InvalidSignatureException, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %s.)",
			t.Format(amzDateLayout), now.Add(skew).Format(amzDateLayout), now.Format(amzDateLayout), durationWords(skew)))
	}
	return nil
}

// durationWords writes a window as AWS does: "5 min" or "90 sec".
func durationWords(d time.Duration) string {
	s := int64(d / time.Second)
	if s%60 == 0 {
		return strconv.FormatInt(s/60, 10) + " min"
	}
	return strconv.FormatInt(s, 10) + " sec"
}

// hasHostHeader reports whether the signed header list names host.
func hasHostHeader(list string) bool {
	for list != "" {
		var name string
		name, list, _ = strings.Cut(list, ";")
		if strings.EqualFold(name, "host") || name == ":authority" {
			return true
		}
	}
	return false
}

// splitCredential splits keyid/date/region/service/aws4_request. Trailing
// slashes are ignored, as AWS ignores them.
func splitCredential(cred string) ([5]string, *Error) {
	var parts [5]string
	rest := strings.TrimRight(cred, "/")
	for i := range parts {
		var ok bool
		parts[i], rest, ok = strings.Cut(rest, "/")
		if (i < 4 && !ok) || (i == 4 && ok) || parts[i] == "" {
			return parts, sigErr(IncompleteSignatureException, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+cred+"'")
		}
	}
	return parts, nil
}

// checkScope compares the credential scope with the service and the
// request date; every mismatch is reported at once, as AWS does.
func checkScope(parts [5]string, svc SigningService, stamp string) *Error {
	var msg strings.Builder
	if svc.Region != "" && parts[2] != svc.Region {
		msg.WriteString("Credential should be scoped to a valid region, not '" + parts[2] + "'. ")
	}
	if svc.Name != "" && parts[3] != svc.Name {
		msg.WriteString("Credential should be scoped to correct service: '" + svc.Name + "'. ")
	}
	if parts[4] != sigV4Terminator {
		msg.WriteString("Credential should be scoped with a valid terminator: 'aws4_request', not '" + parts[4] + "'. ")
	}
	if parts[1] != stamp[:8] {
		msg.WriteString("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" + parts[1] + "' != '" + stamp[:8] + "', from '" + stamp + "'.")
	}
	if msg.Len() > 0 {
		return sigErr(InvalidSignatureException, msg.String())
	}
	return nil
}

// RequestScope reads the credential scope of a signed request without
// verifying anything, so that one port can route a request to the service
// it was signed for. ok is false for unsigned or malformed requests.
func RequestScope(r *http.Request) (region, service string, ok bool) {
	parts, ok := requestCredential(r)
	if !ok {
		return "", "", false
	}
	return parts[2], parts[3], true
}

// requestCredential reads the Credential of a request's signature (header
// or presigned form) without verifying anything.
func requestCredential(r *http.Request) ([5]string, bool) {
	cred := ""
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, after, found := strings.Cut(auth, "Credential=")
		if !found {
			return [5]string{}, false
		}
		cred = after
		if i := strings.IndexAny(cred, " ,"); i >= 0 {
			cred = cred[:i]
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	parts, e := splitCredential(cred)
	return parts, e == nil
}

func sigErr(typ, msg string) *Error {
	return &Error{Type: typ, Message: msg, Status: http.StatusBadRequest}
}

// keyCache keeps derived signing keys: the four HMACs of the key
// derivation depend only on the secret and the scope, which changes once a
// day per key, region and service.
type keyCache struct {
	mu sync.Mutex
	m  map[[2]string][]byte
}

const keyCacheMax = 1024

func (c *keyCache) signingKey(akid, secret, scope string) []byte {
	k := [2]string{akid, scope}
	c.mu.Lock()
	key, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return key
	}
	date, rest, _ := strings.Cut(scope, "/")
	region, rest, _ := strings.Cut(rest, "/")
	service, _, _ := strings.Cut(rest, "/")
	key = hmacSHA256([]byte("AWS4"+secret), date)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, service)
	key = hmacSHA256(key, sigV4Terminator)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= keyCacheMax {
		c.m = make(map[[2]string][]byte)
	}
	c.m[[2]string{strings.Clone(akid), strings.Clone(scope)}] = key
	c.mu.Unlock()
	return key
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
