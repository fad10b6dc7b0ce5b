package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The recipe's trust and permissions policies, as its heredocs write them.
const (
	recipeFirehoseTrust = `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {
                "Service": "firehose.amazonaws.com"
            },
            "Action": "sts:AssumeRole"
        }
    ]
}`
	recipeS3Policy = `{
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "s3:AbortMultipartUpload",
                "s3:GetBucketLocation",
                "s3:GetObject",
                "s3:ListBucket",
                "s3:ListBucketMultipartUploads",
                "s3:PutObject"
            ],
            "Resource": [
                "arn:aws:s3:::streaming-etl-data-abc123",
                "arn:aws:s3:::streaming-etl-data-abc123/*"
            ]
        }
    ]
}`
)

// TestIdentityRecipeCLI runs the recipe's STS, Secrets Manager and IAM
// commands, as written, with the aws CLI v1 and v2.
func TestIdentityRecipeCLI(t *testing.T) {
	t.Parallel()
	for name, aws := range map[string]string{"v1": "aws", "v2": "/usr/bin/aws"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			aws := requireTool(t, aws)
			s := startServer(t)
			dir := t.TempDir()
			for f, body := range map[string]string{"firehose-trust-policy.json": recipeFirehoseTrust, "firehose-s3-policy.json": recipeS3Policy} {
				if err := os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			run := func(args ...string) string {
				t.Helper()
				cmd := exec.Command(aws, append([]string{"--endpoint-url", s.URL}, args...)...)
				cmd.Env, cmd.Dir = s.awsEnv(), dir
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return strings.TrimSpace(string(out))
			}
			fails := func(want string, args ...string) {
				t.Helper()
				cmd := exec.Command(aws, append([]string{"--endpoint-url", s.URL}, args...)...)
				cmd.Env, cmd.Dir = s.awsEnv(), dir
				out, err := cmd.CombinedOutput()
				if err == nil || !strings.Contains(string(out), want) {
					t.Fatalf("aws %s: want failure with %q, got %v\n%s", strings.Join(args, " "), want, err, out)
				}
			}

			if acct := run("sts", "get-caller-identity", "--query", "Account", "--output", "text"); acct != "000000000000" {
				t.Fatalf("account %q", acct)
			}
			suffix := run("secretsmanager", "get-random-password", "--exclude-punctuation", "--exclude-uppercase",
				"--password-length", "6", "--require-each-included-type", "--output", "text", "--query", "RandomPassword")
			if !regexp.MustCompile(`^[a-z0-9]{6}$`).MatchString(suffix) || !strings.ContainsAny(suffix, "0123456789") || !strings.ContainsAny(suffix, "abcdefghijklmnopqrstuvwxyz") {
				t.Fatalf("suffix %q", suffix)
			}
			role, lambdaRole := "FirehoseDeliveryRole-"+suffix, "FirehoseLambdaRole-"+suffix
			policyARN := "arn:aws:iam::000000000000:policy/FirehoseS3DeliveryPolicy-" + suffix
			basic := "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

			run("iam", "create-role", "--role-name", role, "--assume-role-policy-document", "file://firehose-trust-policy.json")
			if name == "v1" {
				// The CLI v1 runs the first IAM steps; v2 (the recipe's CLI)
				// runs them all. Each CLI start costs about a second.
				run("iam", "attach-role-policy", "--role-name", role, "--policy-arn", basic)
				if got := run("iam", "list-attached-role-policies", "--role-name", role, "--query", "AttachedPolicies[0].PolicyArn", "--output", "text"); got != basic {
					t.Fatalf("attached: %q", got)
				}
				fails("Cannot delete entity, must detach all policies first.", "iam", "delete-role", "--role-name", role)
				return
			}
			if arn := run("iam", "get-role", "--role-name", role, "--query", "Role.Arn", "--output", "text"); arn != "arn:aws:iam::000000000000:role/"+role {
				t.Fatalf("role ARN %q", arn)
			}
			// The CLI decodes the URL-encoded document back into JSON.
			if doc := run("iam", "get-role", "--role-name", role, "--query", "Role.AssumeRolePolicyDocument.Statement[0].Principal.Service", "--output", "text"); doc != "firehose.amazonaws.com" {
				t.Fatalf("trust policy principal %q", doc)
			}
			run("iam", "create-policy", "--policy-name", "FirehoseS3DeliveryPolicy-"+suffix, "--policy-document", "file://firehose-s3-policy.json")
			run("iam", "attach-role-policy", "--role-name", role, "--policy-arn", policyARN)
			run("iam", "create-role", "--role-name", lambdaRole, "--assume-role-policy-document", "file://firehose-trust-policy.json")
			run("iam", "attach-role-policy", "--role-name", lambdaRole, "--policy-arn", basic)
			run("iam", "attach-role-policy", "--role-name", role, "--policy-arn", "arn:aws:iam::aws:policy/service-role/AWSKinesisFirehoseServiceRolePolicy")
			run("iam", "put-role-policy", "--role-name", role, "--policy-name", "inline", "--policy-document", "file://firehose-s3-policy.json")
			if got := run("iam", "get-role-policy", "--role-name", role, "--policy-name", "inline", "--query", "PolicyDocument.Statement[0].Action[5]", "--output", "text"); got != "s3:PutObject" {
				t.Fatalf("inline policy: %q", got)
			}
			if got := run("iam", "list-attached-role-policies", "--role-name", role, "--query", "length(AttachedPolicies)", "--output", "text"); got != "2" {
				t.Fatalf("attached policies: %q", got)
			}
			fails("Policy arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole does not exist or is not attachable.",
				"iam", "attach-role-policy", "--role-name", role, "--policy-arn", "arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole")
			fails("Cannot delete entity, must detach all policies first.", "iam", "delete-role", "--role-name", role)
			fails("MalformedPolicyDocument", "iam", "create-role", "--role-name", "x", "--assume-role-policy-document", "firehose-trust-policy.json")

			// Cleanup, in the recipe's order.
			run("iam", "detach-role-policy", "--role-name", role, "--policy-arn", policyARN)
			run("iam", "detach-role-policy", "--role-name", role, "--policy-arn", "arn:aws:iam::aws:policy/service-role/AWSKinesisFirehoseServiceRolePolicy")
			run("iam", "delete-policy", "--policy-arn", policyARN)
			run("iam", "detach-role-policy", "--role-name", lambdaRole, "--policy-arn", basic)
			run("iam", "delete-role-policy", "--role-name", role, "--policy-name", "inline")
			run("iam", "delete-role", "--role-name", role)
			run("iam", "delete-role", "--role-name", lambdaRole)
			fails("The role with name "+role+" cannot be found.", "iam", "get-role", "--role-name", role)
			if got := run("iam", "list-roles", "--query", "length(Roles)", "--output", "text"); got != "0" {
				t.Fatalf("roles left: %s", got)
			}
			fails("hydrant does not implement the IAM operation CreateUser", "iam", "create-user", "--user-name", "u")
		})
	}
}

