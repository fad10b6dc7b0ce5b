package process

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
)

// respEntry is one entry of a function's answer (reference §6.4). Its byte
// slices alias the answer.
type respEntry struct {
	id, result, data []byte
	hasID, hasData   bool
	keys             map[string]string
}

// responseRecord is an entry as encoding/json decodes it.
type responseRecord struct {
	RecordID *string         `json:"recordId"`
	Result   *string         `json:"result"`
	Data     *string         `json:"data"`
	Metadata *recordMetadata `json:"metadata"`
}

type recordMetadata struct {
	PartitionKeys map[string]string `json:"partitionKeys"`
}

// decodeResponse returns the entries of a function's answer, or the code
// and message that fail every record of the invocation: not JSON, or
// entries of the wrong types (Lambda.JsonProcessingException); JSON without
// a records array (Lambda.MissingRecordId: no record came back).
func decodeResponse(res []byte) (entries []respEntry, code, msg string) {
	if entries, ok := parseResponse(res); ok {
		return entries, "", ""
	}
	// Not the usual shape: encoding/json decides.
	return decodeResponseSlow(res)
}

// decodeResponseSlow is decodeResponse with encoding/json alone.
func decodeResponseSlow(res []byte) (entries []respEntry, code, msg string) {
	if !json.Valid(res) {
		return nil, CodeJSON, MsgJSON
	}
	var resp struct {
		Records json.RawMessage `json:"records"`
	}
	if json.Unmarshal(res, &resp) != nil || len(resp.Records) == 0 || resp.Records[0] != '[' {
		return nil, CodeMissingID, MsgMissingID
	}
	var recs []responseRecord
	if err := json.Unmarshal(resp.Records, &recs); err != nil {
		return nil, CodeJSON, MsgJSON
	}
	entries = make([]respEntry, len(recs))
	for i, r := range recs {
		e := &entries[i]
		if r.RecordID != nil {
			e.id, e.hasID = []byte(*r.RecordID), true
		}
		if r.Result != nil {
			e.result = []byte(*r.Result)
		}
		if r.Data != nil {
			e.data, e.hasData = []byte(*r.Data), true
		}
		if r.Metadata != nil {
			e.keys = r.Metadata.PartitionKeys
		}
	}
	return entries, "", ""
}

// slab decodes the base64 data of an answer's records into one buffer.
type slab struct{ buf []byte }

func newSlab(entries []respEntry) *slab {
	n := 0
	for _, e := range entries {
		if e.hasData {
			n += (len(e.data)*3 + 3) / 4
		}
	}
	return &slab{buf: make([]byte, 0, n)}
}

// decode decodes standard base64, with or without padding (Java's decoder,
// which Firehose uses, accepts both). The result's capacity ends at its
// length, so appending to it copies.
func (s *slab) decode(src []byte) ([]byte, error) {
	at := len(s.buf)
	dst := s.buf[at:cap(s.buf)]
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil && len(src)%4 != 0 {
		if n2, err2 := base64.RawStdEncoding.Decode(dst, src); err2 == nil {
			n, err = n2, nil
		}
	}
	if err != nil {
		return nil, err
	}
	s.buf = s.buf[:at+n]
	return s.buf[at : at+n : at+n], nil
}

// parseResponse reads the usual shape of a function's answer in one pass:
// {"records":[{"recordId":"..","result":"..","data":"..","metadata":{..}},..]}
// with string values free of escapes and any other members skipped. It
// reports ok=false for anything else (escapes, other value types, a missing
// or null records member, invalid JSON), and the caller then decodes with
// encoding/json, whose answer decides every unusual case. The two agree on
// everything this parser accepts.
func parseResponse(b []byte) (entries []respEntry, ok bool) {
	s := respScanner{b: b}
	if !s.consume('{') {
		return nil, false
	}
	found := false
	if s.consume('}') {
		return nil, false
	}
	for {
		key, ok := s.plainString()
		if !ok || !s.consume(':') {
			return nil, false
		}
		switch {
		case string(key) == "records":
			if entries, ok = s.records(); !ok {
				return nil, false
			}
			found = true
		case bytes.EqualFold(key, []byte("records")):
			// encoding/json matches member names case-insensitively.
			return nil, false
		default:
			if !s.skipValue(0) {
				return nil, false
			}
		}
		if s.consume(',') {
			continue
		}
		if !s.consume('}') {
			return nil, false
		}
		break
	}
	s.ws()
	return entries, found && s.i == len(s.b)
}

