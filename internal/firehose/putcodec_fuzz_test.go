package firehose

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/buffer"
)

// pcRefBatch is the reference decoding of a PutRecordBatch body, by
// encoding/json as a reflection-based handler would do it.
type pcRefBatch struct {
	DeliveryStreamName *string
	Records            []struct{ Data []byte }
}

// pcRefShape is what a token walk of a body says about the places where the
// fast decoder is stricter than encoding/json (see putcodec.go).
type pcRefShape struct {
	folded bool // some key matches a known member only case-insensitively
	dup    bool // a known member appears twice in one object
	depth  int  // deepest nesting
}

// pcRefWalk walks body with json.Decoder tokens; it fails on invalid JSON.
// single selects PutRecord's shape (Record) over PutRecordBatch's (Records).
func pcRefWalk(body []byte, single bool) (pcRefShape, error) {
	list := "Records"
	if single {
		list = "Record"
	}
	var sh pcRefShape
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	// ctx: 0 root, 1 the Records array, 2 a record, 3 anything else.
	var walk func(ctx, depth int) error
	walk = func(ctx, depth int) error {
		sh.depth = max(sh.depth, depth)
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		delim, ok := tok.(json.Delim)
		if !ok {
			return nil
		}
		switch delim {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				tok, err := dec.Token()
				if err != nil {
					return err
				}
				key := tok.(string)
				for _, known := range []string{"DeliveryStreamName", list, "Data"} {
					if key != known && strings.EqualFold(key, known) {
						sh.folded = true
					}
				}
				if (ctx == 0 && (key == "DeliveryStreamName" || key == list)) || (ctx == 2 && key == "Data") {
					sh.dup = sh.dup || seen[key]
					seen[key] = true
				}
				child := 3
				switch {
				case ctx == 0 && key == list && single:
					child = 2
				case ctx == 0 && key == list:
					child = 1
				}
				if err := walk(child, depth+1); err != nil {
					return err
				}
			}
		case '[':
			child := 3
			if ctx == 1 {
				child = 2
			}
			for dec.More() {
				if err := walk(child, depth+1); err != nil {
					return err
				}
			}
		}
		_, err = dec.Token() // the closing delimiter
		return err
	}
	if err := walk(0, 1); err != nil {
		return sh, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return sh, errors.New("data after the top-level value")
	}
	return sh, nil
}

// pcRefAcceptable reports whether a decoded reference request passes every
// rule the fast decoder enforces after parsing.
func pcRefAcceptable(ref *pcRefBatch) bool {
	if ref.DeliveryStreamName == nil || len(*ref.DeliveryStreamName) > pcMaxNameLen || !pcNameChars(*ref.DeliveryStreamName) {
		return false
	}
	if len(ref.Records) < 1 || len(ref.Records) > pcMaxRecords {
		return false
	}
	total := 0
	for _, r := range ref.Records {
		// nil: Data was null or absent, or the record was null.
		if r.Data == nil || len(r.Data) > pcMaxRecordBytes {
			return false
		}
		total += len(r.Data)
	}
	return total <= pcMaxBatchBytes
}

