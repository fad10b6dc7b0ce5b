package firehose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/buffer"
)

// pcCase is one decoder scenario: a body and either the records it yields or
// the error it gets.
type pcCase struct {
	body    string
	stream  string
	records []string // decoded data, in order
	errType string
	errMsg  string // the exact message, when set
	errHas  string // a substring of the message, when set
}

// pcB64 is base64 of s, for building bodies.
func pcB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// pcBatchBody builds a PutRecordBatch body with the given records' data.
func pcBatchBody(stream string, data ...[]byte) []byte {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"DeliveryStreamName":%q,"Records":[`, stream)
	for i, d := range data {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"Data":"%s"}`, base64.StdEncoding.EncodeToString(d))
	}
	sb.WriteString("]}")
	return []byte(sb.String())
}

// pcNRecords is a PutRecordBatch body of n records of size bytes each.
func pcNRecords(n, size int) string {
	data := make([][]byte, n)
	for i := range data {
		data[i] = bytes.Repeat([]byte{byte('a' + i%26)}, size)
	}
	return string(pcBatchBody("s", data...))
}

// pcRandomBody is a realistic PutRecordBatch body: n records of size random
// bytes (printable JSON-ish text, as log shippers send).
func pcRandomBody(n, size int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	const alphabet = `abcdefghijklmnopqrstuvwxyz0123456789 {}":,.-_ABCDEFGHIJKLMNOPQRSTUVWXYZ`
	data := make([][]byte, n)
	for i := range data {
		d := make([]byte, size)
		for j := range d {
			d[j] = alphabet[r.IntN(len(alphabet))]
		}
		data[i] = d
	}
	return pcBatchBody("bench-stream", data...)
}

// pcRecordsOf returns the data of a batch's records from index from on.
func pcRecordsOf(b *buffer.Batch, from int) []string {
	var out []string
	b.Each(func(i int, data []byte) {
		if i >= from {
			out = append(out, string(data))
		}
	})
	return out
}

