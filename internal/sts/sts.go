// Package sts serves AWS Security Token Service's GetCallerIdentity and
// AssumeRole over awsQuery, and holds the temporary credentials hydrant
// issues: AssumeRole's sessions (kept in <data-dir>/sts/sessions.json so
// they survive a restart, until they expire) and the keys hosted Lambda
// functions are given. It is the awsproto.KeySource the request verifier
// asks for keys the credentials file does not hold, so requests signed
// with these keys (and their session tokens) are accepted until they
// expire, then answered ExpiredTokenException.
package sts

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/iam"
)

// ModelName is the embedded AWS model STS requests are validated against.
const ModelName = "sts-2011-06-15"

// AssumeRole's durations (seconds): the default, and the most a chained
// session (a role assumed with another role's credentials) may last.
const (
	defaultDuration = 3600
	chainedMax      = 3600
	// unknownRoleMax is the MaxSessionDuration assumed for a role IAM does
	// not hold (allowed without --require-roles): IAM's upper bound.
	unknownRoleMax = 43200
)

// Roles finds the roles sessions are issued for; *iam.Service implements it.
type Roles interface {
	Role(arn string) (iam.RoleInfo, bool)
}

// Options configure STS.
type Options struct {
	// Dir is where AssumeRole's sessions are kept (<data-dir>/sts); ""
	// keeps them in memory only.
	Dir       string
	AccountID string
	Logger    *slog.Logger
	// Now is the clock; nil means time.Now. The request verifier must use
	// the same clock for expiry to agree.
	Now func() time.Time
	// Roles, when set, supplies the roles' IDs and MaxSessionDuration.
	Roles Roles
	// RequireRoles refuses AssumeRole for a role Roles does not hold, as
	// AWS does; off, any well-formed role ARN of the account is assumed.
	RequireRoles bool
}

// Service is STS.
type Service struct {
	opts     Options
	log      *slog.Logger
	model    *awsproto.Model
	sessions *sessions
}

// Open loads the sessions kept in opts.Dir.
func Open(opts Options) (*Service, error) {
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
	ss, err := openSessions(opts.Dir, opts.Now)
	if err != nil {
		return nil, err
	}
	return &Service{opts: opts, log: opts.Logger, model: m, sessions: ss}, nil
}

// Lookup implements awsproto.KeySource: the temporary keys hydrant issued.
func (s *Service) Lookup(accessKeyID string) (awsproto.Credential, bool) {
	return s.sessions.Lookup(accessKeyID)
}

var _ awsproto.KeySource = (*Service)(nil)

// API returns the awsQuery dispatcher (signing name "sts"). STS operations
// hydrant does not implement are answered with an error naming them.
func (s *Service) API() *awsproto.Service {
	ops := map[string]awsproto.JSONHandler{
		"GetCallerIdentity": s.getCallerIdentity,
		"AssumeRole":        s.assumeRole,
	}
	for op := range s.model.Operations {
		if _, ok := ops[op]; !ok {
			ops[op] = unsupported(op)
		}
	}
	return &awsproto.Service{SigningName: "sts", Model: s.model, MaxBody: 1 << 20, Logger: s.log, Ops: ops}
}

func unsupported(op string) awsproto.JSONHandler {
	return func(context.Context, []byte) (any, error) {
		return nil, &awsproto.Error{Type: "InvalidAction", Status: http.StatusBadRequest,
			Message: "hydrant does not implement the STS operation " + op + "; it serves GetCallerIdentity and AssumeRole"}
	}
}

// identity is who a request's caller is, as STS names it.
type identity struct{ arn, userID string }

// caller works out the identity of the request's signer: a temporary key
// hydrant issued is its assumed role; a --credentials profile is the IAM
// user of that name; anyone else (no --credentials) is the account root.
func (s *Service) caller(ctx context.Context) identity {
	acct := s.opts.AccountID
	id := awsproto.Caller(ctx)
	if id != nil {
		if x := s.sessions.get(id.AccessKeyID); x != nil {
			return identity{arn: x.ARN, userID: x.UserID}
		}
		if id.ARN != "" {
			return identity{arn: id.ARN, userID: id.AccessKeyID}
		}
		if id.Profile != "" {
			return identity{arn: "arn:aws:iam::" + acct + ":user/" + id.Profile, userID: stableID("AIDA", acct+"/user/"+id.Profile)}
		}
	}
	return identity{arn: "arn:aws:iam::" + acct + ":root", userID: acct}
}

func (s *Service) getCallerIdentity(ctx context.Context, _ []byte) (any, error) {
	c := s.caller(ctx)
	return map[string]any{"UserId": c.userID, "Account": s.opts.AccountID, "Arn": c.arn}, nil
}

