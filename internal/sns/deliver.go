package sns

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// Deliveries: each subscription has a bounded queue and at most one
// goroutine draining it, started on demand and gone when the queue is
// empty. A subscriber that hangs or refuses delays only its own queue:
// each attempt is bounded by the client's timeout, retries wait as the
// delivery policy says, and past maxQueued waiting notifications new ones
// for it are counted as failed at once.

// attemptTimeout bounds one http delivery attempt (SNS waits 15 s).
const attemptTimeout = 15 * time.Second

// delivery is one notification (or confirmation) for one subscription.
type delivery struct {
	msg          *message
	confirmation map[string]string // a SubscriptionConfirmation instead
	topicPolicy  string
	topicName    string
}

type worker struct {
	q       chan delivery
	running bool
}

func (s *Service) enqueue(sub *subscription, d delivery) {
	s.mu.Lock()
	w := s.workers[sub.Arn]
	if w == nil {
		w = &worker{q: make(chan delivery, maxQueued)}
		s.workers[sub.Arn] = w
	}
	select {
	case w.q <- d:
	default:
		s.mu.Unlock()
		s.log.Warn("sns subscription queue full; notification dropped", "subscription", sub.Arn)
		s.notified(d, false)
		return
	}
	if !w.running && s.ctx.Err() == nil {
		w.running = true
		s.wg.Add(1)
		go s.drain(sub, w)
	}
	s.mu.Unlock()
}

func (s *Service) notified(d delivery, ok bool) {
	if o := s.opts.Observer; o != nil && d.msg != nil {
		o.Notified(d.topicName, ok)
	}
}

// drain delivers a subscription's queue, then exits.
func (s *Service) drain(sub *subscription, w *worker) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		var d delivery
		select {
		case d = <-w.q:
		default:
			w.running = false
			if s.subs[sub.Arn] == nil && s.workers[sub.Arn] == w {
				delete(s.workers, sub.Arn) // unsubscribed: nothing more will come
			}
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		if s.ctx.Err() != nil {
			continue // closing: drop the rest
		}
		ok := s.deliver(sub, d)
		if d.msg != nil {
			s.notified(d, ok)
		}
	}
}

// deliver makes every attempt the policy allows; it reports success.
func (s *Service) deliver(sub *subscription, d delivery) bool {
	policy := defaultPolicy
	for _, src := range []string{d.topicPolicy, sub.Attributes["DeliveryPolicy"]} {
		if src != "" {
			if p, err := parseDeliveryPolicy(src); err == nil {
				policy = p
			}
		}
	}
	if sub.Protocol == "lambda" {
		// Lambda's asynchronous invocation: two retries, a minute apart
		// and then two.
		policy = retryPolicy{NumRetries: 2, MinDelayTarget: 60, MaxDelayTarget: 120, BackoffFunction: "linear"}
	}
	var last error
	for attempt := 0; attempt <= policy.NumRetries; attempt++ {
		if attempt > 0 {
			if err := s.opts.Sleep(s.ctx, policy.delay(attempt)); err != nil {
				return false
			}
		}
		var err error
		if sub.Protocol == "lambda" {
			err = s.invoke(sub, d)
		} else {
			err = s.post(sub, d)
		}
		if err == nil {
			return true
		}
		last = err
		s.log.Debug("sns delivery attempt failed", "subscription", sub.Arn, "attempt", attempt+1, "err", err)
	}
	s.log.Warn("sns delivery failed after its retries", "subscription", sub.Arn, "endpoint", sub.Endpoint, "err", last)
	return false
}

func (s *Service) post(sub *subscription, d delivery) error {
	var body []byte
	typ, id := "Notification", ""
	raw := sub.Attributes["RawMessageDelivery"] == "true"
	switch {
	case d.confirmation != nil:
		typ, id = d.confirmation["Type"], d.confirmation["MessageId"]
		body, _ = json.MarshalIndent(d.confirmation, "", "  ")
	case raw:
		id, body = d.msg.id, []byte(d.msg.bodyFor(sub.Protocol))
	default:
		var err error
		id = d.msg.id
		if _, body, err = s.envelope(sub, d.msg); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "text/plain; charset=UTF-8")
	req.Header.Set("User-Agent", "Amazon Simple Notification Service Agent")
	req.Header.Set("x-amz-sns-message-type", typ)
	req.Header.Set("x-amz-sns-message-id", id)
	req.Header.Set("x-amz-sns-topic-arn", sub.TopicArn)
	if d.confirmation == nil {
		req.Header.Set("x-amz-sns-subscription-arn", sub.Arn)
		if raw {
			req.Header.Set("x-amz-sns-rawdelivery", "true")
		}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("endpoint answered %s", resp.Status)
	}
	return nil
}

