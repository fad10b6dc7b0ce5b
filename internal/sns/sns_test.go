package sns

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// subscriber is a webhook that records what it receives.
type subscriber struct {
	mu     sync.Mutex
	got    []map[string]any
	hdrs   []http.Header
	status int
	ch     chan map[string]any
}

func newSubscriber(t *testing.T) (*subscriber, *httptest.Server) {
	sub := &subscriber{status: 200, ch: make(chan map[string]any, 100)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		sub.mu.Lock()
		sub.got = append(sub.got, m)
		sub.hdrs = append(sub.hdrs, r.Header.Clone())
		st := sub.status
		sub.mu.Unlock()
		w.WriteHeader(st)
		sub.ch <- m
	}))
	t.Cleanup(hs.Close)
	return sub, hs
}

func (s *subscriber) next(t *testing.T) map[string]any {
	t.Helper()
	select {
	case m := <-s.ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
	return nil
}

type observed struct {
	mu                sync.Mutex
	published         int
	delivered, failed int
	done              chan bool
}

func (o *observed) Published(topic string, n int) { o.mu.Lock(); o.published++; o.mu.Unlock() }
func (o *observed) Notified(topic string, ok bool) {
	o.mu.Lock()
	if ok {
		o.delivered++
	} else {
		o.failed++
	}
	o.mu.Unlock()
	o.done <- ok
}

type rig struct {
	t     *testing.T
	svc   *Service
	front *httptest.Server
	obs   *observed
	// sleeps records the waits between attempts (none really happen).
	mu     sync.Mutex
	sleeps []time.Duration
}

func newRig(t *testing.T, opts Options) *rig {
	t.Helper()
	r := &rig{t: t, obs: &observed{done: make(chan bool, 100)}}
	r.front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.svc.Handler().ServeHTTP(w, req)
	}))
	t.Cleanup(r.front.Close)
	opts.Endpoint = r.front.URL
	opts.Observer = r.obs
	opts.Sleep = func(ctx context.Context, d time.Duration) error {
		r.mu.Lock()
		r.sleeps = append(r.sleeps, d)
		r.mu.Unlock()
		return nil
	}
	svc, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Close() })
	r.svc = svc
	return r
}

func (r *rig) call(op string, in any) (map[string]any, error) {
	b, _ := json.Marshal(in)
	res, err := r.svc.API().Ops[op](context.Background(), b)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	rb, _ := json.Marshal(res)
	_ = json.Unmarshal(rb, &out)
	return out, nil
}

func (r *rig) must(op string, in any) map[string]any {
	r.t.Helper()
	out, err := r.call(op, in)
	if err != nil {
		r.t.Fatalf("%s: %v", op, err)
	}
	return out
}

func (r *rig) cert() []byte {
	r.t.Helper()
	resp, err := http.Get(r.svc.certURL())
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		r.t.Fatalf("certificate: %s", resp.Status)
	}
	return b
}

func strs(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out
}

