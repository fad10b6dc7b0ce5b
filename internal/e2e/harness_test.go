// Package e2e runs the real hydrant binary over a socket and drives it with
// the clients users have: the aws CLI, boto3 and aws-sdk-go-v2.
package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the hydrant binary built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	// These tests mostly wait: for the processes they start, for delivery,
	// for the aws CLI's interpreter. Unless -parallel says otherwise, run
	// more of them at once than there are CPUs.
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "4")
	}
	bypassShims()
	dir, err := os.MkdirTemp("", "hydrant-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hydrant")
	build := exec.Command("go", "build", "-o", binary, "github.com/hydrant-io/hydrant/cmd/hydrant")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hydrant:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// bypassShims puts the directory of the Python that pyenv's shims resolve
// to first on PATH, when python3 is one. A shim is a bash script running
// pyenv on every call, about a third of the CPU of an aws CLI v1 call, and
// these tests make hundreds of them (the CLI, boto3 scripts, hosted
// python functions); the interpreter and the CLI are the same ones.
func bypassShims() {
	p, err := exec.LookPath("python3")
	if err != nil || !strings.Contains(p, "/shims/") {
		return
	}
	out, err := exec.Command("pyenv", "which", "python3").Output()
	if err != nil {
		return
	}
	dir := filepath.Dir(strings.TrimSpace(string(out)))
	_ = os.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// server is a hydrant process started by a test.
type server struct {
	t       testing.TB
	DataDir string
	Addr    string
	URL     string
	args    []string
	cmd     *exec.Cmd
	logs    *syncBuffer
	done    chan struct{}
	// HTTP is the client of the start-up health check (one that trusts a
	// test certificate, for TLS); nil means http.DefaultClient.
	HTTP *http.Client
	// Env is added to the process's environment (the test's own is
	// inherited), so tests need not change the environment of all.
	Env []string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer starts hydrant on a free loopback port with a fresh data dir
// and waits until /_hydrant/health says it is ready. The process is stopped
// when the test ends; its log is printed if the test failed.
func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	return startServerEnv(t, nil, extra...)
}

// startServerEnv is startServer with env added to the process's
// environment.
func startServerEnv(t *testing.T, env []string, extra ...string) *server {
	t.Helper()
	s := &server{t: t, DataDir: t.TempDir(), args: extra, Env: env}
	s.start()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("hydrant log:\n%s", s.logs.String())
		}
	})
	return s
}

func freePort(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *server) start() {
	s.t.Helper()
	s.launch()
	s.waitReady(30 * time.Second)
}

// launch starts the process without waiting for it to be ready (the nodes
// of a cluster wait for each other).
func (s *server) launch() {
	t := s.t
	t.Helper()
	if s.Addr == "" {
		s.Addr = freePort(t)
		s.URL = "http://" + s.Addr
	}
	args := append([]string{"serve", "--listen", s.Addr, "--data-dir", s.DataDir, "--log-level", "debug"}, s.args...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = append(os.Environ(), s.Env...)
	if s.logs == nil {
		s.logs = &syncBuffer{}
	}
	s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
}

// waitReady waits until /_hydrant/health says the process is ready.
func (s *server) waitReady(timeout time.Duration) {
	t := s.t
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		hc := s.HTTP
		if hc == nil {
			hc = http.DefaultClient
		}
		resp, err := hc.Get(s.URL + "/_hydrant/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-s.done:
			t.Fatalf("hydrant exited during startup:\n%s", s.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("hydrant not healthy after %s:\n%s", timeout, s.logs.String())
}

// Stop sends SIGTERM and waits for a clean exit.
func (s *server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.t.Errorf("hydrant did not exit within 20s of SIGTERM")
	}
}

// Kill SIGKILLs the process, as a crash would.
func (s *server) Kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// Restart starts the process again on the same address and data dir.
func (s *server) Restart() { s.start() }

// bucketFiles returns the objects under a local bucket, keyed by key.
func (s *server) bucketFiles(bucket string) map[string][]byte {
	s.t.Helper()
	root := filepath.Join(s.DataDir, "buckets", bucket)
	out := map[string][]byte{}
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			s.t.Fatal(err)
		}
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = b
		return nil
	})
	return out
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// awsEnv is the environment for AWS tools pointed at hydrant.
func (s *server) awsEnv() []string {
	env := []string{}
	for _, e := range os.Environ() {
		if strings.HasPrefix(e, "AWS_") {
			continue
		}
		env = append(env, e)
	}
	return append(env,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1",
		"AWS_ENDPOINT_URL="+s.URL, "AWS_PAGER=", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	)
}

// cli runs an aws CLI (path aws for v1 from PATH, or /usr/bin/aws for v2)
// against the server and returns stdout, stderr and the exit code.
func (s *server) cli(ctx context.Context, aws string, args ...string) (string, string, int) {
	s.t.Helper()
	full := append([]string{"--endpoint-url", s.URL, "--output", "json"}, args...)
	cmd := exec.CommandContext(ctx, aws, full...)
	cmd.Env = s.awsEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		// Not s.t.Fatalf: the caller may be a subtest of s.t, on another
		// goroutine. It fails on the exit code with its own t.
		code = -1
		fmt.Fprintf(&errb, "\nrun %s: %v", aws, err)
	}
	if ctx.Err() != nil {
		fmt.Fprintf(&errb, "\nrun %s: %v", aws, ctx.Err())
	}
	return out.String(), errb.String(), code
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// requireTool skips the test when a client tool is not installed; .ci/run
// installs them, so in CI these tests always run.
func requireTool(t *testing.T, name string) string {
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

// checkExactlyOnce waits until every acknowledged record id appears in the
// delivered objects (one newline-terminated id per record), then fails on
// any id delivered twice or never sent. objects lists what is delivered; an
// error means "not readable yet, try again". It returns the count of each
// delivered id.
func checkExactlyOnce(t *testing.T, timeout time.Duration, objects func() (map[string][]byte, error), acked, sent map[string]bool) map[string]int {
	t.Helper()
	var delivered map[string]int
	waitFor(t, timeout, "every acknowledged record delivered", func() bool {
		objs, err := objects()
		if err != nil {
			return false
		}
		delivered = map[string]int{}
		for _, b := range objs {
			for line := range strings.SplitSeq(strings.TrimSuffix(string(b), "\n"), "\n") {
				delivered[line]++
			}
		}
		for id := range acked {
			if delivered[id] == 0 {
				return false
			}
		}
		return true
	})
	for id, n := range delivered {
		if !sent[id] {
			t.Fatalf("delivered a record nobody sent: %q", id)
		}
		if n != 1 {
			t.Fatalf("record %q delivered %d times", id, n)
		}
	}
	return delivered
}
