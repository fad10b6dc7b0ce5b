package sns

import (
	"context"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// subscriptionAttrs are the subscription attributes hydrant honours.
var subscriptionAttrs = map[string]bool{"RawMessageDelivery": true, "DeliveryPolicy": true}

func (s *Service) subscribe(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TopicArn, Protocol, Endpoint string
		Attributes                   map[string]string
		ReturnSubscriptionArn        bool
	}
	if err := s.model.Decode("Subscribe", body, &in); err != nil {
		return nil, err
	}
	for k, v := range in.Attributes {
		if !subscriptionAttrs[k] {
			return nil, invalidParameter("Attributes Reason: %s is not supported by hydrant (RawMessageDelivery, DeliveryPolicy)", k)
		}
		if k == "RawMessageDelivery" && v != "true" && v != "false" {
			return nil, invalidParameter("Attributes Reason: RawMessageDelivery: Invalid value [%s]. Must be true or false.", v)
		}
		if k == "DeliveryPolicy" {
			if _, err := parseDeliveryPolicy(v); err != nil {
				return nil, invalidParameter("Attributes Reason: DeliveryPolicy: %v", err)
			}
		}
	}
	switch in.Protocol {
	case "http", "https":
		if err := s.checkEndpoint(in.Protocol, in.Endpoint); err != nil {
			return nil, err
		}
	case "lambda":
		if !strings.HasPrefix(in.Endpoint, "arn:aws:lambda:") {
			return nil, invalidParameter("Lambda endpoint ARN")
		}
		if s.opts.Invoker == nil {
			return nil, invalidParameter("Protocol: lambda needs hydrant's functions")
		}
	default:
		return nil, invalidParameter("Amazon SNS does not support this protocol string: %s (hydrant delivers to http, https and lambda)", in.Protocol)
	}
	s.mu.Lock()
	t, err := s.topicOf(in.TopicArn)
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	for _, sub := range s.subs {
		if sub.TopicArn == t.Arn && sub.Protocol == in.Protocol && sub.Endpoint == in.Endpoint {
			arn := sub.Arn
			if !sub.Confirmed && !in.ReturnSubscriptionArn {
				arn = pendingArn
			}
			s.mu.Unlock()
			return map[string]string{"SubscriptionArn": arn}, nil
		}
	}
	if len(s.subs) >= maxSubscriptions {
		s.mu.Unlock()
		return nil, awsproto.Errorf("SubscriptionLimitExceededException", "Subscription limit exceeded")
	}
	sub := &subscription{Arn: t.Arn + ":" + uuid.NewString(), TopicArn: t.Arn, Protocol: in.Protocol, Endpoint: in.Endpoint, Attributes: in.Attributes}
	if in.Protocol == "lambda" {
		sub.Confirmed = true
	} else {
		sub.Token = newToken()
	}
	s.subs[sub.Arn] = sub
	err = s.save()
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	arn := sub.Arn
	if !sub.Confirmed {
		s.sendConfirmation(sub)
		if !in.ReturnSubscriptionArn {
			arn = pendingArn
		}
	}
	return map[string]string{"SubscriptionArn": arn}, nil
}

// checkEndpoint refuses http endpoints hydrant will not call: a bad URL,
// the wrong scheme, or (without AllowRemote) a host that is not loopback.
// The dialer checks again when it connects (a name may change address).
func (s *Service) checkEndpoint(protocol, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != protocol || u.Host == "" {
		return invalidParameter("Endpoint")
	}
	if s.opts.AllowRemote {
		return nil
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil {
		addrs, err := net.DefaultResolver.LookupIPAddr(context.Background(), host)
		if err != nil || len(addrs) == 0 {
			return invalidParameter("Endpoint: cannot resolve %s", host)
		}
		for _, a := range addrs {
			if !a.IP.IsLoopback() {
				return invalidParameter("Endpoint: %s is not a loopback address; hydrant delivers outside this machine only with --sns-allow-remote", host)
			}
		}
		return nil
	}
	if !ip.IsLoopback() {
		return invalidParameter("Endpoint: %s is not a loopback address; hydrant delivers outside this machine only with --sns-allow-remote", host)
	}
	return nil
}

func (s *Service) confirmSubscription(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TopicArn, Token, AuthenticateOnUnsubscribe string
	}
	if err := s.model.Decode("ConfirmSubscription", body, &in); err != nil {
		return nil, err
	}
	arn, err := s.confirm(in.TopicArn, in.Token)
	if err != nil {
		return nil, err
	}
	return map[string]string{"SubscriptionArn": arn}, nil
}

// confirm confirms the pending subscription a token names.
func (s *Service) confirm(topicArn, token string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.topicOf(topicArn); err != nil {
		return "", err
	}
	if token == "" {
		return "", invalidParameter("Token")
	}
	for _, sub := range s.subs {
		if sub.TopicArn == topicArn && sub.Token == token {
			if !sub.Confirmed {
				sub.Confirmed = true
				if err := s.save(); err != nil {
					return "", err
				}
			}
			return sub.Arn, nil
		}
	}
	return "", invalidParameter("Token")
}

func (s *Service) unsubscribe(ctx context.Context, body []byte) (any, error) {
	var in struct{ SubscriptionArn string }
	if err := s.model.Decode("Unsubscribe", body, &in); err != nil {
		return nil, err
	}
	return nil, s.removeSubscription(in.SubscriptionArn)
}

func (s *Service) removeSubscription(arn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sub := s.subs[arn]
	if sub == nil {
		if strings.Count(arn, ":") < 6 {
			return invalidParameter("SubscriptionArn")
		}
		return notFound("Subscription does not exist")
	}
	delete(s.subs, arn)
	if t := s.topics[sub.TopicArn]; t != nil {
		t.Deleted++
	}
	return s.save()
}

func (s *Service) listSubscriptions(ctx context.Context, body []byte) (any, error) {
	var in struct{ NextToken string }
	if err := s.model.Decode("ListSubscriptions", body, &in); err != nil {
		return nil, err
	}
	return s.subscriptionPage("", in.NextToken)
}

func (s *Service) listSubscriptionsByTopic(ctx context.Context, body []byte) (any, error) {
	var in struct{ TopicArn, NextToken string }
	if err := s.model.Decode("ListSubscriptionsByTopic", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	_, err := s.topicOf(in.TopicArn)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return s.subscriptionPage(in.TopicArn, in.NextToken)
}

func (s *Service) subscriptionPage(topicArn, token string) (any, error) {
	s.mu.Lock()
	byArn := map[string]*subscription{}
	var arns []string
	for _, sub := range s.subs {
		if topicArn == "" || sub.TopicArn == topicArn {
			c := *sub
			byArn[sub.Arn] = &c
			arns = append(arns, sub.Arn)
		}
	}
	s.mu.Unlock()
	sort.Strings(arns)
	page, next, _ := paginate(arns, token)
	out := struct {
		Subscriptions []map[string]string
		NextToken     string `json:",omitempty"`
	}{Subscriptions: []map[string]string{}, NextToken: next}
	for _, a := range page {
		sub := byArn[a]
		arn := sub.Arn
		if !sub.Confirmed {
			arn = pendingListArn
		}
		out.Subscriptions = append(out.Subscriptions, map[string]string{"SubscriptionArn": arn, "Owner": s.opts.AccountID,
			"Protocol": sub.Protocol, "Endpoint": sub.Endpoint, "TopicArn": sub.TopicArn})
	}
	return out, nil
}
