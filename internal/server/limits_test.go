package server

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
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
	s.AddJSONService(&awsproto.JSONService{TargetPrefix: "T", MaxBody: 16 << 20,
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

// TestSlowRequestsCannotExhaustMemory opens many slowloris connections that
// each announce a 512 KiB body and trickle it. Only what fits the 1 MiB
// budget is ever admitted; the rest are told "Slow down." at once, and the
// admitted ones are cut off by the read timeout. Every connection ends,
// and the budget is whole again afterwards.
func TestSlowRequestsCannotExhaustMemory(t *testing.T) {
	s, addr := startLimited(t, Limits{MaxInflightBytes: 1 << 20, InflightWait: 100 * time.Millisecond,
		ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 700 * time.Millisecond})
	const conns = 40
	type result struct {
		status  int
		elapsed time.Duration
	}
	results := make(chan result, conns)
	var wg sync.WaitGroup
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
			fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: h\r\nX-Amz-Target: T.Op\r\nContent-Length: %d\r\n\r\n{", 512<<10)
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
	wg.Wait()
	close(results)
	slow, cut := 0, 0
	for r := range results {
		switch r.status {
		case http.StatusServiceUnavailable:
			slow++
		case 0, http.StatusBadRequest:
			cut++
		default:
			t.Errorf("unexpected status %d", r.status)
		}
		if r.elapsed > 5*time.Second {
			t.Errorf("a connection lasted %s", r.elapsed)
		}
	}
	t.Logf("%d told to slow down, %d admitted then cut off; budget peak %d", slow, cut, peak(s))
	if slow < conns-2 || peak(s) > 1<<20 {
		t.Errorf("%d told to slow down, %d cut off; budget peak %d", slow, cut, peak(s))
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
	_, _ = c.Write([]byte("POST / HTTP/1.1\r\nHost: h\r\nX-Slow: "))
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
