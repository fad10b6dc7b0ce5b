// Package sns serves the Amazon SNS API subset hydrant implements: topics
// (CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes, tags),
// subscriptions (Subscribe, ConfirmSubscription, Unsubscribe,
// ListSubscriptions, ListSubscriptionsByTopic) and Publish, with
// deliveries to http/https endpoints (SNS's JSON envelope and headers,
// signed with SignatureVersion 2, the SubscriptionConfirmation handshake,
// retries per SNS's default HTTP delivery policy) and to Lambda functions
// (hydrant's own, or remote ones through the invoker).
//
// CloudWatch alarms publish their notifications here (Service.Publish).
// Topics and subscriptions live in <data-dir>/sns/state.json; the signing
// key and its certificate beside it.
package sns

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// Invoker runs Lambda functions (internal/lambda's Router implements it).
type Invoker interface {
	Invoke(ctx context.Context, functionARN string, payload []byte) (result []byte, functionError string, err error)
}

// Observer receives the AWS/SNS metrics.
type Observer interface {
	// Published reports a message published to a topic, and its size.
	Published(topic string, bytes int)
	// Notified reports a notification delivered to a subscription, or
	// given up on after its retries.
	Notified(topic string, ok bool)
}

// Options configure the service.
type Options struct {
	// Dir keeps the state and the signing key (<data-dir>/sns); "" keeps
	// state in memory with a key made at start.
	Dir       string
	Region    string
	AccountID string
	// Endpoint is the URL subscribers reach hydrant at (SigningCertURL,
	// SubscribeURL and UnsubscribeURL are under it).
	Endpoint string
	// AllowRemote lets http/https subscriptions deliver to addresses
	// outside loopback (--sns-allow-remote); by default hydrant cannot be
	// made to send requests elsewhere.
	AllowRemote bool
	// Invoker runs lambda subscriptions; nil refuses the protocol.
	Invoker  Invoker
	Observer Observer
	Logger   *slog.Logger
	// HTTPClient delivers http/https notifications; nil builds one with
	// SNS's 15 s timeout that refuses non-loopback addresses unless
	// AllowRemote.
	HTTPClient *http.Client
	// Sleep waits between delivery attempts; nil waits on a timer (tests
	// inject their own).
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the SNS API and its deliveries.
type Service struct {
	opts   Options
	log    *slog.Logger
	model  *awsproto.Model
	signer *signer
	client *http.Client

	mu      sync.Mutex
	topics  map[string]*topic        // by ARN
	subs    map[string]*subscription // by ARN
	workers map[string]*worker       // by subscription ARN

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type tag struct{ Key, Value string }

type topic struct {
	Arn        string
	Name       string
	Attributes map[string]string
	Tags       []tag `json:",omitempty"`
	Deleted    int
}

type subscription struct {
	Arn        string
	TopicArn   string
	Protocol   string
	Endpoint   string
	Token      string
	Confirmed  bool
	Attributes map[string]string `json:",omitempty"`
}

// Limits.
const (
	maxMessageBytes    = 256 * 1024
	maxTopics          = 1000
	maxSubscriptions   = 1000
	maxQueued          = 1000 // notifications waiting per subscription
	maxMessageAttrs    = 10
	listPageSize       = 100
	pendingArn         = "pending confirmation"
	pendingListArn     = "PendingConfirmation"
	confirmPath        = "/_hydrant/sns/confirm"
	unsubscribePath    = "/_hydrant/sns/unsubscribe"
	certPathPrefix     = "/_hydrant/sns/"
	defaultDisplayName = ""
)

// New opens the service: its state, its signing key.
func New(opts Options) (*Service, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := awsproto.LoadModel("sns-2010-03-31")
	if err != nil {
		return nil, err
	}
	sg, err := loadSigner(opts.Dir)
	if err != nil {
		return nil, err
	}
	s := &Service{opts: opts, log: log, model: m, signer: sg, topics: map[string]*topic{}, subs: map[string]*subscription{}, workers: map[string]*worker{}}
	s.client = opts.HTTPClient
	if s.client == nil {
		s.client = newClient(opts.AllowRemote)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops the deliveries in progress (they are not retried later).
func (s *Service) Close() error {
	s.cancel()
	s.wg.Wait()
	return nil
}

// API is the service for the server (awsQuery).
func (s *Service) API() *awsproto.Service {
	return &awsproto.Service{
		SigningName: "sns",
		Model:       s.model,
		MaxBody:     maxMessageBytes + 64*1024,
		Logger:      s.log,
		Ops: map[string]awsproto.JSONHandler{
			"CreateTopic":              s.createTopic,
			"DeleteTopic":              s.deleteTopic,
			"ListTopics":               s.listTopics,
			"GetTopicAttributes":       s.getTopicAttributes,
			"SetTopicAttributes":       s.setTopicAttributes,
			"Subscribe":                s.subscribe,
			"ConfirmSubscription":      s.confirmSubscription,
			"Unsubscribe":              s.unsubscribe,
			"ListSubscriptions":        s.listSubscriptions,
			"ListSubscriptionsByTopic": s.listSubscriptionsByTopic,
			"Publish":                  s.publish,
			"TagResource":              s.tagResource,
			"UntagResource":            s.untagResource,
			"ListTagsForResource":      s.listTagsForResource,
		},
	}
}

// Handler serves the public endpoints subscribers use: the signing
// certificate, SubscribeURL and UnsubscribeURL. They are capability URLs
// (the token, the subscription's random ARN), as in SNS, and carry no
// record data.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+certPathPrefix+"{file}", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case confirmPath:
			s.handleConfirm(w, r)
			return
		case unsubscribePath:
			s.handleUnsubscribe(w, r)
			return
		}
		if r.PathValue("file") != s.signer.name {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(s.signer.certPEM)
	})
	return mux
}

// Prefix is where Handler's endpoints live.
const Prefix = "/_hydrant/sns/"

func (s *Service) handleConfirm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	arn, err := s.confirm(q.Get("TopicArn"), q.Get("Token"))
	if err != nil {
		s.API().WriteQueryError(w, asAPIError(err))
		return
	}
	b, _ := s.model.QueryResultXML("ConfirmSubscription", map[string]string{"SubscriptionArn": arn}, uuid.NewString())
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b)
}

