package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/objstore/s3test"
)

// lineSink collects log lines.
type lineSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lineSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lineSink) lines(substr string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for l := range strings.SplitSeq(s.b.String(), "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

// hang listens on addr, accepts every connection and never reads from it
// or answers, as a hung server does. close stops accepting; the accepted
// connections stay open (and silent) until the test ends.
func hang(t *testing.T, addr string) (close func()) {
	t.Helper()
	var ln net.Listener
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; {
		if ln, err = net.Listen("tcp", addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // the port was just released
	}
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return func() { ln.Close() }
}

// TestS3StalledService puts objects to a service that accepts connections
// and never answers: each Put fails with a stall (logged at Warn, error
// code InternalError) after the bound for its phase, instead of waiting
// for minutes. Then a real S3 server takes the address, and the next Put
// succeeds at once: the hung connections are not reused.
func TestS3StalledService(t *testing.T) {
	t.Parallel()
	endpoint, stop, restart := s3test.Start(t)
	const bucket = "stalled"
	s3test.CreateBucket(t, endpoint, bucket)
	stop()
	closeHang := hang(t, strings.TrimPrefix(endpoint, "http://"))

	sink := &lineSink{}
	s := newS3(t, endpoint, func(o *objstore.S3Options) {
		o.RequestTimeout = 300 * time.Millisecond
		o.RequestTimeoutPerMiB = time.Millisecond
		o.PartSize = 64 << 20 // one PutObject, even for the large object
		o.Logger = slog.New(slog.NewTextHandler(sink, nil))
	})
	// Bound the test, not the store: before the guard, these Puts waited
	// for the transport's 2-minute response header timeout.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name  string
		size  int
		phase string
	}{
		{"small object", 1 << 10, "waiting for the answer"},
		// More than the socket buffers take: the upload itself stops.
		{"large object", 8 << 20, "sending the request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Put(ctx, bucket, "k", objstore.Meta{}, func(w io.Writer) error {
				_, err := w.Write(make([]byte, tc.size))
				return err
			})
			var se *objstore.StallError
			if !errors.As(err, &se) || se.Phase != tc.phase || objstore.ErrorCode(err) != "InternalError" {
				t.Fatalf("Put to a hung service = %v (code %q); want a StallError %s, InternalError", err, objstore.ErrorCode(err), tc.phase)
			}
			if ctx.Err() != nil {
				t.Fatalf("Put ended only with the test's deadline")
			}
			warns := sink.lines("S3 request stalled")
			if len(warns) == 0 || !strings.Contains(warns[len(warns)-1], "level=WARN") || !strings.Contains(warns[len(warns)-1], "op=PutObject") ||
				!strings.Contains(warns[len(warns)-1], `phase="`+tc.phase+`"`) {
				t.Fatalf("stall logged as %q; want a Warn naming PutObject and %q", warns, tc.phase)
			}
		})
	}

	// A real S3 server takes the address; the hung connections stay open.
	closeHang()
	restart()
	stalls := len(sink.lines("S3 request stalled"))
	want := bytes.Repeat([]byte("resumed "), 1<<10)
	if err := s.Put(ctx, bucket, "resumed", objstore.Meta{}, func(w io.Writer) error {
		_, err := w.Write(want)
		return err
	}); err != nil {
		t.Fatalf("Put once S3 is back: %v", err)
	}
	// Nothing stalls in normal use, and every guard ends with its request.
	rc, err := s.Get(ctx, bucket, "resumed")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Get = %d bytes, %v", len(got), err)
	}
	if _, _, err := s.Stat(ctx, bucket, "resumed"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx, bucket, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, bucket, "resumed"); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.lines("S3 request stalled")); n != stalls {
		t.Errorf("%d stalls logged once S3 was back", n-stalls)
	}
	if n := objstore.ActiveRequests(s); n != 0 {
		t.Errorf("%d request guards still running after every request ended", n)
	}
}
