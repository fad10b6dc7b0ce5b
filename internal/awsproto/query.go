package awsproto

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ContentTypeForm is the content type of awsQuery requests.
const ContentTypeForm = "application/x-www-form-urlencoded"

// ServeQuery serves an awsQuery request: POST with a form body (or GET with
// the parameters in the query string) whose Action names the operation.
// The form is turned into the operation's awsJson input along the model,
// and the result written as the XML awsQuery clients parse.
func (s *Service) ServeQuery(w http.ResponseWriter, r *http.Request) {
	s.serve(w, r, "", queryCodec{query: r.URL.RawQuery, get: r.Method == http.MethodGet})
}

// queryCodec is the awsQuery protocol.
type queryCodec struct {
	query string // the URL's query string: the parameters of a GET
	get   bool
}

func (c queryCodec) input(s *Service, _ string, body []byte) (string, []byte, *Error) {
	raw := string(body)
	if c.get {
		raw = c.query
	}
	form, err := url.ParseQuery(raw)
	if err != nil {
		return "", nil, &Error{Type: "MalformedQueryString", Message: "Could not parse the request parameters: " + err.Error(), Status: http.StatusBadRequest}
	}
	op := form.Get("Action")
	if op == "" {
		return "", nil, &Error{Type: "MissingAction", Message: "Could not find operation: the request has no Action parameter.", Status: http.StatusBadRequest}
	}
	if _, ok := s.Ops[op]; !ok {
		return "", nil, &Error{Type: "InvalidAction", Message: "Could not find operation " + op + " for version " + s.Model.Metadata.APIVersion, Status: http.StatusBadRequest}
	}
	in, aerr := s.Model.QueryToJSON(op, form)
	return op, in, aerr
}

