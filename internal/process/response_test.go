package process

import (
	"fmt"
	"testing"
)

var responseSeeds = []string{
	`{"records":[{"recordId":"1","result":"Ok","data":"eA=="},{"recordId":"2","result":"Dropped"}]}`,
	`{"records":[{"recordId":"1","result":"Ok","data":null,"metadata":{"partitionKeys":{"k":"v"}}}],"x":[1,2.5e3,true,null,{"a":"\u00e9\n"}]}`,
	`{"records":[{"recordId":"1","result":"Ok","data":"eA\/="}]}`,
	`{"records":[{"RecordId":"1","result":"Ok","data":"eA=="}]}`,
	`{"records":[{"recordId":"1","result":"Ok","data":"eA==","metadata":{"partitionKeys":{"k":1}}}]}`,
	`{"records":[{"recordId":1}]}`,
	`{"records":[]}`, `{"records":null}`, `{}`, `[]`, `42`, `not json`, `{"records":[{}]}`,
	`{"records":[{"recordId":"1","recordId":"2"}]} `, `{"records":[{"recordId":"1"}]}x`,
	`{"records":[{"recordId":"1","result":"Ok","data":"eA==","extra":-0.5E-3}]}`,
}

// FuzzResponse checks that the one-pass parser and encoding/json agree on
// every answer the parser accepts.
func FuzzResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := parseResponse(b)
		if !ok {
			return
		}
		slow, code, _ := decodeResponseSlow(b)
		if code != "" {
			t.Fatalf("parser accepted %q, encoding/json says %s", b, code)
		}
		if describe(fast) != describe(slow) {
			t.Fatalf("%q:\nfast %s\nslow %s", b, describe(fast), describe(slow))
		}
	})
}

func TestResponseShapes(t *testing.T) {
	tests := []struct {
		in      string
		fast    bool   // the one-pass parser takes it
		code    string // failure of every record
		entries int
	}{
		{responseSeeds[0], true, "", 2},
		{responseSeeds[1], true, "", 1},
		{`{"records":[{"recordId":"1","result":"Ok","data":"eA\/="}]}`, false, "", 1},
		{`{"records":[{"RecordId":"1"}]}`, false, "", 1},
		{`{"records":[{"recordId":1}]}`, false, CodeJSON, 0},
		{`{"records":null}`, false, CodeMissingID, 0},
		{`{}`, false, CodeMissingID, 0},
		{`42`, false, CodeMissingID, 0},
		{`not json`, false, CodeJSON, 0},
		{`{"records":[{"recordId":"1"}]}x`, false, CodeJSON, 0},
	}
	for _, tc := range tests {
		_, fast := parseResponse([]byte(tc.in))
		entries, code, _ := decodeResponse([]byte(tc.in))
		if fast != tc.fast || code != tc.code || len(entries) != tc.entries {
			t.Errorf("%s: fast %v code %q entries %d", tc.in, fast, code, len(entries))
		}
	}
}

// describe prints entries for comparison (maps print sorted).
func describe(es []respEntry) string {
	s := ""
	for _, e := range es {
		s += fmt.Sprintf("{%q %v %q %q %v %v} ", e.id, e.hasID, e.result, e.data, e.hasData, e.keys)
	}
	return s
}
