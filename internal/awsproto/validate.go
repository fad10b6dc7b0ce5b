package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxValidationMessages is how many violations a ValidationException lists;
// Coral reports them all, but a message should stay readable.
const maxValidationMessages = 10

// Validate checks a JSON request body against the input shape of op and
// returns the decoded document. Constraint violations (required, length,
// range, pattern, enum) give one ValidationException listing each of them in
// Coral's words; bodies that are not JSON, or values of the wrong JSON type,
// give SerializationException.
func (m *Model) Validate(op string, body []byte) (map[string]any, *Error) {
	o, ok := m.Operations[op]
	if !ok || o.Input == nil {
		return map[string]any{}, nil
	}
	doc := map[string]any{}
	if len(bytes.TrimSpace(body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, &Error{Type: SerializationException, Message: "Could not parse request body into json: " + err.Error(), Status: http.StatusBadRequest}
		}
		if dec.More() {
			return nil, &Error{Type: SerializationException, Message: "Could not parse request body into json: trailing data after the document", Status: http.StatusBadRequest}
		}
	}
	v := validator{m: m}
	v.value(o.Input.Shape, doc, "", true)
	if v.serr != nil {
		return nil, v.serr
	}
	if len(v.msgs) > 0 {
		msgs := make([]string, len(v.msgs))
		for i, fv := range v.msgs {
			msgs[i] = fv.Message
		}
		e := ValidationError(msgs...)
		e.Violations = v.msgs
		return nil, e
	}
	return doc, nil
}

// ValidationError joins violation sentences the way Coral does:
// "N validation error(s) detected: a; b".
func ValidationError(msgs ...string) *Error {
	n := len(msgs)
	if n > maxValidationMessages {
		msgs = msgs[:maxValidationMessages]
	}
	noun := "errors"
	if n == 1 {
		noun = "error"
	}
	return &Error{
		Type:    ValidationException,
		Message: fmt.Sprintf("%d validation %s detected: %s", n, noun, strings.Join(msgs, "; ")),
		Status:  http.StatusBadRequest,
	}
}

// Violation formats one Coral constraint sentence. value is the already
// quoted rendering (see RenderValue), or "" to leave the value out.
func Violation(value, path, constraint string) string {
	if value == "" {
		return fmt.Sprintf("Value at '%s' failed to satisfy constraint: %s", path, constraint)
	}
	return fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: %s", value, path, constraint)
}

// RenderValue renders a value the way Coral prints it in a violation: strings
// and numbers quoted, null bare, blobs as the Java ByteBuffer they were.
func RenderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return "'" + x + "'"
	case json.Number:
		return "'" + x.String() + "'"
	case bool:
		return "'" + strconv.FormatBool(x) + "'"
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return ""
			}
			parts = append(parts, s)
		}
		return "'[" + strings.Join(parts, ", ") + "]'"
	}
	return ""
}

// BlobValue renders a blob of n bytes as Coral prints it.
func BlobValue(n int) string {
	return fmt.Sprintf("'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]'", n, n)
}

type validator struct {
	m    *Model
	msgs []FieldViolation
	serr *Error
}

// memberPath lower-cases the first letter of a member name, as Coral does.
func memberPath(parent, name string) string {
	if name == "" {
		return parent
	}
	r, size := utf8.DecodeRuneInString(name)
	n := strings.ToLower(string(r)) + name[size:]
	if parent == "" {
		return n
	}
	return parent + "." + n
}

func (v *validator) violate(value any, path, constraint string) {
	v.msgs = append(v.msgs, FieldViolation{Path: path, Message: Violation(RenderValue(value), path, constraint)})
}

func (v *validator) typeErr(path, want string) {
	if v.serr == nil {
		where := path
		if where == "" {
			where = "the request"
		}
		v.serr = &Error{Type: SerializationException, Message: fmt.Sprintf("Expected %s for %s", want, where), Status: http.StatusBadRequest}
	}
}

