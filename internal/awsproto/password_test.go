package awsproto

import (
	"testing"
	"time"
)

type tempKeys map[string]Credential

func (t tempKeys) Lookup(id string) (Credential, bool) { c, ok := t[id]; return c, ok }

func TestAuthenticate(t *testing.T) {
	creds, err := NewCredentials(
		Credential{AccessKeyID: "AKIDPLAIN", SecretAccessKey: "secret1", Profile: "default"},
		Credential{AccessKeyID: "AKIDTOKEN", SecretAccessKey: "secret2", SessionToken: "tok", Profile: "ci"},
	)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	v := &Verifier{Credentials: creds, Now: func() time.Time { return now },
		Temporary: tempKeys{"ASIATEMP": {AccessKeyID: "ASIATEMP", SecretAccessKey: "s3", SessionToken: "t3", Expires: now.Add(time.Minute), ARN: "arn:aws:sts::000000000000:assumed-role/r/s"},
			"ASIAOLD": {AccessKeyID: "ASIAOLD", SecretAccessKey: "s4", SessionToken: "t4", Expires: now}}}
	for _, c := range []struct {
		name, id, secret, token string
		want                    string // error type, "" for success
	}{
		{"plain", "AKIDPLAIN", "secret1", "", ""},
		{"wrong secret", "AKIDPLAIN", "secret2", "", UnrecognizedClientException},
		{"unknown key", "AKIDNONE", "secret1", "", UnrecognizedClientException},
		{"token required", "AKIDTOKEN", "secret2", "", UnrecognizedClientException},
		{"token", "AKIDTOKEN", "secret2", "tok", ""},
		{"unwanted token", "AKIDPLAIN", "secret1", "tok", UnrecognizedClientException},
		{"temporary", "ASIATEMP", "s3", "t3", ""},
		{"expired", "ASIAOLD", "s4", "t4", ExpiredTokenException},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, _, e := v.Authenticate(c.id, c.secret, c.token)
			if c.want == "" {
				if e != nil || id == nil || id.AccessKeyID != c.id {
					t.Fatalf("got %v, %v", id, e)
				}
				return
			}
			if e == nil || e.Type != c.want {
				t.Fatalf("got %v, want %s", e, c.want)
			}
		})
	}
}
