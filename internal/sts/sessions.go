package sts

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// Bounds on the sessions kept.
const (
	// expiredGrace is how long an expired session is remembered, so that
	// requests signed with it get ExpiredTokenException (what AWS answers)
	// rather than an unknown-key error.
	expiredGrace = 24 * time.Hour
	// maxSessions bounds the sessions held at once (issued by AssumeRole
	// and to function instances together).
	maxSessions = 20000
)

// session is one set of temporary credentials.
type session struct {
	AccessKeyID string    `json:"accessKeyId"`
	Secret      string    `json:"secretAccessKey"`
	Token       string    `json:"sessionToken"`
	Expires     time.Time `json:"expires"`
	// ARN is the assumed-role ARN the session acts as
	// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION); UserID its
	// AssumedRoleId (ROLEID:SESSION).
	ARN    string `json:"arn"`
	UserID string `json:"userId"`
	// Durable sessions (AssumeRole's) survive a restart; function
	// instances' keys die with their processes and are never written.
	Durable bool `json:"-"`
}

// sessions holds the temporary credentials hydrant issued. It is the
// awsproto.KeySource the request verifier asks for keys the credentials
// file does not have.
type sessions struct {
	now  func() time.Time
	path string // sessions.json; "" keeps nothing on disk

	mu   sync.RWMutex
	byID map[string]*session
}

var _ awsproto.KeySource = (*sessions)(nil)

func openSessions(dir string, now func() time.Time) (*sessions, error) {
	s := &sessions{now: now, byID: map[string]*session{}}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sts: create %s: %w", dir, err)
	}
	if _, err := atomicfile.CleanTemps(dir); err != nil {
		return nil, fmt.Errorf("sts: %w", err)
	}
	s.path = filepath.Join(dir, "sessions.json")
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("sts: %w", err)
	}
	var list []*session
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("sts: read %s: %w", s.path, err)
	}
	for _, x := range list {
		x.Durable = true
		s.byID[x.AccessKeyID] = x
	}
	s.pruneLocked()
	return s, nil
}

// Lookup finds a session by its access key ID, expired or not: the
// verifier refuses an expired one with ExpiredTokenException.
func (s *sessions) Lookup(accessKeyID string) (awsproto.Credential, bool) {
	s.mu.RLock()
	x := s.byID[accessKeyID]
	s.mu.RUnlock()
	if x == nil {
		return awsproto.Credential{}, false
	}
	return awsproto.Credential{AccessKeyID: x.AccessKeyID, SecretAccessKey: x.Secret, SessionToken: x.Token,
		Expires: x.Expires, ARN: x.ARN}, true
}

// get returns the session of an access key (GetCallerIdentity on a server
// that verifies no signatures).
func (s *sessions) get(accessKeyID string) *session {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.byID[accessKeyID]
}

// issue makes a new session acting as arn until expires.
func (s *sessions) issue(arn, userID string, expires time.Time, durable bool) (*session, error) {
	x := &session{AccessKeyID: newKeyID(), Secret: randomString(30), Token: randomString(240),
		Expires: expires, ARN: arn, UserID: userID, Durable: durable}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byID) >= maxSessions {
		s.pruneLocked()
		if len(s.byID) >= maxSessions {
			return nil, &awsproto.Error{Type: "Throttling", Status: 400,
				Message: fmt.Sprintf("hydrant holds %d unexpired temporary credentials, its limit; retry when some have expired", len(s.byID))}
		}
	}
	s.byID[x.AccessKeyID] = x
	if durable {
		if err := s.saveLocked(); err != nil {
			delete(s.byID, x.AccessKeyID)
			return nil, err
		}
	}
	return x, nil
}

// revoke forgets a session (a function instance's, when it stops).
func (s *sessions) revoke(accessKeyID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	x := s.byID[accessKeyID]
	if x == nil {
		return
	}
	delete(s.byID, accessKeyID)
	if x.Durable {
		_ = s.saveLocked()
	}
}

// pruneLocked drops sessions expired longer than expiredGrace ago.
func (s *sessions) pruneLocked() {
	cut := s.now().Add(-expiredGrace)
	for id, x := range s.byID {
		if x.Expires.Before(cut) {
			delete(s.byID, id)
		}
	}
}

// saveLocked writes the durable sessions (secrets included, so the file is
// readable by its owner only).
func (s *sessions) saveLocked() error {
	if s.path == "" {
		return nil
	}
	list := make([]*session, 0, len(s.byID))
	for _, x := range s.byID {
		if x.Durable {
			list = append(list, x)
		}
	}
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.path, b, 0o600); err != nil {
		return fmt.Errorf("sts: save sessions: %w", err)
	}
	return nil
}

// newKeyID is a temporary access key ID: ASIA and 16 upper-case letters and
// digits, as STS makes them.
func newKeyID() string { return "ASIA" + randomUpper(16) }

func randomUpper(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// randomString is n random bytes, base64 (standard alphabet, like STS's
// secrets and tokens).
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
