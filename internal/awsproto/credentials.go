package awsproto

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// Credentials are the access keys a Verifier accepts: every profile of an
// AWS shared credentials file that names a key pair. They are read once at
// startup and never change afterwards, so lookups need no lock.
type Credentials struct {
	keys map[string]Credential
}

// Credential is one accepted access key.
type Credential struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken, when the profile sets aws_session_token, must be sent
	// as X-Amz-Security-Token by requests signed with this key.
	SessionToken string
	// Profile is the section of the credentials file the key came from
	// (for a temporary key: the identity it was issued to).
	Profile string
	// Expires, when set, is when a temporary key stops being accepted.
	Expires time.Time
	// ARN, when set, is the caller's identity (STS GetCallerIdentity).
	ARN string
}

// NewCredentials builds a key set from explicit credentials (tests, or
// callers that take keys from elsewhere). Duplicate access key IDs with
// different secrets are an error.
func NewCredentials(creds ...Credential) (*Credentials, error) {
	c := &Credentials{keys: make(map[string]Credential, len(creds))}
	for _, cr := range creds {
		if cr.AccessKeyID == "" || cr.SecretAccessKey == "" {
			return nil, fmt.Errorf("credential for profile %q: access key ID and secret are both required", cr.Profile)
		}
		if prev, ok := c.keys[cr.AccessKeyID]; ok && (prev.SecretAccessKey != cr.SecretAccessKey || prev.SessionToken != cr.SessionToken) {
			return nil, fmt.Errorf("access key %s appears in profiles %q and %q with different secrets", cr.AccessKeyID, prev.Profile, cr.Profile)
		}
		c.keys[cr.AccessKeyID] = cr
	}
	return c, nil
}

// LoadCredentials reads an AWS shared credentials file (the format of
// ~/.aws/credentials): INI sections named after profiles, each with
// aws_access_key_id and aws_secret_access_key (and optionally
// aws_session_token). Every profile that names a key pair is accepted.
// Lines starting with # or ; are comments; "[profile name]" headers, as in
// ~/.aws/config, are accepted too. A profile with only half a pair, or a
// file with no pair at all, is an error: a typo must not open the server.
func LoadCredentials(path string) (*Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open credentials: %w", err)
	}
	defer f.Close()
	c, err := ParseCredentials(f)
	if err != nil {
		return nil, fmt.Errorf("credentials file %s: %w", path, err)
	}
	return c, nil
}

// ParseCredentials parses the shared credentials format; see LoadCredentials.
func ParseCredentials(r io.Reader) (*Credentials, error) {
	type profile struct {
		name   string
		line   int
		values map[string]string
	}
	var profiles []*profile
	var cur *profile
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	n := 0
	nested := false // the last key had an empty value: indented lines below it are its sub-settings
	for sc.Scan() {
		n++
		raw := sc.Text()
		if n == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff") // editors on Windows write a BOM
		}
		line := strings.TrimSpace(raw)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("line %d: section header %q has no closing ]", n, line)
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			if rest, ok := strings.CutPrefix(name, "profile "); ok {
				name = strings.TrimSpace(rest)
			}
			if name == "" {
				return nil, fmt.Errorf("line %d: empty profile name", n)
			}
			cur = &profile{name: name, line: n, values: map[string]string{}}
			profiles = append(profiles, cur)
			nested = false
			continue
		}
		// Indented lines under a key with an empty value are botocore's
		// nested settings ("s3 =\n  max_concurrent_requests = 10"); none of
		// them matter here.
		if nested && (raw[0] == ' ' || raw[0] == '\t') {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: expected key = value, got %q", n, line)
		}
		if cur == nil {
			return nil, fmt.Errorf("line %d: %q is outside any [profile] section", n, strings.TrimSpace(key))
		}
		value = strings.TrimSpace(value)
		cur.values[strings.ToLower(strings.TrimSpace(key))] = value
		nested = value == ""
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	var creds []Credential
	for _, p := range profiles {
		id, secret := p.values["aws_access_key_id"], p.values["aws_secret_access_key"]
		switch {
		case id == "" && secret == "":
			continue // a profile that assumes a role or uses SSO: nothing to accept
		case id == "":
			return nil, fmt.Errorf("profile [%s] (line %d) has aws_secret_access_key but no aws_access_key_id", p.name, p.line)
		case secret == "":
			return nil, fmt.Errorf("profile [%s] (line %d) has aws_access_key_id but no aws_secret_access_key", p.name, p.line)
		}
		creds = append(creds, Credential{AccessKeyID: id, SecretAccessKey: secret, SessionToken: p.values["aws_session_token"], Profile: p.name})
	}
	if len(creds) == 0 {
		return nil, fmt.Errorf("no profile has both aws_access_key_id and aws_secret_access_key")
	}
	return NewCredentials(creds...)
}

// Lookup returns the credential for an access key ID.
func (c *Credentials) Lookup(accessKeyID string) (Credential, bool) {
	if c == nil {
		return Credential{}, false
	}
	cr, ok := c.keys[accessKeyID]
	return cr, ok
}

// Len is the number of accepted access keys.
func (c *Credentials) Len() int {
	if c == nil {
		return 0
	}
	return len(c.keys)
}

// Profiles lists the profiles that contributed a key, sorted, for logs.
func (c *Credentials) Profiles() []string {
	if c == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, cr := range c.keys {
		if !seen[cr.Profile] {
			seen[cr.Profile] = true
			out = append(out, cr.Profile)
		}
	}
	sort.Strings(out)
	return out
}