// TestIdentityCredentials runs STS under --credentials: the caller is the
// profile's IAM user, AssumeRole's keys (and only with their session token)
// are accepted by every service, survive a restart and are refused once
// expired.
func TestIdentityCredentials(t *testing.T) {
	t.Parallel()
	s := startServer(t, "--credentials", writeCredentials(t))
	ctx := context.Background()
	cfg := func(id, secret, token string) aws.Config {
		return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(id, secret, token)}
	}
	deployer := sts.NewFromConfig(cfg(authKeyID, authSecret, ""))
	id, err := deployer.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Arn) != "arn:aws:iam::000000000000:user/default" {
		t.Fatalf("GetCallerIdentity: %+v %v", id, err)
	}
	// Unsigned awsQuery requests are refused.
	resp, err := http.PostForm(s.URL+"/", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}})
	if err != nil {
		t.Fatal(err)
	}
	body := string(readAll(t, resp.Body))
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(body, "<Code>MissingAuthenticationTokenException</Code>") {
		t.Fatalf("unsigned: %d %s", resp.StatusCode, body)
	}

	// Role names stay names: a traversal is a validation error, and ".."
	// is a role like any other, kept inside the state file.
	ic := iamsdk.NewFromConfig(cfg(authKeyID, authSecret, ""))
	_, err = ic.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("../../escape"), AssumeRolePolicyDocument: aws.String(recipeFirehoseTrust)})
	if code, _ := apiErrorCode(err); code != "ValidationError" {
		t.Fatalf("traversal role name: %v", err)
	}
	if _, err := ic.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String(".."), AssumeRolePolicyDocument: aws.String(recipeFirehoseTrust)}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(s.DataDir, "iam"))
	if len(entries) != 1 || entries[0].Name() != "iam.json" {
		t.Fatalf("iam dir holds %v", entries)
	}

	// AssumeRole with boto3; the keys work for other services too.
	py := requireTool(t, "python3")
	script := `
import os, boto3, botocore, json
kw = dict(endpoint_url=os.environ["HYDRANT_URL"], region_name="us-east-1", config=botocore.config.Config(retries={"max_attempts": 1}))
c = boto3.client("sts", aws_access_key_id=os.environ["KEY"], aws_secret_access_key=os.environ["SECRET"], **kw)
cr = c.assume_role(RoleArn="arn:aws:iam::000000000000:role/..", RoleSessionName="e2e", DurationSeconds=900)["Credentials"]
s = dict(aws_access_key_id=cr["AccessKeyId"], aws_secret_access_key=cr["SecretAccessKey"], aws_session_token=cr["SessionToken"])
me = boto3.client("sts", **s, **kw).get_caller_identity()
assert me["Arn"] == "arn:aws:sts::000000000000:assumed-role/../e2e", me
assert boto3.client("firehose", **s, **kw).list_delivery_streams()["DeliveryStreamNames"] == []
try:
    boto3.client("firehose", aws_access_key_id=cr["AccessKeyId"], aws_secret_access_key=cr["SecretAccessKey"], aws_session_token="made-up", **kw).list_delivery_streams()
    raise SystemExit("wrong session token accepted")
except botocore.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "UnrecognizedClientException", e.response
print(json.dumps({"id": cr["AccessKeyId"], "secret": cr["SecretAccessKey"], "token": cr["SessionToken"]}))
`
	cmd := exec.Command(py, "-c", script)
	cmd.Env = append(s.awsEnv(), "HYDRANT_URL="+s.URL, "KEY="+authKeyID, "SECRET="+authSecret)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	var keys struct{ ID, Secret, Token string }
	if err := json.Unmarshal(out[strings.LastIndexByte(strings.TrimSpace(string(out)), '\n')+1:], &keys); err != nil {
		t.Fatalf("boto3 output %s: %v", out, err)
	}

	// A restart keeps the session.
	s.Stop()
	s.Restart()
	fc := fh.NewFromConfig(cfg(keys.ID, keys.Secret, keys.Token))
	if _, err := fc.ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{}); err != nil {
		t.Fatalf("session after restart: %v", err)
	}

	// Expiry, without waiting for it: the stored session is moved into
	// the past while hydrant is down.
	s.Stop()
	path := filepath.Join(s.DataDir, "sts", "sessions.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var sessions []map[string]any
	if err := json.Unmarshal(b, &sessions); err != nil || len(sessions) != 1 {
		t.Fatalf("sessions.json: %s %v", b, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("sessions.json mode %v, want 0600", st.Mode().Perm())
	}
	sessions[0]["expires"] = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	b, _ = json.Marshal(sessions)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s.Restart()
	_, err = fc.ListDeliveryStreams(ctx, &fh.ListDeliveryStreamsInput{})
	if code, msg := apiErrorCode(err); code != "ExpiredTokenException" || msg != "The security token included in the request is expired" {
		t.Fatalf("expired session: %v", err)
	}
	_, err = sts.NewFromConfig(cfg(keys.ID, keys.Secret, keys.Token)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code, _ := apiErrorCode(err); code != "ExpiredTokenException" {
		t.Fatalf("expired session, STS: %v", err)
	}

	// Secrets Manager needs a signature too.
	if _, err := sm.NewFromConfig(cfg(ciKeyID, ciSecret, "")).GetRandomPassword(ctx, &sm.GetRandomPasswordInput{}); err != nil {
		t.Fatal(err)
	}
	_, err = sm.NewFromConfig(cfg(ciKeyID, "wrong", "")).GetRandomPassword(ctx, &sm.GetRandomPasswordInput{})
	if code, _ := apiErrorCode(err); code != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestRequireRoles: with --require-roles, Firehose and Lambda refuse roles
// IAM does not hold, with AWS's messages, and take them once created.
func TestRequireRoles(t *testing.T) {
	t.Parallel()
	requireTool(t, "python3")
	s := startServer(t, "--require-roles")
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	roleARN := "arn:aws:iam::000000000000:role/Delivery"
	create := func() error {
		_, err := fh.NewFromConfig(cfg).CreateDeliveryStream(ctx, &fh.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("s1"),
			ExtendedS3DestinationConfiguration: &fhtypes.ExtendedS3DestinationConfiguration{RoleARN: aws.String(roleARN), BucketARN: aws.String("arn:aws:s3:::bucket-one")}})
		return err
	}
	if code, msg := apiErrorCode(create()); code != "InvalidArgumentException" || msg != "Firehose is unable to assume role "+roleARN+". Please check the role provided." {
		t.Fatalf("firehose with a missing role: %s %q", code, msg)
	}
	zipPath := fnZip(t, map[string][]byte{"index.py": []byte("def handler(e, c):\n    return e\n")})
	zipBytes, _ := os.ReadFile(zipPath)
	lc := lambdasdk.NewFromConfig(cfg)
	createFn := func() error {
		_, err := lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{FunctionName: aws.String("f1"), Runtime: lambdatypes.RuntimePython312,
			Role: aws.String(roleARN), Handler: aws.String("index.handler"), Code: &lambdatypes.FunctionCode{ZipFile: zipBytes}})
		return err
	}
	if code, msg := apiErrorCode(createFn()); code != "InvalidParameterValueException" || msg != "The role defined for the function cannot be assumed by Lambda." {
		t.Fatalf("lambda with a missing role: %s %q", code, msg)
	}
	_, err := sts.NewFromConfig(cfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("s1")})
	if code, _ := apiErrorCode(err); code != "AccessDenied" {
		t.Fatalf("AssumeRole of a missing role: %v", err)
	}
	if _, err := iamsdk.NewFromConfig(cfg).CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("Delivery"), AssumeRolePolicyDocument: aws.String(recipeFirehoseTrust)}); err != nil {
		t.Fatal(err)
	}
	if err := create(); err != nil {
		t.Fatalf("firehose with the role: %v", err)
	}
	if err := createFn(); err != nil {
		t.Fatalf("lambda with the role: %v", err)
	}
	_, err = lc.UpdateFunctionConfiguration(ctx, &lambdasdk.UpdateFunctionConfigurationInput{FunctionName: aws.String("f1"), Role: aws.String("arn:aws:iam::000000000000:role/Other")})
	if code, _ := apiErrorCode(err); code != "InvalidParameterValueException" {
		t.Fatalf("update to a missing role: %v", err)
	}
}

