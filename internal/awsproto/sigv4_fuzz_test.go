package awsproto

import (
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzVerify feeds arbitrary Authorization headers, query strings, paths
// and dates to the verifier: it must never panic, and must never accept a
// request it was not given a valid signature for.
func FuzzVerify(f *testing.F) {
	for _, raw := range suiteVectors {
		f.Add(raw[:min(len(raw), 200)], "", "/", "20150830T123600Z")
	}
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31", "", "/", "20150830T123600Z")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=60&X-Amz-Signature=00", "/a/../b//c", "")
	f.Add("AWS4-x Credential=/////, SignedHeaders=;;, Signature=", "a=%zz&&=&b", "//..//", "99999999T999999Z")
	v := &Verifier{Credentials: suiteCredentials(f), Now: func() time.Time { return suiteTime }}
	f.Fuzz(func(t *testing.T, auth, query, path, date string) {
		r := httptest.NewRequest("GET", "http://example.amazonaws.com/", nil)
		r.URL.RawQuery = query
		r.RequestURI = path
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if date != "" {
			r.Header.Set("X-Amz-Date", date)
		}
		id, e := v.Verify(r, nil, SigningService{Name: "service"})
		if e == nil && (id == nil || id.AccessKeyID != "AKIDEXAMPLE") {
			t.Fatalf("accepted without an identity: %+v", id)
		}
		if e != nil && (e.Type == "" || e.Message == "" || e.Status != 400) {
			t.Fatalf("malformed error %+v", e)
		}
	})
}
