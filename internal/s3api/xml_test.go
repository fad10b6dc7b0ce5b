package s3api

import (
	"bytes"
	"encoding/xml"
	"testing"
)

// TestListXMLMatchesEncoder: the hand-written ListBucketResult is what
// encoding/xml makes of the struct.
func TestListXMLMatchesEncoder(t *testing.T) {
	n := 2
	m := "mark<&>"
	for _, l := range []listBucketResult{
		{NS: s3NS, Name: "b", Prefix: "p&", KeyCount: &n, MaxKeys: 1000, Delimiter: "/", IsTruncated: true, NextToken: "tok",
			Contents: []objectXML{{Key: "a<b>\"é\x01", LastModified: "2026", ETag: `"e"`, Size: 3, StorageClass: "STANDARD"},
				{Key: "k", ETag: `"x"`, Owner: &owner{ID: "id", DisplayName: "d"}}},
			CommonPrefixes: []commonPrefix{{Prefix: "c/"}}},
		{NS: s3NS, Name: "b", Marker: &m, NextMarker: "n", EncodingType: "url", StartAfter: "s", Token: "t"},
		{NS: s3NS},
	} {
		var want, got bytes.Buffer
		if err := xml.NewEncoder(&want).Encode(l); err != nil {
			t.Fatal(err)
		}
		l.write(&got)
		if got.String() != want.String() {
			t.Errorf("hand-written:\n%s\nencoding/xml:\n%s", got.String(), want.String())
		}
	}
}
