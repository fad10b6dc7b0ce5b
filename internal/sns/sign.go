package sns

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
)

// signer signs messages as SNS does (SignatureVersion 2: SHA256withRSA over
// the message's canonical string) with a key hydrant keeps in the data dir,
// and serves its self-signed certificate at SigningCertURL.
type signer struct {
	key     *rsa.PrivateKey
	certPEM []byte
	// name is the certificate's file name in SigningCertURL:
	// SimpleNotificationService-<hash>.pem, as SNS names them.
	name string
}

// loadSigner reads the key and certificate from dir, creating them on
// first use.
func loadSigner(dir string) (*signer, error) {
	keyPath, certPath := filepath.Join(dir, "signing-key.pem"), filepath.Join(dir, "signing-cert.pem")
	kb, kerr := os.ReadFile(keyPath)
	cb, cerr := os.ReadFile(certPath)
	if kerr == nil && cerr == nil {
		blk, _ := pem.Decode(kb)
		if blk == nil {
			return nil, fmt.Errorf("sns signing key %s: not PEM", keyPath)
		}
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("sns signing key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("sns signing key: not RSA")
		}
		return newSigner(rk, cb), nil
	}
	if !errors.Is(kerr, os.ErrNotExist) && kerr != nil {
		return nil, fmt.Errorf("sns signing key: %w", kerr)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("sns signing key: %w", err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "sns.hydrant.local", Organization: []string{"hydrant"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("sns signing certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := atomicfile.Write(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600); err != nil {
			return nil, err
		}
	}
	cert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if dir != "" {
		if err := atomicfile.Write(certPath, cert, 0o644); err != nil {
			return nil, err
		}
	}
	return newSigner(key, cert), nil
}

func newSigner(key *rsa.PrivateKey, certPEM []byte) *signer {
	h := sha256.Sum256(certPEM)
	return &signer{key: key, certPEM: certPEM, name: "SimpleNotificationService-" + hex.EncodeToString(h[:16]) + ".pem"}
}

// canonical is the string SNS signs for a message: the listed keys and
// their values, each followed by a newline, in this order (Subject only
// when the message has one).
func canonical(m map[string]string) string {
	var keys []string
	switch m["Type"] {
	case "Notification":
		keys = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	default: // SubscriptionConfirmation, UnsubscribeConfirmation
		keys = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var b strings.Builder
	for _, k := range keys {
		v, ok := m[k]
		if !ok {
			continue
		}
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	return b.String()
}

// sign returns the base64 SignatureVersion 2 signature of m.
func (s *signer) sign(m map[string]string) (string, error) {
	h := sha256.Sum256([]byte(canonical(m)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, h[:])
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks an SNS message's SignatureVersion 2 signature against a
// PEM certificate, as a subscriber does. It is exported for tests and
// tools.
func Verify(m map[string]string, certPEM []byte) error {
	if m["SignatureVersion"] != "2" {
		return fmt.Errorf("SignatureVersion %q, want 2", m["SignatureVersion"])
	}
	blk, _ := pem.Decode(certPEM)
	if blk == nil {
		return errors.New("certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(m["Signature"])
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("certificate key is not RSA")
	}
	h := sha256.Sum256([]byte(canonical(m)))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig)
}
