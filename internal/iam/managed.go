package iam

import (
	"regexp"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// awsPolicyPrefix starts the ARN of every AWS managed policy.
const awsPolicyPrefix = "arn:aws:iam::aws:policy"

// knownAWSPolicies are AWS managed policies a data pipeline commonly
// attaches, by name, with the path AWS keeps them under. hydrant cannot
// know every AWS managed policy (AWS adds them all the time), so any
// well-formed ARN under arn:aws:iam::aws:policy/ can be attached; but a
// name this table knows, given under another path, is refused as AWS
// refuses it (the usual mistake: AWSLambdaBasicExecutionRole without
// service-role/).
var knownAWSPolicies = map[string]string{
	"AdministratorAccess":                 "/",
	"PowerUserAccess":                     "/",
	"ReadOnlyAccess":                      "/",
	"IAMFullAccess":                       "/",
	"IAMReadOnlyAccess":                   "/",
	"AmazonS3FullAccess":                  "/",
	"AmazonS3ReadOnlyAccess":              "/",
	"AmazonKinesisFirehoseFullAccess":     "/",
	"AmazonKinesisFirehoseReadOnlyAccess": "/",
	"AmazonKinesisFullAccess":             "/",
	"AmazonKinesisReadOnlyAccess":         "/",
	"AWSLambda_FullAccess":                "/",
	"AWSLambda_ReadOnlyAccess":            "/",
	"AWSLambdaExecute":                    "/",
	"AWSLambdaBasicExecutionRole":         "/service-role/",
	"AWSLambdaRole":                       "/service-role/",
	"AWSLambdaKinesisExecutionRole":       "/service-role/",
	"AWSLambdaDynamoDBExecutionRole":      "/service-role/",
	"AWSLambdaSQSQueueExecutionRole":      "/service-role/",
	"AWSLambdaVPCAccessExecutionRole":     "/service-role/",
	"AWSGlueServiceRole":                  "/service-role/",
	"AWSGlueConsoleFullAccess":            "/",
	"AmazonAthenaFullAccess":              "/",
	"CloudWatchFullAccess":                "/",
	"CloudWatchReadOnlyAccess":            "/",
	"CloudWatchLogsFullAccess":            "/",
	"CloudWatchLogsReadOnlyAccess":        "/",
	"AmazonSNSFullAccess":                 "/",
	"AmazonSNSReadOnlyAccess":             "/",
	"AmazonSQSFullAccess":                 "/",
	"SecretsManagerReadWrite":             "/",
	"AWSXRayDaemonWriteAccess":            "/",
}

var (
	policyNameRE = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)
	policyPathRE = regexp.MustCompile(`^/([\x21-\x7e]*/)?$`)
)

// policyRef is what a policy ARN names: a customer managed policy of this
// account, or an AWS managed one.
type policyRef struct {
	arn       string
	name      string
	path      string
	customer  *policy // nil for AWS managed policies
	awsPolicy bool
}

// resolvePolicy parses a policy ARN. ok is false when it is well formed
// but names nothing hydrant can attach; an ARN that is not a policy ARN at
// all is InvalidInput, as IAM answers.
func (s *Service) resolvePolicy(arn string) (ref policyRef, ok bool, e *awsproto.Error) {
	invalid := iamErr(errInvalidInput, "ARN %s is not valid.", arn)
	rest, isIAM := strings.CutPrefix(arn, "arn:aws:iam::")
	if !isIAM {
		return ref, false, invalid
	}
	account, resource, found := strings.Cut(rest, ":")
	if !found {
		return ref, false, invalid
	}
	pathName, isPolicy := strings.CutPrefix(resource, "policy/")
	if !isPolicy {
		return ref, false, invalid
	}
	i := strings.LastIndexByte(pathName, '/')
	ref = policyRef{arn: arn, name: pathName[i+1:], path: "/" + pathName[:i+1]}
	if !policyNameRE.MatchString(ref.name) || !policyPathRE.MatchString(ref.path) {
		return ref, false, invalid
	}
	switch account {
	case "aws":
		ref.awsPolicy = true
		if want, known := knownAWSPolicies[ref.name]; known && want != ref.path {
			return ref, false, nil
		}
		return ref, true, nil
	case s.opts.AccountID:
		p := s.st.Policies[strings.ToLower(ref.name)]
		if p == nil || s.policyARN(p) != arn {
			return ref, false, nil
		}
		ref.customer, ref.name, ref.path = p, p.Name, p.Path
		return ref, true, nil
	}
	return ref, false, nil
}

// attachable resolves an ARN that is being attached; callers hold s.mu.
func (s *Service) attachable(arn string) (policyRef, *awsproto.Error) {
	ref, ok, e := s.resolvePolicy(arn)
	if e != nil {
		return ref, e
	}
	if !ok {
		return ref, iamErr(errNoSuchEntity, "Policy %s does not exist or is not attachable.", arn)
	}
	return ref, nil
}
