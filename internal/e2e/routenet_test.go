package e2e

import (
	"bytes"
	"io"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"
)

// routeNet puts a TCP proxy in front of each node's NATS route port, so
// that a test can cut a node off from the others (its routes) while its
// HTTP API stays up, and heal it again.
//
// Each node advertises its proxy (--cluster-advertise) and is given every
// proxy as --cluster-peers, so every route connection, configured or
// learnt from another node's gossip, crosses exactly one proxy: the
// accepting node's. A connection's dialling node is named by the INFO it
// sends right after its CONNECT ("server_name"); nothing it sends is
// forwarded before that, so a cut node cannot slip a route in.
type routeNet struct {
	t     testing.TB
	mu    sync.Mutex
	cut   map[string]bool
	conns map[*routeConn]bool
	lns   []net.Listener
	wg    sync.WaitGroup
}

// routeConn is one proxied route connection, dialled by node from to
// node to.
type routeConn struct {
	from, to string
	in, out  net.Conn
}

func (c *routeConn) close() {
	_ = c.in.Close()
	_ = c.out.Close()
}

func newRouteNet(t testing.TB) *routeNet {
	n := &routeNet{t: t, cut: map[string]bool{}, conns: map[*routeConn]bool{}}
	t.Cleanup(n.close)
	return n
}

// proxy starts the proxy of node name, whose route port is target, and
// returns its address.
func (n *routeNet) proxy(name, target string) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		n.t.Fatal(err)
	}
	n.mu.Lock()
	n.lns = append(n.lns, ln)
	n.mu.Unlock()
	n.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.wg.Go(func() { n.forward(c, name, target) })
		}
	})
	return ln.Addr().String()
}

// serverName finds the name in a NATS INFO protocol line.
var serverName = regexp.MustCompile(`"server_name":"([^"]+)"`)

// forward carries one route connection to node to, until either side or
// a cut closes it.
func (n *routeNet) forward(in net.Conn, to, target string) {
	rc := &routeConn{to: to, in: in}
	if n.isCut(to) {
		_ = in.Close()
		return
	}
	out, err := net.DialTimeout("tcp", target, 2*time.Second)
	if err != nil {
		_ = in.Close()
		return
	}
	rc.out = out
	if !n.track(rc, "") {
		rc.close()
		return
	}
	defer n.untrack(rc)
	// The accepting node speaks first (its INFO); the dialling one answers
	// with CONNECT and, having read that INFO, its own.
	n.wg.Go(func() {
		_, _ = io.Copy(in, out)
		rc.close()
	})
	var head []byte
	buf := make([]byte, 4096)
	_ = in.SetReadDeadline(time.Now().Add(10 * time.Second))
	var from string
	for from == "" && len(head) < 64<<10 {
		k, err := in.Read(buf)
		head = append(head, buf[:k]...)
		if m := serverName.FindSubmatch(head); m != nil {
			from = string(m[1])
		} else if err != nil {
			break
		}
	}
	_ = in.SetReadDeadline(time.Time{})
	if from == "" || !n.track(rc, from) {
		rc.close()
		return
	}
	if _, err := io.Copy(out, io.MultiReader(bytes.NewReader(head), in)); err != nil {
		_ = err // a cut or a closed route: either way the connection ends
	}
	rc.close()
}

// track registers rc (again, once from is known) unless one of its nodes
// is cut.
func (n *routeNet) track(rc *routeConn, from string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cut[rc.to] || (from != "" && n.cut[from]) {
		return false
	}
	rc.from = from
	n.conns[rc] = true
	return true
}

func (n *routeNet) untrack(rc *routeConn) {
	n.mu.Lock()
	delete(n.conns, rc)
	n.mu.Unlock()
}

func (n *routeNet) isCut(node string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cut[node]
}

// isolate cuts node off: its route connections, in both directions, are
// closed, and new ones refused, until heal.
func (n *routeNet) isolate(node string) {
	n.mu.Lock()
	n.cut[node] = true
	var drop []*routeConn
	for rc := range n.conns {
		if rc.from == node || rc.to == node {
			drop = append(drop, rc)
		}
	}
	n.mu.Unlock()
	for _, rc := range drop {
		rc.close()
	}
}

// heal lets node's routes through again.
func (n *routeNet) heal(node string) {
	n.mu.Lock()
	delete(n.cut, node)
	n.mu.Unlock()
}

// routes counts the proxied connections between a and b, either way.
func (n *routeNet) routes(a, b string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := 0
	for rc := range n.conns {
		if (rc.from == a && rc.to == b) || (rc.from == b && rc.to == a) {
			k++
		}
	}
	return k
}

func (n *routeNet) close() {
	n.mu.Lock()
	for _, ln := range n.lns {
		_ = ln.Close()
	}
	for rc := range n.conns {
		rc.close()
	}
	n.mu.Unlock()
	n.wg.Wait()
}
