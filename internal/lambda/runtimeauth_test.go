package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestRuntimeAPIRefusesOtherProcesses plays another local process that
// found an instance's Runtime API port: while an invocation is in flight it
// tries to take the next event and to post a forged response or error for
// the invocation, without the instance's secret and with a wrong one. Every
// attempt is refused with 403, and the invoker gets the function's own
// answer, for each runtime the tests run: a Go client of the protocol,
// aws-lambda-go, and the python and node bootstraps.
func TestRuntimeAPIRefusesOtherProcesses(t *testing.T) {
	t.Parallel()
	type fixture struct {
		runtime, handler string
		tool             string // an interpreter the runtime needs
		env              map[string]string
		zip              func(t *testing.T) []byte
		event            func(url string) []byte
		real             func(res []byte) bool // the function's own answer
	}
	fixtures := map[string]fixture{
		"go-client": {
			runtime: "provided.al2023", handler: "bootstrap", zip: func(t *testing.T) []byte { return fakeZip(t) },
			env:   map[string]string{"HYDRANT_FAKE_RUNTIME": "serve"},
			event: func(url string) []byte { b, _ := json.Marshal(fakeEvent{Op: "meet", URL: url}); return b },
			real:  func(res []byte) bool { return strings.Contains(string(res), `"event":{"op":"meet"`) },
		},
		"aws-lambda-go": {
			runtime: "provided.al2023", handler: "bootstrap", zip: func(t *testing.T) []byte { return goFunctionZip(t) },
			event: func(url string) []byte {
				return []byte(`{"invocationId":"i","records":[{"recordId":"r1","data":"` + base64.StdEncoding.EncodeToString([]byte("wait "+url)) + `"}]}`)
			},
			real: func(res []byte) bool {
				return strings.Contains(string(res), `"recordId":"r1"`) && strings.Contains(string(res), `"result":"Ok"`)
			},
		},
		"python": {
			runtime: "python3.12", handler: "app.handler", tool: "python3",
			zip: func(t *testing.T) []byte {
				return zipOf(t, map[string]string{"app.py": "import urllib.request\n\ndef handler(event, context):\n    urllib.request.urlopen(event['url']).read()\n    return {'real': True}\n"})
			},
			event: func(url string) []byte { return []byte(`{"url":"` + url + `"}`) },
			real:  func(res []byte) bool { return string(res) == `{"real": true}` },
		},
		"node": {
			runtime: "nodejs20.x", handler: "index.handler", tool: "node",
			zip: func(t *testing.T) []byte {
				return zipOf(t, map[string]string{"index.mjs": "import http from 'node:http';\nexport const handler = async (event) => {\n  await new Promise((resolve, reject) => http.get(event.url, (res) => { res.resume(); res.on('end', resolve); }).on('error', reject));\n  return { real: true };\n};\n"})
			},
			event: func(url string) []byte { return []byte(`{"url":"` + url + `"}`) },
			real:  func(res []byte) bool { return string(res) == `{"real":true}` },
		},
	}
	for name, fx := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if fx.tool != "" {
				requireTool(t, fx.tool)
			}
			s := openService(t, Options{})
			mustCreate(t, s, "fn", fx.runtime, fx.handler, fx.zip(t), 30, fx.env)

			// The handler calls this server, which holds it until the
			// attacks are over, so the invocation stays in flight.
			held, release := make(chan struct{}, 1), make(chan struct{})
			hold := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				held <- struct{}{}
				<-release
			}))
			defer hold.Close()
			defer func() {
				select {
				case <-release:
				default:
					close(release)
				}
			}()
			type answer struct {
				res   []byte
				fnErr string
				err   error
			}
			done := make(chan answer, 1)
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				res, fnErr, err := s.Invoke(ctx, "fn", fx.event(hold.URL))
				done <- answer{res, fnErr, err}
			}()
			select {
			case <-held:
			case a := <-done:
				t.Fatalf("the invocation ended before the handler was held: %v %q %s", a.err, a.fnErr, a.res)
			case <-time.After(60 * time.Second):
				t.Fatal("the handler never called the holding server")
			}

			inst := busyInstance(t, s, "fn")
			inst.mu.Lock()
			id := inst.current.id
			inst.mu.Unlock()
			wrong := strings.Repeat("A", len(inst.token))
			client := &http.Client{Timeout: 5 * time.Second}
			for _, prefix := range []string{"", "/" + wrong, "/" + inst.token[:len(inst.token)-1], "/" + inst.token + "x"} {
				for _, a := range []struct{ method, path, body string }{
					{http.MethodGet, "/2018-06-01/runtime/invocation/next", ""},
					{http.MethodPost, "/2018-06-01/runtime/invocation/" + id + "/response", `{"forged":true}`},
					{http.MethodPost, "/2018-06-01/runtime/invocation/" + id + "/error", `{"errorMessage":"forged","errorType":"Forged"}`},
					{http.MethodPost, "/2018-06-01/runtime/init/error", `{"errorMessage":"forged","errorType":"Forged"}`},
				} {
					req, _ := http.NewRequest(a.method, "http://"+inst.addr+prefix+a.path, strings.NewReader(a.body))
					resp, err := client.Do(req)
					if err != nil {
						t.Errorf("%s %s%s: %v (want 403 at once)", a.method, redact(prefix), a.path, err)
						continue
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusForbidden || strings.Contains(string(b), inst.token) {
						t.Errorf("%s %s%s: %d %s, want 403", a.method, redact(prefix), a.path, resp.StatusCode, b)
					}
				}
			}

			close(release)
			a := <-done
			if a.err != nil || a.fnErr != "" || !fx.real(a.res) {
				t.Errorf("invoke got %v %q %s, want the function's own answer", a.err, a.fnErr, a.res)
			}
			// The instance is intact: a second invocation is served too.
			if res, fnErr, err := s.Invoke(context.Background(), "fn", fx.event(hold.URL)); err != nil || fnErr != "" || !fx.real(res) {
				t.Errorf("second invoke: %v %q %s", err, fnErr, res)
			}
		})
	}
}

// busyInstance is the function's one instance that is serving an
// invocation.
func busyInstance(t *testing.T, s *Service, name string) *instance {
	t.Helper()
	fn, _ := s.lookup(name)
	if fn == nil {
		t.Fatalf("no function %s", name)
	}
	fn.pool.mu.Lock()
	defer fn.pool.mu.Unlock()
	for inst := range fn.pool.all {
		inst.mu.Lock()
		busy := inst.current != nil
		inst.mu.Unlock()
		if busy {
			return inst
		}
	}
	t.Fatalf("%s has no busy instance", name)
	return nil
}

// redact names a path prefix in a failure message without the secret.
func redact(prefix string) string {
	if prefix == "" {
		return ""
	}
	return fmt.Sprintf("/<%d-char token>", len(prefix)-1)
}
