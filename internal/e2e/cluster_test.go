package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"

	"github.com/hydrant-io/hydrant/internal/objstore/s3test"
)

// clusterLease is the nodes' --lease-time in the cluster tests. Failover
// is bounded by it (a dead node's lease expires after it) and by NATS's
// Raft elections (4 to 9 s when the dead node led the stream's log).
const clusterLease = 5 * time.Second

// startCluster starts fakes3 and three hydrant nodes with embedded NATS on
// loopback, delivering to it; the nodes start together and wait for a
// quorum of each other. wire gives each node its route flags from the
// nodes' --cluster-listen addresses; nil gives every node all of them as
// --cluster-peers. Everything a node needs is in its own flags and
// environment, so clusters of parallel tests do not meet.
func startCluster(t *testing.T, wire func(listen []string) [][]string) (nodes []*server, endpoint string, stopS3, restartS3 func()) {
	t.Helper()
	endpoint, stopS3, restartS3 = s3test.Start(t)
	listen := []string{clusterPort(t), clusterPort(t), clusterPort(t)}
	routeArgs := make([][]string, 3)
	if wire != nil {
		routeArgs = wire(listen)
	} else {
		for i := range routeArgs {
			routeArgs[i] = []string{"--cluster-peers", strings.Join(listen, ",")}
		}
	}
	for i := range 3 {
		api := clusterPort(t)
		s := &server{t: t, Addr: api, URL: "http://" + api, DataDir: t.TempDir(), Env: s3Env(), args: append([]string{
			"--s3-endpoint", endpoint, "--s3-path-style",
			"--node-name", fmt.Sprintf("n%d", i+1),
			"--cluster-listen", listen[i],
			"--lease-time", clusterLease.String(),
		}, routeArgs[i]...)}
		nodes = append(nodes, s)
	}
	// The tests are done with the nodes once they have counted the
	// records: they are killed, together. (Stopped gracefully one by one,
	// the last would wait for a quorum that has gone to finish its Puts
	// and give its leases back: 10 to 20 s of nothing.)
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, s := range nodes {
			if s.cmd != nil {
				wg.Go(s.Kill)
			}
		}
		wg.Wait()
		if t.Failed() {
			for i, s := range nodes {
				t.Logf("node n%d log:\n%s", i+1, s.logs.String())
			}
		}
	})
	for _, s := range nodes {
		s.launch()
	}
	for _, s := range nodes {
		s.waitReady(90 * time.Second)
	}
	return nodes, endpoint, stopS3, restartS3
}

// clusterPorts are the ports clusterPort has handed out.
var clusterPorts = struct {
	sync.Mutex
	used map[int]bool
}{used: map[int]bool{}}

// clusterPort returns a free loopback address for a cluster node, its
// port below the kernel's ephemeral range (32768 up): a node binds its API
// port only once the cluster has formed, seconds later, and a port from
// freePort may meanwhile be taken by any connection or :0 listener of the
// tests running in parallel.
func clusterPort(t *testing.T) string {
	t.Helper()
	clusterPorts.Lock()
	defer clusterPorts.Unlock()
	for range 1000 {
		p := 20000 + rand.IntN(12000)
		if clusterPorts.used[p] {
			continue
		}
		addr := fmt.Sprintf("127.0.0.1:%d", p)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		_ = ln.Close()
		clusterPorts.used[p] = true
		return addr
	}
	t.Fatal("no free port for a cluster node")
	return ""
}

// firehoseClient talks to one node, without SDK retries (a retried Put
// whose first answer was lost is a legitimate duplicate).
func firehoseClient(s *server) *fh.Client {
	return fh.New(fh.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.URL), Credentials: aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
	})
}

// clusterStatus is what the tests read of GET /_hydrant/cluster.
type clusterStatus struct {
	Node    string `json:"node"`
	Streams []struct {
		Stream  string `json:"stream"`
		Node    string `json:"node"`
		Expired bool   `json:"expired"`
	} `json:"streams"`
}

