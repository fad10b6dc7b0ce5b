// Command fakes3 is a small S3-protocol server for hydrant's tests: gofakes3
// with its bolt backend (objects survive a restart, even after SIGKILL) or
// its memory backend, answering path-style requests on one address. One
// difference from S3 is fixed around: see replaceMeta.
//
// It prints one line, "fakes3 listening on http://ADDR", to stdout once it
// accepts connections, and serves until SIGTERM or SIGINT. Tests start it
// through s3test.Start, as its own process, so that stopping it is a real
// outage: refused connections, not a mocked error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3bolt"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "fakes3:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakes3", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on")
	db := fs.String("db", "", "bolt database file that keeps the objects; empty keeps them in memory")
	verbose := fs.Bool("v", false, "log every request to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}

	var backend gofakes3.Backend
	if *db == "" {
		backend = s3mem.New()
	} else {
		b, err := s3bolt.NewFile(*db)
		if err != nil {
			return fmt.Errorf("open bolt database: %w", err)
		}
		backend = b
	}
	logger := gofakes3.DiscardLog()
	if *verbose {
		logger = gofakes3.StdLog(log.New(stderr, "fakes3 ", log.LstdFlags))
	}
	// Path-style only (no host-bucket routing), no auto-created buckets:
	// a missing bucket is S3's NoSuchBucket, as hydrant must report it.
	faker := gofakes3.New(replaceMeta{backend}, gofakes3.WithLogger(logger), gofakes3.WithAutoBucket(false))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: faker.Server(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "fakes3 listening on http://%s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}
