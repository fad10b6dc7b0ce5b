package firehose

// The PutRecord/PutRecordBatch codec is the hot path of ingestion: a
// hand-written single-pass JSON scanner that decodes each record's base64
// straight from the request body into a buffer.Batch, and a response encoder
// that writes the answer by hand. Neither reflects or allocates per record.
//
// Errors follow the order in which AWS reports them: the whole body is parsed
// first (any malformed JSON, wrong JSON type or bad base64 is a
// SerializationException), then every input constraint is checked and all
// violations are reported together in one Coral-style ValidationException,
// and only then is the 4 MiB request-size rule applied.
//
// Where this decoder is stricter than encoding/json, on purpose:
//   - member names are matched exactly, as AWS does: "records" is an unknown
//     key, not Records;
//   - a known member given twice (DeliveryStreamName, Records, Record, or a
//     record's Data) is a SerializationException rather than "last one wins",
//     so that no two parsers can read one request differently;
//   - nesting deeper than pcMaxDepth is rejected.
// It accepts, like encoding/json, invalid UTF-8 inside strings it skips.

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/buffer"
)

// Limits of the Firehose model and service (reference §2.2, §2.8, §3).
const (
	pcMaxRecords     = 500     // records per PutRecordBatch
	pcMaxRecordBytes = 1024000 // decoded bytes per record
	pcMaxBatchBytes  = 4 << 20 // decoded bytes per PutRecordBatch
	pcMaxNameLen     = 64      // DeliveryStreamName length
	pcNamePattern    = "[a-zA-Z0-9_.-]+"
	// pcMaxDepth bounds nesting in skipped values; encoding/json allows
	// 10000, and no Firehose client nests at all.
	pcMaxDepth = 1000
	// pcGrowMax caps how much batch space is reserved up front from the
	// body size: the largest valid PutRecordBatch and its record headers.
	pcGrowMax = pcMaxBatchBytes + pcMaxRecords*4

	pcInvalidArgumentException = "InvalidArgumentException"
)

// decodePutRecordBatch parses a PutRecordBatch body, appending each record's
// decoded data to b (b.AddWith decodes base64 straight into the batch). It
// returns the stream name. On error b is left as it was on entry and the
// stream name is empty.
func decodePutRecordBatch(body []byte, b *buffer.Batch) (stream string, err *awsproto.Error) {
	mark := pcMarkBatch(b)
	d := pcDecoder{buf: body, b: b}
	stream, err = d.putRecordBatch()
	if err != nil {
		mark.restore(b)
		return "", err
	}
	return stream, nil
}

// decodePutRecord parses a PutRecord body
// ({"DeliveryStreamName":..,"Record":{"Data":..}}), appending the record's
// decoded data to b. On error b is left as it was on entry.
func decodePutRecord(body []byte, b *buffer.Batch) (stream string, err *awsproto.Error) {
	mark := pcMarkBatch(b)
	d := pcDecoder{buf: body, b: b}
	stream, err = d.putRecord()
	if err != nil {
		mark.restore(b)
		return "", err
	}
	return stream, nil
}

// pcMark remembers a batch's contents (its framed bytes) so that a failed
// decode can put them back.
type pcMark struct{ buf []byte }

func pcMarkBatch(b *buffer.Batch) pcMark { return pcMark{buf: b.Bytes()} }

// restore truncates b to the marked contents. buffer.Batch has no Truncate, so
// a batch that was not empty is rebuilt from its saved framing: the decoder
// only appended, so the marked prefix is intact (in the same backing array,
// where re-adding copies each record onto itself, or in the old one if the
// batch grew). This costs a pass over the old contents, on errors only.
func (m pcMark) restore(b *buffer.Batch) {
	b.Reset()
	for buf := m.buf; len(buf) >= 4; {
		n := int(binary.LittleEndian.Uint32(buf))
		b.Add(buf[4 : 4+n])
		buf = buf[4+n:]
	}
}

// pcDecoder is the state of one decode: the body, the read position and the
// batch being filled.
type pcDecoder struct {
	buf []byte
	i   int
	b   *buffer.Batch
	// scratch holds unescaped strings on the slow path; allocated on first use.
	scratch []byte
	// bad lists per-record constraint violations in record order; it stays
	// nil (no allocation) unless a record is invalid.
	bad []pcViolation
}

// pcViolation is one record-level constraint violation. rec is the 1-based
// index in Records, or 0 for PutRecord's single Record.
type pcViolation struct {
	rec  int
	kind pcViolationKind
	n    int // decoded length, for pcDataTooLong
}

