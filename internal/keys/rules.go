package keys

import "fmt"

// DefaultTimePath is the Java pattern of the time path Firehose adds to a
// prefix that has no expressions: yyyy/MM/dd/HH/ in the stream's time zone.
const DefaultTimePath = "yyyy/MM/dd/HH/"

// Validate enforces the prefix rules Firehose applies on
// CreateDeliveryStream and UpdateDestination (reference §4, "Validation
// rules"), given the destination's Prefix, ErrorOutputPrefix (nil or "" when
// unset) and whether dynamic partitioning is enabled. It returns nil or a
// *RuleError carrying AWS's message. Besides what Parse checks for each
// prefix alone, it enforces:
//   - a Prefix with any expression needs a non-empty ErrorOutputPrefix
//     (the one message known verbatim from AWS);
//   - an ErrorOutputPrefix with expressions must include
//     !{firehose:error-output-type} (a static one is allowed);
//   - partitionKeyFrom* expressions only with dynamic partitioning;
//   - with dynamic partitioning, an ErrorOutputPrefix is required and the
//     Prefix must use at least one partitionKeyFrom* expression.
//
// Length limits (0–1024) are model constraints checked by the API layer.
func Validate(prefix, errorPrefix *string, dynamicPartitioning bool) error {
	data, err := Parse(deref(prefix), DataPrefix)
	if err != nil {
		return err
	}
	errs, err := Parse(deref(errorPrefix), ErrorPrefix)
	if err != nil {
		return err
	}
	noErrorPrefix := deref(errorPrefix) == ""
	switch {
	case data.HasExpressions() && noErrorPrefix:
		return ruleErrorf("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions")
	case errs.HasExpressions() && !errs.UsesErrorOutputType():
		return ruleErrorf("ErrorOutputPrefix must contain at least one !{firehose:error-output-type} expression when it contains expressions")
	case data.UsesPartitionKeys() && !dynamicPartitioning:
		return ruleErrorf("Prefix can contain %s or %s expressions only when dynamic partitioning is enabled",
			NSPartitionKeyFromQuery, NSPartitionKeyFromLambda)
	case dynamicPartitioning && noErrorPrefix:
		return ruleErrorf("ErrorOutputPrefix cannot be null or empty when dynamic partitioning is enabled")
	case dynamicPartitioning && !data.UsesPartitionKeys():
		return ruleErrorf("Prefix must contain at least one %s or %s expression when dynamic partitioning is enabled",
			NSPartitionKeyFromQuery, NSPartitionKeyFromLambda)
	}
	return nil
}

// Resolve applies Firehose's default and append rules (reference §5.2, §5.5)
// and returns the templates that name delivered objects (data) and error
// objects (errs). Callers evaluate them as they are; they must not add time
// paths themselves.
//
// Data prefix:
//   - nil or "" → yyyy/MM/dd/HH/;
//   - no !{ expression at all → the prefix followed by yyyy/MM/dd/HH/ by plain
//     concatenation, no '/' inserted ("legacy" → "legacy2026/07/13/14/");
//   - any expression (even only random-string or partition keys) → as is.
//
// Error prefix:
//   - nil or "" → the data Prefix if it has no expressions (else nothing),
//     then <error-output-type>/yyyy/MM/dd/HH/ (documented; matches real
//     keys such as processing-failed/2019/11/29/09/...);
//   - no expressions (e.g. "error-data/") → the prefix followed by
//     <error-output-type>/yyyy/MM/dd/HH/. This is a GUESS: AWS's behaviour
//     for a static ErrorOutputPrefix is not documented, and this choice
//     keeps failure types apart the way the default layout does;
//   - with expressions → as is.
//
// Resolve reports parse errors (as *RuleError) but not the cross-field rules;
// those are Validate's, run at Create/Update.
func Resolve(prefix, errorPrefix *string) (data, errs *Template, err error) {
	p, ep := deref(prefix), deref(errorPrefix)
	dt, err := Parse(p, DataPrefix)
	if err != nil {
		return nil, nil, err
	}
	et, err := Parse(ep, ErrorPrefix)
	if err != nil {
		return nil, nil, err
	}
	timePath := "!{" + NSTimestamp + ":" + DefaultTimePath + "}"
	errorPath := "!{" + NSFirehose + ":" + FirehoseErrorOutputType + "}/" + timePath
	dataStatic := !dt.HasExpressions()
	if dataStatic {
		// p has no "!{", so appending an expression cannot change how its
		// own text parses.
		if dt, err = Parse(p+timePath, DataPrefix); err != nil {
			return nil, nil, fmt.Errorf("resolve prefix: %w", err)
		}
	}
	switch {
	case ep == "":
		lit := ""
		if dataStatic {
			lit = p
		}
		et, err = Parse(lit+errorPath, ErrorPrefix)
	case !et.HasExpressions():
		et, err = Parse(ep+errorPath, ErrorPrefix)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("resolve error prefix: %w", err)
	}
	return dt, et, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
