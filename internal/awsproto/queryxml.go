package awsproto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// QueryResultXML writes op's awsJson result res as the awsQuery answer:
//
//	<OpResponse xmlns="NS"><OpResult>...</OpResult>
//	<ResponseMetadata><RequestId>ID</RequestId></ResponseMetadata></OpResponse>
//
// with members named as the model names them, lists as <member> elements
// (repeated elements when flattened), maps as <entry><key/><value/></entry>
// and timestamps in ISO 8601.
func (m *Model) QueryResultXML(op string, res any, reqID string) ([]byte, error) {
	var doc any
	switch v := res.(type) {
	case nil:
	case RawJSON:
		if err := decodeNumber(v, &doc); err != nil {
			return nil, err
		}
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if err := decodeNumber(b, &doc); err != nil {
			return nil, err
		}
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString("<" + op + "Response")
	if ns := m.Metadata.XMLNamespace; ns != "" {
		b.WriteString(` xmlns="` + xmlEscape(ns) + `"`)
	}
	b.WriteString(">")
	if o, ok := m.Operations[op]; ok && o.Output != nil {
		wrapper := o.Output.ResultWrapper
		if wrapper == "" {
			wrapper = op + "Result"
		}
		b.WriteString("<" + wrapper + ">")
		if err := m.xmlMembers(&b, o.Output.Shape, doc); err != nil {
			return nil, err
		}
		b.WriteString("</" + wrapper + ">")
	}
	b.WriteString("<ResponseMetadata><RequestId>" + xmlEscape(reqID) + "</RequestId></ResponseMetadata>")
	b.WriteString("</" + op + "Response>")
	return b.Bytes(), nil
}

func decodeNumber(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v)
}

// xmlMembers writes the members of a structure value.
func (m *Model) xmlMembers(b *bytes.Buffer, shape string, v any) error {
	s := m.Shapes[shape]
	obj, _ := v.(map[string]any)
	if s == nil || obj == nil {
		return nil
	}
	for _, mem := range s.Members {
		val, ok := obj[mem.Name]
		if !ok || val == nil {
			continue
		}
		name := mem.Name
		if mem.Ref.LocationName != "" {
			name = mem.Ref.LocationName
		}
		if err := m.xmlValue(b, name, mem.Ref.Shape, val, mem.Ref.Flattened); err != nil {
			return fmt.Errorf("%s: %w", mem.Name, err)
		}
	}
	return nil
}

// xmlValue writes one value as the element name.
func (m *Model) xmlValue(b *bytes.Buffer, name, shape string, v any, flattened bool) error {
	s := m.Shapes[shape]
	if s == nil {
		return fmt.Errorf("no shape %s", shape)
	}
	switch s.Type {
	case "structure":
		b.WriteString("<" + name + ">")
		if err := m.xmlMembers(b, shape, v); err != nil {
			return err
		}
		b.WriteString("</" + name + ">")
		return nil
	case "list":
		items, _ := v.([]any)
		memName := "member"
		if s.Member.LocationName != "" {
			memName = s.Member.LocationName
		}
		if s.Flattened || flattened {
			for _, it := range items {
				if err := m.xmlValue(b, name, s.Member.Shape, it, false); err != nil {
					return err
				}
			}
			return nil
		}
		b.WriteString("<" + name + ">")
		for _, it := range items {
			if err := m.xmlValue(b, memName, s.Member.Shape, it, false); err != nil {
				return err
			}
		}
		b.WriteString("</" + name + ">")
		return nil
	case "map":
		obj, _ := v.(map[string]any)
		keyName, valName := "key", "value"
		if s.Key.LocationName != "" {
			keyName = s.Key.LocationName
		}
		if s.Value.LocationName != "" {
			valName = s.Value.LocationName
		}
		flat := s.Flattened || flattened
		if !flat {
			b.WriteString("<" + name + ">")
		}
		for _, k := range sortedKeys(obj) {
			entry := "entry"
			if flat {
				entry = name
			}
			b.WriteString("<" + entry + "><" + keyName + ">" + xmlEscape(k) + "</" + keyName + ">")
			if err := m.xmlValue(b, valName, s.Value.Shape, obj[k], false); err != nil {
				return err
			}
			b.WriteString("</" + entry + ">")
		}
		if !flat {
			b.WriteString("</" + name + ">")
		}
		return nil
	}
	text, err := xmlScalar(s, v)
	if err != nil {
		return err
	}
	b.WriteString("<" + name + ">" + xmlEscape(text) + "</" + name + ">")
	return nil
}

// xmlScalar is the text of a scalar value of shape s.
func xmlScalar(s *Shape, v any) (string, error) {
	switch s.Type {
	case "timestamp":
		t, ok := JSONTime(v)
		if !ok {
			return "", fmt.Errorf("timestamp %v", v)
		}
		if s.TimestampFormat == "unixTimestamp" {
			return strconv.FormatInt(t.Unix(), 10), nil
		}
		return FormatISO8601(t), nil
	case "boolean":
		if bv, ok := v.(bool); ok {
			return strconv.FormatBool(bv), nil
		}
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case json.Number:
		return x.String(), nil
	case bool:
		return strconv.FormatBool(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("value %v is not a %s", v, s.Type)
}

// JSONTime reads a timestamp from an awsJson value: epoch seconds, or an
// RFC 3339 string (what encoding/json writes for time.Time).
func JSONTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return time.Time{}, false
		}
		return time.UnixMilli(int64(f*1000 + 0.5)).UTC(), true
	case float64:
		return time.UnixMilli(int64(x*1000 + 0.5)).UTC(), true
	case string:
		return ParseTimestamp(x)
	}
	return time.Time{}, false
}

// FormatISO8601 writes t as AWS's XML protocols do: UTC, milliseconds when
// there are any, a Z.
func FormatISO8601(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1e6 != 0 {
		return t.Format("2006-01-02T15:04:05.000Z")
	}
	return t.Format("2006-01-02T15:04:05Z")
}

var xmlReplacer = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;", "\r", "&#xD;", "\n", "&#xA;")

// xmlEscape escapes text for an element or an attribute.
func xmlEscape(s string) string {
	if !strings.ContainsAny(s, "&<>\"'\r\n") {
		return s
	}
	return xmlReplacer.Replace(s)
}
