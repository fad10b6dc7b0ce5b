package awsproto

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// ContentTypeCBOR is the content type of Smithy RPC v2 CBOR bodies.
const ContentTypeCBOR = "application/cbor"

// CBORPathPrefix starts the path of every RPC v2 CBOR request:
// /service/{ServiceName}/operation/{Operation}.
const CBORPathPrefix = "/service/"

// SplitCBORPath reads the service and operation of an RPC v2 CBOR path.
func SplitCBORPath(path string) (service, op string, ok bool) {
	rest, found := strings.CutPrefix(path, CBORPathPrefix)
	if !found {
		return "", "", false
	}
	service, op, found = strings.Cut(rest, "/operation/")
	if !found || service == "" || op == "" || strings.Contains(op, "/") {
		return "", "", false
	}
	return service, op, true
}

// ServeCBOR serves a Smithy RPC v2 CBOR request for op.
func (s *Service) ServeCBOR(w http.ResponseWriter, r *http.Request, op string) {
	s.serve(w, r, op, cborCodec{})
}

// cborCodec is Smithy RPC v2 CBOR: CBOR bodies, timestamps as tag 1 epoch
// seconds, blobs as byte strings, errors as a map with __type.
type cborCodec struct{}

var (
	cborDec, _ = cbor.DecOptions{
		DefaultMapType:   nil,
		MaxNestedLevels:  32,
		MaxArrayElements: 1 << 20,
		MaxMapPairs:      1 << 20,
		IndefLength:      cbor.IndefLengthAllowed,
		TagsMd:           cbor.TagsAllowed,
	}.DecMode()
	cborEnc, _ = cbor.EncOptions{Sort: cbor.SortNone}.EncMode()
)

func (cborCodec) input(s *Service, op string, body []byte) (string, []byte, *Error) {
	o, ok := s.Model.Operations[op]
	if !ok || o.Input == nil || len(body) == 0 {
		return op, []byte("{}"), nil
	}
	var doc any
	if err := cborDec.Unmarshal(body, &doc); err != nil {
		return "", nil, &Error{Type: SerializationException, Message: "Could not parse request body as CBOR: " + err.Error(), Status: http.StatusBadRequest}
	}
	v, err := s.Model.cborToJSON(o.Input.Shape, doc)
	if err != nil {
		return "", nil, &Error{Type: SerializationException, Message: "Could not read request body: " + err.Error(), Status: http.StatusBadRequest}
	}
	if v == nil {
		v = map[string]any{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", nil, &Error{Type: SerializationException, Message: err.Error(), Status: http.StatusBadRequest}
	}
	if _, aerr := s.Model.Validate(op, b); aerr != nil {
		return "", nil, aerr
	}
	return op, b, nil
}

func (cborCodec) result(w http.ResponseWriter, s *Service, op string, res any) error {
	var doc any
	switch v := res.(type) {
	case nil:
	case RawJSON:
		if err := decodeNumber(v, &doc); err != nil {
			return err
		}
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if err := decodeNumber(b, &doc); err != nil {
			return err
		}
	}
	out := any(map[string]any{})
	if o, ok := s.Model.Operations[op]; ok && o.Output != nil && doc != nil {
		v, err := s.Model.jsonToCBOR(o.Output.Shape, doc)
		if err != nil {
			return err
		}
		out = v
	}
	b, err := cborEnc.Marshal(out)
	if err != nil {
		return err
	}
	w.Header().Set("smithy-protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", ContentTypeCBOR)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
	return nil
}

func (cborCodec) fail(w http.ResponseWriter, s *Service, e *Error, _ string) {
	typ := e.Type
	if s.Model != nil && s.Model.Metadata.AWSQueryCompatible != nil {
		code, fault := s.Model.queryErrorCode(e)
		w.Header().Set("x-amzn-query-error", code+";"+fault)
	}
	body := map[string]any{"__type": typ, "message": e.Message}
	for k, v := range e.Fields {
		body[k] = v
	}
	b, _ := cborEnc.Marshal(body)
	w.Header().Set("smithy-protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", ContentTypeCBOR)
	w.WriteHeader(e.status())
	_, _ = w.Write(b)
}

// cborToJSON converts a decoded CBOR value of shape into its awsJson form.
func (m *Model) cborToJSON(shape string, v any) (any, error) {
	s := m.Shapes[shape]
	if s == nil || v == nil {
		return nil, nil
	}
	switch s.Type {
	case "structure":
		obj, ok := cborMap(v)
		if !ok {
			return nil, fmt.Errorf("%s: want a map", shape)
		}
		out := map[string]any{}
		for _, mem := range s.Members {
			if x, ok := obj[mem.Name]; ok {
				c, err := m.cborToJSON(mem.Ref.Shape, x)
				if err != nil {
					return nil, err
				}
				if c != nil {
					out[mem.Name] = c
				}
			}
		}
		return out, nil
	case "list":
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s: want an array", shape)
		}
		out := make([]any, 0, len(arr))
		for _, x := range arr {
			c, err := m.cborToJSON(s.Member.Shape, x)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	case "map":
		obj, ok := cborMap(v)
		if !ok {
			return nil, fmt.Errorf("%s: want a map", shape)
		}
		out := map[string]any{}
		for k, x := range obj {
			c, err := m.cborToJSON(s.Value.Shape, x)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case "timestamp":
		switch t := v.(type) {
		case time.Time:
			return EpochSeconds(t), nil
		case cbor.Tag:
			if t.Number == 1 {
				v = t.Content
			}
		}
		f, ok := cborNumber(v)
		if !ok {
			return nil, fmt.Errorf("%s: want a timestamp", shape)
		}
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64)), nil
	case "blob":
		b, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("%s: want a byte string", shape)
		}
		return base64.StdEncoding.EncodeToString(b), nil
	case "integer", "long", "float", "double":
		f, ok := cborNumber(v)
		if !ok {
			return nil, fmt.Errorf("%s: want a number", shape)
		}
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64)), nil
	}
	return v, nil
}

