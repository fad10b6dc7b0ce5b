package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// startLimited serves one awsJson operation with small limits.
func startLimited(t *testing.T, l Limits) (*Server, string) {
	t.Helper()
	s := New(nil)
	s.SetLimits(l)
	s.AddService(&awsproto.Service{TargetPrefix: "T", MaxBody: 16 << 20,
		Ops: map[string]awsproto.JSONHandler{"Op": func(ctx context.Context, body []byte) (any, error) { return nil, nil }}})
	s.SetReady(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = s.Serve(ctx, ln, time.Second); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return s, ln.Addr().String()
}

// TestSlowBodiesDoNotBlockOthers is the slow-body attack of issue 8: many
// connections announce a 512 KiB body against a 1 MiB budget and trickle
// it a byte at a time. Each is charged only for what it has sent (one
// first chunk), so requests that send their bodies at once keep being
// served meanwhile; the slow ones are cut off by the read timeout, every
// connection ends, and the budget is whole again afterwards.
func TestSlowBodiesDoNotBlockOthers(t *testing.T) {
	s, addr := startLimited(t, Limits{MaxInflightBytes: 1 << 20, InflightWait: 100 * time.Millisecond,
		ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 700 * time.Millisecond})
	const conns = 40
	type result struct {
		status  int
		elapsed time.Duration
	}
	results := make(chan result, conns)
	var wg sync.WaitGroup
	started := make(chan struct{}, conns)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(10 * time.Second))
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: T.Op\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n\r\n{", addr, 512<<10)
			started <- struct{}{}
			stop := make(chan struct{})
			go func() { // trickle a byte every 50ms until answered
				for {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
						if _, err := c.Write([]byte(" ")); err != nil {
							return
						}
					}
				}
			}()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			close(stop)
			st := 0 // connection closed without an answer (read timeout)
			if err == nil {
				st = resp.StatusCode
				resp.Body.Close()
			}
			results <- result{st, time.Since(start)}
		}()
	}
	for range conns {
		<-started
	}
	// While the slow bodies are open, whole 256 KiB requests are served.
	for i := range 5 {
		body := strings.NewReader("{" + strings.Repeat(" ", 256<<10) + "}")
		req, _ := http.NewRequest("POST", "http://"+addr+"/", body)
		req.Header.Set("X-Amz-Target", "T.Op")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("fast request %d: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("fast request %d during the slow-body attack: %d", i, resp.StatusCode)
		}
	}
	wg.Wait()
	close(results)
	for r := range results {
		switch r.status {
		case 0, http.StatusBadRequest, http.StatusServiceUnavailable:
		default:
			t.Errorf("unexpected status %d", r.status)
		}
		if r.elapsed > 5*time.Second {
			t.Errorf("a connection lasted %s", r.elapsed)
		}
	}
	if peak(s) > 1<<20 {
		t.Errorf("budget peak %d over the budget", peak(s))
	}
	waitZero(t, s)
}

// TestSlowHeadersAreCutOff: a client that never finishes its headers is
// disconnected by ReadHeaderTimeout.
func TestSlowHeadersAreCutOff(t *testing.T) {
	_, addr := startLimited(t, Limits{ReadHeaderTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	_, _ = c.Write([]byte("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "))
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			break
		}
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("slow headers held the connection for %s", d)
	}
}

func peak(s *Server) int64 { return s.Budget().Peak() }

func waitZero(t *testing.T, s *Server) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Budget().InUse() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("budget still holds %d bytes", s.Budget().InUse())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
