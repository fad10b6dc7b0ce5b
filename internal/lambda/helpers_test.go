package lambda

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestMain doubles as a fake runtime: a function whose bootstrap runs this
// test binary with HYDRANT_FAKE_RUNTIME set speaks the Runtime API from Go,
// and does what each event's "op" asks (echo, sleep, print, crash, error,
// big, meet), so tests drive the protocol and the failure cases exactly.
func TestMain(m *testing.M) {
	if mode := os.Getenv("HYDRANT_FAKE_RUNTIME"); mode != "" {
		fakeRuntime(mode)
		return
	}
	os.Exit(m.Run())
}

// fakeEvent is what tests send to the fake runtime.
type fakeEvent struct {
	Op    string   `json:"op"`
	MS    int      `json:"ms,omitempty"`
	Lines []string `json:"lines,omitempty"`
	Raw   string   `json:"raw,omitempty"`
	Size  int      `json:"size,omitempty"`
	URL   string   `json:"url,omitempty"`
}

// fakeReply is the fake runtime's answer to echo-like ops.
type fakeReply struct {
	PID     int               `json:"pid"`
	Event   json.RawMessage   `json:"event"`
	Headers map[string]string `json:"headers"`
	Env     map[string]string `json:"env"`
}

func fakeRuntime(mode string) {
	api := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	post := func(path string, body []byte, hdr map[string]string) {
		req, _ := http.NewRequest(http.MethodPost, api+path, bytes.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}
	if mode == "initerror" {
		fmt.Println("initializing and failing")
		post("/init/error", []byte(`{"errorMessage":"cannot start","errorType":"Runtime.FakeInitError"}`), map[string]string{"Lambda-Runtime-Function-Error-Type": "Runtime.FakeInitError"})
		os.Exit(1)
	}
	fmt.Println("fake runtime initialized")
	for {
		resp, err := http.Get(api + "/invocation/next")
		if err != nil {
			os.Exit(2)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var ev fakeEvent
		_ = json.Unmarshal(body, &ev)
		switch ev.Op {
		case "sleep":
			time.Sleep(time.Duration(ev.MS) * time.Millisecond)
		case "print":
			for _, l := range ev.Lines {
				fmt.Println(l)
			}
			fmt.Print(ev.Raw)
		case "crash":
			fmt.Println("about to crash")
			os.Exit(3)
		case "error":
			post("/invocation/"+id+"/error", []byte(`{"errorMessage":"boom","errorType":"FakeError"}`), map[string]string{"Lambda-Runtime-Function-Error-Type": "FakeError"})
			continue
		case "big":
			post("/invocation/"+id+"/response", bytes.Repeat([]byte("x"), ev.Size), nil)
			continue
		case "meet":
			r, err := http.Get(ev.URL)
			if err == nil {
				r.Body.Close()
			}
		}
		hdrs := map[string]string{}
		for _, h := range []string{"Lambda-Runtime-Aws-Request-Id", "Lambda-Runtime-Deadline-Ms", "Lambda-Runtime-Invoked-Function-Arn", "Lambda-Runtime-Trace-Id"} {
			hdrs[h] = resp.Header.Get(h)
		}
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "LAMBDA_") || k == "_HANDLER" || k == "TZ" || k == "TMPDIR" || k == "MY_VAR" {
				env[k] = v
			}
		}
		out, _ := json.Marshal(fakeReply{PID: os.Getpid(), Event: body, Headers: hdrs, Env: env})
		post("/invocation/"+id+"/response", out, nil)
	}
}

// zipOf builds a deployment package; names ending in "*" are executable
// (the star is dropped).
func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for name, body := range files {
		mode := fs.FileMode(0o644)
		if strings.HasSuffix(name, "*") {
			name, mode = strings.TrimSuffix(name, "*"), 0o755
		}
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fakeZip is a provided.al2023 package whose bootstrap runs the fake
// runtime.
func fakeZip(t testing.TB) []byte {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return zipOf(t, map[string]string{"bootstrap*": "#!/bin/sh\nexec '" + exe + "'\n"})
}

// testLogger writes hydrant's log to the test log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// openService opens a service in a fresh directory, closed at cleanup.
func openService(t testing.TB, opts Options) *Service {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// mustCreate creates a function directly, as CreateFunction would.
func mustCreate(t testing.TB, s *Service, name, runtime, handler string, zipFile []byte, timeout int, env map[string]string) *FunctionConfiguration {
	t.Helper()
	in := &createRequest{FunctionName: name, Runtime: runtime, Handler: handler, Role: "arn:aws:iam::000000000000:role/r", Code: codeInput{ZipFile: zipFile}, Timeout: &timeout}
	if env != nil {
		in.Environment = &environmentInput{Variables: env}
	}
	cfg, err := s.create(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// createFake creates a fake-runtime function.
func createFake(t testing.TB, s *Service, name string, timeout int, env map[string]string) {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if env["HYDRANT_FAKE_RUNTIME"] == "" {
		env["HYDRANT_FAKE_RUNTIME"] = "serve"
	}
	mustCreate(t, s, name, "provided.al2023", "bootstrap", fakeZip(t), timeout, env)
}

// invokeJSON invokes with v as the event.
func invokeJSON(t testing.TB, s *Service, name string, v any) ([]byte, string, error) {
	t.Helper()
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return s.Invoke(ctx, name, b)
}

// requireTool skips a test when an interpreter is missing, except in CI.
func requireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("HYDRANT_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is required but not installed", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}
