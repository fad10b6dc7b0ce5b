package sts

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/iam"
	"github.com/hydrant-io/hydrant/internal/server"
)

const account = "123456789012"

// fixture is STS (and IAM for its roles) behind a server that verifies
// signatures against one profile's key and the sessions STS issues.
type fixture struct {
	url    string
	iam    *iam.Service
	sts    *Service
	offset atomic.Int64 // STS's clock: real time plus this many seconds
}

func newFixture(t *testing.T, dir string, requireRoles bool) *fixture {
	t.Helper()
	f := &fixture{}
	var err error
	f.iam, err = iam.Open(iam.Options{Dir: dir + "/iam", AccountID: account})
	if err != nil {
		t.Fatal(err)
	}
	f.sts, err = Open(Options{Dir: dir + "/sts", AccountID: account, Roles: f.iam, RequireRoles: requireRoles,
		Now: func() time.Time { return time.Now().Add(time.Duration(f.offset.Load()) * time.Second) }})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := awsproto.NewCredentials(awsproto.Credential{AccessKeyID: "AKIADEPLOYER", SecretAccessKey: "deployer-secret", Profile: "deployer"})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(nil)
	srv.SetVerifier(&awsproto.Verifier{Credentials: creds, Temporary: f.sts})
	srv.AddService(f.iam.API())
	srv.AddService(f.sts.API())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	f.url = hs.URL
	return f
}

func (f *fixture) client(id, secret, token string) *sts.Client {
	return sts.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(id, secret, token),
		BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1})
}

func wantErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("got %v, want %s %q", err, code, msg)
	}
}

func TestAssumeRoleKeysAreAcceptedUntilTheyExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	f := newFixture(t, dir, false)
	deployer := f.client("AKIADEPLOYER", "deployer-secret", "")

	id, err := deployer.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != account || aws.ToString(id.Arn) != "arn:aws:iam::"+account+":user/deployer" || !strings.HasPrefix(aws.ToString(id.UserId), "AIDA") {
		t.Fatalf("GetCallerIdentity: %+v", id)
	}

	roleArn := "arn:aws:iam::" + account + ":role/etl/Reader"
	out, err := deployer.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if !strings.HasPrefix(aws.ToString(c.AccessKeyId), "ASIA") || len(aws.ToString(c.AccessKeyId)) != 20 || aws.ToString(c.SessionToken) == "" ||
		time.Until(*c.Expiration) < 59*time.Minute || time.Until(*c.Expiration) > 61*time.Minute {
		t.Fatalf("credentials: %+v", c)
	}
	if got := aws.ToString(out.AssumedRoleUser.Arn); got != "arn:aws:sts::"+account+":assumed-role/Reader/s1" {
		t.Fatalf("assumed role ARN %s", got)
	}
	session := f.client(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken))
	id, err = session.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:sts::"+account+":assumed-role/Reader/s1" || !strings.HasSuffix(aws.ToString(id.UserId), ":s1") {
		t.Fatalf("session GetCallerIdentity: %+v %v", id, err)
	}
	// The session token is part of the credential.
	_, err = f.client(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "UnrecognizedClientException", "")
	// Role chaining is limited to an hour.
	_, err = session.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s2"), DurationSeconds: aws.Int32(7200)})
	wantErr(t, err, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")

	// A session whose hour is over: issued with STS's clock an hour and a
	// second behind, so it expired a second ago.
	f.offset.Store(-3601)
	old, err := deployer.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("old")})
	if err != nil {
		t.Fatal(err)
	}
	f.offset.Store(0)
	oc := old.Credentials
	_, err = f.client(aws.ToString(oc.AccessKeyId), aws.ToString(oc.SecretAccessKey), aws.ToString(oc.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "ExpiredTokenException", "The security token included in the request is expired")

	// A made-up key is refused.
	_, err = f.client("ASIAMADEUPMADEUP0000", "x", "y").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "UnrecognizedClientException", "")

	// Sessions survive a restart, expired ones included.
	f2 := newFixture(t, dir, false)
	if _, err := f2.client(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	_, err = f2.client(aws.ToString(oc.AccessKeyId), aws.ToString(oc.SecretAccessKey), aws.ToString(oc.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "ExpiredTokenException", "")
}

func TestAssumeRoleValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, t.TempDir(), true)
	deployer := f.client("AKIADEPLOYER", "deployer-secret", "")
	missing := "arn:aws:iam::" + account + ":role/Missing"
	_, err := deployer.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(missing), RoleSessionName: aws.String("s0")})
	wantErr(t, err, "AccessDenied", "User: arn:aws:iam::"+account+":user/deployer is not authorized to perform: sts:AssumeRole on resource: "+missing)
	_, err = deployer.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::999999999999:role/Other"), RoleSessionName: aws.String("s0")})
	wantErr(t, err, "AccessDenied", "")

	if _, err := iamCreateRole(ctx, f, "Writer", 7200); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:iam::" + account + ":role/Writer"
	_, err = deployer.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s0"), DurationSeconds: aws.Int32(600)})
	wantErr(t, err, "ValidationError", "1 validation error detected: Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
	_, err = deployer.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s0"), DurationSeconds: aws.Int32(7201)})
	wantErr(t, err, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	_, err = deployer.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("bad name")})
	wantErr(t, err, "ValidationError", "")
	out, err := deployer.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s0"), DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	role, _ := f.iam.Role(arn)
	if got := aws.ToString(out.AssumedRoleUser.AssumedRoleId); got != role.ID+":s0" {
		t.Errorf("AssumedRoleId %s, want %s:s0", got, role.ID)
	}
	_, err = deployer.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	wantErr(t, err, "InvalidAction", "")
}

func TestFunctionCredentials(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, t.TempDir(), false)
	c, err := f.sts.FunctionCredentials(ctx, "arn:aws:iam::"+account+":role/service-role/LambdaRole", "my-fn", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	fc := f.client(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	id, err := fc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:sts::"+account+":assumed-role/LambdaRole/my-fn" {
		t.Fatalf("function identity: %+v %v", id, err)
	}
	f.sts.Revoke(c.AccessKeyID)
	_, err = fc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "UnrecognizedClientException", "")
}

func iamCreateRole(ctx context.Context, f *fixture, name string, maxSession int32) (*iamsdk.CreateRoleOutput, error) {
	c := iamsdk.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIADEPLOYER", "deployer-secret", ""),
		BaseEndpoint: aws.String(f.url), RetryMaxAttempts: 1})
	return c.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String(name), MaxSessionDuration: aws.Int32(maxSession),
		AssumeRolePolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}`)})
}