// FuzzDecodePutRecordBatch checks the fast decoder against encoding/json:
//   - the fast decoder never accepts what encoding/json rejects;
//   - where both accept, they agree on the stream name and every record;
//   - where encoding/json accepts a request that passes all the rules and
//     none of the documented strictness applies (member names differing only
//     in case, duplicate members, very deep nesting), the fast decoder
//     accepts it too;
//   - on error the batch is left exactly as it was, and the error is one of
//     the three client errors the decoder may return.
func FuzzDecodePutRecordBatch(f *testing.F) {
	for _, s := range []string{
		`{"DeliveryStreamName":"s","Records":[{"Data":"aGVsbG8="}]}`,
		`{"Records":[{"Data":""},{"Data":"aGk="}],"DeliveryStreamName":"my-stream_1.0"}`,
		" {\n \"DeliveryStreamName\" : \"s\" ,\t\"Records\" : [ { \"Data\" : \"\\/\\/\\/\\/\" } ] }\r\n",
		`{"DeliveryStreamName":"s\u0031","Records":[{"D\u0061ta":"\u0061GVsbG8\u003d"}]}`,
		`{"DeliveryStreamName":"s","Records":[{"Data":"aGVs\nbG8="}]}`,
		`{"X":{"a":[1,-2.5e-3,true,false,null,"x\"y\ud83d\ude00"]},"DeliveryStreamName":"s","Records":[{"K":"v","Data":"aGk="}]}`,
		`{"DeliveryStreamName":"s","records":[{"Data":"aGk="}],"Records":[{"data":"aGk=","Data":"aGk="}]}`,
		`{"DeliveryStreamName":"a","DeliveryStreamName":"b","Records":[{"Data":""}]}`,
		`{"DeliveryStreamName":"s","Records":[{"Data":null},null,{}]}`,
		`{"DeliveryStreamName":"s","Records":[{"Data":"aGk"}]}`,
		`{"DeliveryStreamName":"bad name","Records":[]}`,
		`{"DeliveryStreamName":5,"Records":{}}`,
		`{"DeliveryStreamName":"s","Records":[{"Data":"aGk="}]} x`,
		`{"DeliveryStreamName":"s","Records":[{"Data":"aGk=`,
		`{"X":[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]],"DeliveryStreamName":"s","Records":[{"Data":""}]}`,
		``, `null`, `{}`, `[]`, `"s"`,
	} {
		f.Add([]byte(s))
	}
	f.Add(pcRandomBody(3, 300, 1))
	f.Add(pcRandomBody(20, 40, 2))
	f.Add([]byte(pcNRecords(501, 1)))

	f.Fuzz(func(t *testing.T, body []byte) {
		var b buffer.Batch
		b.Add([]byte("sentinel"))
		before := bytes.Clone(b.Bytes())
		stream, err := decodePutRecordBatch(body, &b)

		var ref pcRefBatch
		refErr := json.Unmarshal(body, &ref)
		shape, walkErr := pcRefWalk(body, false)
		if (walkErr == nil) != json.Valid(body) {
			t.Fatalf("reference walk and json.Valid disagree: %v", walkErr)
		}
		strictOnly := shape.folded || shape.dup || shape.depth > pcMaxDepth

		if err != nil {
			if !bytes.Equal(b.Bytes(), before) || b.Len() != 1 || b.DataBytes() != 8 {
				t.Fatalf("batch changed by a failed decode (%v)", err)
			}
			switch err.Type {
			case awsproto.SerializationException, awsproto.ValidationException, pcInvalidArgumentException:
			default:
				t.Fatalf("unexpected error type %s", err.Type)
			}
			if err.Status != 400 || err.Message == "" {
				t.Fatalf("bad error %+v", err)
			}
			if refErr == nil && walkErr == nil && !strictOnly && pcRefAcceptable(&ref) {
				t.Fatalf("rejected a request encoding/json accepts: %v", err)
			}
			return
		}

		if walkErr != nil {
			t.Fatalf("accepted invalid JSON (%v)", walkErr)
		}
		if shape.folded {
			// encoding/json may have read a differently cased key; only the
			// JSON validity above is comparable.
			return
		}
		if refErr != nil {
			t.Fatalf("accepted a request encoding/json rejects: %v", refErr)
		}
		if !pcRefAcceptable(&ref) {
			t.Fatalf("accepted a request that breaks a rule: %+v", ref)
		}
		if stream != *ref.DeliveryStreamName {
			t.Fatalf("stream %q, encoding/json says %q", stream, *ref.DeliveryStreamName)
		}
		got := pcRecordsOf(&b, 1)
		if len(got) != len(ref.Records) || b.Len() != len(ref.Records)+1 {
			t.Fatalf("%d records, encoding/json says %d", len(got), len(ref.Records))
		}
		var total int64 = 8
		for i, r := range ref.Records {
			if got[i] != string(r.Data) {
				t.Fatalf("record %d = %q, encoding/json says %q", i, got[i], r.Data)
			}
			total += int64(len(r.Data))
		}
		if b.DataBytes() != total {
			t.Fatalf("DataBytes %d, want %d", b.DataBytes(), total)
		}
	})
}

