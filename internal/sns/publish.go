package sns

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
)

// messageAttribute is the MessageAttributeValue shape.
type messageAttribute struct {
	DataType    string
	StringValue *string
	BinaryValue []byte
}

// message is one published message, before it is addressed to a
// subscription.
type message struct {
	id        string
	topicArn  string
	subject   string
	body      string            // the default message
	byProto   map[string]string // MessageStructure json: per protocol
	attrs     map[string]messageAttribute
	timestamp string
}

func (m *message) bodyFor(protocol string) string {
	if v, ok := m.byProto[protocol]; ok {
		return v
	}
	return m.body
}

func (s *Service) publish(ctx context.Context, body []byte) (any, error) {
	var in struct {
		TopicArn, TargetArn, PhoneNumber, Message, Subject, MessageStructure string
		MessageAttributes                                                    map[string]messageAttribute
		MessageDeduplicationId, MessageGroupId                               string
	}
	if err := s.model.Decode("Publish", body, &in); err != nil {
		return nil, err
	}
	switch {
	case in.PhoneNumber != "":
		return nil, invalidParameter("PhoneNumber: SMS is not supported by hydrant")
	case in.MessageDeduplicationId != "" || in.MessageGroupId != "":
		return nil, invalidParameter("MessageGroupId: FIFO topics are not supported by hydrant")
	case in.TopicArn != "" && in.TargetArn != "" && in.TopicArn != in.TargetArn:
		return nil, invalidParameter("TopicArn or TargetArn Reason: Only one of them may be given")
	}
	arn := in.TopicArn
	if arn == "" {
		arn = in.TargetArn
	}
	if arn == "" {
		return nil, invalidParameter("TopicArn or TargetArn Reason: Neither was given")
	}
	if len(in.Message) > maxMessageBytes {
		return nil, invalidParameter("Message too long")
	}
	if in.Subject != "" {
		if len(in.Subject) > 100 || strings.ContainsAny(in.Subject, "\r\n") || !isPrintableASCII(in.Subject) {
			return nil, invalidParameter("Subject")
		}
	}
	if len(in.MessageAttributes) > maxMessageAttrs {
		return nil, invalidParameter("MessageAttributes Reason: Number of message attributes [%d] exceeds the allowed maximum [%d].", len(in.MessageAttributes), maxMessageAttrs)
	}
	for name, a := range in.MessageAttributes {
		switch {
		case a.DataType == "Binary" || strings.HasPrefix(a.DataType, "Binary."):
			if a.BinaryValue == nil {
				return nil, awsErrorf("ParameterValueInvalid", "The message attribute '%s' with type 'Binary' must have a binary value.", name)
			}
		case a.DataType == "String" || a.DataType == "Number" || a.DataType == "String.Array" || strings.HasPrefix(a.DataType, "String.") || strings.HasPrefix(a.DataType, "Number."):
			if a.StringValue == nil {
				return nil, awsErrorf("ParameterValueInvalid", "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.", name, a.DataType)
			}
		default:
			return nil, awsErrorf("ParameterValueInvalid", "The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
	}
	m := &message{id: uuid.NewString(), topicArn: arn, subject: in.Subject, body: in.Message, attrs: in.MessageAttributes}
	if in.MessageStructure != "" {
		if in.MessageStructure != "json" {
			return nil, invalidParameter("MessageStructure")
		}
		var per map[string]string
		if err := json.Unmarshal([]byte(in.Message), &per); err != nil {
			return nil, invalidParameter("Message Structure - JSON message body failed to parse")
		}
		def, ok := per["default"]
		if !ok {
			return nil, invalidParameter("Message Structure - No default entry in JSON message body")
		}
		m.body, m.byProto = def, per
	}
	if err := s.send(m); err != nil {
		return nil, err
	}
	return map[string]string{"MessageId": m.id}, nil
}

func isPrintableASCII(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e {
			return false
		}
	}
	return true
}

// Publish sends a message to a topic's subscriptions: CloudWatch alarm
// actions call it. It returns once the notifications are queued.
func (s *Service) Publish(ctx context.Context, topicArn, subject, msg string) error {
	return s.send(&message{id: uuid.NewString(), topicArn: topicArn, subject: subject, body: msg})
}

// send queues m for every confirmed subscription of its topic.
func (s *Service) send(m *message) error {
	m.timestamp = s.opts.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	s.mu.Lock()
	t, err := s.topicOf(m.topicArn)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var targets []*subscription
	for _, sub := range s.subs {
		if sub.TopicArn == t.Arn && sub.Confirmed {
			c := *sub
			targets = append(targets, &c)
		}
	}
	policy := t.Attributes["DeliveryPolicy"]
	name := t.Name
	s.mu.Unlock()
	if o := s.opts.Observer; o != nil {
		o.Published(name, len(m.body))
	}
	for _, sub := range targets {
		s.enqueue(sub, delivery{msg: m, topicPolicy: policy, topicName: name})
	}
	return nil
}

// envelope is the JSON document http/https subscribers receive.
func (s *Service) envelope(sub *subscription, m *message) (map[string]string, []byte, error) {
	doc := map[string]string{
		"Type": "Notification", "MessageId": m.id, "TopicArn": m.topicArn, "Message": m.bodyFor(sub.Protocol),
		"Timestamp": m.timestamp, "SignatureVersion": "2",
	}
	if m.subject != "" {
		doc["Subject"] = m.subject
	}
	sig, err := s.signer.sign(doc)
	if err != nil {
		return nil, nil, err
	}
	doc["Signature"] = sig
	doc["SigningCertURL"] = s.certURL()
	doc["UnsubscribeURL"] = s.opts.Endpoint + unsubscribePath + "?SubscriptionArn=" + queryEscape(sub.Arn)
	out := map[string]any{}
	for k, v := range doc {
		out[k] = v
	}
	if len(m.attrs) > 0 {
		attrs := map[string]map[string]string{}
		for k, a := range m.attrs {
			v := ""
			if a.StringValue != nil {
				v = *a.StringValue
			} else {
				v = base64.StdEncoding.EncodeToString(a.BinaryValue)
			}
			attrs[k] = map[string]string{"Type": a.DataType, "Value": v}
		}
		out["MessageAttributes"] = attrs
	}
	b, err := json.MarshalIndent(out, "", "  ")
	return doc, b, err
}

func (s *Service) certURL() string { return s.opts.Endpoint + certPathPrefix + s.signer.name }

// lambdaEvent is the event a lambda subscription's function receives.
func (s *Service) lambdaEvent(sub *subscription, m *message) ([]byte, error) {
	doc := map[string]string{
		"Type": "Notification", "MessageId": m.id, "TopicArn": m.topicArn, "Message": m.bodyFor("lambda"),
		"Timestamp": m.timestamp, "SignatureVersion": "2",
	}
	if m.subject != "" {
		doc["Subject"] = m.subject
	}
	sig, err := s.signer.sign(doc)
	if err != nil {
		return nil, err
	}
	snsDoc := map[string]any{
		"Type": doc["Type"], "MessageId": m.id, "TopicArn": m.topicArn, "Message": doc["Message"], "Timestamp": m.timestamp,
		"SignatureVersion": "2", "Signature": sig, "SigningCertUrl": s.certURL(),
		"UnsubscribeUrl":    s.opts.Endpoint + unsubscribePath + "?SubscriptionArn=" + queryEscape(sub.Arn),
		"MessageAttributes": map[string]any{},
	}
	if m.subject != "" {
		snsDoc["Subject"] = m.subject
	} else {
		snsDoc["Subject"] = nil
	}
	attrs := map[string]any{}
	for k, a := range m.attrs {
		v := ""
		if a.StringValue != nil {
			v = *a.StringValue
		} else {
			v = base64.StdEncoding.EncodeToString(a.BinaryValue)
		}
		attrs[k] = map[string]string{"Type": a.DataType, "Value": v}
	}
	snsDoc["MessageAttributes"] = attrs
	return json.Marshal(map[string]any{"Records": []any{map[string]any{
		"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": sub.Arn, "Sns": snsDoc,
	}}})
}