func (s *Service) invoke(sub *subscription, d delivery) error {
	event, err := s.lambdaEvent(sub, d.msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(s.ctx, 15*time.Minute)
	defer cancel()
	res, fnErr, err := s.opts.Invoker.Invoke(ctx, sub.Endpoint, event)
	if err != nil {
		return err
	}
	if fnErr != "" {
		return fmt.Errorf("function error %s: %s", fnErr, truncate(string(res), 512))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// sendConfirmation queues the SubscriptionConfirmation of a new http
// subscription.
func (s *Service) sendConfirmation(sub *subscription) {
	doc := map[string]string{
		"Type": "SubscriptionConfirmation", "MessageId": uuid.NewString(), "Token": sub.Token, "TopicArn": sub.TopicArn,
		"Message":      "You have chosen to subscribe to the topic " + sub.TopicArn + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		"SubscribeURL": s.opts.Endpoint + confirmPath + "?Action=ConfirmSubscription&TopicArn=" + queryEscape(sub.TopicArn) + "&Token=" + sub.Token,
		"Timestamp":    s.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "2",
	}
	sig, err := s.signer.sign(doc)
	if err != nil {
		s.log.Error("sign subscription confirmation", "err", err)
		return
	}
	doc["Signature"], doc["SigningCertURL"] = sig, s.certURL()
	s.mu.Lock()
	policy := ""
	if t := s.topics[sub.TopicArn]; t != nil {
		policy = t.Attributes["DeliveryPolicy"]
	}
	s.mu.Unlock()
	s.enqueue(sub, delivery{confirmation: doc, topicPolicy: policy})
}

func queryEscape(s string) string { return url.QueryEscape(s) }

func awsErrorf(code, format string, args ...any) error {
	switch code {
	case "ParameterValueInvalid":
		return awsproto.Errorf("InvalidParameterValueException", format, args...)
	}
	return awsproto.Errorf(code, format, args...)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// retryPolicy is SNS's healthyRetryPolicy.
type retryPolicy struct {
	MinDelayTarget     int    `json:"minDelayTarget"`
	MaxDelayTarget     int    `json:"maxDelayTarget"`
	NumRetries         int    `json:"numRetries"`
	NumNoDelayRetries  int    `json:"numNoDelayRetries"`
	NumMinDelayRetries int    `json:"numMinDelayRetries"`
	NumMaxDelayRetries int    `json:"numMaxDelayRetries"`
	BackoffFunction    string `json:"backoffFunction"`
}

// defaultPolicy is SNS's default HTTP/S delivery policy: three retries,
// 20 seconds apart.
var defaultPolicy = retryPolicy{MinDelayTarget: 20, MaxDelayTarget: 20, NumRetries: 3, BackoffFunction: "linear"}

// parseDeliveryPolicy reads {"http":{"defaultHealthyRetryPolicy":{...}}}
// (a topic's) or {"healthyRetryPolicy":{...}} (a subscription's), with
// SNS's bounds.
func parseDeliveryPolicy(s string) (retryPolicy, error) {
	var doc struct {
		HTTP struct {
			Default *retryPolicy `json:"defaultHealthyRetryPolicy"`
		} `json:"http"`
		Healthy *retryPolicy `json:"healthyRetryPolicy"`
	}
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		return retryPolicy{}, fmt.Errorf("not valid JSON: %v", err)
	}
	p := doc.Healthy
	if p == nil {
		p = doc.HTTP.Default
	}
	if p == nil {
		return defaultPolicy, nil
	}
	r := *p
	if r.BackoffFunction == "" {
		r.BackoffFunction = "linear"
	}
	switch {
	case r.NumRetries < 0 || r.NumRetries > 100:
		return r, errors.New("numRetries must be 0 to 100")
	case r.MinDelayTarget < 1 || r.MaxDelayTarget < r.MinDelayTarget || r.MaxDelayTarget > 3600:
		return r, errors.New("minDelayTarget must be at least 1 and at most maxDelayTarget (at most 3600)")
	case r.NumNoDelayRetries+r.NumMinDelayRetries+r.NumMaxDelayRetries > r.NumRetries:
		return r, errors.New("numNoDelayRetries, numMinDelayRetries and numMaxDelayRetries add up to more than numRetries")
	}
	switch r.BackoffFunction {
	case "linear", "arithmetic", "geometric", "exponential":
	default:
		return r, fmt.Errorf("backoffFunction %q (linear, arithmetic, geometric or exponential)", r.BackoffFunction)
	}
	return r, nil
}

// delay is the wait before retry n (1-based): the no-delay retries, then
// the minimum-delay ones, then the backoff phase from min to max, then
// the maximum-delay ones, as SNS's delivery policy describes.
func (p retryPolicy) delay(n int) time.Duration {
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	min, max := float64(p.MinDelayTarget), float64(p.MaxDelayTarget)
	switch {
	case n <= p.NumNoDelayRetries:
		return 0
	case n <= p.NumNoDelayRetries+p.NumMinDelayRetries:
		return sec(min)
	case n > p.NumRetries-p.NumMaxDelayRetries:
		return sec(max)
	}
	k := n - p.NumNoDelayRetries - p.NumMinDelayRetries // 1..steps
	steps := p.NumRetries - p.NumNoDelayRetries - p.NumMinDelayRetries - p.NumMaxDelayRetries
	if steps <= 1 {
		return sec(min)
	}
	f := float64(k-1) / float64(steps-1)
	switch p.BackoffFunction {
	case "geometric", "exponential":
		return sec(min * math.Pow(max/min, f))
	}
	return sec(min + (max-min)*f)
}

func effectivePolicyJSON(topicPolicy string) string {
	p := defaultPolicy
	if topicPolicy != "" {
		if q, err := parseDeliveryPolicy(topicPolicy); err == nil {
			p = q
		}
	}
	b, _ := json.Marshal(map[string]any{"http": map[string]any{"defaultHealthyRetryPolicy": p, "disableSubscriptionOverrides": false}})
	return string(b)
}

// loopbackOnly is a net.Dialer Control that refuses, before connecting,
// any address that is not loopback.
func loopbackOnly(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("sns: %s is not a loopback address (--sns-allow-remote allows it)", host)
	}
	return nil
}

// newClient is the http client of deliveries: redirects are not
// followed, and unless allowRemote every connection must go to a loopback
// address (checked on the address actually dialled).
func newClient(allowRemote bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if !allowRemote {
		d.Control = loopbackOnly
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = d.DialContext
	tr.Proxy = nil
	tr.MaxIdleConnsPerHost = 2
	return &http.Client{
		Transport:     tr,
		Timeout:       attemptTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
