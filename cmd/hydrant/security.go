package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/server"
)

// securityConfig is what `hydrant serve` is told about authentication, TLS
// and the memory requests may hold.
type securityConfig struct {
	credentials      string
	insecure         bool
	tlsCert, tlsKey  string
	maxInflightBytes byteSize
	maxConnections   int
	allowedHosts     string
	memoryLimit      byteSize
}

// memoryOverhead is what hydrant may hold besides request bodies (buffers
// of delivery, Parquet conversion, functions' plumbing): the default soft
// memory limit is --max-inflight-bytes plus this.
const memoryOverhead = 256 << 20

// register adds the flags to fs.
func (c *securityConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.credentials, "credentials", "", "AWS shared credentials file; every profile's key pair is accepted and SigV4 signatures are verified (default $HYDRANT_CREDENTIALS)")
	fs.BoolVar(&c.insecure, "insecure", false, "allow a non-loopback --listen address without --credentials (anyone who can reach it can use hydrant)")
	fs.StringVar(&c.tlsCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS (needs --tls-key)")
	fs.StringVar(&c.tlsKey, "tls-key", "", "PEM private key file for --tls-cert")
	c.maxInflightBytes = awsproto.DefaultMaxInflightBytes
	fs.Var(&c.maxInflightBytes, "max-inflight-bytes", "request body bytes all in-flight requests may hold at once (e.g. 256MiB); beyond it requests get \"Slow down.\"")
	fs.Var(&c.memoryLimit, "memory-limit", "soft limit of the Go heap, so garbage never grows RSS past it (default --max-inflight-bytes + 256MiB; GOMEMLIMIT, if set, wins)")
	fs.IntVar(&c.maxConnections, "max-connections", server.DefaultMaxConnections, "open connections served at once; more wait to be accepted")
	fs.StringVar(&c.allowedHosts, "allowed-hosts", "", "comma-separated host names (and their subdomains) to serve besides loopback names when listening on loopback without --credentials (the DNS-rebinding guard)")
}

// validate checks the flags that must go together.
func (c *securityConfig) validate() error {
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return fmt.Errorf("serve: --tls-cert and --tls-key go together: give both or neither")
	}
	if c.maxConnections < 1 {
		return fmt.Errorf("serve: --max-connections must be at least 1, got %d", c.maxConnections)
	}
	return nil
}

// security is the prepared result: what the server is given.
type security struct {
	verifier *awsproto.Verifier
	tls      *tls.Config
	limits   server.Limits
	// checkHost is set on loopback without credentials: only loopback
	// names (and allowedHosts) may be in a request's Host.
	checkHost    bool
	allowedHosts []string
}

// load reads the credentials and the certificate, and refuses a
// non-loopback listen address without credentials unless --insecure. It
// runs before anything is opened or listened on, so a refusal leaves
// nothing behind.
func (c *securityConfig) load(ctx context.Context, listen string, log *slog.Logger) (*security, error) {
	sec := &security{limits: server.Limits{MaxInflightBytes: int64(c.maxInflightBytes), MaxConnections: c.maxConnections}}
	for h := range strings.SplitSeq(c.allowedHosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			sec.allowedHosts = append(sec.allowedHosts, h)
		}
	}
	path := c.credentials
	if path == "" {
		path = os.Getenv("HYDRANT_CREDENTIALS")
	}
	if path != "" {
		creds, err := awsproto.LoadCredentials(path)
		if err != nil {
			return nil, err
		}
		sec.verifier = &awsproto.Verifier{Credentials: creds, Logger: log}
		log.Info("verifying SigV4 signatures: unsigned requests and unknown keys are refused",
			"credentials", path, "profiles", strings.Join(creds.Profiles(), ","), "keys", creds.Len())
	} else {
		loopback, err := isLoopback(ctx, listen)
		if err != nil {
			return nil, err
		}
		switch {
		case loopback:
			sec.checkHost = true
			log.Info("no --credentials: accepting any request, signed or not; loopback only, and only for loopback host names (see --allowed-hosts)")
		case c.insecure:
			log.Warn("--insecure: no --credentials on a non-loopback address: accepting any request, signed or not, from anyone who can reach it", "listen", listen)
		default:
			return nil, fmt.Errorf("refusing to listen on %s without --credentials: it is not a loopback address, so anyone who can reach it could use hydrant; "+
				"pass --credentials FILE (an AWS shared credentials file whose keys clients must sign with), or --insecure to accept any request anyway", listen)
		}
	}
	if c.tlsCert != "" {
		pair, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("load --tls-cert/--tls-key: %w", err)
		}
		sec.tls = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	}
	return sec, nil
}

// applyMemoryLimit sets the Go runtime's soft memory limit: request bodies
// and what is decoded from them are bounded by the in-flight budget, and
// the limit makes the garbage collector return the rest before RSS grows
// past budget plus overhead, whatever the number of clients.
func (c *securityConfig) applyMemoryLimit(log *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	limit := int64(c.memoryLimit)
	if limit <= 0 {
		limit = int64(c.maxInflightBytes) + memoryOverhead
	}
	debug.SetMemoryLimit(limit)
	log.Debug("soft memory limit", "bytes", limit)
}

// install hands the prepared security to the server; call it before the
// services are added or after, but before Serve.
func (sec *security) install(srv *server.Server) {
	srv.SetLimits(sec.limits)
	srv.SetHostCheck(sec.checkHost, sec.allowedHosts)
	if sec.verifier != nil {
		srv.SetVerifier(sec.verifier)
	}
	if sec.tls != nil {
		srv.SetTLS(sec.tls)
	}
}

// scheme is the URL scheme clients use.
func (sec *security) scheme() string {
	if sec.tls != nil {
		return "https"
	}
	return "http"
}

// isLoopback reports whether every address listen would bind is a
// loopback address. An empty host (":4566") binds every interface; a host
// name counts as loopback only if all its addresses are.
func isLoopback(ctx context.Context, listen string) (bool, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false, fmt.Errorf("--listen %q: %w", listen, err)
	}
	if host == "" {
		return false, nil
	}
	if ip := net.ParseIP(strings.SplitN(host, "%", 2)[0]); ip != nil {
		return ip.IsLoopback(), nil
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return false, fmt.Errorf("--listen %q: resolve %s: %w", listen, host, err)
	}
	for _, a := range addrs {
		if !a.IP.IsLoopback() {
			return false, nil
		}
	}
	return len(addrs) > 0, nil
}

// byteSize is a flag value in bytes that accepts KiB, MiB and GiB (and
// KB, MB, GB as the same binary units).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 {
		return fmt.Errorf("want a positive size such as 268435456 or 256MiB, got %q", s)
	}
	*b = byteSize(n * mult)
	return nil
}
