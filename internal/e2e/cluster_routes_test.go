package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	"github.com/hydrant-io/hydrant/internal/objstore/s3test"
)

// TestClusterRoutesCut cuts the NATS routes of the node that delivers a
// stream, under load from producers on every node, while its process and
// its HTTP API stay up: a surviving node takes the delivery over within
// twice the lease time, the cut node gives it up before that (two nodes
// never deliver at once), acknowledges nothing while it cannot reach a
// quorum and says it is unready; once its routes are back it serves again,
// and every acknowledged record is delivered exactly once.
func TestClusterRoutesCut(t *testing.T) {
	if testing.Short() {
		t.Skip("three-node cluster test in -short mode")
	}
	t.Parallel()
	began := time.Now()
	rn := newRouteNet(t)
	names := []string{"n1", "n2", "n3"}
	nodes, endpoint, _, _ := startCluster(t, func(listen []string) [][]string {
		proxies := make([]string, len(listen))
		for i, l := range listen {
			proxies[i] = rn.proxy(names[i], l)
		}
		args := make([][]string, len(listen))
		for i := range args {
			args[i] = []string{"--cluster-advertise", proxies[i], "--cluster-peers", strings.Join(proxies, ",")}
		}
		return args
	})
	// Every route crosses a proxy, in both directions of the mesh.
	waitFor(t, 30*time.Second, "routes between every two nodes through the proxies", func() bool {
		return rn.routes("n1", "n2") > 0 && rn.routes("n1", "n3") > 0 && rn.routes("n2", "n3") > 0
	})
	t.Logf("three nodes ready in %s", time.Since(began).Round(time.Millisecond))
	s3test.CreateBucket(t, endpoint, "routes")
	createStream(t, firehoseClient(nodes[0]), "routes", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::routes"),
		Prefix:         aws.String("out/"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(1), IntervalInSeconds: aws.Int32(0)},
	})
	// Producers give up after 3 s, so that the cut node's have several
	// answers while it is cut off.
	load := startLoad(nodes, "routes", 6, 3*time.Second)

	var victim *server
	waitFor(t, 30*time.Second, "an owner of the stream", func() bool {
		victim = selfOwner(nodes, "routes", nil)
		return victim != nil
	})
	_, name := owner(victim, "routes")
	vi := indexOf(nodes, victim)
	waitFor(t, 20*time.Second, "deliveries before the cut", func() bool {
		d, ok := deliveredCursor(victim, "routes")
		return ok && d > 0
	})
	time.Sleep(time.Second) // under load
	before, _ := deliveredCursor(victim, "routes")

	// Watch the cut node's own view: the last time it still said it
	// delivers the stream (the start of that request, so the claim is no
	// older than this).
	var (
		wmu       sync.Mutex
		lastClaim time.Time
	)
	stopWatch := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stopWatch:
				return
			case <-time.After(20 * time.Millisecond):
			}
			asked := time.Now()
			if o, self := owner(victim, "routes"); o != "" && o == self {
				wmu.Lock()
				lastClaim = asked
				wmu.Unlock()
			}
		}
	}()

	cut := time.Now()
	rn.isolate(name)
	var next *server
	waitFor(t, 6*clusterLease, "a surviving node taking the stream over", func() bool {
		next = selfOwner(nodes, "routes", victim)
		return next != nil
	})
	tookOver := time.Now()
	_, nextName := owner(next, "routes")
	t.Logf("cut %s's routes (owner); %s took over after %s", name, nextName, tookOver.Sub(cut).Round(time.Millisecond))
	waitFor(t, 6*clusterLease, "delivery resuming", func() bool {
		d, ok := deliveredCursor(next, "routes")
		return ok && d > before
	})
	resumed := time.Since(cut)
	t.Logf("delivery resumed %s after the cut", resumed.Round(time.Millisecond))
	if resumed > 2*clusterLease {
		t.Errorf("delivery resumed %s after the owner's routes were cut, more than twice the lease time (%s)", resumed, clusterLease)
	}
	// The cut node has given the stream up, and had before the other
	// node took it.
	waitFor(t, 2*clusterLease, "the cut node giving the stream up", func() bool {
		o, self := owner(victim, "routes")
		return self != "" && o != self
	})
	close(stopWatch)
	<-watched
	wmu.Lock()
	if lastClaim.IsZero() {
		t.Errorf("the cut node never said it delivers the stream after the cut")
	} else if lastClaim.After(tookOver) {
		t.Errorf("%s still delivered the stream %s after %s took it over", name, lastClaim.Sub(tookOver), nextName)
	} else {
		t.Logf("%s last said it delivers the stream %s after the cut, %s before %s did",
			name, lastClaim.Sub(cut).Round(time.Millisecond), tookOver.Sub(lastClaim).Round(time.Millisecond), nextName)
	}
	wmu.Unlock()
	// A node without routes tells the load balancer to send elsewhere.
	waitFor(t, clusterLease, "the cut node reporting unready", func() bool {
		code, body := victim.health()
		return code == http.StatusServiceUnavailable && len(body.Reasons) > 0 && strings.Contains(body.Reasons[0], "no route")
	})
	// It refuses Puts at once, as back-pressure, so producers go
	// elsewhere, rather than holding them while its publishes time out.
	pctx, pcancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, perr := firehoseClient(victim).PutRecord(pctx, &fh.PutRecordInput{DeliveryStreamName: aws.String("routes"),
		Record: &types.Record{Data: []byte("refused\n")}})
	pcancel()
	if got := shortErr(perr); got != "ServiceUnavailableException: Slow down." {
		t.Errorf("PutRecord to the cut node: %v; want ServiceUnavailableException: Slow down.", perr)
	}
	// The survivors deliver under load while the cut node's producers
	// wait, until one of them has had an answer to a Put sent after the cut.
	waitFor(t, 10*time.Second, "an answer to a Put sent to the cut node after the cut", func() bool {
		load.mu.Lock()
		defer load.mu.Unlock()
		for _, r := range load.results {
			if r.node == vi && r.start.After(cut.Add(100*time.Millisecond)) {
				return true
			}
		}
		return false
	})

	rn.heal(name)
	healed := time.Now()
	waitFor(t, 30*time.Second, "the cut node's routes back", func() bool {
		code, _ := victim.health()
		return code == http.StatusOK && rn.routes(name, names[(vi+1)%3]) > 0 && rn.routes(name, names[(vi+2)%3]) > 0
	})
	t.Logf("%s ready again %s after the heal", name, time.Since(healed).Round(time.Millisecond))
	// The cut node serves producers again.
	acks := func() int {
		load.mu.Lock()
		defer load.mu.Unlock()
		k := 0
		for _, r := range load.results {
			if r.node == vi && r.acked > 0 && r.start.After(healed) {
				k++
			}
		}
		return k
	}
	waitFor(t, 30*time.Second, "the healed node acknowledging Puts", func() bool { return acks() > 0 })
	time.Sleep(time.Second)
	acked, sent := load.stop()

	// What the cut node answered while it was cut off: errors only. (A
	// request it took just before the cut may be acknowledged just after;
	// one sent after the cut and answered before the heal cannot have
	// reached a quorum.)
	var during, failed int
	errs := map[string]int{}
	for _, r := range load.results {
		if r.node != vi || r.start.Before(cut.Add(100*time.Millisecond)) || r.end.After(healed) {
			continue
		}
		during++
		if r.acked > 0 {
			t.Errorf("%s acknowledged %d records of a Put sent %s after its routes were cut, answered before they were back",
				name, r.acked, r.start.Sub(cut).Round(time.Millisecond))
		} else if r.err != nil {
			failed++
			errs[shortErr(r.err)]++
		} else {
			errs["every record refused (Slow down.)"]++
		}
	}
	t.Logf("while cut off %s was sent %d Puts, %d failed as requests: %v", name, during, failed, errs)
	if during == 0 {
		t.Errorf("no Put to %s sent and answered while it was cut off", name)
	}
	if len(acked) < 1000 {
		t.Fatalf("only %d records acknowledged; the load did not run", len(acked))
	}
	got := checkExactlyOnce(t, 90*time.Second, func() (map[string][]byte, error) {
		return s3Objects(t, s3test.Client(endpoint), "routes")
	}, acked, sent)
	t.Logf("%d sent, %d acknowledged, %d delivered, no duplicates; the test took %s",
		len(sent), len(acked), len(got), time.Since(began).Round(time.Second))
}

// shortErr is the gist of a failed request: the service's error, or the
// client's timeout.
func shortErr(err error) string {
	var ae smithy.APIError
	switch {
	case errors.As(err, &ae):
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	}
	return err.Error()
}

// indexOf returns the index of s in nodes, or -1.
func indexOf(nodes []*server, s *server) int {
	for i, n := range nodes {
		if n == s {
			return i
		}
	}
	return -1
}