// FuzzPutcodecDecodePutRecord checks PutRecord's decoder the same way.
func FuzzPutcodecDecodePutRecord(f *testing.F) {
	for _, s := range []string{
		`{"DeliveryStreamName":"s","Record":{"Data":"aGVsbG8="}}`,
		`{"Record":{"X":[1,{}],"Data":"\/\/\/\/"},"DeliveryStreamName":"s"}`,
		`{"DeliveryStreamName":"s","Record":null}`,
		`{"DeliveryStreamName":"s","Record":{"Data":null}}`,
		`{"DeliveryStreamName":"s","Record":[]}`,
		`{"DeliveryStreamName":"s","record":{"Data":"aGk="},"Record":{"data":"","Data":"aGk="}}`,
		`{"DeliveryStreamName":"s","Record":{"Data":"aGk="},"Record":{"Data":""}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var b buffer.Batch
		b.Add([]byte("sentinel"))
		before := bytes.Clone(b.Bytes())
		stream, err := decodePutRecord(body, &b)

		var ref struct {
			DeliveryStreamName *string
			Record             *struct{ Data []byte }
		}
		refErr := json.Unmarshal(body, &ref)
		shape, walkErr := pcRefWalk(body, true)
		acceptable := refErr == nil && ref.DeliveryStreamName != nil && len(*ref.DeliveryStreamName) <= pcMaxNameLen &&
			pcNameChars(*ref.DeliveryStreamName) && ref.Record != nil && ref.Record.Data != nil && len(ref.Record.Data) <= pcMaxRecordBytes
		if err != nil {
			if !bytes.Equal(b.Bytes(), before) || b.Len() != 1 {
				t.Fatalf("batch changed by a failed decode (%v)", err)
			}
			if walkErr == nil && !shape.folded && !shape.dup && shape.depth <= pcMaxDepth && acceptable {
				t.Fatalf("rejected a request encoding/json accepts: %v", err)
			}
			return
		}
		if walkErr != nil {
			t.Fatalf("accepted invalid JSON (%v)", walkErr)
		}
		if shape.folded {
			return
		}
		if !acceptable {
			t.Fatalf("accepted a request encoding/json rejects or that breaks a rule (%v)", refErr)
		}
		got := pcRecordsOf(&b, 1)
		if len(got) != 1 || stream != *ref.DeliveryStreamName || got[0] != string(ref.Record.Data) {
			t.Fatalf("got %q %q, encoding/json says %q %q", stream, got, *ref.DeliveryStreamName, ref.Record.Data)
		}
	})
}

// pcGen writes valid PutRecordBatch bodies in the many legal spellings a
// client may use: any key order, whitespace anywhere, unknown members of any
// type, \u escapes in keys and values, \/ and escaped line breaks inside the
// base64. Raw byte fuzzing seldom finds such bodies; this reaches them.
type pcGen struct {
	r   *rand.Rand
	out []byte
}

func (g *pcGen) ws() {
	for g.r.IntN(4) == 0 {
		g.out = append(g.out, " \t\r\n"[g.r.IntN(4)])
	}
}

// str writes s as a JSON string, escaping some characters that need no
// escape; in base64 it may also insert escaped line breaks, which
// encoding/json's base64 decoder skips.
func (g *pcGen) str(s string, base64 bool) {
	g.out = append(g.out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' {
			g.out = append(g.out, '\\', c)
			continue
		}
		if c >= 0x80 {
			g.out = append(g.out, c)
			continue
		}
		switch g.r.IntN(12) {
		case 0:
			g.out = fmt.Appendf(g.out, `\u%04x`, c)
		case 1:
			g.out = fmt.Appendf(g.out, `\u%04X`, c)
		case 2:
			if c == '/' {
				g.out = append(g.out, `\/`...)
				continue
			}
			g.out = append(g.out, c)
		case 3:
			if base64 {
				g.out = append(g.out, []string{`\n`, `\r`, `\r\n`}[g.r.IntN(3)]...)
			}
			g.out = append(g.out, c)
		default:
			g.out = append(g.out, c)
		}
	}
	g.out = append(g.out, '"')
}

// value writes a random JSON value for an unknown member.
func (g *pcGen) value(depth int) {
	switch n := g.r.IntN(8); {
	case n == 0 && depth < 4:
		g.out = append(g.out, '{')
		for i := range g.r.IntN(3) {
			if i > 0 {
				g.out = append(g.out, ',')
			}
			g.ws()
			g.str([]string{"Data", "Records", "x", "DeliveryStreamName", "\u00e9"}[g.r.IntN(5)], false)
			g.ws()
			g.out = append(g.out, ':')
			g.ws()
			g.value(depth + 1)
			g.ws()
		}
		g.out = append(g.out, '}')
	case n == 1 && depth < 4:
		g.out = append(g.out, '[')
		for i := range g.r.IntN(3) {
			if i > 0 {
				g.out = append(g.out, ',')
			}
			g.ws()
			g.value(depth + 1)
			g.ws()
		}
		g.out = append(g.out, ']')
	case n == 2:
		g.out = append(g.out, []string{"true", "false", "null"}[g.r.IntN(3)]...)
	case n == 3:
		g.out = append(g.out, []string{"0", "-1", "12.5", "-0.0e+10", "3E-2", "1e9"}[g.r.IntN(6)]...)
	default:
		g.str([]string{"", "x", "a\"b", "\U0001F600", "\\", "Data"}[g.r.IntN(6)], false)
	}
}

// members writes an object whose known members are given as key and writer
// pairs, in a random order, with unknown members between them.
func (g *pcGen) members(known map[string]func()) {
	keys := make([]string, 0, len(known))
	for k := range known {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	g.r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	g.out = append(g.out, '{')
	first := true
	sep := func() {
		if !first {
			g.out = append(g.out, ',')
		}
		first = false
		g.ws()
	}
	for _, k := range keys {
		for g.r.IntN(4) == 0 {
			sep()
			g.str([]string{"PartitionKey", "X", "Encrypted", "d", "Recordz"}[g.r.IntN(5)], false)
			g.ws()
			g.out = append(g.out, ':')
			g.ws()
			g.value(0)
			g.ws()
		}
		sep()
		g.str(k, false)
		g.ws()
		g.out = append(g.out, ':')
		g.ws()
		known[k]()
		g.ws()
	}
	g.out = append(g.out, '}')
}

// FuzzPutcodecValidBodies builds a valid request from the fuzzer's seed and
// data, spelled in random legal ways, and checks that the fast decoder
// accepts it with the same records as encoding/json.
func FuzzPutcodecValidBodies(f *testing.F) {
	f.Add(uint64(1), []byte("hello, world"), uint8(3))
	f.Add(uint64(2), []byte{0xff, 0xfe, 0xfd, 0, 1, 2, 3}, uint8(1))
	f.Add(uint64(3), []byte(""), uint8(4))
	f.Fuzz(func(t *testing.T, seed uint64, data []byte, nrec uint8) {
		g := &pcGen{r: rand.New(rand.NewPCG(seed, seed>>32))}
		n := int(nrec)%pcMaxRecords + 1
		var recs [][]byte
		for i := range n {
			lo, hi := len(data)*i/n, len(data)*(i+1)/n
			recs = append(recs, data[lo:hi])
		}
		name := []string{"s", "my-stream_1.0", strings.Repeat("Z", 64)}[g.r.IntN(3)]
		g.ws()
		g.members(map[string]func(){
			"DeliveryStreamName": func() { g.str(name, false) },
			"Records": func() {
				g.out = append(g.out, '[')
				for i, rec := range recs {
					if i > 0 {
						g.out = append(g.out, ',')
					}
					g.ws()
					g.members(map[string]func(){
						"Data": func() { g.str(base64.StdEncoding.EncodeToString(rec), true) },
					})
					g.ws()
				}
				g.out = append(g.out, ']')
			},
		})
		g.ws()
		body := g.out

		var ref pcRefBatch
		if err := json.Unmarshal(body, &ref); err != nil {
			t.Fatalf("generator wrote a body encoding/json rejects: %v\n%s", err, body)
		}
		var b buffer.Batch
		stream, err := decodePutRecordBatch(body, &b)
		if err != nil {
			t.Fatalf("rejected a valid body: %v\n%s", err, body)
		}
		if stream != name || *ref.DeliveryStreamName != name {
			t.Fatalf("stream %q, encoding/json %q, want %q", stream, *ref.DeliveryStreamName, name)
		}
		got := pcRecordsOf(&b, 0)
		if len(got) != n || len(ref.Records) != n {
			t.Fatalf("%d records, encoding/json %d, want %d", len(got), len(ref.Records), n)
		}
		for i := range got {
			if got[i] != string(recs[i]) || string(ref.Records[i].Data) != string(recs[i]) {
				t.Fatalf("record %d: %q, encoding/json %q, want %q", i, got[i], ref.Records[i].Data, recs[i])
			}
		}
	})
}