func (queryCodec) result(w http.ResponseWriter, s *Service, op string, res any) error {
	b, err := s.Model.QueryResultXML(op, res, w.Header().Get("x-amzn-RequestId"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
	return nil
}

func (queryCodec) fail(w http.ResponseWriter, s *Service, e *Error, reqID string) {
	code, fault := s.Model.queryErrorCode(e)
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<ErrorResponse`)
	if ns := s.Model.Metadata.XMLNamespace; ns != "" {
		b.WriteString(` xmlns="` + xmlEscape(ns) + `"`)
	}
	b.WriteString(`><Error><Type>` + fault + `</Type><Code>` + xmlEscape(code) + `</Code><Message>` + xmlEscape(e.Message) + `</Message>`)
	for _, k := range sortedKeys(e.Fields) {
		if v, ok := e.Fields[k].(string); ok {
			b.WriteString("<" + k + ">" + xmlEscape(v) + "</" + k + ">")
		}
	}
	b.WriteString(`</Error><RequestId>` + reqID + `</RequestId></ErrorResponse>`)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status())
	_, _ = w.Write(b.Bytes())
}

// queryErrorCode is the code awsQuery clients see for e ("NoSuchEntity" for
// IAM's NoSuchEntityException, from the shape's error trait) and whether
// it is the Sender's or the Receiver's fault.
func (m *Model) queryErrorCode(e *Error) (code, fault string) {
	code, fault = e.Type, "Sender"
	if e.status() >= 500 {
		fault = "Receiver"
	}
	if m == nil {
		return code, fault
	}
	if sh := m.Shapes[e.Type]; sh != nil && sh.Error != nil {
		if sh.Error.Code != "" {
			code = sh.Error.Code
		}
		if !sh.Error.SenderFault && sh.Error.HTTPStatusCode >= 500 {
			fault = "Receiver"
		}
		return code, fault
	}
	if e.Type == ValidationException {
		// Query services name Coral's validation failure ValidationError.
		code = "ValidationError"
	}
	return code, fault
}

// queryNode is one dotted path component of an awsQuery form:
// "Tags.member.1.Key=v" is Tags → member → 1 → Key = v.
type queryNode struct {
	value    *string
	children map[string]*queryNode
}

func (n *queryNode) child(k string) *queryNode {
	if n == nil {
		return nil
	}
	return n.children[k]
}

// QueryToJSON converts an awsQuery form into op's awsJson input: structure
// members by name (or locationName), lists as Name.member.N (Name.N when
// flattened), maps as Name.entry.N.key/value, timestamps (ISO 8601 or
// epoch seconds) as epoch seconds, booleans and numbers typed. Parameters
// the input shape does not have are ignored, as AWS does. The result is
// validated like an awsJson body, so violations read the same.
func (m *Model) QueryToJSON(op string, form url.Values) ([]byte, *Error) {
	o, ok := m.Operations[op]
	if !ok || o.Input == nil {
		return []byte("{}"), nil
	}
	root := &queryNode{children: map[string]*queryNode{}}
	for k, vs := range form {
		if k == "Action" || k == "Version" || len(vs) == 0 {
			continue
		}
		n := root
		for part := range strings.SplitSeq(k, ".") {
			c := n.children[part]
			if c == nil {
				c = &queryNode{children: map[string]*queryNode{}}
				n.children[part] = c
			}
			n = c
		}
		v := vs[0]
		n.value = &v
	}
	doc, e := m.queryValue(o.Input.Shape, root, "")
	if e != nil {
		return nil, e
	}
	if doc == nil {
		doc = map[string]any{}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, &Error{Type: SerializationException, Message: err.Error(), Status: http.StatusBadRequest}
	}
	if _, aerr := m.Validate(op, b); aerr != nil {
		return nil, aerr
	}
	return b, nil
}

// queryValue builds the JSON value of shape from node; nil when absent.
func (m *Model) queryValue(shape string, n *queryNode, path string) (any, *Error) {
	if n == nil {
		return nil, nil
	}
	s := m.Shapes[shape]
	if s == nil {
		return nil, nil
	}
	switch s.Type {
	case "structure":
		out := map[string]any{}
		for _, mem := range s.Members {
			name := mem.Name
			if mem.Ref.LocationName != "" {
				name = mem.Ref.LocationName
			}
			v, e := m.queryValue(mem.Ref.Shape, n.child(name), memberPath(path, mem.Name))
			if e != nil {
				return nil, e
			}
			if v != nil {
				out[mem.Name] = v
			}
		}
		if len(out) == 0 && n.value == nil && len(n.children) == 0 {
			return nil, nil
		}
		return out, nil
	case "list":
		items := n
		if !s.Flattened {
			name := "member"
			if s.Member != nil && s.Member.LocationName != "" {
				name = s.Member.LocationName
			}
			items = n.child(name)
		}
		out := []any{}
		if items == nil {
			// "Names=" is how an empty list is sent.
			return out, nil
		}
		for _, k := range numericKeys(items.children) {
			v, e := m.queryValue(s.Member.Shape, items.children[k], path)
			if e != nil {
				return nil, e
			}
			out = append(out, v)
		}
		return out, nil
	case "map":
		entries := n
		if !s.Flattened {
			entries = n.child("entry")
		}
		out := map[string]any{}
		if entries == nil {
			return out, nil
		}
		keyName, valName := "key", "value"
		if s.Key != nil && s.Key.LocationName != "" {
			keyName = s.Key.LocationName
		}
		if s.Value != nil && s.Value.LocationName != "" {
			valName = s.Value.LocationName
		}
		for _, k := range numericKeys(entries.children) {
			e := entries.children[k]
			kn := e.child(keyName)
			if kn == nil || kn.value == nil {
				continue
			}
			v, aerr := m.queryValue(s.Value.Shape, e.child(valName), path)
			if aerr != nil {
				return nil, aerr
			}
			out[*kn.value] = v
		}
		return out, nil
	}
	if n.value == nil {
		return nil, nil
	}
	v := *n.value
	switch s.Type {
	case "boolean":
		switch strings.ToLower(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case "integer", "long":
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			return json.Number(v), nil
		}
	case "float", "double":
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return json.Number(v), nil
		}
	case "timestamp":
		if t, ok := ParseTimestamp(v); ok {
			return EpochSeconds(t), nil
		}
	default:
		return v, nil
	}
	return nil, &Error{Type: ValidationException, Status: http.StatusBadRequest,
		Message: "1 validation error detected: Value '" + v + "' at '" + path + "' failed to satisfy constraint: Member must be a valid " + s.Type}
}

// numericKeys are the list indexes among keys ("1", "2", ...), in order.
func numericKeys(m map[string]*queryNode) []string {
	var keys []string
	for k := range m {
		if _, err := strconv.Atoi(k); err == nil {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := strconv.Atoi(keys[i])
		b, _ := strconv.Atoi(keys[j])
		return a < b
	})
	return keys
}

// ParseTimestamp reads a timestamp as AWS clients send it: ISO 8601 (with
// or without fractional seconds or offset), or epoch seconds.
func ParseTimestamp(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04Z07:00", "2006-01-02", time.RFC1123, time.RFC1123Z} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		sec := int64(f)
		return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
	}
	return time.Time{}, false
}

// EpochSeconds is t as awsJson sends timestamps: seconds since the epoch,
// with milliseconds when there are any.
func EpochSeconds(t time.Time) json.Number {
	ms := t.UnixMilli()
	if ms%1000 == 0 {
		return json.Number(strconv.FormatInt(ms/1000, 10))
	}
	return json.Number(strconv.FormatFloat(float64(ms)/1000, 'f', 3, 64))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// WriteQueryError writes e as s's awsQuery error response.
func (s *Service) WriteQueryError(w http.ResponseWriter, e *Error) {
	queryCodec{}.fail(w, s, e, w.Header().Get("x-amzn-RequestId"))
}
