// Package keys turns Firehose S3 prefixes into object keys: it parses the
// !{namespace:value} expression language of Prefix and ErrorOutputPrefix,
// enforces AWS's Create/Update rules for them (Validate), applies Firehose's
// default and append rules (Resolve), evaluates a prefix for one object
// (Template.Eval) and names the object (ObjectName).
//
// The facts implemented here are those of reference/firehose.md §4 and §5;
// where AWS's behaviour is not documented the choice is marked as a guess in
// the comment of the function that makes it.
package keys

import (
	"fmt"
	"slices"
	"strings"
)

// Kind says which S3 setting a prefix comes from. The expression language is
// the same for both; what may appear in it differs.
type Kind int

const (
	// DataPrefix is the destination's Prefix: delivered records.
	DataPrefix Kind = iota
	// ErrorPrefix is the destination's ErrorOutputPrefix: records that
	// failed processing, conversion or partitioning.
	ErrorPrefix
)

// String names the kind as the API field, as used in error messages.
func (k Kind) String() string {
	if k == ErrorPrefix {
		return "ErrorOutputPrefix"
	}
	return "Prefix"
}

// Expression namespaces and the firehose namespace's values.
const (
	NSTimestamp              = "timestamp"
	NSFirehose               = "firehose"
	NSPartitionKeyFromQuery  = "partitionKeyFromQuery"
	NSPartitionKeyFromLambda = "partitionKeyFromLambda"

	FirehoseRandomString    = "random-string"
	FirehoseErrorOutputType = "error-output-type"
)

// Template is a parsed prefix. It is immutable and safe for concurrent use.
type Template struct {
	src   string
	kind  Kind
	parts []part
}

// part is a literal run (ns == "") or one !{ns:value} expression.
type part struct {
	lit    string
	ns     string
	value  string
	layout layout // compiled value of a timestamp expression
}

// Parse parses a prefix of the given kind. An error is a *RuleError whose
// message is the one AWS would return for the prefix at Create/Update:
// a "!{" that does not start a well-formed !{namespace:value}, an unknown
// namespace or firehose value, an invalid timestamp pattern, an empty
// partition key name, !{firehose:error-output-type} in a DataPrefix, or a
// partitionKeyFrom* expression in an ErrorPrefix. Parse does not check the
// rules that relate the two prefixes; Validate does.
func Parse(s string, kind Kind) (*Template, error) {
	t := &Template{src: s, kind: kind}
	rest := s
	for rest != "" {
		i := strings.Index(rest, "!{")
		if i < 0 {
			t.parts = append(t.parts, part{lit: rest})
			break
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: rest[:i]})
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil, ruleErrorf("%s contains '!{' that does not start a well-formed expression !{namespace:value}", kind)
		}
		p, err := parseExpr(rest[i+2:i+end], kind)
		if err != nil {
			return nil, err
		}
		t.parts = append(t.parts, p)
		rest = rest[i+end+1:]
	}
	return t, nil
}

// parseExpr parses the inside of one !{...}.
func parseExpr(body string, kind Kind) (part, error) {
	ns, value, ok := strings.Cut(body, ":")
	if !ok || ns == "" || value == "" || strings.Contains(body, "!{") {
		return part{}, ruleErrorf("%s contains '!{%s}' which is not a well-formed expression !{namespace:value}", kind, body)
	}
	p := part{ns: ns, value: value}
	switch ns {
	case NSTimestamp:
		l, err := compileLayout(value)
		if err != nil {
			return part{}, ruleErrorf("%s contains an invalid timestamp pattern '%s': %v", kind, value, err)
		}
		p.layout = l
	case NSFirehose:
		switch value {
		case FirehoseRandomString:
		case FirehoseErrorOutputType:
			if kind == DataPrefix {
				return part{}, ruleErrorf("Prefix cannot contain !{firehose:error-output-type}")
			}
		default:
			return part{}, ruleErrorf("%s contains an unknown firehose expression value '%s'; supported values are %s and %s",
				kind, value, FirehoseRandomString, FirehoseErrorOutputType)
		}
	case NSPartitionKeyFromQuery, NSPartitionKeyFromLambda:
		if kind == ErrorPrefix {
			return part{}, ruleErrorf("ErrorOutputPrefix cannot contain %s or %s expressions",
				NSPartitionKeyFromQuery, NSPartitionKeyFromLambda)
		}
	default:
		return part{}, ruleErrorf("%s contains an unknown expression namespace '%s'; supported namespaces are %s, %s, %s and %s",
			kind, ns, NSTimestamp, NSFirehose, NSPartitionKeyFromQuery, NSPartitionKeyFromLambda)
	}
	return p, nil
}

// String returns the prefix text the template was parsed from.
func (t *Template) String() string { return t.src }

// Kind returns the kind the template was parsed as.
func (t *Template) Kind() Kind { return t.kind }

// HasExpressions reports whether the prefix contains any !{...} expression.
// This is what decides Firehose's append rule and whether an
// ErrorOutputPrefix is required.
func (t *Template) HasExpressions() bool {
	return slices.ContainsFunc(t.parts, func(p part) bool { return p.ns != "" })
}

// HasTimestamp reports whether the prefix contains a !{timestamp:...}.
func (t *Template) HasTimestamp() bool { return t.has(NSTimestamp, "") }

// UsesErrorOutputType reports whether the prefix contains
// !{firehose:error-output-type}.
func (t *Template) UsesErrorOutputType() bool { return t.has(NSFirehose, FirehoseErrorOutputType) }

// UsesPartitionKeys reports whether the prefix contains any
// partitionKeyFromQuery or partitionKeyFromLambda expression.
func (t *Template) UsesPartitionKeys() bool {
	return len(t.QueryKeys()) > 0 || len(t.LambdaKeys()) > 0
}

// QueryKeys returns the distinct key names of !{partitionKeyFromQuery:key}
// in order of first appearance (nil when there are none).
func (t *Template) QueryKeys() []string { return t.keys(NSPartitionKeyFromQuery) }

// LambdaKeys returns the distinct key names of !{partitionKeyFromLambda:key}
// in order of first appearance (nil when there are none).
func (t *Template) LambdaKeys() []string { return t.keys(NSPartitionKeyFromLambda) }

// has reports an expression in namespace ns with the given value ("" = any).
func (t *Template) has(ns, value string) bool {
	return slices.ContainsFunc(t.parts, func(p part) bool {
		return p.ns == ns && (value == "" || p.value == value)
	})
}

func (t *Template) keys(ns string) []string {
	var out []string
	for _, p := range t.parts {
		if p.ns == ns && !slices.Contains(out, p.value) {
			out = append(out, p.value)
		}
	}
	return out
}

// RuleError is a prefix that breaks one of Firehose's Create/Update rules.
// The API layer returns it as InvalidArgumentException with Message as the
// exception's message.
type RuleError struct {
	Message string
}

// Error returns the AWS message.
func (e *RuleError) Error() string { return e.Message }

// ruleMessagePrefix is the start AWS gives every prefix rule violation
// (typo included; seen verbatim on real AWS).
const ruleMessagePrefix = "Ths supplied prefix(es) do not satisfy the following constraint: "

func ruleErrorf(format string, args ...any) *RuleError {
	return &RuleError{Message: ruleMessagePrefix + fmt.Sprintf(format, args...)}
}
