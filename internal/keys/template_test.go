package keys

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseIntrospection(t *testing.T) {
	tests := []struct {
		name       string
		src        string
		kind       Kind
		expr, ts   bool
		errType    bool
		query      []string
		lambda     []string
		partitions bool
	}{
		{name: "empty", src: "", kind: DataPrefix},
		{name: "static", src: "logs/app/", kind: DataPrefix},
		{name: "lone bang and braces are literal", src: "a!b{c}d!", kind: DataPrefix},
		{name: "timestamp", src: "y=!{timestamp:yyyy}/", kind: DataPrefix, expr: true, ts: true},
		{name: "random only", src: "r/!{firehose:random-string}/", kind: DataPrefix, expr: true},
		{
			name: "partition keys deduplicated in order", kind: DataPrefix, expr: true, partitions: true,
			src:    "!{partitionKeyFromQuery:b}/!{partitionKeyFromLambda:x}/!{partitionKeyFromQuery:a}/!{partitionKeyFromQuery:b}/",
			query:  []string{"b", "a"},
			lambda: []string{"x"},
		},
		{
			name: "error prefix", src: "err/!{firehose:error-output-type}/!{timestamp:yyyy}/", kind: ErrorPrefix,
			expr: true, ts: true, errType: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Parse(tc.src, tc.kind)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.src, err)
			}
			if tpl.String() != tc.src || tpl.Kind() != tc.kind {
				t.Errorf("String/Kind = %q/%v, want %q/%v", tpl.String(), tpl.Kind(), tc.src, tc.kind)
			}
			if got := tpl.HasExpressions(); got != tc.expr {
				t.Errorf("HasExpressions = %v, want %v", got, tc.expr)
			}
			if got := tpl.HasTimestamp(); got != tc.ts {
				t.Errorf("HasTimestamp = %v, want %v", got, tc.ts)
			}
			if got := tpl.UsesErrorOutputType(); got != tc.errType {
				t.Errorf("UsesErrorOutputType = %v, want %v", got, tc.errType)
			}
			if got := tpl.UsesPartitionKeys(); got != tc.partitions {
				t.Errorf("UsesPartitionKeys = %v, want %v", got, tc.partitions)
			}
			if got := tpl.QueryKeys(); !slices.Equal(got, tc.query) {
				t.Errorf("QueryKeys = %q, want %q", got, tc.query)
			}
			if got := tpl.LambdaKeys(); !slices.Equal(got, tc.lambda) {
				t.Errorf("LambdaKeys = %q, want %q", got, tc.lambda)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		kind Kind
		want string // the constraint after AWS's fixed message start
	}{
		{"unclosed expression", "logs/!{timestamp:yyyy", DataPrefix, "Prefix contains '!{' that does not start a well-formed expression"},
		{"bare bang brace", "logs/!{", ErrorPrefix, "ErrorOutputPrefix contains '!{' that does not start"},
		{"no colon", "!{timestamp}", DataPrefix, "'!{timestamp}' which is not a well-formed expression"},
		{"empty namespace", "!{:yyyy}", DataPrefix, "not a well-formed expression"},
		{"empty value", "!{timestamp:}", DataPrefix, "not a well-formed expression"},
		{"empty expression", "!{}", DataPrefix, "not a well-formed expression"},
		{"nested bang brace", "!{a!{timestamp:yyyy}", DataPrefix, "not a well-formed expression"},
		{"unknown namespace", "!{time:yyyy}", DataPrefix, "unknown expression namespace 'time'"},
		{"namespace is case-sensitive", "!{Timestamp:yyyy}", DataPrefix, "unknown expression namespace 'Timestamp'"},
		{"unknown firehose value", "!{firehose:random}", DataPrefix, "unknown firehose expression value 'random'"},
		{"bad timestamp pattern", "!{timestamp:yyyy-bb}", DataPrefix, "invalid timestamp pattern 'yyyy-bb': unknown pattern letter: b"},
		{"error type in data prefix", "x/!{firehose:error-output-type}/", DataPrefix, "Prefix cannot contain !{firehose:error-output-type}"},
		{"query key in error prefix", "!{firehose:error-output-type}/!{partitionKeyFromQuery:a}/", ErrorPrefix, "ErrorOutputPrefix cannot contain partitionKeyFromQuery or partitionKeyFromLambda expressions"},
		{"lambda key in error prefix", "!{firehose:error-output-type}/!{partitionKeyFromLambda:a}/", ErrorPrefix, "ErrorOutputPrefix cannot contain partitionKeyFromQuery"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.src, tc.kind)
			assertRule(t, err, tc.want)
		})
	}
}

// assertRule checks err is a *RuleError in AWS's form whose constraint
// contains want.
func assertRule(t *testing.T, err error, want string) {
	t.Helper()
	var re *RuleError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v (%T), want *RuleError", err, err)
	}
	rule, ok := strings.CutPrefix(re.Message, "Ths supplied prefix(es) do not satisfy the following constraint: ")
	if !ok {
		t.Fatalf("message %q does not start with AWS's text", re.Message)
	}
	if !strings.Contains(rule, want) {
		t.Fatalf("constraint %q does not contain %q", rule, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "logs/", "!{timestamp:yyyy/MM/dd/HH/}", "!{firehose:random-string}",
		"!{firehose:error-output-type}/!{timestamp:yyyy'-'MM}", "!{partitionKeyFromQuery:k}/",
		"!{", "!{}", "!{timestamp:'}", "a!{b:c}d", "!{timestamp:[yyyy]]}", "!{timestamp:SSSSSSSSS XXXXX O VV z e c Q G}",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, errKind bool) {
		kind := DataPrefix
		if errKind {
			kind = ErrorPrefix
		}
		tpl, err := Parse(s, kind)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("Parse(%q) error %v is not a *RuleError", s, err)
			}
			return
		}
		if tpl.String() != s {
			t.Fatalf("String() = %q, want %q", tpl.String(), s)
		}
		if !strings.Contains(s, "!{") && tpl.HasExpressions() {
			t.Fatalf("Parse(%q) found expressions without '!{'", s)
		}
		// Whatever parses must evaluate without panicking.
		_, err = tpl.Eval(Env{
			Time:            ref,
			ErrorOutputType: "processing-failed",
			PartitionKey:    func(string, string) (string, bool) { return "v", true },
			Random:          endless{},
		})
		if err != nil && !errors.Is(err, ErrPrefixTooLong) {
			t.Fatalf("Eval of %q: %v", s, err)
		}
	})
}

// endless is a Reader that never runs out: fixed "random" bytes.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i)
	}
	return len(p), nil
}