func (s *Service) handleUnsubscribe(w http.ResponseWriter, r *http.Request) {
	if err := s.removeSubscription(r.URL.Query().Get("SubscriptionArn")); err != nil {
		s.API().WriteQueryError(w, asAPIError(err))
		return
	}
	b, _ := s.model.QueryResultXML("Unsubscribe", nil, uuid.NewString())
	w.Header().Set("Content-Type", "text/xml")
	_, _ = w.Write(b)
}

func asAPIError(err error) *awsproto.Error {
	if ae, ok := err.(*awsproto.Error); ok {
		return ae
	}
	return awsproto.Internal()
}

// SNS's error shapes.
func invalidParameter(format string, args ...any) error {
	return awsproto.Errorf("InvalidParameterException", "Invalid parameter: "+format, args...)
}

func notFound(msg string) error {
	e := awsproto.Errorf("NotFoundException", "%s", msg)
	e.Status = http.StatusNotFound
	return e
}

var topicNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func (s *Service) topicARN(name string) string {
	return "arn:aws:sns:" + s.opts.Region + ":" + s.opts.AccountID + ":" + name
}

// topicAttrs are the topic attributes hydrant keeps; others are refused.
var topicAttrs = []string{"DisplayName", "Policy", "DeliveryPolicy"}

func (s *Service) createTopic(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Name                 string
		Attributes           map[string]string
		Tags                 []tag
		DataProtectionPolicy string
	}
	if err := s.model.Decode("CreateTopic", body, &in); err != nil {
		return nil, err
	}
	if !topicNamePattern.MatchString(in.Name) {
		if strings.HasSuffix(in.Name, ".fifo") {
			return nil, invalidParameter("Topic Name: FIFO topics are not supported by hydrant")
		}
		return nil, invalidParameter("Topic Name")
	}
	if in.DataProtectionPolicy != "" {
		return nil, invalidParameter("DataProtectionPolicy: not supported by hydrant")
	}
	for k, v := range in.Attributes {
		if err := checkTopicAttr(k, v); err != nil {
			return nil, err
		}
	}
	arn := s.topicARN(in.Name)
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.topics[arn]; t != nil {
		for k, v := range in.Attributes {
			if t.Attributes[k] != v {
				return nil, invalidParameter("Attributes Reason: Topic already exists with different attributes")
			}
		}
		return map[string]string{"TopicArn": arn}, nil
	}
	if len(s.topics) >= maxTopics {
		return nil, awsproto.Errorf("TopicLimitExceededException", "Topic limit exceeded")
	}
	attrs := map[string]string{}
	for k, v := range in.Attributes {
		attrs[k] = v
	}
	s.topics[arn] = &topic{Arn: arn, Name: in.Name, Attributes: attrs, Tags: in.Tags}
	return map[string]string{"TopicArn": arn}, s.save()
}

