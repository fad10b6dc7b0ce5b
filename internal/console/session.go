package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// The session cookie and the CSRF header. The cookie's path covers every
// /_hydrant/ endpoint (the console also calls /_hydrant/health), and the
// server accepts it there as it accepts a signature.
const (
	cookieName = "hydrant_session"
	cookiePath = "/_hydrant/"
	csrfHeader = "X-CSRF-Token"
)

// maxSessions bounds the sessions kept; past it the oldest is dropped.
const maxSessions = 1000

// Login throttling: after maxLoginFailures failed logins within
// loginWindow, logins are refused until the window has passed. hydrant
// usually serves one person on a laptop, so one counter for everyone.
const (
	maxLoginFailures = 10
	loginWindow      = time.Minute
)

// session is one login.
type session struct {
	id       string
	csrf     string
	identity awsproto.Identity
	expires  time.Time
}

// sessions are the console's logins, in memory: a restart logs everyone
// out. Without a verifier there are no logins, and one CSRF token for the
// process guards the requests that change something.
type sessions struct {
	verifier *awsproto.Verifier
	ttl      time.Duration
	now      func() time.Time
	openCSRF string // the token without credentials

	mu       sync.Mutex
	byID     map[string]*session
	failures []time.Time
}

func newSessions(v *awsproto.Verifier, ttl time.Duration, now func() time.Time) (*sessions, error) {
	s := &sessions{verifier: v, ttl: ttl, now: now, byID: map[string]*session{}}
	if v == nil {
		s.openCSRF = randomToken()
	}
	return s, nil
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// current is the request's live session, or nil.
func (s *sessions) current(r *http.Request) *session {
	if s.verifier == nil {
		return nil
	}
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ses := s.byID[ck.Value]
	if ses == nil {
		return nil
	}
	if !s.now().Before(ses.expires) {
		delete(s.byID, ses.id)
		return nil
	}
	return ses
}

// authenticates is the server's session hook: a live session, and for a
// request that changes something, its CSRF token too, whatever /_hydrant/
// endpoint it is sent to.
func (s *sessions) authenticates(r *http.Request) bool {
	ses := s.current(r)
	return ses != nil && (safeMethod(r.Method) || s.csrfOK(r, ses))
}

// csrfOK checks the request's CSRF header against the session's token (or,
// without credentials, the process's).
func (s *sessions) csrfOK(r *http.Request, ses *session) bool {
	want := s.openCSRF
	if ses != nil {
		want = ses.csrf
	}
	got := r.Header.Get(csrfHeader)
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// login checks a key pair and starts a session.
func (s *sessions) login(accessKeyID, secret, token string) (*session, *awsproto.Error, bool) {
	now := s.now()
	s.mu.Lock()
	recent := s.failures[:0]
	for _, t := range s.failures {
		if now.Sub(t) < loginWindow {
			recent = append(recent, t)
		}
	}
	s.failures = recent
	throttled := len(recent) >= maxLoginFailures
	s.mu.Unlock()
	if throttled {
		return nil, nil, false
	}
	id, cred, e := s.verifier.Authenticate(accessKeyID, secret, token)
	if e != nil {
		s.mu.Lock()
		s.failures = append(s.failures, now)
		s.mu.Unlock()
		return nil, e, true
	}
	expires := now.Add(s.ttl)
	if !cred.Expires.IsZero() && cred.Expires.Before(expires) {
		expires = cred.Expires // a temporary key's session ends with it
	}
	ses := &session{id: randomToken(), csrf: randomToken(), identity: *id, expires: expires}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= maxSessions {
		s.dropOldest()
	}
	s.byID[ses.id] = ses
	return ses, nil, true
}

// dropOldest removes expired sessions, or else the one that expires first;
// s.mu is held.
func (s *sessions) dropOldest() {
	now := s.now()
	var oldest *session
	for id, ses := range s.byID {
		if !now.Before(ses.expires) {
			delete(s.byID, id)
			continue
		}
		if oldest == nil || ses.expires.Before(oldest.expires) {
			oldest = ses
		}
	}
	if len(s.byID) >= maxSessions && oldest != nil {
		delete(s.byID, oldest.id)
	}
}

func (s *sessions) logout(ses *session) {
	s.mu.Lock()
	delete(s.byID, ses.id)
	s.mu.Unlock()
}

// sessionState is GET /api/session: whether a login is needed, and the
// CSRF token and user once logged in (or when none is needed).
type sessionState struct {
	LoginRequired bool      `json:"loginRequired"`
	Authenticated bool      `json:"authenticated"`
	CSRF          string    `json:"csrf,omitempty"`
	User          string    `json:"user,omitempty"`
	Expires       time.Time `json:"expires,omitzero"`
}

func (c *Console) state(ses *session) sessionState {
	if c.opts.Verifier == nil {
		return sessionState{Authenticated: true, CSRF: c.sessions.openCSRF}
	}
	st := sessionState{LoginRequired: true}
	if ses != nil {
		st.Authenticated, st.CSRF, st.Expires = true, ses.csrf, ses.expires
		st.User = ses.identity.Profile
		if st.User == "" {
			st.User = ses.identity.AccessKeyID
		}
	}
	return st
}

func (c *Console) handleSession(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, c.state(c.sessions.current(r)))
	return nil
}

// loginRequest is what the login page sends.
type loginRequest struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken,omitempty"`
}

func (c *Console) handleLogin(w http.ResponseWriter, r *http.Request) error {
	if c.opts.Verifier == nil {
		return errorf(http.StatusBadRequest, "hydrant runs without --credentials: the console needs no login")
	}
	var in loginRequest
	if err := readJSON(r, &in); err != nil {
		return err
	}
	ses, e, allowed := c.sessions.login(in.AccessKeyID, in.SecretAccessKey, in.SessionToken)
	if !allowed {
		w.Header().Set("Retry-After", "60")
		return errorf(http.StatusTooManyRequests, "too many failed logins: try again in a minute")
	}
	if e != nil {
		c.log.Warn("console login refused", "access_key_id", in.AccessKeyID, "remote", r.RemoteAddr, "reason", e.Type)
		return errorf(http.StatusUnauthorized, "%s", e.Message)
	}
	c.log.Info("console login", "access_key_id", ses.identity.AccessKeyID, "profile", ses.identity.Profile, "remote", r.RemoteAddr)
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: ses.id, Path: cookiePath,
		Expires: ses.expires, MaxAge: int(math.Round(ses.expires.Sub(c.now()).Seconds())),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
	writeJSON(w, http.StatusOK, c.state(ses))
	return nil
}

func (c *Console) handleLogout(w http.ResponseWriter, r *http.Request) error {
	if ses := c.sessions.current(r); ses != nil {
		c.sessions.logout(ses)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: cookiePath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	writeJSON(w, http.StatusOK, map[string]bool{"loggedOut": true})
	return nil
}