// TestFunctionCallsHydrantWithCredentials: under --credentials, a hosted
// python function's boto3 calls back to hydrant are signed with the keys
// hydrant gave it, as its execution role, and accepted; a made-up key
// from inside is refused.
func TestFunctionCallsHydrantWithCredentials(t *testing.T) {
	t.Parallel()
	py := requireTool(t, "python3")
	if err := exec.Command(py, "-c", "import boto3").Run(); err != nil {
		t.Skip("boto3 not installed")
	}
	s := startServer(t, "--credentials", writeCredentials(t))
	ctx := context.Background()
	code := `
import boto3, botocore
def handler(event, context):
    me = boto3.client("sts").get_caller_identity()["Arn"]
    streams = boto3.client("firehose").list_delivery_streams()["DeliveryStreamNames"]
    try:
        boto3.client("firehose", aws_access_key_id="ASIAMADEUPMADEUP0000", aws_secret_access_key="x", aws_session_token="y").list_delivery_streams()
        bad = "accepted"
    except botocore.exceptions.ClientError as e:
        bad = e.response["Error"]["Code"]
    return {"arn": me, "streams": streams, "madeUp": bad}
`
	zipPath := fnZip(t, map[string][]byte{"index.py": []byte(code)})
	zipBytes, _ := os.ReadFile(zipPath)
	lc := lambdasdk.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(authKeyID, authSecret, "")})
	if _, err := lc.CreateFunction(ctx, &lambdasdk.CreateFunctionInput{FunctionName: aws.String("caller"), Runtime: lambdatypes.RuntimePython312,
		Role: aws.String("arn:aws:iam::000000000000:role/service-role/CallerRole"), Handler: aws.String("index.handler"), Timeout: aws.Int32(30),
		Code: &lambdatypes.FunctionCode{ZipFile: zipBytes}}); err != nil {
		t.Fatal(err)
	}
	out, err := lc.Invoke(ctx, &lambdasdk.InvokeInput{FunctionName: aws.String("caller"), Payload: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if out.FunctionError != nil {
		t.Fatalf("function error %s: %s\n%s", aws.ToString(out.FunctionError), out.Payload, functionLogSigned(t, s))
	}
	var res struct {
		ARN     string   `json:"arn"`
		Streams []string `json:"streams"`
		MadeUp  string   `json:"madeUp"`
	}
	if err := json.Unmarshal(out.Payload, &res); err != nil {
		t.Fatalf("payload %s: %v", out.Payload, err)
	}
	if res.ARN != "arn:aws:sts::000000000000:assumed-role/CallerRole/caller" || res.Streams == nil || res.MadeUp != "UnrecognizedClientException" {
		t.Fatalf("function saw %+v", res)
	}
}

// functionLogSigned is the hint a failing function test prints: hydrant's
// log (the function's own log needs a signed request under --credentials).
func functionLogSigned(t *testing.T, s *server) string {
	t.Helper()
	return s.logs.String()
}
