package iam

import (
	"context"
	"errors"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/hydrant-io/hydrant/internal/server"
)

const trust = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"firehose.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
const s3Policy = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::b/*"}]}`

// newTestIAM serves an IAM service over a real HTTP server and returns a
// Go SDK client for it.
func newTestIAM(t *testing.T, dir string) (*Service, *iam.Client) {
	t.Helper()
	svc, err := Open(Options{Dir: dir, AccountID: "123456789012"})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(nil)
	srv.AddService(svc.API())
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIATEST", "secret", ""),
		BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1}
	return svc, iam.NewFromConfig(cfg)
}

// apiErr asserts err is an API error with code and message.
func apiErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("got %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func TestRolesAndPolicies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	svc, c := newTestIAM(t, dir)

	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("FirehoseRole"), AssumeRolePolicyDocument: aws.String(trust),
		Description: aws.String("delivery"), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("data")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.Role.Arn)
	if arn != "arn:aws:iam::123456789012:role/FirehoseRole" || !strings.HasPrefix(aws.ToString(out.Role.RoleId), "AROA") || len(aws.ToString(out.Role.RoleId)) != 21 {
		t.Fatalf("CreateRole: %+v", out.Role)
	}
	if !svc.RoleExists(ctx, arn) || !svc.RoleExists(ctx, "arn:aws:iam::123456789012:role/firehoserole") || svc.RoleExists(ctx, "arn:aws:iam::000000000000:role/FirehoseRole") {
		t.Error("RoleExists")
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("firehoserole"), AssumeRolePolicyDocument: aws.String(trust)})
	apiErr(t, err, "EntityAlreadyExists", "Role with name firehoserole already exists.")

	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("FirehoseRole")})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.PathUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument))
	if doc != trust || aws.ToInt32(got.Role.MaxSessionDuration) != 3600 || len(got.Role.Tags) != 1 {
		t.Errorf("GetRole: %+v (document %s)", got.Role, doc)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("Nope")})
	apiErr(t, err, "NoSuchEntity", "The role with name Nope cannot be found.")

	// Bad documents.
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String("trust.json")})
	apiErr(t, err, "MalformedPolicyDocument", "This policy contains invalid Json")
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Statement":[{"Effect":"Maybe"}]}`)})
	apiErr(t, err, "MalformedPolicyDocument", "Syntax errors in policy.")

	// Managed policy, versions, attachments.
	p, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("S3Delivery"), PolicyDocument: aws.String(s3Policy)})
	if err != nil {
		t.Fatal(err)
	}
	parn := aws.ToString(p.Policy.Arn)
	if parn != "arn:aws:iam::123456789012:policy/S3Delivery" || aws.ToString(p.Policy.DefaultVersionId) != "v1" {
		t.Fatalf("CreatePolicy: %+v", p.Policy)
	}
	_, err = c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("S3Delivery"), PolicyDocument: aws.String(s3Policy)})
	apiErr(t, err, "EntityAlreadyExists", "A policy called S3Delivery already exists. Duplicate names are not allowed.")
	for _, a := range []string{parn, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "arn:aws:iam::aws:policy/service-role/AWSKinesisFirehoseServiceRolePolicy"} {
		if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyArn: aws.String(a)}); err != nil {
			t.Fatalf("attach %s: %v", a, err)
		}
	}
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole")})
	apiErr(t, err, "NoSuchEntity", "Policy arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole does not exist or is not attachable.")
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyArn: aws.String("arn:aws:iam::123456789012:policy/Missing")})
	apiErr(t, err, "NoSuchEntity", "Policy arn:aws:iam::123456789012:policy/Missing does not exist or is not attachable.")
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyArn: aws.String("arn:aws:s3:::bucket-name-x")})
	apiErr(t, err, "InvalidInput", "ARN arn:aws:s3:::bucket-name-x is not valid.")

	att, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("FirehoseRole")})
	if err != nil || len(att.AttachedPolicies) != 3 || aws.ToString(att.AttachedPolicies[0].PolicyName) != "AWSKinesisFirehoseServiceRolePolicy" {
		t.Fatalf("ListAttachedRolePolicies: %+v %v", att, err)
	}
	gp, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(parn)})
	if err != nil || aws.ToInt32(gp.Policy.AttachmentCount) != 1 {
		t.Fatalf("GetPolicy: %+v %v", gp, err)
	}

	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("FirehoseRole")})
	apiErr(t, err, "DeleteConflict", "Cannot delete entity, must detach all policies first.")
	_, err = c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(parn)})
	apiErr(t, err, "DeleteConflict", "Cannot delete a policy attached to entities.")

	// Versions: at most 5; the default cannot go; documents come back encoded.
	v2 := strings.Replace(s3Policy, "PutObject", "GetObject", 1)
	for i := 0; i < 4; i++ {
		if _, err := c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(parn), PolicyDocument: aws.String(v2), SetAsDefault: i == 0}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: aws.String(parn), PolicyDocument: aws.String(v2)})
	apiErr(t, err, "LimitExceeded", "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")
	pv, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(parn), VersionId: aws.String("v2")})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := url.PathUnescape(aws.ToString(pv.PolicyVersion.Document)); d != v2 || !pv.PolicyVersion.IsDefaultVersion {
		t.Errorf("GetPolicyVersion: %+v", pv.PolicyVersion)
	}
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(parn), VersionId: aws.String("v2")})
	apiErr(t, err, "DeleteConflict", "Cannot delete the default version of a policy.")
	lv, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(parn), MaxItems: aws.Int32(2)})
	if err != nil || len(lv.Versions) != 2 || aws.ToString(lv.Versions[0].VersionId) != "v5" || !lv.IsTruncated {
		t.Fatalf("ListPolicyVersions: %+v %v", lv, err)
	}
	lv2, err := c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: aws.String(parn), Marker: lv.Marker})
	if err != nil || len(lv2.Versions) != 3 || aws.ToString(lv2.Versions[2].VersionId) != "v1" || lv2.IsTruncated {
		t.Fatalf("ListPolicyVersions page 2: %+v %v", lv2, err)
	}
	if _, err := c.SetDefaultPolicyVersion(ctx, &iam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(parn), VersionId: aws.String("v1")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(parn), VersionId: aws.String("v9")})
	apiErr(t, err, "NoSuchEntity", "Policy "+parn+" version v9 does not exist or is not attachable.")

	// Inline policies.
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyName: aws.String("inline1"), PolicyDocument: aws.String(s3Policy)}); err != nil {
		t.Fatal(err)
	}
	rp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyName: aws.String("inline1")})
	if d, _ := url.PathUnescape(aws.ToString(rp.PolicyDocument)); err != nil || d != s3Policy {
		t.Fatalf("GetRolePolicy: %+v %v", rp, err)
	}
	_, err = c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyName: aws.String("x")})
	apiErr(t, err, "NoSuchEntity", "The role policy with name x cannot be found.")

	// A restart keeps everything.
	_, c2 := newTestIAM(t, dir)
	lr, err := c2.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("FirehoseRole")})
	if err != nil || len(lr.PolicyNames) != 1 || lr.PolicyNames[0] != "inline1" {
		t.Fatalf("after restart, ListRolePolicies: %+v %v", lr, err)
	}

	// Cleanup in the recipe's order.
	for _, a := range []string{parn, "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", "arn:aws:iam::aws:policy/service-role/AWSKinesisFirehoseServiceRolePolicy"} {
		if _, err := c2.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyArn: aws.String(a)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c2.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyArn: aws.String(parn)})
	apiErr(t, err, "NoSuchEntity", "Policy "+parn+" was not found.")
	_, err = c2.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(parn)})
	apiErr(t, err, "DeleteConflict", "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
	for _, v := range []string{"v2", "v3", "v4", "v5"} {
		if _, err := c2.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: aws.String(parn), VersionId: aws.String(v)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c2.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: aws.String(parn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c2.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("FirehoseRole")})
	apiErr(t, err, "DeleteConflict", "Cannot delete entity, must delete policies first.")
	if _, err := c2.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("FirehoseRole"), PolicyName: aws.String("inline1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("FirehoseRole")}); err != nil {
		t.Fatal(err)
	}
	roles, err := c2.ListRoles(ctx, &iam.ListRolesInput{})
	if err != nil || len(roles.Roles) != 0 {
		t.Fatalf("ListRoles after cleanup: %+v %v", roles, err)
	}
}

func TestListRolesPagesAndTags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := newTestIAM(t, t.TempDir())
	for _, n := range []string{"c", "A", "b", "..", "d@x"} {
		if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(n), AssumeRolePolicyDocument: aws.String(trust), Path: aws.String("/svc/")}); err != nil {
			t.Fatal(n, err)
		}
	}
	var names []string
	p := iam.NewListRolesPaginator(c, &iam.ListRolesInput{MaxItems: aws.Int32(2), PathPrefix: aws.String("/svc")})
	for p.HasMorePages() {
		pg, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range pg.Roles {
			names = append(names, aws.ToString(r.RoleName))
		}
	}
	if strings.Join(names, ",") != "..,A,b,c,d@x" {
		t.Errorf("ListRoles: %v", names)
	}
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("A"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("j"), Value: aws.String("2")}}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("A"), Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("1")}, {Key: aws.String("X"), Value: aws.String("2")}}})
	apiErr(t, err, "InvalidInput", "")
	if _, err := c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("A"), TagKeys: []string{"k"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("A")})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "j" {
		t.Fatalf("ListRoleTags: %+v %v", tags, err)
	}
	// A role name that is not one (path characters) is a validation error.
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("../../etc")})
	apiErr(t, err, "ValidationError", "")
	// Operations hydrant does not implement are named.
	_, err = c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")})
	apiErr(t, err, "InvalidAction", "")
	if !strings.Contains(err.Error(), "CreateUser") {
		t.Errorf("unsupported operation error does not name it: %v", err)
	}
}
