package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// sample is one acknowledged batch whose visibility is awaited: seq is the
// sequence number of its last record, acked when its response was read.
type sample struct {
	seq   uint64
	acked time.Time
}

// visibility measures ack-to-visible. Workers hand it samples; a single
// poller goroutine reads GET /_hydrant/streams/{name} every PollEvery while
// samples are outstanding and resolves each once the stream's delivered
// sequence number reaches it. Polling adds up to PollEvery plus one stats
// round trip to every figure.
type visibility struct {
	url    string
	client *http.Client
	every  time.Duration

	in chan sample

	mu      sync.Mutex
	got     []time.Duration
	pending []sample
}

// maxWaitVisible is how long samples outstanding at the end of the load are
// waited for before they are counted as lost.
const maxWaitVisible = 30 * time.Second

func newVisibility(cfg Config) *visibility {
	return &visibility{
		url: cfg.Endpoint + "/_hydrant/streams/" + url.PathEscape(cfg.Stream),
		// Its own connection, so polls never queue behind the load.
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}, Timeout: 10 * time.Second},
		every:  cfg.PollEvery,
		in:     make(chan sample, 1024),
	}
}

// streamStats is the part of the stats document the poller reads.
type streamStats struct {
	Appended  uint64 `json:"appended"`
	Delivered uint64 `json:"delivered"`
}

// check fetches the stats once: the server must serve them.
func (v *visibility) check(ctx context.Context) error {
	_, err := v.stats(ctx)
	return err
}

func (v *visibility) stats(ctx context.Context) (streamStats, error) {
	var st streamStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.url, nil)
	if err != nil {
		return st, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return st, fmt.Errorf("get stream stats: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return st, fmt.Errorf("read stream stats: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("get %s: HTTP %d: %.200s", v.url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("decode stream stats: %w", err)
	}
	return st, nil
}

// add queues a sample; it never blocks a worker (a full queue drops it).
func (v *visibility) add(s sample) {
	select {
	case v.in <- s:
	default:
	}
}

// finish tells the poller that no more samples come; it resolves what is
// outstanding (or gives up after maxWaitVisible) and returns.
// It is called once every worker has returned.
func (v *visibility) finish() { close(v.in) }

// run is the poller goroutine.
func (v *visibility) run(ctx context.Context) {
	var pending []sample
	var giveUp time.Time
	open := true
	for ctx.Err() == nil {
		if len(pending) == 0 {
			if !open {
				break
			}
			s, ok := <-v.in // wait for work without polling
			if !ok {
				break
			}
			pending = append(pending, s)
		}
	drain:
		for open {
			select {
			case s, ok := <-v.in:
				if !ok {
					open = false
					giveUp = time.Now().Add(maxWaitVisible)
					break drain
				}
				pending = append(pending, s)
			default:
				break drain
			}
		}
		st, err := v.stats(ctx)
		now := time.Now()
		if err == nil {
			kept := pending[:0]
			for _, s := range pending {
				if st.Delivered >= s.seq {
					v.record(now.Sub(s.acked))
				} else {
					kept = append(kept, s)
				}
			}
			pending = kept
		}
		if !open && now.After(giveUp) {
			break
		}
		if len(pending) > 0 {
			time.Sleep(v.every)
		}
	}
	v.mu.Lock()
	v.pending = pending
	v.mu.Unlock()
}

func (v *visibility) record(d time.Duration) {
	v.mu.Lock()
	v.got = append(v.got, d)
	v.mu.Unlock()
}

// latencies returns the resolved samples (after run has returned).
func (v *visibility) latencies() []time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]time.Duration(nil), v.got...)
}

// lost returns how many samples never became visible in time.
func (v *visibility) lost() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.pending)
}

// drain waits until everything acknowledged is delivered and returns how
// long after loadEnd that happened.
func (v *visibility) drain(ctx context.Context, loadEnd time.Time, timeout time.Duration) (time.Duration, error) {
	st, err := v.stats(ctx)
	if err != nil {
		return 0, err
	}
	target := st.Appended
	deadline := time.Now().Add(timeout)
	for st.Delivered < target {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("delivered %d of %d after %s", st.Delivered, target, timeout)
		}
		time.Sleep(v.every)
		if st, err = v.stats(ctx); err != nil {
			return 0, err
		}
	}
	return time.Since(loadEnd), nil
}
