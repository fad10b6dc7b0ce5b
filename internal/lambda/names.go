package lambda

import (
	"regexp"
	"strings"
)

// LatestVersion is the only version hydrant keeps of a function: the
// unpublished one that every update changes.
const LatestVersion = "$LATEST"

// validName is a function name as Lambda allows it (the last part of the
// FunctionName pattern, at most 64 characters). Only such names reach the
// file system, so a name can never leave the functions directory.
var validName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// funcRef is a parsed FunctionName: a bare name, a partial ARN
// (ACCOUNT:function:NAME) or a full ARN, each with an optional qualifier.
type funcRef struct {
	Region    string // "" when not given
	AccountID string // "" when not given
	Name      string
	Qualifier string // "" when not given
}

// parseFunctionName splits the forms Lambda accepts for FunctionName:
//
//	my-function
//	my-function:$LATEST
//	123456789012:function:my-function[:qualifier]
//	arn:aws:lambda:us-east-1:123456789012:function:my-function[:qualifier]
//
// ok is false when s is none of them or the name is not a valid function
// name.
func parseFunctionName(s string) (ref funcRef, ok bool) {
	parts := strings.Split(s, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function":
		if len(parts) > 8 {
			return ref, false
		}
		ref = funcRef{Region: parts[3], AccountID: parts[4], Name: parts[6]}
		if len(parts) == 8 {
			ref.Qualifier = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function":
		if len(parts) > 4 {
			return ref, false
		}
		ref = funcRef{AccountID: parts[0], Name: parts[2]}
		if len(parts) == 4 {
			ref.Qualifier = parts[3]
		}
	case len(parts) <= 2:
		ref.Name = parts[0]
		if len(parts) == 2 {
			ref.Qualifier = parts[1]
		}
	default:
		return ref, false
	}
	if !validName.MatchString(ref.Name) {
		return ref, false
	}
	if len(parts) > 1 && ref.Qualifier == "" && strings.HasSuffix(s, ":") {
		return ref, false
	}
	return ref, true
}

// functionARN is the ARN of a function in hydrant's region and account.
func functionARN(region, account, name string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

// refARN is the ARN Lambda names in "Function not found" for a reference:
// the function's full ARN, with the qualifier when one was given.
func (s *Service) refARN(ref funcRef) string {
	region, account := ref.Region, ref.AccountID
	if region == "" {
		region = s.opts.Region
	}
	if account == "" {
		account = s.opts.AccountID
	}
	arn := functionARN(region, account, ref.Name)
	if ref.Qualifier != "" {
		arn += ":" + ref.Qualifier
	}
	return arn
}

// ours reports whether a reference is to hydrant's region and account (or
// does not say).
func (s *Service) ours(ref funcRef) bool {
	return (ref.Region == "" || ref.Region == s.opts.Region) &&
		(ref.AccountID == "" || ref.AccountID == s.opts.AccountID)
}