// respScanner walks a JSON document.
type respScanner struct {
	b []byte
	i int
}

func (s *respScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and c, reporting whether c was there.
func (s *respScanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// plainString reads a string of printable ASCII without escapes and
// returns its bytes (aliasing the document). Anything else (where
// encoding/json would unescape or replace invalid UTF-8) is left to
// encoding/json.
func (s *respScanner) plainString() ([]byte, bool) {
	if !s.consume('"') {
		return nil, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
		s.i++
	}
	return nil, false
}

// records reads the records array.
func (s *respScanner) records() ([]respEntry, bool) {
	if !s.consume('[') {
		return nil, false
	}
	out := []respEntry{}
	if s.consume(']') {
		return out, true
	}
	for {
		e, ok := s.record()
		if !ok {
			return nil, false
		}
		out = append(out, e)
		if s.consume(',') {
			continue
		}
		return out, s.consume(']')
	}
}

// record reads one entry of the records array.
func (s *respScanner) record() (respEntry, bool) {
	var e respEntry
	if !s.consume('{') {
		return e, false
	}
	if s.consume('}') {
		return e, true
	}
	for {
		key, ok := s.plainString()
		if !ok || !s.consume(':') {
			return e, false
		}
		switch string(key) {
		case "recordId":
			if e.id, ok = s.plainString(); !ok {
				return e, false
			}
			e.hasID = true
		case "result":
			if e.result, ok = s.plainString(); !ok {
				return e, false
			}
		case "data":
			s.ws()
			if bytes.HasPrefix(s.b[s.i:], []byte("null")) {
				s.i += 4
				e.data, e.hasData = nil, false
				break
			}
			if e.data, ok = s.plainString(); !ok {
				return e, false
			}
			e.hasData = true
		case "metadata":
			s.ws()
			start := s.i
			if !s.skipValue(0) {
				return e, false
			}
			var m *recordMetadata
			if err := json.Unmarshal(s.b[start:s.i], &m); err != nil {
				return e, false
			}
			e.keys = nil
			if m != nil {
				e.keys = m.PartitionKeys
			}
		default:
			for _, f := range []string{"recordId", "result", "data", "metadata"} {
				if bytes.EqualFold(key, []byte(f)) {
					return e, false
				}
			}
			if !s.skipValue(0) {
				return e, false
			}
		}
		if s.consume(',') {
			continue
		}
		return e, s.consume('}')
	}
}

// skipValue skips any JSON value, checking its syntax.
func (s *respScanner) skipValue(depth int) bool {
	if depth > 64 {
		return false
	}
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.skipString()
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.i++
		if s.consume(end) {
			return true
		}
		for {
			if c == '{' {
				if !s.skipString0() || !s.consume(':') {
					return false
				}
			}
			if !s.skipValue(depth + 1) {
				return false
			}
			if s.consume(',') {
				continue
			}
			return s.consume(end)
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

func (s *respScanner) skipString0() bool {
	s.ws()
	return s.i < len(s.b) && s.b[s.i] == '"' && s.skipString()
}

// skipString skips a string starting at s.i, escapes included.
func (s *respScanner) skipString() bool {
	s.i++
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if s.i+6 > len(s.b) {
					return false
				}
				for _, h := range s.b[s.i+2 : s.i+6] {
					if !isHex(h) {
						return false
					}
				}
				s.i += 6
			default:
				return false
			}
			continue
		}
		s.i++
	}
	return false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func (s *respScanner) literal(lit string) bool {
	if !bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
		return false
	}
	s.i += len(lit)
	return true
}

// number skips a number of JSON's grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
func (s *respScanner) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	s.i = i
	return true
}
