package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/chromedp/chromedp"
)

// TestConsoleLogin is the console with --credentials in a browser: the
// pages send to the login page, a wrong secret is refused there, the right
// one opens the overview with an HttpOnly session, and logging out ends it.
func TestConsoleLogin(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--credentials", writeCredentials(t))
	createStream(t, authClient(s, authKeyID, authSecret, nil), "clicks", &types.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::console-login")})
	b := newBrowser(t)

	b.open(s.ui(""))
	b.wait("the login page", `location.pathname === '/_hydrant/ui/login' && !!document.getElementById('akid')`)
	if next := eval[string](b, `new URLSearchParams(location.search).get('next')`); next != "/_hydrant/ui/" {
		t.Errorf("login's next is %q", next)
	}
	b.accessible("login")
	b.shot("login")
	b.checkErrors("login page")

	// Refused: the page says why and stays.
	b.do("log in with a wrong secret",
		chromedp.SendKeys(chromedp.CSS("#akid"), authKeyID),
		chromedp.SendKeys(chromedp.CSS("#secret"), "not-the-secret"),
		chromedp.Click(chromedp.CSS("#submit")))
	b.wait("the refusal", `!document.getElementById('error').hidden`)
	if got := eval[string](b, `document.getElementById('error').textContent`); !strings.Contains(got, "security token included in the request is invalid") {
		t.Errorf("refusal reads %q", got)
	}
	if got := eval[string](b, `location.pathname`); got != "/_hydrant/ui/login" {
		t.Errorf("after a refused login the page is %s", got)
	}
	// The refused POST is logged by the browser as a failed load.
	b.checkErrors("refused login", "401")

	// Accepted: the overview, with the stream.
	eval[bool](b, `(document.getElementById('secret').value = '') === ''`)
	b.do("log in", chromedp.SendKeys(chromedp.CSS("#secret"), authSecret), chromedp.Click(chromedp.CSS("#submit")))
	b.wait("the overview", `location.pathname === '/_hydrant/ui/' && document.querySelectorAll('#streams tbody tr[data-stream]').length === 1`)
	if c := eval[string](b, `document.cookie`); c != "" {
		t.Errorf("the session cookie is readable by scripts: %q", c)
	}
	if u := eval[string](b, `document.getElementById('user').textContent`); u != "default" {
		t.Errorf("user shown as %q", u)
	}
	b.checkErrors("overview after login")

	// Logged out: back to the login page, and the API refuses the old page.
	b.click("#logout")
	b.wait("the login page", `location.pathname === '/_hydrant/ui/login'`)
	status := eval[int](b, `fetch('/_hydrant/ui/api/summary').then((r) => r.status)`)
	if status != http.StatusForbidden {
		t.Errorf("API after logout: %d", status)
	}
	b.checkErrors("logout", "403")
}

// TestConsoleSession checks the session and CSRF rules over HTTP: the
// cookie's attributes, that nothing with record data is served without a
// session or signature, that a request changing something needs the CSRF
// token on the console's API and on hydrant's other endpoints alike, and
// that a signed request needs neither.
func TestConsoleSession(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--credentials", writeCredentials(t))
	createStream(t, authClient(s, authKeyID, authSecret, nil), "clicks", &types.ExtendedS3DestinationConfiguration{
		BucketARN: aws.String("arn:aws:s3:::console-session")})
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	do := func(method, path, csrf string, body any, hdr ...string) (int, string) {
		t.Helper()
		var rd *bytes.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		} else {
			rd = bytes.NewReader(nil)
		}
		req, _ := http.NewRequest(method, s.URL+path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, string(readAll(t, resp.Body))
	}

	// Without a session: the shell (no data) yes, the API no.
	if code, _ := do("GET", "/_hydrant/ui/streams/clicks", "", nil); code != http.StatusOK {
		t.Errorf("shell: %d", code)
	}
	for _, p := range []string{"/_hydrant/ui/api/summary", "/_hydrant/ui/api/streams/clicks", "/_hydrant/ui/api/streams/clicks/objects", "/_hydrant/streams"} {
		if code, body := do("GET", p, "", nil); code != http.StatusForbidden {
			t.Errorf("GET %s without a session: %d %s", p, code, body)
		}
	}
	if code, body := do("GET", "/_hydrant/ui/api/session", "", nil); code != http.StatusOK || !strings.Contains(body, `"loginRequired":true`) || strings.Contains(body, "csrf") {
		t.Errorf("session before login: %d %s", code, body)
	}

	// Logins: a page of another site cannot log in; a wrong key is refused.
	login := map[string]string{"accessKeyId": ciKeyID, "secretAccessKey": ciSecret}
	if code, _ := do("POST", "/_hydrant/ui/api/login", "", login, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example"); code != http.StatusForbidden {
		t.Errorf("cross-site login: %d", code)
	}
	if code, body := do("POST", "/_hydrant/ui/api/login", "", map[string]string{"accessKeyId": ciKeyID, "secretAccessKey": authSecret}); code != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d %s", code, body)
	}
	req, _ := http.NewRequest("POST", s.URL+"/_hydrant/ui/api/login", strings.NewReader(`{"accessKeyId":"`+ciKeyID+`","secretAccessKey":"`+ciSecret+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ck := resp.Header.Get("Set-Cookie")
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "hydrant_session" {
			session = c
		}
	}
	if session == nil {
		t.Fatalf("no session cookie: %q", ck)
	}
	for _, attr := range []string{"hydrant_session=", "Path=/_hydrant/", "HttpOnly", "SameSite=Strict", "Max-Age=43200"} {
		if !strings.Contains(ck, attr) {
			t.Errorf("session cookie %q lacks %s", ck, attr)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Errorf("cookie over plain HTTP is Secure: %q", ck)
	}
	_, body := do("GET", "/_hydrant/ui/api/session", "", nil)
	var ses struct {
		Authenticated bool
		CSRF          string
		User          string
	}
	if err := json.Unmarshal([]byte(body), &ses); err != nil || !ses.Authenticated || len(ses.CSRF) < 32 || ses.User != "ci" {
		t.Fatalf("session after login: %s", body)
	}

	// Reading needs the session only.
	for _, p := range []string{"/_hydrant/ui/api/summary", "/_hydrant/ui/api/streams/clicks", "/_hydrant/streams"} {
		if code, body := do("GET", p, "", nil); code != http.StatusOK {
			t.Errorf("GET %s with a session: %d %s", p, code, body)
		}
	}
	// Changing something needs the CSRF token too, on every endpoint.
	for _, p := range []string{"/_hydrant/ui/api/streams/clicks/flush", "/_hydrant/streams/clicks/flush"} {
		if code, body := do("POST", p, "", nil); code != http.StatusForbidden {
			t.Errorf("POST %s without the CSRF token: %d %s", p, code, body)
		}
		if code, body := do("POST", p, "wrong-token", nil); code != http.StatusForbidden {
			t.Errorf("POST %s with a wrong CSRF token: %d %s", p, code, body)
		}
		if code, body := do("POST", p+"?wait=10s", ses.CSRF, nil); code != http.StatusOK {
			t.Errorf("POST %s with the CSRF token: %d %s", p, code, body)
		}
	}
	dash := map[string]any{"name": "d", "refreshSeconds": 0, "charts": []any{}}
	if code, _ := do("PUT", "/_hydrant/ui/api/dashboards/d", "", dash); code != http.StatusForbidden {
		t.Errorf("dashboard save without the CSRF token: %d", code)
	}
	if code, body := do("PUT", "/_hydrant/ui/api/dashboards/d", ses.CSRF, dash); code != http.StatusOK {
		t.Errorf("dashboard save with the CSRF token: %d %s", code, body)
	}

	// A signed request needs no session and no token.
	sreq := signedAdminRequest(t, "POST", s.URL+"/_hydrant/ui/api/streams/clicks/flush?wait=10s", authKeyID, authSecret)
	sresp, err := http.DefaultClient.Do(sreq)
	if err != nil {
		t.Fatal(err)
	}
	sresp.Body.Close()
	if sresp.StatusCode != http.StatusOK {
		t.Errorf("signed flush: %d", sresp.StatusCode)
	}

	// Logged out, the old cookie opens nothing.
	if code, _ := do("POST", "/_hydrant/ui/api/logout", ses.CSRF, nil); code != http.StatusOK {
		t.Errorf("logout: %d", code)
	}
	oreq, _ := http.NewRequest("GET", s.URL+"/_hydrant/ui/api/summary", nil)
	oreq.AddCookie(&http.Cookie{Name: session.Name, Value: session.Value})
	oresp, err := http.DefaultClient.Do(oreq)
	if err != nil {
		t.Fatal(err)
	}
	oresp.Body.Close()
	if oresp.StatusCode != http.StatusForbidden {
		t.Errorf("summary with the cookie of a logged-out session: %d", oresp.StatusCode)
	}
}

// TestConsoleSessionTLS checks that under TLS the session cookie is
// Secure, and that the startup log gives the console's https address.
func TestConsoleSessionTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	addr := freePort(t)
	s := &server{t: t, DataDir: t.TempDir(), Addr: addr, URL: "https://" + addr, HTTP: hc,
		args: []string{"--credentials", writeCredentials(t), "--tls-cert", certFile, "--tls-key", keyFile}}
	s.start()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("hydrant log:\n%s", s.logs.String())
		}
	})
	if want := "console: open https://" + addr + "/_hydrant/ui/"; !strings.Contains(s.logs.String(), want) {
		t.Errorf("startup log lacks %q", want)
	}
	resp, err := hc.Post(s.URL+"/_hydrant/ui/api/login", "application/json",
		strings.NewReader(`{"accessKeyId":"`+authKeyID+`","secretAccessKey":"`+authSecret+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ck := resp.Header.Get("Set-Cookie"); resp.StatusCode != http.StatusOK || !strings.Contains(ck, "; Secure") || !strings.Contains(ck, "HttpOnly") {
		t.Errorf("login over TLS: %d, cookie %q", resp.StatusCode, ck)
	}
}