func pcCheck(t *testing.T, decode func([]byte, *buffer.Batch) (string, *awsproto.Error), tc pcCase) {
	t.Helper()
	var b buffer.Batch
	b.Add([]byte("already there"))
	before := bytes.Clone(b.Bytes())
	stream, err := decode([]byte(tc.body), &b)
	if tc.errType != "" {
		if err == nil {
			t.Fatalf("decoded %q with %d records, want %s", stream, b.Len()-1, tc.errType)
		}
		if err.Type != tc.errType || err.Status != 400 {
			t.Fatalf("error %s (%d) %q, want %s", err.Type, err.Status, err.Message, tc.errType)
		}
		if tc.errMsg != "" && err.Message != tc.errMsg {
			t.Fatalf("message\n got: %s\nwant: %s", err.Message, tc.errMsg)
		}
		if tc.errHas != "" && !strings.Contains(err.Message, tc.errHas) {
			t.Fatalf("message %q does not contain %q", err.Message, tc.errHas)
		}
		if stream != "" {
			t.Errorf("stream %q returned with an error", stream)
		}
		if !bytes.Equal(b.Bytes(), before) || b.Len() != 1 || b.DataBytes() != int64(len("already there")) {
			t.Fatalf("batch changed on error: %d records, %d bytes", b.Len(), b.DataBytes())
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if stream != tc.stream {
		t.Errorf("stream %q, want %q", stream, tc.stream)
	}
	got := pcRecordsOf(&b, 1)
	if len(got) != len(tc.records) {
		t.Fatalf("%d records, want %d", len(got), len(tc.records))
	}
	for i := range got {
		if got[i] != tc.records[i] {
			t.Errorf("record %d = %q, want %q", i, got[i], tc.records[i])
		}
	}
	var total int64
	for _, r := range tc.records {
		total += int64(len(r))
	}
	if b.DataBytes() != total+int64(len("already there")) {
		t.Errorf("DataBytes %d, want %d", b.DataBytes(), total+int64(len("already there")))
	}
}

const (
	pcNameNull      = "Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null"
	pcRecordsNull   = "Value null at 'records' failed to satisfy constraint: Member must not be null"
	pcRecordsEmpty  = "Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"
	pcRecordsTooMan = "Value at 'records' failed to satisfy constraint: Member must have length less than or equal to 500"
)

func TestPutcodecDecodeBatch(t *testing.T) {
	hello := pcB64("hello")
	big := strings.Repeat("x", pcMaxRecordBytes)
	cases := map[string]pcCase{
		"minimal": {
			body:   `{"DeliveryStreamName":"s","Records":[{"Data":"` + hello + `"}]}`,
			stream: "s", records: []string{"hello"},
		},
		"keys in reverse order": {
			body:   `{"Records":[{"Data":"` + hello + `"},{"Data":"aGk="}],"DeliveryStreamName":"my-stream_1.0"}`,
			stream: "my-stream_1.0", records: []string{"hello", "hi"},
		},
		"whitespace everywhere": {
			body:   " \r\n\t{ \"Records\" :\n[ { \"Data\"\t: \"aGk=\" } ,\n{ \"Data\" : \"\" } ] , \"DeliveryStreamName\" : \"s\" }\n ",
			stream: "s", records: []string{"hi", ""},
		},
		"empty data is a zero-byte record": {
			body:   `{"DeliveryStreamName":"s","Records":[{"Data":""},{"Data":""}]}`,
			stream: "s", records: []string{"", ""},
		},
		"escaped slash in data": {
			body:   `{"DeliveryStreamName":"s","Records":[{"Data":"\/\/\/\/aGk="}]}`,
			stream: "s", records: []string{"\xff\xff\xffhi"},
		},
		"unicode escapes in data": {
			body:   `{"DeliveryStreamName":"s","Records":[{"Data":"\u0061GVsbG8\u003d"}]}`,
			stream: "s", records: []string{"hello"},
		},
		"escaped newline in data is skipped as encoding/json does": {
			body:   `{"DeliveryStreamName":"s","Records":[{"Data":"aGVs\nbG8="}]}`,
			stream: "s", records: []string{"hello"},
		},
		"escaped stream name": {
			body:   `{"DeliveryStreamName":"my\u002dstream\u005F","Records":[{"Data":""}]}`,
			stream: "my-stream_", records: []string{""},
		},
		"escaped keys": {
			body:   `{"Deliver\u0079StreamName":"s","Rec\u006frds":[{"D\u0061ta":"aGk="}]}`,
			stream: "s", records: []string{"hi"},
		},
		"unknown keys of every kind are skipped": {
			body: `{"Extra":{"a":[1,-2.5e-3,0,1E+9,true,false,null,"x\"y\\z\u00e9\ud83d\ude00",{"Data":"!!"},[]],"b":{}},` +
				`"DeliveryStreamName":"s","Records":[{"PartitionKey":"k","Data":"aGk=","Nested":{"Data":[{"x":null}]}}],"Z":-0}`,
			stream: "s", records: []string{"hi"},
		},
		"member names are case sensitive": {
			body:    `{"DeliveryStreamName":"s","records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: " + pcRecordsNull,
		},
		"500 records": {
			body:   pcNRecords(500, 1),
			stream: "s", records: pcRepeatRecords(500, 1),
		},
		"record of exactly 1024000 bytes": {
			body:   string(pcBatchBody("s", []byte(big))),
			stream: "s", records: []string{big},
		},
		"exactly 4 MiB": {
			body:   string(pcBatchBody("s", []byte(big), []byte(big), []byte(big), []byte(big), make([]byte, pcMaxBatchBytes-4*pcMaxRecordBytes))),
			stream: "s", records: []string{big, big, big, big, string(make([]byte, pcMaxBatchBytes-4*pcMaxRecordBytes))},
		},

		// Validation, in model order.
		"empty body": {
			body:    ``,
			errType: awsproto.ValidationException,
			errMsg:  "2 validation errors detected: " + pcNameNull + "; " + pcRecordsNull,
		},
		"empty object": {
			body:    `{}`,
			errType: awsproto.ValidationException,
			errMsg:  "2 validation errors detected: " + pcNameNull + "; " + pcRecordsNull,
		},
		"null body": {
			body:    ` null `,
			errType: awsproto.ValidationException,
			errMsg:  "2 validation errors detected: " + pcNameNull + "; " + pcRecordsNull,
		},
		"stream name missing": {
			body:    `{"Records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: " + pcNameNull,
		},
		"stream name null": {
			body:    `{"DeliveryStreamName":null,"Records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: " + pcNameNull,
		},
		"stream name empty": {
			body:    `{"DeliveryStreamName":"","Records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errMsg: "2 validation errors detected: Value '' at 'deliveryStreamName' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
				"Value '' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		},
		"stream name too long": {
			body:    `{"DeliveryStreamName":"` + strings.Repeat("a", 65) + `","Records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value '" + strings.Repeat("a", 65) + "' at 'deliveryStreamName' failed to satisfy constraint: Member must have length less than or equal to 64",
		},
		"stream name of 64 characters": {
			body:   `{"DeliveryStreamName":"` + strings.Repeat("a", 64) + `","Records":[{"Data":"aGk="}]}`,
			stream: strings.Repeat("a", 64), records: []string{"hi"},
		},
		"stream name with a space": {
			body:    `{"DeliveryStreamName":"bad name","Records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value 'bad name' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		},
		"stream name with an escaped slash": {
			body:    `{"DeliveryStreamName":"a\/b","Records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value 'a/b' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		},
		"stream name with a surrogate pair": {
			body:    `{"DeliveryStreamName":"\ud83d\ude00","Records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value '\U0001F600' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		},
		"stream name with a lone surrogate": {
			body:    `{"DeliveryStreamName":"a\ud83db","Records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errHas:  "Value 'a\uFFFDb' at 'deliveryStreamName'",
		},
		"stream name too long and invalid": {
			body:    `{"DeliveryStreamName":"` + strings.Repeat("a ", 33) + `","Records":[{"Data":"aGk="}]}`,
			errType: awsproto.ValidationException,
			errMsg: "2 validation errors detected: Value '" + strings.Repeat("a ", 33) + "' at 'deliveryStreamName' failed to satisfy constraint: Member must have length less than or equal to 64; " +
				"Value '" + strings.Repeat("a ", 33) + "' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
		},
		"records missing": {
			body:    `{"DeliveryStreamName":"s"}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: " + pcRecordsNull,
		},
		"records null": {
			body:    `{"DeliveryStreamName":"s","Records":null}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: " + pcRecordsNull,
		},
		"records empty": {
			body:    `{"DeliveryStreamName":"s","Records":[ ]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: " + pcRecordsEmpty,
		},
		"501 records": {
			body:    pcNRecords(501, 1),
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: " + pcRecordsTooMan,
		},
		"501 records over 4 MiB: the count is checked first": {
			body:    pcNRecords(501, 9000),
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: " + pcRecordsTooMan,
		},
		"over 4 MiB": {
			body:    pcNRecords(500, pcMaxBatchBytes/500+1),
			errType: pcInvalidArgumentException,
			errMsg:  "Records size exceeds 4 MB limit",
		},
		"one byte over 4 MiB": {
			body:    string(pcBatchBody("s", []byte(big), []byte(big), []byte(big), []byte(big), make([]byte, pcMaxBatchBytes-4*pcMaxRecordBytes+1))),
			errType: pcInvalidArgumentException,
			errMsg:  "Records size exceeds 4 MB limit",
		},
		"record too long": {
			body:    string(pcBatchBody("s", []byte("ok"), []byte(big+"x"))),
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at 'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000",
		},
		"escaped record too long": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"\/` + pcB64("\xff\xff\xff" + big[2:])[1:] + `"}]}`,
			errType: awsproto.ValidationException,
			errHas:  "lim=1024001 cap=1024001]' at 'records.1.member.data'",
		},
		"data null": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"aGk="},{"Data":null}]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value null at 'records.2.member.data' failed to satisfy constraint: Member must not be null",
		},
		"data missing": {
			body:    `{"DeliveryStreamName":"s","Records":[{},{"Other":1}]}`,
			errType: awsproto.ValidationException,
			errMsg: "2 validation errors detected: Value null at 'records.1.member.data' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'records.2.member.data' failed to satisfy constraint: Member must not be null",
		},
		"record null": {
			body:    `{"DeliveryStreamName":"s","Records":[null]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value null at 'records.1.member' failed to satisfy constraint: Member must not be null",
		},
		"every member wrong, in model order": {
			body:    `{"Records":[{"Data":"aGk="},{"Data":null}` + strings.Repeat(`,{"Data":"aGk="}`, 499) + `],"DeliveryStreamName":"x y"}`,
			errType: awsproto.ValidationException,
			errMsg: "3 validation errors detected: Value 'x y' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				pcRecordsTooMan + "; Value null at 'records.2.member.data' failed to satisfy constraint: Member must not be null",
		},
		"records past the 500th are not listed": {
			body:    `{"DeliveryStreamName":"s","Records":[` + strings.Repeat(`null,`, 500) + strings.Repeat(`null,`, 10000) + `null]}`,
			errType: awsproto.ValidationException,
			errHas:  "501 validation errors detected: " + pcRecordsTooMan + "; Value null at 'records.1.member' failed",
		},
		"stream name and records missing": {
			body:    `{"Other":"x"}`,
			errType: awsproto.ValidationException,
			errMsg:  "2 validation errors detected: " + pcNameNull + "; " + pcRecordsNull,
		},

		// Bodies that do not parse.
		"truncated": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"aGk=`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 50: unexpected end of input",
		},
		"truncated after a record": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"aGk="}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 52: unexpected end of input",
		},
		"trailing data": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"aGk="}]} {}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 55: unexpected data after the top-level value",
		},
		"missing colon": {
			body:    `{"DeliveryStreamName" "s"}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 22: expected ':' after object key",
		},
		"missing comma": {
			body:    `{"DeliveryStreamName":"s" "Records":[]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 26: expected ',' or '}'",
		},
		"trailing comma in records": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"aGk="},]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 53: unexpected character ']'",
		},
		"top-level array": {
			body:    `[]`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 0: expected '{'",
		},
		"single-quoted key": {
			body:    `{'DeliveryStreamName':"s"}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 1: expected string",
		},
		"raw newline in data": {
			body:    "{\"DeliveryStreamName\":\"s\",\"Records\":[{\"Data\":\"aGVs\nbG8=\"}]}",
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 50: control character in string",
		},
		"raw tab in stream name": {
			body:    "{\"DeliveryStreamName\":\"a\tb\"}",
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 24: control character in string",
		},
		"invalid escape": {
			body:    `{"DeliveryStreamName":"a\x"}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 24: invalid escape in string",
		},
		"invalid unicode escape": {
			body:    `{"DeliveryStreamName":"a\u12G4"}`,
			errType: awsproto.SerializationException,
			errMsg:  `Invalid JSON at byte offset 24: invalid \u escape`,
		},
		"invalid literal": {
			body:    `{"DeliveryStreamName":nul,"Records":[]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 22: invalid literal",
		},
		"invalid number in an unknown member": {
			body:    `{"X":01,"DeliveryStreamName":"s","Records":[{"Data":""}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 6: expected ',' or '}'",
		},
		"number without digits after the point": {
			body:    `{"X":1.}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 7: invalid number",
		},
		"number without exponent digits": {
			body:    `{"X":[1e+]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 9: invalid number",
		},
		"nesting 100 deep is fine": {
			body:   `{"X":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,"DeliveryStreamName":"s","Records":[{"Data":""}]}`,
			stream: "s", records: []string{""},
		},
		"nesting too deep": {
			body:    `{"X":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`,
			errType: awsproto.SerializationException,
			errHas:  "nesting too deep",
		},
		"stream name not a string": {
			body:    `{"DeliveryStreamName":5,"Records":[{"Data":""}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid value at byte offset 22: DeliveryStreamName must be a string",
		},
		"records not an array": {
			body:    `{"DeliveryStreamName":"s","Records":{"Data":""}}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid value at byte offset 36: Records must be an array",
		},
		"record not an object": {
			body:    `{"DeliveryStreamName":"s","Records":["aGk="]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid value at byte offset 37: Record must be an object",
		},
		"data not a string": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":[104,105]}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid value at byte offset 45: Data must be a base64 string",
		},
		"invalid base64": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"aGk="},{"Data":"aG!="}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid base64 in records.2.member.data at byte offset 64",
		},
		"unpadded base64": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"aGk"}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid base64 in records.1.member.data at byte offset 46",
		},
		"invalid base64 with escapes": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"\/\/\/"}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid base64 in records.1.member.data at byte offset 45",
		},
		"base64 with data after padding": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":"aGk=aGk="}]}`,
			errType: awsproto.SerializationException,
			errHas:  "Invalid base64 in records.1.member.data",
		},
		"invalid base64 past the 500th record": {
			body:    `{"DeliveryStreamName":"s","Records":[` + strings.Repeat(`{"Data":"aGk="},`, 600) + `{"Data":"#"}]}`,
			errType: awsproto.SerializationException,
			errHas:  "Invalid base64 in records.601.member.data",
		},
		"syntax error outranks validation": {
			body:    `{"DeliveryStreamName":"bad name","Records":[{"Data":null},}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 58: unexpected character '}'",
		},
		"duplicate stream name": {
			body:    `{"DeliveryStreamName":"a","DeliveryStreamName":"b","Records":[{"Data":""}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Duplicate member DeliveryStreamName at byte offset 26",
		},
		"duplicate records": {
			body:    `{"DeliveryStreamName":"a","Records":[{"Data":""}],"Records":[]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Duplicate member Records at byte offset 50",
		},
		"duplicate data": {
			body:    `{"DeliveryStreamName":"a","Records":[{"Data":"","Data":"aGk="}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Duplicate member Data at byte offset 48",
		},
		"duplicate escaped data": {
			body:    `{"DeliveryStreamName":"a","Records":[{"Data":"","D\u0061ta":"aGk="}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Duplicate member Data at byte offset 48",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { pcCheck(t, decodePutRecordBatch, tc) })
	}
}

// pcRepeatRecords is what pcNRecords(n, size) decodes to.
func pcRepeatRecords(n, size int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.Repeat(string(rune('a'+i%26)), size)
	}
	return out
}

func TestPutcodecDecodePutRecord(t *testing.T) {
	big := strings.Repeat("x", pcMaxRecordBytes)
	cases := map[string]pcCase{
		"minimal": {
			body:   `{"DeliveryStreamName":"s","Record":{"Data":"aGVsbG8="}}`,
			stream: "s", records: []string{"hello"},
		},
		"reverse order, whitespace, unknown keys": {
			body:   "{ \"Record\" : { \"X\" : [1, {\"Data\": 2}], \"Data\" : \"aGk=\" }, \"Extra\": null,\n\"DeliveryStreamName\" : \"s\" }",
			stream: "s", records: []string{"hi"},
		},
		"empty data": {
			body:   `{"DeliveryStreamName":"s","Record":{"Data":""}}`,
			stream: "s", records: []string{""},
		},
		"escaped data": {
			body:   `{"DeliveryStreamName":"s","Record":{"Data":"\/\/\/\/"}}`,
			stream: "s", records: []string{"\xff\xff\xff"},
		},
		"1024000 bytes": {
			body:   `{"DeliveryStreamName":"s","Record":{"Data":"` + pcB64(big) + `"}}`,
			stream: "s", records: []string{big},
		},
		"record missing": {
			body:    `{"DeliveryStreamName":"s"}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value null at 'record' failed to satisfy constraint: Member must not be null",
		},
		"record null": {
			body:    `{"DeliveryStreamName":"s","Record":null}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value null at 'record' failed to satisfy constraint: Member must not be null",
		},
		"Records is not Record": {
			body:    `{"DeliveryStreamName":"s","Records":[{"Data":""}]}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value null at 'record' failed to satisfy constraint: Member must not be null",
		},
		"data missing": {
			body:    `{"DeliveryStreamName":"s","Record":{}}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value null at 'record.data' failed to satisfy constraint: Member must not be null",
		},
		"data null": {
			body:    `{"DeliveryStreamName":"s","Record":{"Data":null}}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value null at 'record.data' failed to satisfy constraint: Member must not be null",
		},
		"data too long": {
			body:    `{"DeliveryStreamName":"s","Record":{"Data":"` + pcB64(big+"xy") + `"}}`,
			errType: awsproto.ValidationException,
			errMsg:  "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024002 cap=1024002]' at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000",
		},
		"everything missing": {
			body:    `{}`,
			errType: awsproto.ValidationException,
			errMsg:  "2 validation errors detected: " + pcNameNull + "; Value null at 'record' failed to satisfy constraint: Member must not be null",
		},
		"bad name and null data": {
			body:    `{"DeliveryStreamName":"no/slash","Record":{"Data":null}}`,
			errType: awsproto.ValidationException,
			errMsg: "2 validation errors detected: Value 'no/slash' at 'deliveryStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value null at 'record.data' failed to satisfy constraint: Member must not be null",
		},
		"record not an object": {
			body:    `{"DeliveryStreamName":"s","Record":[{"Data":""}]}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid value at byte offset 35: Record must be an object",
		},
		"invalid base64": {
			body:    `{"DeliveryStreamName":"s","Record":{"Data":"a"}}`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid base64 in record.data at byte offset 44",
		},
		"duplicate record": {
			body:    `{"DeliveryStreamName":"s","Record":{"Data":""},"Record":{"Data":""}}`,
			errType: awsproto.SerializationException,
			errMsg:  "Duplicate member Record at byte offset 47",
		},
		"truncated": {
			body:    `{"DeliveryStreamName":"s","Record":{"Data":""`,
			errType: awsproto.SerializationException,
			errMsg:  "Invalid JSON at byte offset 45: unexpected end of input",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { pcCheck(t, decodePutRecord, tc) })
	}
}

// TestPutcodecBatchKeptOnError checks that a failed decode leaves a batch
// that already holds records exactly as it was, and a good one appends.
func TestPutcodecBatchKeptOnError(t *testing.T) {
	var b buffer.Batch
	for i := range 50 {
		b.Add(bytes.Repeat([]byte{byte(i)}, i*7))
	}
	before := bytes.Clone(b.Bytes())
	n, size := b.Len(), b.DataBytes()
	// Big enough to make the batch grow while it is decoded.
	bad := pcNRecords(200, 5000)
	bad = bad[:len(bad)-2] + "}}"
	if _, err := decodePutRecordBatch([]byte(bad), &b); err == nil {
		t.Fatal("truncated body accepted")
	}
	if !bytes.Equal(b.Bytes(), before) || b.Len() != n || b.DataBytes() != size {
		t.Fatalf("batch changed: %d records, %d bytes", b.Len(), b.DataBytes())
	}
	if _, err := decodePutRecord([]byte(`{"DeliveryStreamName":"s","Record":{"Data":"aGk="},"x":}`), &b); err == nil {
		t.Fatal("bad PutRecord accepted")
	}
	if !bytes.Equal(b.Bytes(), before) {
		t.Fatal("batch changed by PutRecord")
	}
	if _, err := decodePutRecordBatch([]byte(pcNRecords(3, 2)), &b); err != nil {
		t.Fatal(err)
	}
	if b.Len() != n+3 || !bytes.HasPrefix(b.Bytes(), before) {
		t.Fatalf("good decode did not append: %d records", b.Len())
	}
}

// pcResponse is the AWS shape of a PutRecordBatch response.
type pcResponse struct {
	Encrypted        *bool
	FailedPutCount   *int
	RequestResponses []struct {
		RecordId     *string
		ErrorCode    *string
		ErrorMessage *string
	}
}

var pcIDPattern = regexp.MustCompile(`^[0-9a-f]{48}$`)

func TestPutcodecBatchResponse(t *testing.T) {
	id0 := string(appendRecordID(nil, 7, 100))
	id2 := string(appendRecordID(nil, 7, 102))
	got := string(appendPutRecordBatchResponse([]byte("prefix"), 7, 100, 3, []bool{false, true}, "ServiceUnavailableException", "Slow down."))
	want := `prefix{"Encrypted":false,"FailedPutCount":1,"RequestResponses":[{"RecordId":"` + id0 +
		`"},{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"Slow down."},{"RecordId":"` + id2 + `"}]}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}

	cases := map[string]struct {
		n      int
		failed []bool
		code   string
		msg    string
	}{
		"all ok":                    {n: 500},
		"one record":                {n: 1},
		"all failed":                {n: 4, failed: []bool{true, true, true, true}, code: "ServiceUnavailableException", msg: "Slow down."},
		"failed longer than n":      {n: 2, failed: []bool{false, true, true}, code: "InternalFailure", msg: "x"},
		"message needing escapes":   {n: 2, failed: []bool{true}, code: "InternalFailure", msg: "a \"quoted\"\\ \n\t\x01 é"},
		"zero records (never sent)": {n: 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := appendPutRecordBatchResponse(nil, 42, 1000, tc.n, tc.failed, tc.code, tc.msg)
			var r pcResponse
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if r.Encrypted == nil || *r.Encrypted || r.FailedPutCount == nil || len(r.RequestResponses) != tc.n {
				t.Fatalf("bad shape: %s", out)
			}
			failed := 0
			for i, e := range r.RequestResponses {
				if i < len(tc.failed) && tc.failed[i] {
					failed++
					if e.RecordId != nil || e.ErrorCode == nil || *e.ErrorCode != tc.code || e.ErrorMessage == nil || *e.ErrorMessage != tc.msg {
						t.Errorf("entry %d: %s", i, out)
					}
					continue
				}
				if e.RecordId == nil || e.ErrorCode != nil || e.ErrorMessage != nil {
					t.Fatalf("entry %d: %s", i, out)
				}
				if *e.RecordId != string(appendRecordID(nil, 42, 1000+uint64(i))) {
					t.Errorf("entry %d id %s", i, *e.RecordId)
				}
			}
			if *r.FailedPutCount != failed {
				t.Errorf("FailedPutCount %d, want %d", *r.FailedPutCount, failed)
			}
		})
	}
}

func TestPutcodecRecordResponse(t *testing.T) {
	out := appendPutRecordResponse(nil, 1, 2)
	want := `{"Encrypted":false,"RecordId":"` + string(appendRecordID(nil, 1, 2)) + `"}`
	if string(out) != want {
		t.Fatalf("got %s, want %s", out, want)
	}
	var r struct {
		Encrypted *bool
		RecordId  *string
	}
	if err := json.Unmarshal(out, &r); err != nil || r.Encrypted == nil || r.RecordId == nil {
		t.Fatalf("%v: %s", err, out)
	}
}

func TestPutcodecRecordID(t *testing.T) {
	if got := string(appendRecordID([]byte("x"), 0x0123456789abcdef, 0xfedcba9876543210)); got[:33] != "x0123456789abcdeffedcba9876543210" {
		t.Fatalf("id %s does not start with salt and seq", got)
	}
	seen := make(map[string]bool)
	for _, salt := range []uint64{0, 1, 2, 0xffffffffffffffff, 0x9e3779b97f4a7c15} {
		for seq := range uint64(2000) {
			for _, s := range []uint64{seq, (seq + 1) << 40, ^seq} {
				id := string(appendRecordID(nil, salt, s))
				if !pcIDPattern.MatchString(id) {
					t.Fatalf("id %q is not 48 lower-case hex", id)
				}
				if seen[id] {
					t.Fatalf("duplicate id %s for (%d, %d)", id, salt, s)
				}
				seen[id] = true
			}
		}
	}
	// Consecutive ids must not look consecutive in their last part.
	a, b := appendRecordID(nil, 5, 10), appendRecordID(nil, 5, 11)
	if bytes.Equal(a[32:40], b[32:40]) {
		t.Errorf("mix barely changes: %s %s", a, b)
	}
}

// TestPutcodecNoAllocs pins the fast path's promise: no allocation per
// record, whatever the number of records.
func TestPutcodecNoAllocs(t *testing.T) {
	body := pcRandomBody(500, 300, 1)
	var b buffer.Batch
	allocs := testing.AllocsPerRun(20, func() {
		b.Reset()
		if _, err := decodePutRecordBatch(body, &b); err != nil {
			t.Fatal(err)
		}
	})
	// The stream name is the only allocation.
	if allocs > 1 {
		t.Errorf("%v allocations per decode of 500 records", allocs)
	}
	out := make([]byte, 0, 64<<10)
	allocs = testing.AllocsPerRun(20, func() {
		out = appendPutRecordBatchResponse(out[:0], 1, 2, 500, nil, "", "")
	})
	if allocs != 0 {
		t.Errorf("%v allocations per response", allocs)
	}
}
