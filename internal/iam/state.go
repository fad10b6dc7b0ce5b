package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
)

// state is everything IAM holds. Names from requests are keys of these maps
// and values in one JSON file, never file names, so no name can reach
// outside the data dir. Keys are lower-case: IAM names are unique ignoring
// case.
type state struct {
	Roles    map[string]*role   `json:"roles"`
	Policies map[string]*policy `json:"policies"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type role struct {
	Name               string            `json:"name"`
	ID                 string            `json:"id"`
	Path               string            `json:"path"`
	Description        string            `json:"description,omitempty"`
	AssumeRolePolicy   string            `json:"assumeRolePolicy"`
	MaxSessionDuration int               `json:"maxSessionDuration"`
	PermissionsBound   string            `json:"permissionsBoundary,omitempty"`
	Created            time.Time         `json:"created"`
	Tags               []tag             `json:"tags,omitempty"`
	Attached           []string          `json:"attached,omitempty"` // policy ARNs, in attach order
	Inline             map[string]inline `json:"inline,omitempty"`   // by lower-case name
}

type inline struct {
	Name     string `json:"name"`
	Document string `json:"document"`
}

type policy struct {
	Name           string    `json:"name"`
	ID             string    `json:"id"`
	Path           string    `json:"path"`
	Description    string    `json:"description,omitempty"`
	Created        time.Time `json:"created"`
	Updated        time.Time `json:"updated"`
	Tags           []tag     `json:"tags,omitempty"`
	Versions       []version `json:"versions"` // oldest first
	DefaultVersion string    `json:"defaultVersion"`
	NextVersion    int       `json:"nextVersion"`
}

type version struct {
	ID       string    `json:"id"`
	Document string    `json:"document"`
	Created  time.Time `json:"created"`
}

func (p *policy) version(id string) *version {
	for i := range p.Versions {
		if p.Versions[i].ID == id {
			return &p.Versions[i]
		}
	}
	return nil
}

// store keeps the state in <dir>/iam.json, replaced atomically on every
// change. The shared state store will replace it behind commit.
type store struct {
	path  string
	saved []byte // the last state written: what a failed write rolls back to
}

func openStore(dir string) (*state, *store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("iam: create %s: %w", dir, err)
	}
	if _, err := atomicfile.CleanTemps(dir); err != nil {
		return nil, nil, fmt.Errorf("iam: %w", err)
	}
	st := &state{Roles: map[string]*role{}, Policies: map[string]*policy{}}
	s := &store{path: filepath.Join(dir, "iam.json")}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return st, s, nil
	case err != nil:
		return nil, nil, fmt.Errorf("iam: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, nil, fmt.Errorf("iam: read %s: %w", s.path, err)
	}
	if st.Roles == nil {
		st.Roles = map[string]*role{}
	}
	if st.Policies == nil {
		st.Policies = map[string]*policy{}
	}
	s.saved = b
	return st, s, nil
}

// commit writes the state after a change. If the write fails, the change
// is undone in memory too, so what clients see is what is on disk. Callers
// hold the service's write lock.
func (s *Service) commit() error {
	b, err := json.MarshalIndent(s.st, "", " ")
	if err == nil {
		err = atomicfile.Write(s.store.path, b, 0o600)
	}
	if err != nil {
		st := &state{Roles: map[string]*role{}, Policies: map[string]*policy{}}
		if s.store.saved != nil {
			if uerr := json.Unmarshal(s.store.saved, st); uerr != nil {
				return fmt.Errorf("iam: save state: %w (and roll back: %v)", err, uerr)
			}
		}
		s.st = st
		return fmt.Errorf("iam: save state: %w", err)
	}
	s.store.saved = b
	return nil
}
