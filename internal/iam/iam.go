// Package iam serves the part of AWS Identity and Access Management that
// pipelines are deployed with: roles (with their trust policies, tags and
// inline policies), customer managed policies with their versions, and
// attachments of customer and AWS managed policies to roles. It speaks
// awsQuery, as IAM does, with IAM's error codes and messages, and keeps its
// state in <data-dir>/iam/iam.json.
//
// hydrant does not evaluate policies: a role's documents are kept and
// answered back, never used to allow or deny a request. What the roles are
// good for in hydrant is existing: with --require-roles, Firehose and Lambda
// refuse role ARNs this package does not hold (RoleExists), and STS issues
// temporary credentials only for roles it holds.
package iam

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// ModelName is the embedded AWS model IAM requests are validated against.
const ModelName = "iam-2010-05-08"

// MaxRequestBody bounds an IAM request: policy documents are at most 128 KiB
// before URL encoding, which can triple them.
const MaxRequestBody = 1 << 20

// Options configure the IAM service.
type Options struct {
	// Dir is where the state file lives (<data-dir>/iam).
	Dir string
	// AccountID is the account in every ARN.
	AccountID string
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the IAM API over roles and policies kept in one state file.
type Service struct {
	opts  Options
	log   *slog.Logger
	model *awsproto.Model
	now   func() time.Time

	mu    sync.RWMutex
	st    *state
	store *store
}

// Open loads the state kept in opts.Dir (an empty state if there is none).
func Open(opts Options) (*Service, error) {
	if opts.Dir == "" {
		return nil, fmt.Errorf("iam: Options.Dir is required")
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m, err := awsproto.LoadModel(ModelName)
	if err != nil {
		return nil, err
	}
	st, stor, err := openStore(opts.Dir)
	if err != nil {
		return nil, err
	}
	return &Service{opts: opts, log: opts.Logger, model: m, now: opts.Now, st: st, store: stor}, nil
}

// API returns the awsQuery dispatcher (signing name "iam"). Every IAM
// operation hydrant does not implement is answered with an error that
// names it.
func (s *Service) API() *awsproto.Service {
	ops := map[string]awsproto.JSONHandler{
		"CreateRole":               s.createRole,
		"GetRole":                  s.getRole,
		"ListRoles":                s.listRoles,
		"DeleteRole":               s.deleteRole,
		"UpdateRole":               s.updateRole,
		"UpdateRoleDescription":    s.updateRoleDescription,
		"UpdateAssumeRolePolicy":   s.updateAssumeRolePolicy,
		"TagRole":                  s.tagRole,
		"UntagRole":                s.untagRole,
		"ListRoleTags":             s.listRoleTags,
		"CreatePolicy":             s.createPolicy,
		"GetPolicy":                s.getPolicy,
		"ListPolicies":             s.listPolicies,
		"DeletePolicy":             s.deletePolicy,
		"CreatePolicyVersion":      s.createPolicyVersion,
		"GetPolicyVersion":         s.getPolicyVersion,
		"ListPolicyVersions":       s.listPolicyVersions,
		"DeletePolicyVersion":      s.deletePolicyVersion,
		"SetDefaultPolicyVersion":  s.setDefaultPolicyVersion,
		"AttachRolePolicy":         s.attachRolePolicy,
		"DetachRolePolicy":         s.detachRolePolicy,
		"ListAttachedRolePolicies": s.listAttachedRolePolicies,
		"PutRolePolicy":            s.putRolePolicy,
		"GetRolePolicy":            s.getRolePolicy,
		"DeleteRolePolicy":         s.deleteRolePolicy,
		"ListRolePolicies":         s.listRolePolicies,
	}
	for op := range s.model.Operations {
		if _, ok := ops[op]; !ok {
			ops[op] = unsupported(op)
		}
	}
	return &awsproto.Service{SigningName: "iam", Model: s.model, MaxBody: MaxRequestBody, Logger: s.log, Ops: ops}
}

// unsupported answers an IAM operation hydrant does not implement, naming
// it, in IAM's error shape (awsQuery's InvalidAction, which every client
// maps to an error with that code).
func unsupported(op string) awsproto.JSONHandler {
	return func(context.Context, []byte) (any, error) {
		return nil, &awsproto.Error{Type: "InvalidAction", Status: http.StatusBadRequest,
			Message: "hydrant does not implement the IAM operation " + op + "; it serves roles (Create/Get/List/Update/Delete, trust policies, tags), " +
				"customer managed policies and their versions, role policy attachments and inline role policies"}
	}
}

// RoleExists reports whether arn names a role IAM holds: the account must
// be hydrant's, and the role name (compared as IAM does, ignoring case)
// must exist. The path in the ARN is not compared: services accept a role
// by name.
func (s *Service) RoleExists(_ context.Context, arn string) bool {
	_, ok := s.Role(arn)
	return ok
}

// RoleInfo is what STS needs of a role.
type RoleInfo struct {
	Name, ID, ARN      string
	MaxSessionDuration time.Duration
}

// Role looks up the role an ARN names (see RoleExists).
func (s *Service) Role(arn string) (RoleInfo, bool) {
	name, ok := roleNameFromARN(arn, s.opts.AccountID)
	if !ok {
		return RoleInfo{}, false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.st.Roles[strings.ToLower(name)]
	if r == nil {
		return RoleInfo{}, false
	}
	return RoleInfo{Name: r.Name, ID: r.ID, ARN: s.roleARN(r), MaxSessionDuration: time.Duration(r.MaxSessionDuration) * time.Second}, true
}

// roleNameFromARN extracts the role name of arn:aws:iam::ACCOUNT:role[/path]/NAME.
func roleNameFromARN(arn, account string) (string, bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::"+account+":role/")
	if !ok || rest == "" || strings.HasSuffix(rest, "/") {
		return "", false
	}
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest, true
}

// decode validates body against op's input shape and decodes it into v.
func (s *Service) decode(op string, body []byte, v any) error { return s.model.Decode(op, body, v) }

// IAM's error types (the model's exception shapes), with their statuses.
const (
	errNoSuchEntity      = "NoSuchEntityException"
	errAlreadyExists     = "EntityAlreadyExistsException"
	errDeleteConflict    = "DeleteConflictException"
	errMalformedPolicy   = "MalformedPolicyDocumentException"
	errLimitExceeded     = "LimitExceededException"
	errInvalidInput      = "InvalidInputException"
	errUnmodifiable      = "UnmodifiableEntityException"
	errPolicyNotAttached = "PolicyNotAttachableException"
)

var errStatus = map[string]int{
	errNoSuchEntity: 404, errAlreadyExists: 409, errDeleteConflict: 409, errMalformedPolicy: 400,
	errLimitExceeded: 409, errInvalidInput: 400, errUnmodifiable: 400, errPolicyNotAttached: 400,
}

func iamErr(typ, format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Type: typ, Message: fmt.Sprintf(format, args...), Status: errStatus[typ]}
}

func noSuchRole(name string) *awsproto.Error {
	return iamErr(errNoSuchEntity, "The role with name %s cannot be found.", name)
}

// newID makes an IAM unique ID: a four-letter prefix saying what it names
// (AROA a role, ANPA a managed policy, ASIA a temporary access key) and
// random upper-case letters and digits, n characters in all.
func newID(prefix string, n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n-len(prefix))
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b)
}

func (s *Service) roleARN(r *role) string {
	return "arn:aws:iam::" + s.opts.AccountID + ":role" + r.Path + r.Name
}

func (s *Service) policyARN(p *policy) string {
	return "arn:aws:iam::" + s.opts.AccountID + ":policy" + p.Path + p.Name
}
