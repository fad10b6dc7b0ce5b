// Package s3test runs a real S3-protocol server for tests: the fakes3
// command (gofakes3 with a bolt database), built once per test binary and
// started as its own process, so that a test can take it down and bring it
// back as a real outage.
package s3test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Credentials are what tests sign with; fakes3 accepts any.
const (
	AccessKeyID     = "hydrant-test"
	SecretAccessKey = "hydrant-test-secret"
	Region          = "us-east-1"
)

var build struct {
	once sync.Once
	path string
	err  error
}

// binary builds fakes3 the first time it is called and returns its path.
// The binary goes next to the test binary, in the work directory `go test`
// removes afterwards, or into a fresh temporary directory when that one is
// not writable.
func binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		dir := ""
		if exe, err := os.Executable(); err == nil {
			dir = filepath.Dir(exe)
		}
		f, err := os.CreateTemp(dir, "fakes3-")
		if err != nil {
			if dir, err = os.MkdirTemp("", "hydrant-fakes3-"); err != nil {
				build.err = err
				return
			}
			f, err = os.CreateTemp(dir, "fakes3-")
			if err != nil {
				build.err = err
				return
			}
		}
		f.Close()
		build.path = f.Name()
		cmd := exec.Command("go", "build", "-o", build.path, "github.com/hydrant-io/hydrant/internal/objstore/s3test/fakes3")
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build fakes3: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// server is a fakes3 process that can be stopped and started again.
type server struct {
	t        testing.TB
	bin      string
	db       string
	addr     string
	endpoint string

	mu   sync.Mutex // guards cmd and done
	cmd  *exec.Cmd
	done chan struct{}
	logs lockedBuffer
}

// Start builds and starts fakes3 on a free loopback port with a fresh bolt
// database, and returns its endpoint URL. stop SIGKILLs it (an outage: the
// port refuses connections); restart starts it again on the same address
// and database, so objects stored before the outage are still there. The
// server is stopped when the test ends, and its log printed if it failed.
func Start(t testing.TB) (endpoint string, stop func(), restart func()) {
	t.Helper()
	s := &server{t: t, bin: binary(t), db: filepath.Join(t.TempDir(), "fakes3.db")}
	s.start("127.0.0.1:0")
	t.Cleanup(func() {
		s.stop()
		if t.Failed() {
			t.Logf("fakes3 log:\n%s", s.logs.String())
		}
	})
	return s.endpoint, s.stop, func() { s.t.Helper(); s.start(s.addr) }
}

func (s *server) start(addr string) {
	s.t.Helper()
	// The port was just released by the killed process; retry briefly in
	// case it is not free yet.
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmd, got, err := s.run(addr)
		if err == nil {
			s.mu.Lock()
			s.addr, s.endpoint = got, "http://"+got
			s.cmd, s.done = cmd, make(chan struct{})
			go func(done chan struct{}) { _ = cmd.Wait(); close(done) }(s.done)
			s.mu.Unlock()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("fakes3 did not start on %s: %v\n%s", addr, err, s.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run starts one fakes3 process and waits for its address line.
func (s *server) run(addr string) (*exec.Cmd, string, error) {
	cmd := exec.Command(s.bin, "-addr", addr, "-db", s.db)
	cmd.Stderr = &s.logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	got, ok := strings.CutPrefix(strings.TrimSpace(line), "fakes3 listening on http://")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, "", fmt.Errorf("no address line (%q, %v)", line, err)
	}
	return cmd, got, nil
}

// stop SIGKILLs the process and waits for it; stopping a stopped server
// does nothing.
func (s *server) stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// lockedBuffer is a bytes.Buffer safe for a writing process and a
// reading test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Client returns an SDK client for endpoint (path style, the test
// credentials).
func Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
}

// CreateBucket creates bucket on the server at endpoint.
func CreateBucket(t testing.TB, endpoint, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Client(endpoint).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
}