// owner returns the node delivering stream as s sees it ("" if none), and
// s's own name.
func owner(s *server, stream string) (string, string) {
	resp, err := http.Get(s.URL + "/_hydrant/cluster")
	if err != nil {
		return "", ""
	}
	defer resp.Body.Close()
	var st clusterStatus
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return "", ""
	}
	for _, l := range st.Streams {
		if l.Stream == stream && !l.Expired {
			return l.Node, st.Node
		}
	}
	return "", st.Node
}

// selfOwner returns the node that says it delivers stream, other than
// skip, or nil. (A node knows when it owns a stream; the others' views of
// the lease can lag behind a NATS leader change.)
func selfOwner(nodes []*server, stream string, skip *server) *server {
	for _, s := range nodes {
		if s == skip {
			continue
		}
		if o, self := owner(s, stream); o != "" && o == self {
			return s
		}
	}
	return nil
}

// deliveredCursor returns the stream's delivered cursor as s sees it.
func deliveredCursor(s *server, stream string) (uint64, bool) {
	resp, err := http.Get(s.URL + "/_hydrant/streams/" + stream)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var st struct {
		Delivered uint64 `json:"delivered"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&st) != nil {
		return 0, false
	}
	return st.Delivered, true
}

// TestClusterFailover runs three nodes with producers on every node,
// SIGKILLs the node that delivers the stream under load, restarts it,
// then kills the next owner while the S3 server is down, and restarts
// both: every acknowledged record is delivered exactly once, and delivery
// resumes on a surviving node within twice the lease time. A stream
// created on one node is written on another and described on the third.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster test in -short mode")
	}
	// Not parallel: run beside TestClusterRoutesCut on two cores, NATS's
	// elections stretched failover past twice the lease time in 1 run of 3.
	began := time.Now()
	nodes, endpoint, stopS3, restartS3 := startCluster(t, nil)
	t.Logf("three nodes ready in %s", time.Since(began).Round(time.Millisecond))
	s3test.CreateBucket(t, endpoint, "cluster")
	ctx := context.Background()

	// Created on n1, written on n2 right away, described on n3.
	createStream(t, firehoseClient(nodes[0]), "failover", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::cluster"),
		Prefix:         aws.String("out/"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})
	if _, err := firehoseClient(nodes[1]).PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("failover"),
		Record: &types.Record{Data: []byte("first\n")}}); err != nil {
		t.Fatalf("PutRecord on n2 right after the create on n1: %v", err)
	}
	desc, err := firehoseClient(nodes[2]).DescribeDeliveryStream(ctx, &fh.DescribeDeliveryStreamInput{DeliveryStreamName: aws.String("failover")})
	if err != nil || desc.DeliveryStreamDescription.DeliveryStreamStatus != types.DeliveryStreamStatusActive {
		t.Fatalf("Describe on n3: %v", err)
	}

	load := startLoad(nodes, "failover", 6, 10*time.Second, "first")

	// killOwner kills the stream's delivering node and returns it once
	// another node delivers again, with how long that took.
	killOwner := func(during func()) *server {
		t.Helper()
		var victim *server
		waitFor(t, 30*time.Second, "an owner of the stream", func() bool {
			victim = selfOwner(nodes, "failover", nil)
			return victim != nil
		})
		_, name := owner(victim, "failover")
		time.Sleep(time.Second) // under load
		before, _ := deliveredCursor(victim, "failover")
		if during != nil {
			during()
		}
		killed := time.Now()
		victim.Kill()
		var next *server
		waitFor(t, 6*clusterLease, "another node taking the stream over", func() bool {
			next = selfOwner(nodes, "failover", victim)
			return next != nil
		})
		_, nextName := owner(next, "failover")
		t.Logf("killed %s (owner); %s took over after %s", name, nextName, time.Since(killed).Round(time.Millisecond))
		if during == nil {
			waitFor(t, 6*clusterLease, "delivery resuming", func() bool {
				d, ok := deliveredCursor(next, "failover")
				return ok && d > before
			})
			resumed := time.Since(killed)
			t.Logf("delivery resumed %s after the kill", resumed.Round(time.Millisecond))
			if resumed > 2*clusterLease {
				t.Errorf("delivery resumed %s after the owner died, more than twice the lease time (%s)", resumed, clusterLease)
			}
		}
		return victim
	}

	time.Sleep(1500 * time.Millisecond)
	first := killOwner(nil)
	first.Restart()
	// The second owner dies while S3 is down: the new owner's first
	// delivery fails and is retried (same plan, same key) once S3 is back.
	second := killOwner(stopS3)
	time.Sleep(2 * time.Second)
	restartS3()
	second.Restart()
	time.Sleep(time.Second)
	acked, sent := load.stop()
	if len(acked) < 1000 {
		t.Fatalf("only %d records acknowledged; the load did not run", len(acked))
	}
	sc := s3test.Client(endpoint)
	got := checkExactlyOnce(t, 90*time.Second, func() (map[string][]byte, error) {
		return s3Objects(t, sc, "cluster")
	}, acked, sent)
	t.Logf("%d sent, %d acknowledged, %d delivered, no duplicates; the test took %s",
		len(sent), len(acked), len(got), time.Since(began).Round(time.Second))
}

// putResult is one PutRecordBatch of a clusterLoad.
type putResult struct {
	node       int // index of the node it was sent to
	start, end time.Time
	records    int // records sent
	acked      int // records acknowledged
	err        error
}

// clusterLoad is producers spread over the nodes of a cluster, each
// sending PutRecordBatch requests of 20 to 99 records to one node's own
// endpoint (producer p to node p mod len(nodes)), one request at a time.
// Every record is a unique id and a newline; it keeps every id sent,
// every id acknowledged and the outcome of every request.
type clusterLoad struct {
	mu      sync.Mutex
	acked   map[string]bool
	sent    map[string]bool
	results []putResult
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// startLoad starts producers sending to stream, each request given up
// after timeout; seed are ids already sent and acknowledged (by the test
// itself).
func startLoad(nodes []*server, stream string, producers int, timeout time.Duration, seed ...string) *clusterLoad {
	l := &clusterLoad{acked: map[string]bool{}, sent: map[string]bool{}}
	for _, id := range seed {
		l.acked[id], l.sent[id] = true, true
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	var counter atomic.Int64
	for p := range producers {
		node := p % len(nodes)
		l.wg.Go(func() {
			c := firehoseClient(nodes[node])
			for ctx.Err() == nil {
				n := 20 + int(counter.Add(1)%80)
				recs := make([]types.Record, n)
				ids := make([]string, n)
				for i := range recs {
					ids[i] = fmt.Sprintf("p%d-%d", p, counter.Add(1))
					recs[i] = types.Record{Data: []byte(ids[i] + "\n")}
				}
				l.mu.Lock()
				for _, id := range ids {
					l.sent[id] = true
				}
				l.mu.Unlock()
				res := putResult{node: node, start: time.Now(), records: n}
				rctx, rcancel := context.WithTimeout(ctx, timeout)
				out, err := c.PutRecordBatch(rctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String(stream), Records: recs})
				rcancel()
				res.end, res.err = time.Now(), err
				l.mu.Lock()
				if err == nil {
					for i, r := range out.RequestResponses {
						if r.RecordId != nil && r.ErrorCode == nil {
							l.acked[ids[i]] = true
							res.acked++
						}
					}
				}
				l.results = append(l.results, res)
				l.mu.Unlock()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
				}
			}
		})
	}
	return l
}

// stop ends the load, waits for the requests in flight and returns the
// ids acknowledged and sent.
func (l *clusterLoad) stop() (acked, sent map[string]bool) {
	l.cancel()
	l.wg.Wait()
	return l.acked, l.sent
}