func TestSubscribeConfirmPublish(t *testing.T) {
	dir := t.TempDir()
	r := newRig(t, Options{Dir: dir})
	sub, hs := newSubscriber(t)
	arn := r.must("CreateTopic", map[string]any{"Name": "ops", "Attributes": map[string]string{"DisplayName": "Ops"}})["TopicArn"].(string)
	if arn != "arn:aws:sns:us-east-1:000000000000:ops" {
		t.Fatalf("TopicArn %s", arn)
	}
	if got := r.must("Subscribe", map[string]any{"TopicArn": arn, "Protocol": "http", "Endpoint": hs.URL + "/hook"}); got["SubscriptionArn"] != "pending confirmation" {
		t.Fatalf("Subscribe: %v", got)
	}
	conf := sub.next(t)
	cert := r.cert()
	if conf["Type"] != "SubscriptionConfirmation" || Verify(strs(conf), cert) != nil {
		t.Fatalf("confirmation %v: %v", conf, Verify(strs(conf), cert))
	}
	if h := sub.hdrs[0]; h.Get("x-amz-sns-message-type") != "SubscriptionConfirmation" || h.Get("x-amz-sns-topic-arn") != arn {
		t.Errorf("confirmation headers: %v", h)
	}
	// Publishing now reaches nobody: the subscription is pending.
	r.must("Publish", map[string]any{"TopicArn": arn, "Message": "early"})
	list := r.must("ListSubscriptionsByTopic", map[string]any{"TopicArn": arn})["Subscriptions"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["SubscriptionArn"] != "PendingConfirmation" {
		t.Fatalf("pending list: %v", list)
	}
	// The handshake: GET SubscribeURL.
	resp, err := http.Get(conf["SubscribeURL"].(string))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<SubscriptionArn>"+arn+":") {
		t.Fatalf("confirm: %s %s", resp.Status, body)
	}
	r.must("Publish", map[string]any{"TopicArn": arn, "Message": "disk full", "Subject": "ALARM: x",
		"MessageAttributes": map[string]any{"severity": map[string]string{"DataType": "String", "StringValue": "high"}}})
	n := sub.next(t)
	if n["Type"] != "Notification" || n["Message"] != "disk full" || n["Subject"] != "ALARM: x" || n["SignatureVersion"] != "2" {
		t.Fatalf("notification: %v", n)
	}
	if err := Verify(strs(n), cert); err != nil {
		t.Fatalf("signature: %v", err)
	}
	tampered := strs(n)
	tampered["Message"] = "all fine"
	if Verify(tampered, cert) == nil {
		t.Error("a tampered message verified")
	}
	if attrs := n["MessageAttributes"].(map[string]any)["severity"].(map[string]any); attrs["Type"] != "String" || attrs["Value"] != "high" {
		t.Errorf("attributes: %v", attrs)
	}
	if h := sub.hdrs[1]; h.Get("x-amz-sns-message-type") != "Notification" || h.Get("x-amz-sns-message-id") != n["MessageId"] ||
		!strings.HasPrefix(h.Get("x-amz-sns-subscription-arn"), arn+":") || h.Get("User-Agent") != "Amazon Simple Notification Service Agent" {
		t.Errorf("notification headers: %v", h)
	}
	if ok := <-r.obs.done; !ok {
		t.Error("delivery not counted")
	}
	// State and key survive a restart: the same topic, the same confirmed
	// subscription, the same certificate.
	_ = r.svc.Close()
	r2 := newRig(t, Options{Dir: dir})
	if got := r2.must("GetTopicAttributes", map[string]any{"TopicArn": arn})["Attributes"].(map[string]any); got["SubscriptionsConfirmed"] != "1" || got["DisplayName"] != "Ops" {
		t.Errorf("after restart: %v", got)
	}
	if string(r2.cert()) != string(cert) {
		t.Error("signing certificate changed across a restart")
	}
	// Unsubscribe through UnsubscribeURL.
	resp, err = http.Get(strings.Replace(n["UnsubscribeURL"].(string), r.front.URL, r2.front.URL, 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := r2.must("ListSubscriptions", map[string]any{})["Subscriptions"].([]any); len(got) != 0 || resp.StatusCode != 200 {
		t.Errorf("after unsubscribe: %s %v", resp.Status, got)
	}
}

func TestFailingSubscriberRetriesThenCounts(t *testing.T) {
	r := newRig(t, Options{})
	sub, hs := newSubscriber(t)
	arn := r.must("CreateTopic", map[string]any{"Name": "t"})["TopicArn"].(string)
	r.must("Subscribe", map[string]any{"TopicArn": arn, "Protocol": "http", "Endpoint": hs.URL})
	conf := sub.next(t)
	if _, err := r.call("ConfirmSubscription", map[string]any{"TopicArn": arn, "Token": conf["Token"]}); err != nil {
		t.Fatal(err)
	}
	sub.mu.Lock()
	sub.status = 500
	sub.mu.Unlock()
	r.must("Publish", map[string]any{"TopicArn": arn, "Message": "m"})
	for range 4 {
		sub.next(t)
	}
	if ok := <-r.obs.done; ok {
		t.Fatal("a failing delivery counted as delivered")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// SNS's default policy: 3 retries, 20 s apart.
	if len(r.sleeps) != 3 || r.sleeps[0] != 20*time.Second || r.sleeps[2] != 20*time.Second {
		t.Errorf("retry delays: %v", r.sleeps)
	}
}

func TestHangingSubscriberCostsOnlyItsOwnQueue(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	defer hang.Close()
	defer close(release)
	client := newClient(false)
	client.Timeout = 100 * time.Millisecond
	r := newRig(t, Options{HTTPClient: client})
	good, ghs := newSubscriber(t)
	arn := r.must("CreateTopic", map[string]any{"Name": "t"})["TopicArn"].(string)
	for _, ep := range []string{hang.URL, ghs.URL} {
		r.must("Subscribe", map[string]any{"TopicArn": arn, "Protocol": "http", "Endpoint": ep})
	}
	conf := good.next(t)
	r.must("ConfirmSubscription", map[string]any{"TopicArn": arn, "Token": conf["Token"]})
	// The hanging one never confirms; confirm it by its token anyway so
	// that notifications go to it.
	r.svc.mu.Lock()
	for _, s := range r.svc.subs {
		s.Confirmed = true
	}
	r.svc.mu.Unlock()
	start := time.Now()
	r.must("Publish", map[string]any{"TopicArn": arn, "Message": "m"})
	if time.Since(start) > time.Second {
		t.Fatal("Publish waited for a subscriber")
	}
	if m := good.next(t); m["Message"] != "m" {
		t.Fatalf("good subscriber: %v", m)
	}
}

func TestRefusedEndpointsAndErrors(t *testing.T) {
	r := newRig(t, Options{})
	arn := r.must("CreateTopic", map[string]any{"Name": "t"})["TopicArn"].(string)
	for name, c := range map[string]struct {
		op, typ, text string
		in            map[string]any
	}{
		"remote http":        {"Subscribe", "InvalidParameterException", "not a loopback address", map[string]any{"TopicArn": arn, "Protocol": "http", "Endpoint": "http://192.0.2.1/hook"}},
		"scheme mismatch":    {"Subscribe", "InvalidParameterException", "Endpoint", map[string]any{"TopicArn": arn, "Protocol": "https", "Endpoint": "http://127.0.0.1/x"}},
		"email":              {"Subscribe", "InvalidParameterException", "does not support this protocol", map[string]any{"TopicArn": arn, "Protocol": "email", "Endpoint": "a@b.c"}},
		"filter policy":      {"Subscribe", "InvalidParameterException", "FilterPolicy is not supported", map[string]any{"TopicArn": arn, "Protocol": "http", "Endpoint": "http://127.0.0.1/x", "Attributes": map[string]string{"FilterPolicy": "{}"}}},
		"missing topic":      {"Publish", "NotFoundException", "Topic does not exist", map[string]any{"TopicArn": arn + "x", "Message": "m"}},
		"bad topic name":     {"CreateTopic", "InvalidParameterException", "Topic Name", map[string]any{"Name": "a b"}},
		"bad subject":        {"Publish", "InvalidParameterException", "Subject", map[string]any{"TopicArn": arn, "Message": "m", "Subject": "a\nb"}},
		"bad token":          {"ConfirmSubscription", "InvalidParameterException", "Token", map[string]any{"TopicArn": arn, "Token": "nope"}},
		"sms":                {"Publish", "InvalidParameterException", "SMS", map[string]any{"PhoneNumber": "+15555550100", "Message": "m"}},
		"attr without value": {"Publish", "InvalidParameterValueException", "must contain non-empty", map[string]any{"TopicArn": arn, "Message": "m", "MessageAttributes": map[string]any{"a": map[string]string{"DataType": "String"}}}},
		"unknown attribute":  {"SetTopicAttributes", "InvalidParameterException", "KmsMasterKeyId", map[string]any{"TopicArn": arn, "AttributeName": "KmsMasterKeyId", "AttributeValue": "k"}},
	} {
		_, err := r.call(c.op, c.in)
		ae, ok := err.(*awsproto.Error)
		if !ok || ae.Type != c.typ || !strings.Contains(ae.Message, c.text) {
			t.Errorf("%s: %v, want %s containing %q", name, err, c.typ, c.text)
		}
	}
	// The dialer refuses a remote address even when a subscription got in
	// (allowed at subscribe time by a name that later points elsewhere).
	if err := loopbackOnly("tcp", "192.0.2.1:80", nil); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("remote dial: %v", err)
	}
	if err := loopbackOnly("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("loopback dial: %v", err)
	}
}

type fakeInvoker struct {
	mu    sync.Mutex
	calls []string
	done  chan string
}

func (f *fakeInvoker) Invoke(ctx context.Context, arn string, payload []byte) ([]byte, string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, arn)
	f.mu.Unlock()
	f.done <- string(payload)
	return []byte("null"), "", nil
}

func TestLambdaSubscription(t *testing.T) {
	inv := &fakeInvoker{done: make(chan string, 10)}
	r := newRig(t, Options{Invoker: inv})
	arn := r.must("CreateTopic", map[string]any{"Name": "t"})["TopicArn"].(string)
	fn := "arn:aws:lambda:us-east-1:000000000000:function:remediate"
	got := r.must("Subscribe", map[string]any{"TopicArn": arn, "Protocol": "lambda", "Endpoint": fn})
	if !strings.HasPrefix(got["SubscriptionArn"].(string), arn+":") {
		t.Fatalf("lambda subscriptions are confirmed at once: %v", got)
	}
	if err := r.svc.Publish(context.Background(), arn, "ALARM: x", `{"AlarmName":"x"}`); err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Records []struct {
			EventSource string
			Sns         map[string]any
		}
	}
	select {
	case p := <-inv.done:
		if err := json.Unmarshal([]byte(p), &ev); err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("function not invoked")
	}
	if len(ev.Records) != 1 || ev.Records[0].EventSource != "aws:sns" || ev.Records[0].Sns["Message"] != `{"AlarmName":"x"}` || ev.Records[0].Sns["Subject"] != "ALARM: x" {
		t.Errorf("event: %+v", ev)
	}
}

func TestRetryDelays(t *testing.T) {
	p, err := parseDeliveryPolicy(`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":9,"numRetries":6,"numNoDelayRetries":1,"numMinDelayRetries":1,"numMaxDelayRetries":1,"backoffFunction":"linear"}}}`)
	if err != nil {
		t.Fatal(err)
	}
	var got []time.Duration
	for n := 1; n <= 6; n++ {
		got = append(got, p.delay(n))
	}
	want := []time.Duration{0, time.Second, time.Second, 5 * time.Second, 9 * time.Second, 9 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delays %v, want %v", got, want)
		}
	}
	if _, err := parseDeliveryPolicy(`{"healthyRetryPolicy":{"minDelayTarget":0,"maxDelayTarget":1,"numRetries":1}}`); err == nil {
		t.Error("minDelayTarget 0 accepted")
	}
}
