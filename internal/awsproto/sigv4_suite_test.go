package awsproto

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// suiteVectors are requests from AWS's published SigV4 test suite (the
// "aws-signing-test-suite/v4" cases that aws-c-auth ships), signed by AWS's
// reference implementation with the suite's example key at
// 2015-08-30T12:36:00Z, region us-east-1, service "service". Each must
// verify exactly as written: request line, headers, then the body.
var suiteVectors = map[string]string{
	"get-vanilla": "GET / HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-vanilla-query-order-key-case": "GET /?Param2=value2&Param1=value1 HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-vanilla-query-unreserved": "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-vanilla-utf8-query": "GET /?ሴ=bar HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-utf8": "GET /ሴ HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-unreserved": "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-space-normalized": "GET /example space/ HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-slashes-normalized": "GET //example// HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-relative-relative-normalized": "GET /example1/example2/../.. HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-header-value-trim": "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-header-key-duplicate": "GET / HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea\n" +
		"X-Amz-Date:20150830T123600Z\n\n",
	"get-vanilla-with-session-token": "GET / HTTP/1.1\nHost:example.amazonaws.com\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8\n" +
		"X-Amz-Date:20150830T123600Z\nX-Amz-Security-Token:6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267\n\n",
	"post-x-www-form-urlencoded": "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\nHost:example.amazonaws.com\nContent-Length:13\n" +
		"x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n" +
		"Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date, Signature=d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b\n" +
		"X-Amz-Date:20150830T123600Z\n\nParam1=value1",
	"presigned get-vanilla-query-order-key-case": "GET /?Param2=value2&Param1=value1&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Signature=86012e2c9ad4d77369f5d81c11f75158aae4f895a085212cc6d3f923d300bed5 HTTP/1.1\n" +
		"Host:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n\n",
}

// suiteTime is the instant every suite vector was signed at.
var suiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

// suiteCredentials is the suite's example key; the session token is the
// one get-vanilla-with-session-token sends.
func suiteCredentials(t testing.TB) *Credentials {
	c, err := NewCredentials(
		Credential{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Profile: "suite"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// parseVector builds the request a server would have read from the wire
// for a suite vector. It is done by hand because some vectors (a space in
// the path) are not valid HTTP/1.1 for net/http's parser.
func parseVector(t *testing.T, raw string) (*http.Request, []byte) {
	t.Helper()
	head, body, _ := strings.Cut(raw, "\n\n")
	lines := strings.Split(head, "\n")
	method, target, ok := strings.Cut(strings.TrimSuffix(lines[0], " HTTP/1.1"), " ")
	if !ok {
		t.Fatalf("bad request line %q", lines[0])
	}
	u := &url.URL{}
	u.Path, u.RawQuery, _ = strings.Cut(target, "?")
	r := &http.Request{Method: method, RequestURI: target, URL: u, Header: http.Header{}, ContentLength: -1}
	for _, l := range lines[1:] {
		k, v, _ := strings.Cut(l, ":")
		v = strings.TrimSpace(v) // as net/textproto does
		switch http.CanonicalHeaderKey(k) {
		case "Host":
			r.Host = v
			continue
		case "Content-Length":
			r.ContentLength, _ = strconv.ParseInt(v, 10, 64)
		}
		r.Header.Add(k, v)
	}
	return r, []byte(body)
}

func TestSigV4AWSTestSuite(t *testing.T) {
	v := &Verifier{Credentials: suiteCredentials(t), Now: func() time.Time { return suiteTime }}
	for name, raw := range suiteVectors {
		t.Run(name, func(t *testing.T) {
			if name == "get-vanilla-with-session-token" {
				c, _ := NewCredentials(Credential{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
					SessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"})
				v := &Verifier{Credentials: c, Now: func() time.Time { return suiteTime }}
				r, body := parseVector(t, raw)
				if _, e := v.Verify(r, body, SigningService{Name: "service"}); e != nil {
					t.Fatalf("verify: %v", e)
				}
				return
			}
			r, body := parseVector(t, raw)
			id, e := v.Verify(r, body, SigningService{Name: "service"})
			if e != nil {
				t.Fatalf("verify: %v", e)
			}
			if id.AccessKeyID != "AKIDEXAMPLE" || id.Region != "us-east-1" || id.Service != "service" || !id.Time.Equal(suiteTime) {
				t.Errorf("identity = %+v", id)
			}
			// Any change to what is signed must break the signature.
			r2, _ := parseVector(t, raw)
			r2.Method = "PUT"
			if _, e := v.Verify(r2, body, SigningService{Name: "service"}); e == nil || e.Type != InvalidSignatureException || e.Message != msgSignatureMismatch {
				t.Errorf("tampered method: got %v, want the signature mismatch", e)
			}
		})
	}
}

func TestCanonicalURI(t *testing.T) {
	cases := []struct {
		path   string
		single bool
		want   string
	}{
		{"", false, "/"},
		{"/", false, "/"},
		{"/a%20b", false, "/a%2520b"},
		{"/a%20b", true, "/a%20b"},
		{"/2015-03-31/functions/f:1/invocations", false, "/2015-03-31/functions/f%3A1/invocations"},
		{"//a//b/./c/../d/", false, "/a/b/d/"},
		{"/a/b/..", false, "/a/"},
		{"/..", false, "/"},
		{"/bucket/key with space/./x", true, "/bucket/key with space/./x"},
	}
	for _, c := range cases {
		if got := string(appendCanonicalURI(nil, c.path, c.single)); got != c.want {
			t.Errorf("canonical URI of %q (single=%v) = %q, want %q", c.path, c.single, got, c.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := map[string]string{
		"":                              "",
		"b=2&a=1&A=0":                   "A=0&a=1&b=2",
		"a=2&a=1":                       "a=1&a=2",
		"k=a+b&j=%2a&i=x%2Fy&h":         "h=&i=x%2Fy&j=%2A&k=a%20b",
		"x=%zz":                         "x=%25zz",
		"prefix=a/b&delimiter=%2F&&&":   "delimiter=%2F&prefix=a%2Fb",
		"X-Amz-Signature=abc&Param1=v1": "Param1=v1&X-Amz-Signature=abc",
	}
	for raw, want := range cases {
		if got := string(appendCanonicalQuery(nil, raw, false)); got != want {
			t.Errorf("canonical query of %q = %q, want %q", raw, got, want)
		}
	}
	if got := string(appendCanonicalQuery(nil, "X-Amz-Signature=abc&Param1=v1", true)); got != "Param1=v1" {
		t.Errorf("presigned canonical query kept the signature: %q", got)
	}
}