// roleARNRE is a role ARN: the account, an optional path, the name.
var roleARNRE = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})$`)

type assumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds *int
	SourceIdentity  *string
}

func (s *Service) assumeRole(ctx context.Context, body []byte) (any, error) {
	var in assumeRoleInput
	if err := s.model.Decode("AssumeRole", body, &in); err != nil {
		return nil, err
	}
	who := s.caller(ctx)
	denied := &awsproto.Error{Type: "AccessDenied", Status: http.StatusForbidden,
		Message: "User: " + who.arn + " is not authorized to perform: sts:AssumeRole on resource: " + in.RoleArn}
	m := roleARNRE.FindStringSubmatch(in.RoleArn)
	if m == nil || m[1] != s.opts.AccountID {
		return nil, denied
	}
	name, roleID, maxDur := m[2], stableID("AROA", s.opts.AccountID+"/role/"+strings.ToLower(m[2])), time.Duration(unknownRoleMax)*time.Second
	if s.opts.Roles != nil {
		if r, ok := s.opts.Roles.Role(in.RoleArn); ok {
			name, roleID, maxDur = r.Name, r.ID, r.MaxSessionDuration
		} else if s.opts.RequireRoles {
			return nil, denied
		}
	}
	d := time.Duration(deref(in.DurationSeconds, defaultDuration)) * time.Second
	if strings.Contains(who.arn, ":assumed-role/") && d > chainedMax*time.Second {
		return nil, &awsproto.Error{Type: awsproto.ValidationException, Status: http.StatusBadRequest, Message: "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."}
	}
	if d > maxDur {
		return nil, &awsproto.Error{Type: awsproto.ValidationException, Status: http.StatusBadRequest, Message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}
	}
	arn := "arn:aws:sts::" + s.opts.AccountID + ":assumed-role/" + name + "/" + in.RoleSessionName
	userID := roleID + ":" + in.RoleSessionName
	x, err := s.sessions.issue(arn, userID, s.opts.Now().Add(d).UTC().Truncate(time.Second), true)
	if err != nil {
		return nil, err
	}
	s.log.Info("sts: role assumed", "role", in.RoleArn, "session", in.RoleSessionName, "access_key_id", x.AccessKeyID, "expires", x.Expires)
	out := map[string]any{
		"Credentials": map[string]any{"AccessKeyId": x.AccessKeyID, "SecretAccessKey": x.Secret, "SessionToken": x.Token,
			"Expiration": awsproto.EpochSeconds(x.Expires)},
		"AssumedRoleUser": map[string]any{"AssumedRoleId": userID, "Arn": arn},
	}
	if in.SourceIdentity != nil {
		out["SourceIdentity"] = *in.SourceIdentity
	}
	return out, nil
}

// Credentials are temporary credentials for a hosted function.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expires                                    time.Time
}

// FunctionCredentials issues a function instance's keys: the function's
// execution role assumed with the function's name as session name, as
// Lambda does, valid for d. They are not written to disk (the instance
// dies with hydrant); Revoke forgets them when the instance stops.
func (s *Service) FunctionCredentials(_ context.Context, roleARN, sessionName string, d time.Duration) (Credentials, error) {
	name, roleID := "unknown", stableID("AROA", s.opts.AccountID+"/role/"+strings.ToLower(roleARN))
	if m := roleARNRE.FindStringSubmatch(roleARN); m != nil {
		name, roleID = m[2], stableID("AROA", s.opts.AccountID+"/role/"+strings.ToLower(m[2]))
	}
	if s.opts.Roles != nil {
		if r, ok := s.opts.Roles.Role(roleARN); ok {
			name, roleID = r.Name, r.ID
		}
	}
	x, err := s.sessions.issue("arn:aws:sts::"+s.opts.AccountID+":assumed-role/"+name+"/"+sessionName, roleID+":"+sessionName,
		s.opts.Now().Add(d).UTC(), false)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{AccessKeyID: x.AccessKeyID, SecretAccessKey: x.Secret, SessionToken: x.Token, Expires: x.Expires}, nil
}

// Revoke forgets temporary credentials before they expire.
func (s *Service) Revoke(accessKeyID string) { s.sessions.revoke(accessKeyID) }

// stableID derives an IAM-style unique ID (prefix + 17 characters) from a
// name, for identities hydrant has no record of (a --credentials profile's
// user, a role IAM does not hold): the same name always gets the same ID.
func stableID(prefix, name string) string {
	sum := sha256.Sum256([]byte(name))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
