package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// webRequest is what a web page can make a browser send to hydrant.
type webRequest struct {
	name    string
	method  string
	path    string
	host    string // "" keeps the server's address
	headers map[string]string
	body    string
}

// TestWebPagesCannotDriveHydrant reproduces the attacks of issue 8 item 1
// against the real binary on its defaults (loopback, no credentials): a
// page the user visits posts a "simple" text/plain request to create a
// python function and to run it, or reaches the APIs through DNS rebinding
// (its own host name resolving to 127.0.0.1). Each must be refused, and no
// function may exist afterwards. The same calls made as the SDKs make them
// still work.
func TestWebPagesCannotDriveHydrant(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--allowed-hosts", "hydrant.test")
	create := `{"FunctionName":"pwn","Runtime":"python3.12","Role":"arn:aws:iam::000000000000:role/r","Handler":"x.h","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`
	attacks := []webRequest{
		{name: "simple text/plain create-function", method: "POST", path: "/2015-03-31/functions",
			headers: map[string]string{"Content-Type": "text/plain;charset=UTF-8"}, body: create},
		{name: "cross-site create-function with JSON", method: "POST", path: "/2015-03-31/functions",
			headers: map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, body: create},
		{name: "cross-site invoke without a body type", method: "POST", path: "/2015-03-31/functions/pwn/invocations",
			headers: map[string]string{"Origin": "https://evil.example"}, body: `{}`},
		{name: "invoke from a page of another port", method: "POST", path: "/2015-03-31/functions/pwn/invocations",
			headers: map[string]string{"Origin": "http://127.0.0.1:8080"}, body: `{}`},
		{name: "null origin (sandboxed frame)", method: "POST", path: "/2015-03-31/functions",
			headers: map[string]string{"Content-Type": "application/json", "Origin": "null"}, body: create},
		{name: "Sec-Fetch-Site cross-site", method: "GET", path: "/2015-03-31/functions",
			headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}},
		{name: "DNS rebinding to the Lambda API", method: "POST", path: "/2015-03-31/functions", host: "attacker.example",
			headers: map[string]string{"Content-Type": "application/json", "Origin": "http://attacker.example"}, body: create},
		{name: "DNS rebinding to Firehose", method: "POST", path: "/", host: "attacker.example",
			headers: map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Firehose_20150804.ListDeliveryStreams"}, body: `{}`},
		{name: "DNS rebinding to Glue", method: "POST", path: "/", host: "rebind.attacker.example",
			headers: map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSGlue.GetDatabases"}, body: `{}`},
		{name: "DNS rebinding to hydrant's own endpoints", method: "GET", path: "/_hydrant/functions/pwn/logs", host: "attacker.example"},
		{name: "text/plain to Firehose", method: "POST", path: "/",
			headers: map[string]string{"Content-Type": "text/plain", "X-Amz-Target": "Firehose_20150804.ListDeliveryStreams"}, body: `{}`},
		{name: "form to Firehose", method: "POST", path: "/",
			headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-Amz-Target": "Firehose_20150804.DeleteDeliveryStream"}, body: `{"DeliveryStreamName":"x"}`},
	}
	for _, a := range attacks {
		req, err := http.NewRequest(a.method, s.URL+a.path, strings.NewReader(a.body))
		if err != nil {
			t.Fatal(err)
		}
		if a.host != "" {
			req.Host = a.host + ":" + strings.Split(s.Addr, ":")[1]
		}
		for k, v := range a.headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", a.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("%s: answered %d %s, want it refused (403 or 415)", a.name, resp.StatusCode, b)
		}
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "functions", "pwn")); err == nil {
		t.Fatalf("a web page created a function")
	}

	// The same server still serves its real clients: the aws CLI (v1, on
	// loopback) and a host name named by --allowed-hosts.
	aws := requireTool(t, "aws")
	out, code := runAWS(t, aws, cliEnv(s, "AKIAANY", "any"), "--endpoint-url", s.URL, "lambda", "list-functions")
	if code != 0 || !strings.Contains(out, `"Functions"`) {
		t.Errorf("CLI after the attacks: exit %d %s", code, out)
	}
	req, _ := http.NewRequest("POST", s.URL+"/", strings.NewReader(`{}`))
	req.Host = "bucket.hydrant.test"
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Firehose_20150804.ListDeliveryStreams")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("--allowed-hosts name refused: %d", resp.StatusCode)
	}
}

// TestAdminEndpointsNeedSignatures is issue 8 item 2: with --credentials,
// the /_hydrant/ endpoints that show logs, code or stream state, or change
// something, refuse unsigned requests; health and metrics stay open.
func TestAdminEndpointsNeedSignatures(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--credentials", writeCredentials(t))
	for _, ep := range []struct{ method, path string }{
		{"GET", "/_hydrant/functions"},
		{"GET", "/_hydrant/functions/f/logs"},
		{"GET", "/_hydrant/functions/f/code.zip"},
		{"GET", "/_hydrant/streams"},
		{"GET", "/_hydrant/streams/s"},
		{"POST", "/_hydrant/streams/s/flush"},
	} {
		req, _ := http.NewRequest(ep.method, s.URL+ep.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("unsigned %s %s: %d, want 403", ep.method, ep.path, resp.StatusCode)
		}
		// Signed with a configured key: served (404 for the missing names).
		signed := signedAdminRequest(t, ep.method, s.URL+ep.path, authKeyID, authSecret)
		resp, err = http.DefaultClient.Do(signed)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusForbidden {
			t.Errorf("signed %s %s: refused", ep.method, ep.path)
		}
		// Signed with an unknown key: refused.
		bad := signedAdminRequest(t, ep.method, s.URL+ep.path, "AKIAUNKNOWN", "nope")
		resp, err = http.DefaultClient.Do(bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("unknown key %s %s: %d, want 403", ep.method, ep.path, resp.StatusCode)
		}
	}
	for _, path := range []string{"/_hydrant/health", "/_hydrant/metrics"} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d, want it open", path, resp.StatusCode)
		}
	}
}

// signedAdminRequest signs a bodiless request as `curl --aws-sigv4
// aws:amz:us-east-1:hydrant` does.
func signedAdminRequest(t *testing.T, method, url, id, secret string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret},
		req, hex.EncodeToString(sum[:]), "hydrant", "us-east-1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestUnsignedTargetIsRefused is issue 8 item 6: a request whose
// X-Amz-Target is not among its SignedHeaders could be a captured signed
// Describe replayed as a Delete; it is refused.
func TestUnsignedTargetIsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--credentials", writeCredentials(t))
	body := []byte(`{"DeliveryStreamName":"x"}`)
	req, _ := http.NewRequest("POST", s.URL+"/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256(body)
	// Signed without the target, which is added afterwards.
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: authKeyID, SecretAccessKey: authSecret},
		req, hex.EncodeToString(sum[:]), "firehose", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", "Firehose_20150804.DeleteDeliveryStream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if e.Type != "InvalidSignatureException" || !strings.Contains(e.Message, "X-Amz-Target") {
		t.Errorf("unsigned target: %d %s %q", resp.StatusCode, e.Type, e.Message)
	}
}