// cborMap reads a CBOR map with text keys.
func cborMap(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			ks, ok := k.(string)
			if !ok {
				return nil, false
			}
			out[ks] = val
		}
		return out, true
	}
	return nil, false
}

func cborNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case uint64:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	return 0, false
}

// jsonToCBOR converts an awsJson value of shape into what RPC v2 CBOR
// sends: typed numbers, tag-1 timestamps, byte-string blobs.
func (m *Model) jsonToCBOR(shape string, v any) (any, error) {
	s := m.Shapes[shape]
	if s == nil || v == nil {
		return nil, nil
	}
	switch s.Type {
	case "structure":
		obj, _ := v.(map[string]any)
		out := map[string]any{}
		for _, mem := range s.Members {
			if x, ok := obj[mem.Name]; ok && x != nil {
				c, err := m.jsonToCBOR(mem.Ref.Shape, x)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", mem.Name, err)
				}
				out[mem.Name] = c
			}
		}
		return out, nil
	case "list":
		arr, _ := v.([]any)
		out := make([]any, 0, len(arr))
		for _, x := range arr {
			c, err := m.jsonToCBOR(s.Member.Shape, x)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, nil
	case "map":
		obj, _ := v.(map[string]any)
		out := make(map[string]any, len(obj))
		for k, x := range obj {
			c, err := m.jsonToCBOR(s.Value.Shape, x)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case "timestamp":
		t, ok := JSONTime(v)
		if !ok {
			return nil, fmt.Errorf("timestamp %v", v)
		}
		return cbor.Tag{Number: 1, Content: float64(t.UnixMilli()) / 1000}, nil
	case "blob":
		str, _ := v.(string)
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, fmt.Errorf("blob: %w", err)
		}
		return b, nil
	case "integer", "long":
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("want a number, got %v", v)
		}
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
		f, err := n.Float64()
		if err != nil {
			return nil, err
		}
		return int64(math.Round(f)), nil
	case "float", "double":
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("want a number, got %v", v)
		}
		return n.Float64()
	}
	return v, nil
}

// WriteCBORError writes e as an RPC v2 CBOR error response.
func WriteCBORError(w http.ResponseWriter, e *Error) {
	cborCodec{}.fail(w, &Service{}, e, "")
}