type pcViolationKind uint8

const (
	pcNullRecord pcViolationKind = iota
	pcNullData
	pcDataTooLong
)

// putRecordBatch decodes the whole body, then validates it.
func (d *pcDecoder) putRecordBatch() (string, *awsproto.Error) {
	var (
		name               string
		nameSeen, haveName bool
		recsSeen, haveRecs bool
		count              int
	)
	startBytes := d.b.DataBytes()
	// Reserve the space once: a record never decodes to more bytes (header
	// included) than its JSON takes in the body.
	d.b.Grow(min(len(d.buf), pcGrowMax))
	err := d.root(func(key []byte, keyOff int) *awsproto.Error {
		switch {
		case string(key) == "DeliveryStreamName":
			if nameSeen {
				return pcDuplicate(keyOff, "DeliveryStreamName")
			}
			nameSeen = true
			var err *awsproto.Error
			name, haveName, err = d.name()
			return err
		case string(key) == "Records":
			if recsSeen {
				return pcDuplicate(keyOff, "Records")
			}
			recsSeen = true
			var err *awsproto.Error
			count, haveRecs, err = d.records()
			return err
		default:
			return d.skip(2)
		}
	})
	if err != nil {
		return "", err
	}

	msgs := pcNameViolations(nil, name, haveName)
	switch {
	case !haveRecs:
		msgs = append(msgs, pcNullMsg("records"))
	case count < 1:
		msgs = append(msgs, "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case count > pcMaxRecords:
		// AWS prints the list's Java toString here; it is long and useless,
		// so the value is left out.
		msgs = append(msgs, "Value at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")
	}
	msgs = d.recordViolations(msgs)
	if len(msgs) > 0 {
		return "", pcValidation(msgs)
	}
	if d.b.DataBytes()-startBytes > pcMaxBatchBytes {
		return "", awsproto.Errorf(pcInvalidArgumentException, "Records size exceeds 4 MB limit")
	}
	return name, nil
}

// putRecord decodes a PutRecord body, then validates it.
func (d *pcDecoder) putRecord() (string, *awsproto.Error) {
	var (
		name                string
		nameSeen, haveName  bool
		recSeen, haveRecord bool
	)
	d.b.Grow(min(len(d.buf), pcGrowMax))
	err := d.root(func(key []byte, keyOff int) *awsproto.Error {
		switch {
		case string(key) == "DeliveryStreamName":
			if nameSeen {
				return pcDuplicate(keyOff, "DeliveryStreamName")
			}
			nameSeen = true
			var err *awsproto.Error
			name, haveName, err = d.name()
			return err
		case string(key) == "Record":
			if recSeen {
				return pcDuplicate(keyOff, "Record")
			}
			recSeen = true
			if d.i < len(d.buf) && d.buf[d.i] == 'n' {
				return d.literal("null")
			}
			haveRecord = true
			return d.record(0, false)
		default:
			return d.skip(2)
		}
	})
	if err != nil {
		return "", err
	}
	msgs := pcNameViolations(nil, name, haveName)
	if !haveRecord {
		msgs = append(msgs, pcNullMsg("record"))
	}
	msgs = d.recordViolations(msgs)
	if len(msgs) > 0 {
		return "", pcValidation(msgs)
	}
	return name, nil
}

// name parses DeliveryStreamName's value: a string or null.
func (d *pcDecoder) name() (name string, ok bool, err *awsproto.Error) {
	if d.i >= len(d.buf) {
		return "", false, pcEOF(d.i)
	}
	switch d.buf[d.i] {
	case 'n':
		return "", false, d.literal("null")
	case '"':
		s, _, err := d.str(true)
		if err != nil {
			return "", false, err
		}
		return string(s), true, nil
	}
	off := d.i
	if err := d.skip(2); err != nil {
		return "", false, err
	}
	return "", false, pcType(off, "DeliveryStreamName must be a string")
}

// records parses Records' value: an array of records, or null (ok false).
func (d *pcDecoder) records() (count int, ok bool, err *awsproto.Error) {
	if d.i >= len(d.buf) {
		return 0, false, pcEOF(d.i)
	}
	switch d.buf[d.i] {
	case 'n':
		return 0, false, d.literal("null")
	case '[':
	default:
		off := d.i
		if err := d.skip(2); err != nil {
			return 0, false, err
		}
		return 0, false, pcType(off, "Records must be an array")
	}
	d.i++
	d.ws()
	if d.i < len(d.buf) && d.buf[d.i] == ']' {
		d.i++
		return 0, true, nil
	}
	for {
		count++
		// Past the 500th record the request fails whatever follows, but the
		// rest must still be parsed (a SerializationException outranks the
		// ValidationException): its data is checked, not kept.
		if err := d.record(count, count > pcMaxRecords); err != nil {
			return 0, false, err
		}
		d.ws()
		if d.i >= len(d.buf) {
			return 0, false, pcEOF(d.i)
		}
		c := d.buf[d.i]
		d.i++
		switch c {
		case ',':
			d.ws()
		case ']':
			return count, true, nil
		default:
			return 0, false, pcSyntax(d.i-1, "expected ',' or ']'")
		}
	}
}

// record parses one Record (rec is its 1-based index, 0 for PutRecord) and
// adds its data to the batch unless discard is set.
func (d *pcDecoder) record(rec int, discard bool) *awsproto.Error {
	if d.i >= len(d.buf) {
		return pcEOF(d.i)
	}
	switch d.buf[d.i] {
	case '{':
	case 'n':
		if rec == 0 { // PutRecord's "Record":null is handled by the caller
			return pcType(d.i, "Record must be an object")
		}
		if err := d.literal("null"); err != nil {
			return err
		}
		d.violate(rec, pcNullRecord, 0)
		return nil
	default:
		off := d.i
		if err := d.skip(3); err != nil {
			return err
		}
		return pcType(off, "Record must be an object")
	}
	d.i++
	d.ws()
	seen := false
	if d.i < len(d.buf) && d.buf[d.i] == '}' {
		d.i++
	} else {
		for {
			keyOff := d.i
			var isData bool
			// Fast path: the key is exactly "Data", unescaped.
			if bytes.HasPrefix(d.buf[d.i:], []byte(`"Data"`)) {
				d.i += 6
				isData = true
			} else {
				key, _, err := d.str(true)
				if err != nil {
					return err
				}
				isData = string(key) == "Data"
			}
			if err := d.colon(); err != nil {
				return err
			}
			if isData {
				if seen {
					return pcDuplicate(keyOff, "Data")
				}
				seen = true
				if err := d.data(rec, discard); err != nil {
					return err
				}
			} else if err := d.skip(4); err != nil {
				return err
			}
			d.ws()
			if d.i >= len(d.buf) {
				return pcEOF(d.i)
			}
			c := d.buf[d.i]
			d.i++
			if c == '}' {
				break
			}
			if c != ',' {
				return pcSyntax(d.i-1, "expected ',' or '}'")
			}
			d.ws()
		}
	}
	if !seen {
		d.violate(rec, pcNullData, 0)
	}
	return nil
}

// pcReject is returned by AddWith fill functions to leave the batch as it
// was: the record is not committed. It is zero-sized, so returning it does
// not allocate.
type pcReject struct{}

func (pcReject) Error() string { return "record not kept" }

// data parses a record's Data value (base64 string or null) at d.i.
func (d *pcDecoder) data(rec int, discard bool) *awsproto.Error {
	if d.i >= len(d.buf) {
		return pcEOF(d.i)
	}
	switch d.buf[d.i] {
	case '"':
	case 'n':
		if err := d.literal("null"); err != nil {
			return err
		}
		d.violate(rec, pcNullData, 0)
		return nil
	default:
		off := d.i
		if err := d.skip(4); err != nil {
			return err
		}
		return pcType(off, "Data must be a base64 string")
	}

	// Fast path: decode straight from the body up to the next quote. If the
	// decode succeeds with exactly the length the span implies, the span is
	// pure base64 (no backslash, so that quote really closes the string; no
	// control character, since the decoder skips only \r and \n and those
	// would shorten the output), hence also a valid JSON string.
	start := d.i + 1
	if q := bytes.IndexByte(d.buf[start:], '"'); q >= 0 {
		span := d.buf[start : start+q]
		if want := pcDecodedLen(span); want >= 0 {
			n, ok := -1, false
			_ = d.b.AddWith(len(span)/4*3, func(dst []byte) (int, error) {
				m, err := base64.StdEncoding.Decode(dst, span)
				if err != nil || m != want {
					return 0, pcReject{}
				}
				n, ok = m, true
				if discard {
					return 0, pcReject{}
				}
				return m, nil
			})
			if ok {
				d.i = start + q + 1
				if n > pcMaxRecordBytes {
					d.violate(rec, pcDataTooLong, n)
				}
				return nil
			}
		}
	}

	// Slow path: escapes, control characters or invalid base64. Scan the
	// string properly, then decode what it says.
	strOff := d.i
	s, escaped, err := d.str(true)
	if err != nil {
		return err
	}
	n, berr := -1, error(nil)
	_ = d.b.AddWith(base64.StdEncoding.DecodedLen(len(s)), func(dst []byte) (int, error) {
		n, berr = base64.StdEncoding.Decode(dst, s)
		if berr != nil || discard {
			return 0, pcReject{}
		}
		return n, nil
	})
	if berr != nil {
		off := strOff
		if ci, ok := berr.(base64.CorruptInputError); ok && !escaped {
			off = strOff + 1 + int(ci)
		}
		return awsproto.Errorf(awsproto.SerializationException,
			"Invalid base64 in %s at byte offset %d", pcDataPath(rec), off)
	}
	if n > pcMaxRecordBytes {
		d.violate(rec, pcDataTooLong, n)
	}
	return nil
}

// pcDecodedLen returns how many bytes the padded base64 text s decodes to,
// or -1 if its length is not a multiple of 4.
func pcDecodedLen(s []byte) int {
	l := len(s)
	if l%4 != 0 {
		return -1
	}
	n := l / 4 * 3
	if l > 0 && s[l-1] == '=' {
		n--
		if s[l-2] == '=' {
			n--
		}
	}
	return n
}

// violate notes a record-level violation. Records past the 500th are not
// listed: the count violation covers them, and a body of a million null
// records must not turn into a message a hundred times its size.
func (d *pcDecoder) violate(rec int, kind pcViolationKind, n int) {
	if rec <= pcMaxRecords {
		d.bad = append(d.bad, pcViolation{rec: rec, kind: kind, n: n})
	}
}

// recordViolations appends the messages for the per-record violations.
func (d *pcDecoder) recordViolations(msgs []string) []string {
	for _, v := range d.bad {
		switch v.kind {
		case pcNullRecord:
			msgs = append(msgs, pcNullMsg(pcRecordPath(v.rec)))
		case pcNullData:
			msgs = append(msgs, pcNullMsg(pcDataPath(v.rec)))
		case pcDataTooLong:
			// AWS prints a blob as the ByteBuffer holding it.
			msgs = append(msgs, fmt.Sprintf("Value 'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d",
				v.n, v.n, pcDataPath(v.rec), pcMaxRecordBytes))
		}
	}
	return msgs
}

// pcRecordPath is the Coral member path of record rec (0: PutRecord's).
func pcRecordPath(rec int) string {
	if rec == 0 {
		return "record"
	}
	return "records." + strconv.Itoa(rec) + ".member"
}

// pcDataPath is the Coral member path of record rec's Data.
func pcDataPath(rec int) string { return pcRecordPath(rec) + ".data" }

// pcNameViolations appends the violations of DeliveryStreamName's
// constraints, in the order Coral lists them: length, then pattern.
func pcNameViolations(msgs []string, name string, ok bool) []string {
	if !ok {
		return append(msgs, pcNullMsg("deliveryStreamName"))
	}
	valid := pcNameChars(name)
	if valid && len(name) <= pcMaxNameLen {
		return msgs
	}
	prefix := "Value '" + strings.ToValidUTF8(name, "\uFFFD") + "' at 'deliveryStreamName' failed to satisfy constraint: "
	// Java measures length in UTF-16 code units.
	n := 0
	for _, r := range name {
		n += max(utf16.RuneLen(r), 1)
	}
	if n < 1 {
		msgs = append(msgs, prefix+"Member must have length greater than or equal to 1")
	}
	if n > pcMaxNameLen {
		msgs = append(msgs, prefix+"Member must have length less than or equal to "+strconv.Itoa(pcMaxNameLen))
	}
	if !valid {
		msgs = append(msgs, prefix+"Member must satisfy regular expression pattern: "+pcNamePattern)
	}
	return msgs
}

// pcNameChars reports whether name matches [a-zA-Z0-9_.-]+ in full.
func pcNameChars(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return false
		}
	}
	return name != ""
}

func pcNullMsg(path string) string {
	return "Value null at '" + path + "' failed to satisfy constraint: Member must not be null"
}

// pcValidation joins constraint violations into one Coral-style error.
func pcValidation(msgs []string) *awsproto.Error {
	noun := "errors"
	if len(msgs) == 1 {
		noun = "error"
	}
	return awsproto.Errorf(awsproto.ValidationException, "%d validation %s detected: %s", len(msgs), noun, strings.Join(msgs, "; "))
}
