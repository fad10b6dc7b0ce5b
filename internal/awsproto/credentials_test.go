package awsproto

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCredentials(t *testing.T) {
	file := "\ufeff# hydrant's keys\n" +
		"[default]\n" +
		"aws_access_key_id = AKIADEFAULT\n" +
		"aws_secret_access_key=  secret/with+chars==  \n" +
		"\n" +
		"; another comment\n" +
		"[profile ci]\n" +
		"  aws_access_key_id = AKIACI\n" +
		"AWS_SECRET_ACCESS_KEY = ci-secret\n" +
		"aws_session_token = tok\n" +
		"s3 =\n" +
		"    max_concurrent_requests = 10\n" +
		"[sso-only]\n" +
		"sso_start_url = https://example.awsapps.com/start\n"
	c, err := ParseCredentials(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Lookup("AKIADEFAULT"); !ok || got.SecretAccessKey != "secret/with+chars==" || got.Profile != "default" {
		t.Errorf("default = %+v, %v", got, ok)
	}
	if got, ok := c.Lookup("AKIACI"); !ok || got.SecretAccessKey != "ci-secret" || got.SessionToken != "tok" || got.Profile != "ci" {
		t.Errorf("ci = %+v, %v", got, ok)
	}
	if _, ok := c.Lookup("AKIANOBODY"); ok {
		t.Error("unknown key found")
	}
	if c.Len() != 2 || strings.Join(c.Profiles(), ",") != "ci,default" {
		t.Errorf("Len %d, Profiles %v", c.Len(), c.Profiles())
	}
}

func TestParseCredentialsErrors(t *testing.T) {
	cases := map[string]struct{ file, want string }{
		"empty":           {"# nothing\n", "no profile has both aws_access_key_id and aws_secret_access_key"},
		"half a pair":     {"[a]\naws_access_key_id = K\n", "profile [a] (line 1) has aws_access_key_id but no aws_secret_access_key"},
		"secret only":     {"[a]\naws_secret_access_key = S\n", "profile [a] (line 1) has aws_secret_access_key but no aws_access_key_id"},
		"outside section": {"aws_access_key_id = K\n", `line 1: "aws_access_key_id" is outside any [profile] section`},
		"no equals":       {"[a]\njunk\n", `line 2: expected key = value, got "junk"`},
		"open section":    {"[a\n", `line 1: section header "[a" has no closing ]`},
		"conflict":        {"[a]\naws_access_key_id=K\naws_secret_access_key=1\n[b]\naws_access_key_id=K\naws_secret_access_key=2\n", `access key K appears in profiles "a" and "b" with different secrets`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseCredentials(strings.NewReader(c.file))
			if err == nil || err.Error() != c.want {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func TestLoadCredentials(t *testing.T) {
	p := filepath.Join(t.TempDir(), "credentials")
	if err := os.WriteFile(p, []byte("[default]\naws_access_key_id=A\naws_secret_access_key=B\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadCredentials(p); err != nil || c.Len() != 1 {
		t.Fatalf("load: %v", err)
	}
	if _, err := LoadCredentials(p + ".missing"); err == nil || !strings.Contains(err.Error(), "open credentials") {
		t.Errorf("missing file: %v", err)
	}
}
