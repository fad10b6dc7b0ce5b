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
	// aws-lambda-go's KinesisFirehoseResponse: every record has metadata.
	`{"records":[{"recordId":"1","result":"Ok","data":"eA==","metadata":{"partitionKeys":null,"otfMetadata":{"destinationDatabaseName":"","destinationTableName":"","operation":""}}}]}`,
	`{"records":[{"recordId":"1","result":"Ok","data":"eA==","metadata":{"partitionKeys":{"a":"1","a":"2","b":""}}}]}`,
	`{"records":[{"recordId":"1","metadata":{"partitionKeys":{"a":"1"}},"metadata":{"partitionKeys":{"b":"2"}}}]}`,
	`{"records":[{"recordId":"1","metadata":{"partitionKeys":{"a":"1"},"partitionKeys":{"b":"2"}}}]}`,
	`{"records":[{"recordId":"1","metadata":{"PartitionKeys":{"a":"1"}}}]}`,
	`{"records":[{"recordId":"1","metadata":{"partitionKeys":{}}},{"recordId":"2","metadata":{}},{"recordId":"3","metadata":null}]}`,
	`{"records":[{"recordId":"1","metadata":{"partitionKeys":{"k":"caf\u00e9"}}}]}`,
	`{"records":[{"recordId":"1","metadata":{"partitionKeys":[]}}]}`,
	`{"records":[{"recordId":"0123456789abcdefghij","result":"Ok","data":"eyJhIjoiMTIzNDU2Nzg5MDEyMzQ1Njc4OTAifQ=="}]}`,
}

// FuzzResponse checks that the one-pass parser and encoding/json agree on
// every answer the parser accepts.
func FuzzResponse(f *testing.F) {
	for _, s := range responseSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := parseResponse(b, 0)
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
		{responseSeeds[16], true, "", 1},
		{responseSeeds[17], true, "", 1},
		{responseSeeds[18], false, "", 1},
		{responseSeeds[19], false, "", 1},
		{responseSeeds[20], false, "", 1},
		{responseSeeds[21], true, "", 3},
		{responseSeeds[22], false, "", 1},
		{responseSeeds[23], false, CodeJSON, 0},
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
		_, fast := parseResponse([]byte(tc.in), 1)
		entries, code, _ := decodeResponse([]byte(tc.in), 1)
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
