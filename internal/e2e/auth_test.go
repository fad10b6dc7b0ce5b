package e2e

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/smithy-go"
)

// The keys of the credentials file the auth tests start hydrant with.
const (
	authKeyID  = "AKIAHYDRANTE2E"
	authSecret = "e2e/secret+key"
	ciKeyID    = "AKIAHYDRANTCI"
	ciSecret   = "ci-secret"
)

// writeCredentials writes an AWS shared credentials file with two
// profiles, comments and untidy whitespace, as people write them.
func writeCredentials(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "credentials")
	body := "# hydrant e2e\n[default]\naws_access_key_id = " + authKeyID + "\naws_secret_access_key=" + authSecret + "  \n\n" +
		"; the CI producer\n[ci]\n  aws_access_key_id=" + ciKeyID + "\n  aws_secret_access_key = " + ciSecret + "\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// authClient is a Go SDK Firehose client signing with the given key.
func authClient(s *server, id, secret string, hc *http.Client) *fh.Client {
	o := fh.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")}
	if hc != nil {
		o.HTTPClient = hc
	}
	return fh.New(o)
}

// apiErrorCode is the AWS error type of an SDK error ("" if none).
func apiErrorCode(err error) (string, string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// awsError posts a raw request and decodes the awsJson error it gets.
func awsError(t *testing.T, req *http.Request) (int, string, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e["__type"], e["message"]
}

func TestAuthSDK(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--credentials", writeCredentials(t))
	ctx := context.Background()
	if !strings.Contains(s.logs.String(), "verifying SigV4 signatures") {
		t.Errorf("startup log does not say signatures are verified:\n%s", s.logs.String())
	}

	c := authClient(s, authKeyID, authSecret, nil)
	if _, err := c.ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{}); err != nil {
		t.Fatalf("right key: %v", err)
	}
	if _, err := authClient(s, ciKeyID, ciSecret, nil).ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{}); err != nil {
		t.Fatalf("second profile's key: %v", err)
	}

	_, err := authClient(s, authKeyID, "wrong", nil).ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{})
	if code, msg := apiErrorCode(err); code != "InvalidSignatureException" ||
		msg != "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details." {
		t.Errorf("wrong secret: %v", err)
	}
	_, err = authClient(s, "AKIANOBODY", authSecret, nil).ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{})
	if code, msg := apiErrorCode(err); code != "UnrecognizedClientException" || msg != "The security token included in the request is invalid." {
		t.Errorf("unknown key: %v", err)
	}

	// An unsigned request, as curl or a misconfigured agent sends it.
	req, _ := http.NewRequest("POST", s.URL+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "Firehose_20150804.ListDeliveryStreams")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if st, typ, msg := awsError(t, req); st != 400 || typ != "MissingAuthenticationTokenException" || msg != "Request is missing Authentication Token" {
		t.Errorf("unsigned: %d %s %q", st, typ, msg)
	}

	// A client whose clock is ten minutes slow.
	body := []byte(`{}`)
	req, _ = http.NewRequest("POST", s.URL+"/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", "Firehose_20150804.ListDeliveryStreams")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sum := sha256.Sum256(body)
	err = v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: authKeyID, SecretAccessKey: authSecret}, req,
		hex.EncodeToString(sum[:]), "firehose", "us-east-1", time.Now().Add(-10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	st, typ, msg := awsError(t, req)
	if st != 400 || typ != "InvalidSignatureException" || !strings.HasPrefix(msg, "Signature expired: ") || !strings.HasSuffix(msg, " - 5 min.)") {
		t.Errorf("skewed clock: %d %s %q", st, typ, msg)
	}

	// hydrant's own health endpoint stays open.
	resp, err := http.Get(s.URL + "/_hydrant/health")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("health: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}

// cliEnv is the aws CLI environment for the server, signing with a key.
func cliEnv(s *server, id, secret string) []string {
	return append(s.awsEnv(), "AWS_ACCESS_KEY_ID="+id, "AWS_SECRET_ACCESS_KEY="+secret)
}

// runAWS runs the aws CLI with env and extra arguments.
func runAWS(t *testing.T, aws string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(aws, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return string(out), code
}

func TestAuthCLI(t *testing.T) {
	t.Parallel()
	aws := requireTool(t, "aws")
	s := startServer(t, "--credentials", writeCredentials(t))
	list := []string{"--endpoint-url", s.URL, "firehose", "list-delivery-streams"}
	if out, code := runAWS(t, aws, cliEnv(s, authKeyID, authSecret), list...); code != 0 || !strings.Contains(out, "DeliveryStreamNames") {
		t.Errorf("right key: exit %d\n%s", code, out)
	}
	if out, code := runAWS(t, aws, cliEnv(s, authKeyID, "wrong"), list...); code == 0 || !strings.Contains(out, "InvalidSignatureException") {
		t.Errorf("wrong secret: exit %d\n%s", code, out)
	}
	if out, code := runAWS(t, aws, cliEnv(s, "AKIANOBODY", "x"), list...); code == 0 ||
		!strings.Contains(out, "(UnrecognizedClientException) when calling the ListDeliveryStreams operation: The security token included in the request is invalid.") {
		t.Errorf("unknown key: exit %d\n%s", code, out)
	}
}

const boto3AuthScript = `
import os, boto3, botocore
def client(key, secret):
    return boto3.client("firehose", endpoint_url=os.environ["HYDRANT_URL"], region_name="us-east-1",
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1}))
ok = client(os.environ["KEY"], os.environ["SECRET"])
assert ok.list_delivery_streams()["DeliveryStreamNames"] == []
try:
    client(os.environ["KEY"], "wrong").list_delivery_streams()
    raise SystemExit("wrong secret accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "InvalidSignatureException", e.response
try:
    client("AKIANOBODY", "x").list_delivery_streams()
    raise SystemExit("unknown key accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "UnrecognizedClientException", e.response
print("OK")
`

func TestAuthBoto3(t *testing.T) {
	t.Parallel()
	py := requireTool(t, "python3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not installed")
	}
	s := startServer(t, "--credentials", writeCredentials(t))
	cmd := exec.Command(py, "-c", boto3AuthScript)
	cmd.Env = append(s.awsEnv(), "HYDRANT_URL="+s.URL, "KEY="+ciKeyID, "SECRET="+ciSecret)
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("OK")) {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and localhost and returns
// the cert and key paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hydrant e2e"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true,
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestAuthTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
	addr := freePort(t)
	s := &server{t: t, DataDir: t.TempDir(), Addr: addr, URL: "https://" + addr, HTTP: hc,
		args: []string{"--credentials", writeCredentials(t), "--tls-cert", certFile, "--tls-key", keyFile}}
	s.start()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("hydrant log:\n%s", s.logs.String())
		}
	})
	if !strings.Contains(s.logs.String(), "scheme=https") {
		t.Errorf("startup log does not say https:\n%s", s.logs.String())
	}
	ctx := context.Background()
	if _, err := authClient(s, authKeyID, authSecret, hc).ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{}); err != nil {
		t.Fatalf("Go SDK over TLS: %v", err)
	}
	_, err := authClient(s, authKeyID, "wrong", hc).ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{})
	if code, _ := apiErrorCode(err); code != "InvalidSignatureException" {
		t.Errorf("wrong secret over TLS: %v", err)
	}
	// A client that does not trust the certificate is refused by TLS.
	if _, err := authClient(s, authKeyID, authSecret, nil).ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{}); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
	if aws, err := exec.LookPath("aws"); err == nil {
		out, code := runAWS(t, aws, cliEnv(s, authKeyID, authSecret), "--no-verify-ssl", "--endpoint-url", s.URL, "firehose", "list-delivery-streams")
		if code != 0 || !strings.Contains(out, "DeliveryStreamNames") {
			t.Errorf("aws --no-verify-ssl: exit %d\n%s", code, out)
		}
	}
}