func (v *validator) value(shapeName string, val any, path string, top bool) {
	s := v.m.Shapes[shapeName]
	if s == nil || val == nil {
		return
	}
	switch s.Type {
	case "structure":
		obj, ok := val.(map[string]any)
		if !ok {
			v.typeErr(path, "a JSON object")
			return
		}
		req := map[string]bool{}
		for _, r := range s.Required {
			req[r] = true
		}
		for _, mem := range s.Members {
			mv, present := obj[mem.Name]
			p := memberPath(path, mem.Name)
			if (!present || mv == nil) && req[mem.Name] {
				v.violate(nil, p, "Member must not be null")
				continue
			}
			v.value(mem.Ref.Shape, mv, p, false)
		}
	case "list":
		arr, ok := val.([]any)
		if !ok {
			v.typeErr(path, "a JSON array")
			return
		}
		v.length(s, val, len(arr), path)
		for i, e := range arr {
			if s.Member != nil {
				v.value(s.Member.Shape, e, fmt.Sprintf("%s.%d.member", path, i+1), false)
			}
		}
	case "map":
		obj, ok := val.(map[string]any)
		if !ok {
			v.typeErr(path, "a JSON object")
			return
		}
		v.length(s, nil, len(obj), path)
		for k, e := range obj {
			if s.Key != nil {
				v.value(s.Key.Shape, k, path+".key", false)
			}
			if s.Value != nil {
				v.value(s.Value.Shape, e, path+"."+k+".member", false)
			}
		}
	case "string":
		str, ok := val.(string)
		if !ok {
			v.typeErr(path, "a string")
			return
		}
		v.length(s, val, utf8.RuneCountInString(str), path)
		if s.pattern != nil && !s.pattern.match(str) {
			v.violate(val, path, "Member must satisfy regular expression pattern: "+s.Pattern)
		}
		if len(s.Enum) > 0 && !contains(s.Enum, str) {
			v.violate(val, path, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
		}
	case "integer", "long", "float", "double":
		num, ok := val.(json.Number)
		if !ok {
			v.typeErr(path, "a number")
			return
		}
		f, err := num.Float64()
		if err != nil {
			v.typeErr(path, "a number")
			return
		}
		if (s.Type == "integer" || s.Type == "long") && strings.ContainsAny(num.String(), ".eE") {
			v.typeErr(path, "an integer")
			return
		}
		if s.Min != nil && f < *s.Min {
			v.violate(val, path, "Member must have value greater than or equal to "+fmtNum(*s.Min))
		}
		if s.Max != nil && f > *s.Max {
			v.violate(val, path, "Member must have value less than or equal to "+fmtNum(*s.Max))
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			v.typeErr(path, "a boolean")
		}
	case "blob":
		str, ok := val.(string)
		if !ok {
			v.typeErr(path, "a base64 string")
			return
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			v.typeErr(path, "valid base64")
			return
		}
		n := len(b)
		if s.Min != nil && float64(n) < *s.Min {
			v.msgs = append(v.msgs, FieldViolation{Path: path, Message: Violation(BlobValue(n), path, "Member must have length greater than or equal to "+fmtNum(*s.Min))})
		}
		if s.Max != nil && float64(n) > *s.Max {
			v.msgs = append(v.msgs, FieldViolation{Path: path, Message: Violation(BlobValue(n), path, "Member must have length less than or equal to "+fmtNum(*s.Max))})
		}
	case "timestamp":
		switch val.(type) {
		case json.Number, string:
		default:
			v.typeErr(path, "a timestamp")
		}
	}
}

func (v *validator) length(s *Shape, val any, n int, path string) {
	if s.Min != nil && float64(n) < *s.Min {
		v.violate(val, path, "Member must have length greater than or equal to "+fmtNum(*s.Min))
	}
	if s.Max != nil && float64(n) > *s.Max {
		v.violate(val, path, "Member must have length less than or equal to "+fmtNum(*s.Max))
	}
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// Decode validates body against op's input shape (see Validate) and then
// decodes it into v with encoding/json. An empty body decodes as {}.
func (m *Model) Decode(op string, body []byte, v any) error {
	if _, aerr := m.Validate(op, body); aerr != nil {
		return aerr
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &Error{Type: SerializationException, Message: err.Error(), Status: http.StatusBadRequest}
	}
	return nil
}
