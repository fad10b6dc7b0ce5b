package console

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newTestSessions(t *testing.T, clock *fakeClock, temp awsproto.KeySource) *sessions {
	t.Helper()
	creds, err := awsproto.NewCredentials(awsproto.Credential{AccessKeyID: "AKID", SecretAccessKey: "secret", Profile: "default"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSessions(&awsproto.Verifier{Credentials: creds, Temporary: temp, Now: clock.now}, time.Hour, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func withCookie(method string, ses *session, csrf string) *http.Request {
	r := httptest.NewRequest(method, "/_hydrant/streams/x/flush", nil)
	if ses != nil {
		r.AddCookie(&http.Cookie{Name: cookieName, Value: ses.id})
	}
	if csrf != "" {
		r.Header.Set(csrfHeader, csrf)
	}
	return r
}

type tempKey map[string]awsproto.Credential

func (k tempKey) Lookup(id string) (awsproto.Credential, bool) { c, ok := k[id]; return c, ok }

func TestSessions(t *testing.T) {
	clock := &fakeClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newTestSessions(t, clock, tempKey{"ASIA": {AccessKeyID: "ASIA", SecretAccessKey: "s", SessionToken: "tok", Expires: clock.t.Add(10 * time.Minute)}})

	if _, e, ok := s.login("AKID", "wrong", ""); !ok || e == nil || e.Type != awsproto.UnrecognizedClientException {
		t.Fatalf("wrong secret: %v %v", e, ok)
	}
	ses, e, ok := s.login("AKID", "secret", "")
	if !ok || e != nil || ses.identity.Profile != "default" || !ses.expires.Equal(clock.t.Add(time.Hour)) {
		t.Fatalf("login: %+v %v", ses, e)
	}
	if s.current(withCookie("GET", ses, "")) != ses {
		t.Fatal("session not found by its cookie")
	}
	for _, c := range []struct {
		name string
		r    *http.Request
		want bool
	}{
		{"read", withCookie("GET", ses, ""), true},
		{"change without token", withCookie("POST", ses, ""), false},
		{"change with a wrong token", withCookie("POST", ses, "x"+ses.csrf), false},
		{"change with the token", withCookie("POST", ses, ses.csrf), true},
		{"delete with the token", withCookie("DELETE", ses, ses.csrf), true},
		{"no cookie", withCookie("GET", nil, ""), false},
		{"unknown cookie", withCookie("GET", &session{id: "nope"}, ""), false},
	} {
		if got := s.authenticates(c.r); got != c.want {
			t.Errorf("%s: authenticates %v, want %v", c.name, got, c.want)
		}
	}

	// A temporary key's session ends with the key.
	tmp, e, _ := s.login("ASIA", "s", "tok")
	if e != nil || !tmp.expires.Equal(clock.t.Add(10*time.Minute)) {
		t.Fatalf("temporary login: %+v %v", tmp, e)
	}
	clock.t = clock.t.Add(11 * time.Minute)
	if s.current(withCookie("GET", tmp, "")) != nil {
		t.Error("a temporary key's session outlived the key")
	}
	if s.current(withCookie("GET", ses, "")) == nil {
		t.Error("the session ended early")
	}
	clock.t = clock.t.Add(time.Hour)
	if s.current(withCookie("GET", ses, "")) != nil {
		t.Error("the session outlived its TTL")
	}

	// Logout ends a session at once.
	ses2, _, _ := s.login("AKID", "secret", "")
	s.logout(ses2)
	if s.current(withCookie("GET", ses2, "")) != nil {
		t.Error("a logged-out session still counts")
	}
}

func TestLoginThrottle(t *testing.T) {
	clock := &fakeClock{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := newTestSessions(t, clock, nil)
	for i := range maxLoginFailures {
		if _, e, ok := s.login("AKID", "guess", ""); !ok || e == nil {
			t.Fatalf("failure %d: %v %v", i, e, ok)
		}
	}
	if _, _, ok := s.login("AKID", "secret", ""); ok {
		t.Fatal("logins go on after too many failures")
	}
	clock.t = clock.t.Add(loginWindow)
	if ses, e, ok := s.login("AKID", "secret", ""); !ok || e != nil || ses == nil {
		t.Fatalf("login after the window: %v %v", e, ok)
	}
}

func TestOpenConsoleCSRF(t *testing.T) {
	s, err := newSessions(nil, time.Hour, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if s.openCSRF == "" || s.current(withCookie("GET", nil, "")) != nil {
		t.Fatal("without credentials there are no sessions, only the process's token")
	}
	if s.csrfOK(withCookie("POST", nil, "nope"), nil) || !s.csrfOK(withCookie("POST", nil, s.openCSRF), nil) {
		t.Error("the process's CSRF token is not checked")
	}
}