func TestAuthLoopbackRule(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve", "--listen", "0.0.0.0:0", "--data-dir", filepath.Join(dir, "data"))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 ||
		!strings.Contains(string(out), "refusing to listen on 0.0.0.0:0 without --credentials") || !strings.Contains(string(out), "--insecure") {
		t.Errorf("non-loopback without credentials: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("the refused server created its data dir: %v", err)
	}

	out, err = exec.Command(binary, "serve", "--tls-cert", "c.pem").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--tls-cert and --tls-key go together") {
		t.Errorf("--tls-cert alone: %v\n%s", err, out)
	}

	// With --insecure it starts, says so, and answers on every interface.
	addr := freePort(t)
	_, port, _ := net.SplitHostPort(addr)
	s := &server{t: t, DataDir: t.TempDir(), Addr: addr, URL: "http://" + addr, args: []string{"--listen", "0.0.0.0:" + port, "--insecure"}}
	s.start()
	t.Cleanup(s.Stop)
	if !strings.Contains(s.logs.String(), "--insecure: no --credentials on a non-loopback address") {
		t.Errorf("startup log does not warn:\n%s", s.logs.String())
	}

	// On loopback without credentials, anything goes, and the log says so.
	l := startServer(t)
	if !strings.Contains(l.logs.String(), "no --credentials: accepting any request, signed or not; loopback only") {
		t.Errorf("loopback log:\n%s", l.logs.String())
	}
	req, _ := http.NewRequest("POST", l.URL+"/", strings.NewReader(`{}`))
	req.Header.Set("X-Amz-Target", "Firehose_20150804.ListDeliveryStreams")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("unsigned request on loopback: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}
