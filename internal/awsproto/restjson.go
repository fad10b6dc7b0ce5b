package awsproto

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// ContentTypeJSON is the content type of restJson1 bodies.
const ContentTypeJSON = "application/json"

// WriteRESTJSONError writes an error the way restJson1 services (Lambda,
// Glue's REST cousins, ...) send it: the type in the X-Amzn-Errortype header,
// which botocore and the Go SDK read first, and a JSON body with the message.
// The body follows the error shape of m when it is given: the message under
// "Message" or "message", whichever the shape declares, and "Type" set to
// "User" or "Service" when the shape has that member (Lambda's do).
func WriteRESTJSONError(w http.ResponseWriter, e *Error, m *Model) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	msgKey := "message"
	body := map[string]any{}
	if m != nil {
		if s := m.Shapes[e.Type]; s != nil {
			for _, mem := range s.Members {
				switch mem.Name {
				case "Message":
					msgKey = "Message"
				case "Type":
					if status >= 500 {
						body["Type"] = "Service"
					} else {
						body["Type"] = "User"
					}
				}
			}
		}
	}
	body[msgKey] = e.Message
	if e.Code != "" {
		body["code"] = e.Code
	}
	for k, v := range e.Fields {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.Header().Set("X-Amzn-Errortype", e.Type)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// WriteRESTJSON writes a restJson1 result with the given status.
func WriteRESTJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteRESTJSONError(w, Internal(), nil)
		return
	}
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// ValidateREST checks a restJson1 request against the input shape of op.
// body is the JSON body (nil or empty for operations without one, or whose
// body is a raw payload); bound holds the members the request carries in its
// URI, query string or headers, keyed by member name ("FunctionName",
// "Qualifier", ...). Bound members take the type their shape declares, so a
// numeric query parameter is checked as a number, and they are reported
// with the same Coral paths as body members ("functionName"). It returns
// the decoded document with the bound members merged in.
func (m *Model) ValidateREST(op string, body []byte, bound map[string]string) (map[string]any, *Error) {
	if len(bound) == 0 {
		return m.Validate(op, body)
	}
	o, ok := m.Operations[op]
	if !ok || o.Input == nil {
		return map[string]any{}, nil
	}
	in := m.Shapes[o.Input.Shape]
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		trimmed = []byte("{}")
	}
	if trimmed[0] != '{' || trimmed[len(trimmed)-1] != '}' {
		// Not an object: let Validate report it as it reports any body.
		return m.Validate(op, body)
	}
	// The bound members are appended after the body's own, so that a body
	// member of the same name (which the real service would ignore) loses:
	// encoding/json keeps the last of duplicate keys.
	var b bytes.Buffer
	b.Grow(len(trimmed) + 64*len(bound))
	inner := bytes.TrimSpace(trimmed[1 : len(trimmed)-1])
	b.WriteByte('{')
	b.Write(inner)
	sep := len(inner) > 0
	if in != nil {
		for _, mem := range in.Members {
			v, ok := bound[mem.Name]
			if !ok {
				continue
			}
			if sep {
				b.WriteByte(',')
			}
			sep = true
			k, _ := json.Marshal(mem.Name)
			b.Write(k)
			b.WriteByte(':')
			b.Write(boundValue(m.Shapes[mem.Ref.Shape], v))
		}
	}
	b.WriteByte('}')
	return m.Validate(op, b.Bytes())
}

// boundValue encodes a URI, query or header value as the JSON value its shape
// expects; a value that does not parse as that type stays a string, so the
// validator reports the type mismatch.
func boundValue(s *Shape, v string) []byte {
	if s != nil {
		switch s.Type {
		case "integer", "long", "float", "double":
			if _, err := strconv.ParseFloat(v, 64); err == nil && json.Valid([]byte(v)) {
				return []byte(v)
			}
		case "boolean":
			if v == "true" || v == "false" {
				return []byte(v)
			}
		}
	}
	q, _ := json.Marshal(v)
	return q
}
