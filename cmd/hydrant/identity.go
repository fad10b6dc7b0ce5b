package main

import (
	"context"
	"flag"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/iam"
	"github.com/hydrant-io/hydrant/internal/lambda"
	"github.com/hydrant-io/hydrant/internal/secretsmanager"
	"github.com/hydrant-io/hydrant/internal/server"
	"github.com/hydrant-io/hydrant/internal/sts"
)

// identityFlags are serve's flags for IAM and STS.
type identityFlags struct {
	requireRoles bool
}

func (f *identityFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.requireRoles, "require-roles", false, "refuse Firehose and Lambda role ARNs (and STS AssumeRole) for roles hydrant's IAM does not hold, as AWS refuses roles it cannot assume")
}

// identity is IAM, STS and Secrets Manager, and what they lend the other
// services: the roles --require-roles checks, the temporary keys the
// request verifier accepts and hosted functions are given.
type identity struct {
	iam          *iam.Service
	sts          *sts.Service
	secrets      *secretsmanager.Service
	requireRoles bool
}

func openIdentity(f identityFlags, dataDir, accountID string, sec *security, log *slog.Logger) (*identity, error) {
	im, err := iam.Open(iam.Options{Dir: filepath.Join(dataDir, "iam"), AccountID: accountID, Logger: log})
	if err != nil {
		return nil, err
	}
	st, err := sts.Open(sts.Options{Dir: filepath.Join(dataDir, "sts"), AccountID: accountID, Logger: log, Roles: im, RequireRoles: f.requireRoles})
	if err != nil {
		return nil, err
	}
	sm, err := secretsmanager.New(log)
	if err != nil {
		return nil, err
	}
	if sec.verifier != nil {
		sec.verifier.Temporary = st
	}
	if f.requireRoles {
		log.Info("--require-roles: Firehose, Lambda and AssumeRole refuse roles IAM does not hold")
	}
	return &identity{iam: im, sts: st, secrets: sm, requireRoles: f.requireRoles}, nil
}

// firehoseRoles is what Firehose checks role ARNs against: IAM with
// --require-roles, nothing without.
func (id *identity) firehoseRoles() firehose.RoleChecker {
	if !id.requireRoles {
		return nil
	}
	return id.iam
}

// functionOptions gives hosted functions STS keys for their roles, and
// the role check with --require-roles.
func (id *identity) functionOptions(o *lambda.Options) {
	if id.requireRoles {
		o.Roles = id.iam
	}
	o.Credentials = func(ctx context.Context, roleARN, session string, d time.Duration) (lambda.Credentials, error) {
		c, err := id.sts.FunctionCredentials(ctx, roleARN, session, d)
		return lambda.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expires: c.Expires}, err
	}
	o.RevokeCredentials = id.sts.Revoke
}

// register adds the three APIs.
func (id *identity) register(srv *server.Server) {
	srv.AddService(id.iam.API())
	srv.AddService(id.sts.API())
	srv.AddService(id.secrets.API())
}
