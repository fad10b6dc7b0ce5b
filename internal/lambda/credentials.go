package lambda

import (
	"context"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// RoleChecker says whether IAM holds a role (iam.Service implements it).
// With one set in Options.Roles (serve --require-roles), CreateFunction and
// UpdateFunctionConfiguration refuse a Role IAM does not hold.
type RoleChecker interface {
	RoleExists(ctx context.Context, arn string) bool
}

// Credentials are temporary credentials for one function instance.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expires                                    time.Time
}

// instanceCredentialLifetime is how long an instance's credentials last.
// An instance is not given another invocation once fewer than its timeout
// plus a minute remain: a new one, with new credentials, is started
// instead, so a function never runs with credentials about to expire.
const instanceCredentialLifetime = 6 * time.Hour

// checkRole refuses a role IAM does not hold, with Lambda's answer for a
// role it cannot assume.
func (s *Service) checkRole(ctx context.Context, role *string) *awsproto.Error {
	if s.opts.Roles == nil || role == nil || s.opts.Roles.RoleExists(ctx, *role) {
		return nil
	}
	return invalidParam("The role defined for the function cannot be assumed by Lambda.")
}

// instanceCredentials gets an instance's keys: the function's execution
// role, assumed with the function's name as session name, from
// Options.Credentials; without it, keys in Lambda's shape that nothing
// accepts (a server without --credentials accepts any).
func (s *Service) instanceCredentials(sn *snapshot) (Credentials, error) {
	if s.opts.Credentials == nil {
		return Credentials{AccessKeyID: "ASIAHYDRANTLOCAL0000", SecretAccessKey: "hydrant/local/secret/not/a/real/key/000000",
			SessionToken: "hydrant-local-session-token"}, nil
	}
	return s.opts.Credentials(context.Background(), sn.role, sn.name, instanceCredentialLifetime)
}

// credentialsStale reports whether the instance's credentials could expire
// during its next invocation.
func (inst *instance) credentialsStale() bool {
	return !inst.creds.Expires.IsZero() && time.Until(inst.creds.Expires) < inst.snap.timeout+time.Minute
}

// revokeCredentials gives the instance's keys back when it stops.
func (inst *instance) revokeCredentials() {
	if inst.svc.opts.RevokeCredentials != nil && !inst.creds.Expires.IsZero() {
		inst.svc.opts.RevokeCredentials(inst.creds.AccessKeyID)
	}
}
