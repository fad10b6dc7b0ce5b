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
// hint is how many entries to expect.
func decodeResponse(res []byte, hint int) (entries []respEntry, code, msg string) {
	if entries, ok := parseResponse(res, hint); ok {
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
// everything this parser accepts. hint is how many entries to expect.
func parseResponse(b []byte, hint int) (entries []respEntry, ok bool) {
	s := respScanner{b: b, hint: hint}
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

// records reads the records array.
func (s *respScanner) records() ([]respEntry, bool) {
	if !s.consume('[') {
		return nil, false
	}
	out := make([]respEntry, 0, s.hint)
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
	seenMeta := false
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
			if seenMeta {
				// encoding/json merges a second one into the first.
				return e, false
			}
			seenMeta = true
			if e.keys, ok = s.metadata(); !ok {
				return e, false
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

// metadata reads a record's metadata: null, or an object whose
// partitionKeys member is null or an object of plain strings; other members
// are skipped. keys is nil unless partitionKeys is an object. A member
// given twice or named in another case (encoding/json would merge or match
// it) is left to encoding/json.
func (s *respScanner) metadata() (keys map[string]string, ok bool) {
	s.ws()
	if s.literal("null") {
		return nil, true
	}
	if !s.consume('{') {
		return nil, false
	}
	if s.consume('}') {
		return nil, true
	}
	seen := false
	for {
		key, ok := s.plainString()
		if !ok || !s.consume(':') {
			return nil, false
		}
		switch {
		case string(key) == "partitionKeys" && !seen:
			seen = true
			if keys, ok = s.stringMap(); !ok {
				return nil, false
			}
		case bytes.EqualFold(key, []byte("partitionKeys")):
			return nil, false
		default:
			if !s.skipValue(1) {
				return nil, false
			}
		}
		if s.consume(',') {
			continue
		}
		return keys, s.consume('}')
	}
}

// stringMap reads null (a nil map) or an object of plain string values.
func (s *respScanner) stringMap() (map[string]string, bool) {
	s.ws()
	if s.literal("null") {
		return nil, true
	}
	if !s.consume('{') {
		return nil, false
	}
	m := map[string]string{}
	if s.consume('}') {
		return m, true
	}
	for {
		k, ok := s.plainString()
		if !ok || !s.consume(':') {
			return nil, false
		}
		v, ok := s.plainString()
		if !ok {
			return nil, false
		}
		m[string(k)] = string(v)
		if s.consume(',') {
			continue
		}
		return m, s.consume('}')
	}
}