func checkTopicAttr(k, v string) error {
	if !slices.Contains(topicAttrs, k) {
		return invalidParameter("AttributeName: %s is not supported by hydrant (DisplayName, Policy, DeliveryPolicy)", k)
	}
	switch k {
	case "Policy", "DeliveryPolicy":
		if v != "" && !json.Valid([]byte(v)) {
			return invalidParameter("Attributes Reason: %s: the value is not valid JSON", k)
		}
		if k == "DeliveryPolicy" && v != "" {
			if _, err := parseDeliveryPolicy(v); err != nil {
				return invalidParameter("Attributes Reason: DeliveryPolicy: %v", err)
			}
		}
	case "DisplayName":
		if len(v) > 100 {
			return invalidParameter("Attributes Reason: DisplayName must be at most 100 characters")
		}
	}
	return nil
}

func (s *Service) topicOf(arn string) (*topic, error) {
	if t := s.topics[arn]; t != nil {
		return t, nil
	}
	if !strings.HasPrefix(arn, "arn:aws:sns:") {
		return nil, invalidParameter("TopicArn")
	}
	return nil, notFound("Topic does not exist")
}

func (s *Service) deleteTopic(ctx context.Context, body []byte) (any, error) {
	var in struct{ TopicArn string }
	if err := s.model.Decode("DeleteTopic", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.topicOf(in.TopicArn); err != nil {
		return nil, err
	}
	delete(s.topics, in.TopicArn)
	for arn, sub := range s.subs {
		if sub.TopicArn == in.TopicArn {
			delete(s.subs, arn)
		}
	}
	return nil, s.save()
}

func (s *Service) listTopics(ctx context.Context, body []byte) (any, error) {
	var in struct{ NextToken string }
	if err := s.model.Decode("ListTopics", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	arns := make([]string, 0, len(s.topics))
	for arn := range s.topics {
		arns = append(arns, arn)
	}
	s.mu.Unlock()
	sort.Strings(arns)
	page, next, err := paginate(arns, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := struct {
		Topics    []map[string]string
		NextToken string `json:",omitempty"`
	}{Topics: []map[string]string{}, NextToken: next}
	for _, a := range page {
		out.Topics = append(out.Topics, map[string]string{"TopicArn": a})
	}
	return out, nil
}

// paginate pages a sorted list of ARNs: the token is the last ARN of the
// previous page.
func paginate(list []string, token string) ([]string, string, error) {
	start := 0
	if token != "" {
		i := sort.SearchStrings(list, token)
		if i < len(list) && list[i] == token {
			i++
		}
		start = i
	}
	end := min(start+listPageSize, len(list))
	next := ""
	if end < len(list) {
		next = list[end-1]
	}
	return list[start:end], next, nil
}

func (s *Service) getTopicAttributes(ctx context.Context, body []byte) (any, error) {
	var in struct{ TopicArn string }
	if err := s.model.Decode("GetTopicAttributes", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.topicOf(in.TopicArn)
	if err != nil {
		return nil, err
	}
	confirmed, pending := 0, 0
	for _, sub := range s.subs {
		if sub.TopicArn == t.Arn {
			if sub.Confirmed {
				confirmed++
			} else {
				pending++
			}
		}
	}
	attrs := map[string]string{
		"TopicArn": t.Arn, "Owner": s.opts.AccountID, "DisplayName": t.Attributes["DisplayName"],
		"SubscriptionsConfirmed": fmt.Sprint(confirmed), "SubscriptionsPending": fmt.Sprint(pending),
		"SubscriptionsDeleted": fmt.Sprint(t.Deleted), "Policy": t.Attributes["Policy"],
		"EffectiveDeliveryPolicy": effectivePolicyJSON(t.Attributes["DeliveryPolicy"]),
	}
	if attrs["Policy"] == "" {
		attrs["Policy"] = s.defaultPolicy(t.Arn)
	}
	if v := t.Attributes["DeliveryPolicy"]; v != "" {
		attrs["DeliveryPolicy"] = v
	}
	return map[string]any{"Attributes": attrs}, nil
}

// defaultPolicy is the access policy SNS gives a new topic.
func (s *Service) defaultPolicy(arn string) string {
	b, _ := json.Marshal(map[string]any{"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": []any{map[string]any{
		"Sid": "__default_statement_ID", "Effect": "Allow", "Principal": map[string]string{"AWS": "*"},
		"Action":    []string{"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"},
		"Resource":  arn,
		"Condition": map[string]any{"StringEquals": map[string]string{"AWS:SourceOwner": s.opts.AccountID}},
	}}})
	return string(b)
}

func (s *Service) setTopicAttributes(ctx context.Context, body []byte) (any, error) {
	var in struct{ TopicArn, AttributeName, AttributeValue string }
	if err := s.model.Decode("SetTopicAttributes", body, &in); err != nil {
		return nil, err
	}
	if err := checkTopicAttr(in.AttributeName, in.AttributeValue); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.topicOf(in.TopicArn)
	if err != nil {
		return nil, err
	}
	t.Attributes[in.AttributeName] = in.AttributeValue
	return nil, s.save()
}

func (s *Service) tagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceArn string
		Tags        []tag
	}
	if err := s.model.Decode("TagResource", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[in.ResourceArn]
	if t == nil {
		e := awsproto.Errorf("ResourceNotFoundException", "Resource does not exist")
		e.Status = http.StatusNotFound
		return nil, e
	}
	for _, nt := range in.Tags {
		if i := slices.IndexFunc(t.Tags, func(x tag) bool { return x.Key == nt.Key }); i >= 0 {
			t.Tags[i].Value = nt.Value
		} else {
			t.Tags = append(t.Tags, nt)
		}
	}
	if len(t.Tags) > 50 {
		return nil, awsproto.Errorf("TagLimitExceededException", "Could not complete request: tag quota of per resource exceeded")
	}
	return nil, s.save()
}

func (s *Service) untagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceArn string
		TagKeys     []string
	}
	if err := s.model.Decode("UntagResource", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[in.ResourceArn]
	if t == nil {
		e := awsproto.Errorf("ResourceNotFoundException", "Resource does not exist")
		e.Status = http.StatusNotFound
		return nil, e
	}
	t.Tags = slices.DeleteFunc(t.Tags, func(x tag) bool { return slices.Contains(in.TagKeys, x.Key) })
	return nil, s.save()
}

func (s *Service) listTagsForResource(ctx context.Context, body []byte) (any, error) {
	var in struct{ ResourceArn string }
	if err := s.model.Decode("ListTagsForResource", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.topics[in.ResourceArn]
	if t == nil {
		e := awsproto.Errorf("ResourceNotFoundException", "Resource does not exist")
		e.Status = http.StatusNotFound
		return nil, e
	}
	tags := t.Tags
	if tags == nil {
		tags = []tag{}
	}
	return map[string]any{"Tags": tags}, nil
}

// save writes state.json; s.mu is held.
func (s *Service) save() error {
	if s.opts.Dir == "" {
		return nil
	}
	doc := struct {
		Topics        []*topic
		Subscriptions []*subscription
	}{}
	for _, t := range s.topics {
		doc.Topics = append(doc.Topics, t)
	}
	for _, sub := range s.subs {
		doc.Subscriptions = append(doc.Subscriptions, sub)
	}
	sort.Slice(doc.Topics, func(i, j int) bool { return doc.Topics[i].Arn < doc.Topics[j].Arn })
	sort.Slice(doc.Subscriptions, func(i, j int) bool { return doc.Subscriptions[i].Arn < doc.Subscriptions[j].Arn })
	b, err := json.MarshalIndent(doc, "", " ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(s.opts.Dir, "state.json"), b, 0o600)
}

func (s *Service) load() error {
	if s.opts.Dir == "" {
		return nil
	}
	b, err := os.ReadFile(filepath.Join(s.opts.Dir, "state.json"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read sns state: %w", err)
	}
	var doc struct {
		Topics        []*topic
		Subscriptions []*subscription
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("read sns state: %w", err)
	}
	for _, t := range doc.Topics {
		if t.Attributes == nil {
			t.Attributes = map[string]string{}
		}
		s.topics[t.Arn] = t
	}
	for _, sub := range doc.Subscriptions {
		s.subs[sub.Arn] = sub
	}
	return nil
}

func newToken() string {
	b := make([]byte, 64)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
