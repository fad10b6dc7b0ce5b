package e2e

import (
	"context"
	"encoding/json"
	"fmt"
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
// quorum of each other.
func startCluster(t *testing.T) (nodes []*server, endpoint string, stopS3, restartS3 func()) {
	t.Helper()
	endpoint, stopS3, restartS3 = s3test.Start(t)
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": s3test.AccessKeyID, "AWS_SECRET_ACCESS_KEY": s3test.SecretAccessKey,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_CONFIG_FILE": "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	routes := []string{freePort(t), freePort(t), freePort(t)}
	for i := range 3 {
		s := &server{t: t, DataDir: t.TempDir(), args: []string{
			"--s3-endpoint", endpoint, "--s3-path-style",
			"--node-name", fmt.Sprintf("n%d", i+1),
			"--cluster-listen", routes[i], "--cluster-peers", strings.Join(routes, ","),
			"--lease-time", clusterLease.String(),
		}}
		nodes = append(nodes, s)
		t.Cleanup(func() {
			s.Stop()
			if t.Failed() {
				t.Logf("node n%d log:\n%s", i+1, s.logs.String())
			}
		})
	}
	for _, s := range nodes {
		s.launch()
	}
	for _, s := range nodes {
		s.waitReady(90 * time.Second)
	}
	return nodes, endpoint, stopS3, restartS3
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
	began := time.Now()
	nodes, endpoint, stopS3, restartS3 := startCluster(t)
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

	var (
		mu      sync.Mutex
		acked   = map[string]bool{"first": true}
		sent    = map[string]bool{"first": true}
		counter atomic.Int64
	)
	load, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for p := range 6 {
		node := nodes[p%3]
		wg.Go(func() {
			c := firehoseClient(node)
			for load.Err() == nil {
				n := 20 + int(counter.Add(1)%80)
				recs := make([]types.Record, n)
				ids := make([]string, n)
				for i := range recs {
					ids[i] = fmt.Sprintf("p%d-%d", p, counter.Add(1))
					recs[i] = types.Record{Data: []byte(ids[i] + "\n")}
				}
				mu.Lock()
				for _, id := range ids {
					sent[id] = true
				}
				mu.Unlock()
				rctx, cancel := context.WithTimeout(load, 10*time.Second)
				out, err := c.PutRecordBatch(rctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("failover"), Records: recs})
				cancel()
				if err != nil {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				mu.Lock()
				for i, r := range out.RequestResponses {
					if r.RecordId != nil && r.ErrorCode == nil {
						acked[ids[i]] = true
					}
				}
				mu.Unlock()
			}
		})
	}

	// killOwner kills the stream's delivering node and returns it once
	// another node delivers again, with how long that took.
	killOwner := func(during func()) *server {
		t.Helper()
		// The owner knows it owns the stream (others' views of the lease
		// can lag behind a NATS leader change).
		var victim *server
		waitFor(t, 30*time.Second, "an owner of the stream", func() bool {
			for _, s := range nodes {
				if o, self := owner(s, "failover"); o != "" && o == self {
					victim = s
					return true
				}
			}
			return false
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
			for _, s := range nodes {
				if s == victim {
					continue
				}
				if o, self := owner(s, "failover"); o != "" && o == self {
					next = s
					return true
				}
			}
			return false
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
	stopLoad()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
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
