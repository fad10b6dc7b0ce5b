package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a server the bench started as a child process: hydrant serve
// or the baseline. Client and server then compete for the same cores as
// separate processes, which is the realistic setup.
type Process struct {
	// URL is the server's base URL.
	URL  string
	cmd  *exec.Cmd
	out  *tail
	done chan struct{}
	err  error // from Wait, valid once done is closed
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// StartProcess runs argv (a server that will listen on addr) and waits
// until GET /_hydrant/health answers 200.
func StartProcess(ctx context.Context, argv []string, addr string) (*Process, error) {
	p := &Process{URL: "http://" + addr, out: &tail{max: 64 << 10}, done: make(chan struct{})}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/_hydrant/health")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited during startup (%v): %s", argv[0], p.err, p.out.String())
		case <-ctx.Done():
			_ = p.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = p.Stop()
			return nil, fmt.Errorf("%s not healthy after 30s: %s", argv[0], p.out.String())
		}
	}
}

// Stop sends SIGTERM and waits for the process to exit (killing it after
// 20s). A clean exit returns nil.
func (p *Process) Stop() error {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
			return errors.New("server did not exit within 20s of SIGTERM; killed")
		}
	}
	if p.err != nil {
		return fmt.Errorf("server exited: %w: %s", p.err, p.out.String())
	}
	return nil
}

// Output returns the last output of the process.
func (p *Process) Output() string { return p.out.String() }

// tail keeps the last max bytes written to it.
type tail struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
