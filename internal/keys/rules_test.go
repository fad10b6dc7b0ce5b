package keys

import (
	"testing"
	"time"
)

func ptr(s string) *string { return &s }

func TestValidate(t *testing.T) {
	tests := []struct {
		name        string
		prefix      *string
		errorPrefix *string
		dynamic     bool
		want        string // "" = valid; else part of the constraint
	}{
		{name: "nothing set"},
		{name: "empty strings", prefix: ptr(""), errorPrefix: ptr("")},
		{name: "static prefix without error prefix", prefix: ptr("logs/")},
		{name: "static prefix with static error prefix", prefix: ptr("logs/"), errorPrefix: ptr("errors/")},
		{
			name:   "expression prefix without error prefix",
			prefix: ptr("logs/!{timestamp:yyyy}/"),
			want:   "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions",
		},
		{
			name:   "expression prefix with empty error prefix",
			prefix: ptr("logs/!{timestamp:yyyy}/"), errorPrefix: ptr(""),
			want: "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions",
		},
		{
			name:   "random-string counts as an expression",
			prefix: ptr("!{firehose:random-string}/"),
			want:   "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions",
		},
		{
			name:   "expression prefix with static error prefix",
			prefix: ptr("logs/!{timestamp:yyyy}/"), errorPrefix: ptr("errors/"),
		},
		{
			name:   "expression prefix with error-output-type error prefix",
			prefix: ptr("logs/!{timestamp:yyyy}/"), errorPrefix: ptr("errors/!{firehose:error-output-type}/!{timestamp:yyyy}/"),
		},
		{
			name:        "error prefix expressions without error-output-type",
			errorPrefix: ptr("errors/!{timestamp:yyyy}/"),
			want:        "ErrorOutputPrefix must contain at least one !{firehose:error-output-type}",
		},
		{
			name:        "error prefix with only random-string",
			errorPrefix: ptr("errors/!{firehose:random-string}/"),
			want:        "ErrorOutputPrefix must contain at least one !{firehose:error-output-type}",
		},
		{
			name:   "error-output-type in prefix",
			prefix: ptr("!{firehose:error-output-type}/"), errorPrefix: ptr("e/!{firehose:error-output-type}/"),
			want: "Prefix cannot contain !{firehose:error-output-type}",
		},
		{
			name:   "partition key in error prefix",
			prefix: ptr("!{partitionKeyFromQuery:a}/"), errorPrefix: ptr("e/!{firehose:error-output-type}/!{partitionKeyFromQuery:a}/"),
			dynamic: true,
			want:    "ErrorOutputPrefix cannot contain partitionKeyFromQuery or partitionKeyFromLambda expressions",
		},
		{
			name:   "partition key without dynamic partitioning",
			prefix: ptr("!{partitionKeyFromLambda:a}/"), errorPrefix: ptr("e/!{firehose:error-output-type}/"),
			want: "only when dynamic partitioning is enabled",
		},
		{
			name:   "partition keys with dynamic partitioning",
			prefix: ptr("c=!{partitionKeyFromQuery:c}/d=!{partitionKeyFromLambda:d}/"), errorPrefix: ptr("e/!{firehose:error-output-type}/"),
			dynamic: true,
		},
		{
			name:    "dynamic partitioning without error prefix",
			dynamic: true,
			want:    "ErrorOutputPrefix cannot be null or empty when dynamic partitioning is enabled",
		},
		{
			name:   "dynamic partitioning without partition keys",
			prefix: ptr("y=!{timestamp:yyyy}/"), errorPrefix: ptr("e/!{firehose:error-output-type}/"),
			dynamic: true,
			want:    "Prefix must contain at least one partitionKeyFromQuery or partitionKeyFromLambda expression",
		},
		{
			name:   "malformed prefix",
			prefix: ptr("logs/!{timestamp:yyyy/"), errorPrefix: ptr("e/"),
			want: "Prefix contains '!{' that does not start a well-formed expression",
		},
		{
			name:        "malformed error prefix",
			errorPrefix: ptr("e/!{firehose:error-output-type"),
			want:        "ErrorOutputPrefix contains '!{' that does not start",
		},
		{
			name:   "unknown namespace",
			prefix: ptr("!{partitionKey:a}/"), errorPrefix: ptr("e/"),
			want: "unknown expression namespace 'partitionKey'",
		},
		{
			name:   "bad timestamp pattern",
			prefix: ptr("!{timestamp:yyyy-ii}/"), errorPrefix: ptr("e/"),
			want: "invalid timestamp pattern",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.prefix, tc.errorPrefix, tc.dynamic)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			assertRule(t, err, tc.want)
		})
	}
}

// The one message known verbatim from AWS, typo included.
func TestValidateVerbatimMessage(t *testing.T) {
	err := Validate(ptr("!{timestamp:yyyy}/"), nil, false)
	const want = "Ths supplied prefix(es) do not satisfy the following constraint: ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestResolve(t *testing.T) {
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	keys := func(ns, k string) (string, bool) {
		v, ok := map[string]string{"customer_id": "c1", "device": "phone"}[k]
		return v, ok && ns == NSPartitionKeyFromQuery
	}
	tests := []struct {
		name        string
		prefix      *string
		errorPrefix *string
		at          time.Time
		loc         *time.Location
		errType     string
		wantData    string
		wantErrors  string
	}{
		{
			name:       "no prefix",
			at:         time.Date(2023, 12, 28, 17, 28, 4, 0, time.UTC),
			wantData:   "2023/12/28/17/",
			wantErrors: "processing-failed/2023/12/28/17/",
			errType:    "processing-failed",
		},
		{
			name:        "empty prefix is no prefix; real error layout from AWS",
			prefix:      ptr(""),
			errorPrefix: ptr(""),
			at:          time.Date(2019, 11, 29, 9, 15, 0, 0, time.UTC),
			errType:     "processing-failed",
			wantData:    "2019/11/29/09/",
			wantErrors:  "processing-failed/2019/11/29/09/",
		},
		{
			name:       "static prefix gets time path without slash (real AWS)",
			prefix:     ptr("legacy"),
			at:         time.Date(2026, 7, 13, 14, 59, 59, 0, time.UTC),
			errType:    "format-conversion-failed",
			wantData:   "legacy2026/07/13/14/",
			wantErrors: "legacyformat-conversion-failed/2026/07/13/14/",
		},
		{
			name:       "documented static prefix",
			prefix:     ptr("myFirehosePrefix"),
			at:         time.Date(2018, 8, 27, 10, 30, 0, 0, time.UTC),
			errType:    "processing-failed",
			wantData:   "myFirehosePrefix2018/08/27/10/",
			wantErrors: "myFirehosePrefixprocessing-failed/2018/08/27/10/",
		},
		{
			name:        "static prefix ending in slash with static error prefix (guess)",
			prefix:      ptr("logs/lambda/tf-lambda-firehose-to-s3-hello/"),
			errorPrefix: ptr("error-data/"),
			at:          time.Date(2023, 12, 31, 18, 43, 14, 0, time.UTC),
			errType:     "processing-failed",
			wantData:    "logs/lambda/tf-lambda-firehose-to-s3-hello/2023/12/31/18/",
			wantErrors:  "error-data/processing-failed/2023/12/31/18/",
		},
		{
			name:        "random-string only gets nothing appended",
			prefix:      ptr("r/!{firehose:random-string}/"),
			errorPrefix: ptr("e/!{firehose:error-output-type}/"),
			at:          time.Date(2023, 12, 28, 17, 0, 0, 0, time.UTC),
			errType:     "processing-failed",
			wantData:    "r/00010203-04/",
			wantErrors:  "e/processing-failed/",
		},
		{
			name:        "hive style timestamps",
			prefix:      ptr("year=!{timestamp:yyyy}/month=!{timestamp:MM}/"),
			errorPrefix: ptr("errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/"),
			at:          time.Date(2023, 12, 28, 17, 0, 0, 0, time.UTC),
			errType:     "format-conversion-failed",
			wantData:    "year=2023/month=12/",
			wantErrors:  "errors/format-conversion-failed/year=2023/",
		},
		{
			name:        "partition keys only get nothing appended",
			prefix:      ptr("customer_id=!{partitionKeyFromQuery:customer_id}/device=!{partitionKeyFromQuery:device}/"),
			errorPrefix: ptr("errors/!{firehose:error-output-type}/"),
			at:          time.Date(2023, 12, 28, 17, 0, 0, 0, time.UTC),
			errType:     "partitioning-failed",
			wantData:    "customer_id=c1/device=phone/",
			wantErrors:  "errors/partitioning-failed/",
		},
		{
			name:       "custom time zone shifts the default path",
			at:         time.Date(2023, 12, 28, 3, 0, 0, 0, time.UTC),
			loc:        la,
			errType:    "processing-failed",
			wantData:   "2023/12/27/19/",
			wantErrors: "processing-failed/2023/12/27/19/",
		},
		{
			name:        "custom time zone in expressions",
			prefix:      ptr("!{timestamp:yyyy-MM-dd'T'HHXXX}/"),
			errorPrefix: ptr("!{firehose:error-output-type}/"),
			at:          time.Date(2023, 7, 1, 3, 0, 0, 0, time.UTC),
			loc:         la,
			errType:     "processing-failed",
			wantData:    "2023-06-30T20-07:00/",
			wantErrors:  "processing-failed/",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, errs, err := Resolve(tc.prefix, tc.errorPrefix)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			env := Env{Time: tc.at, Location: tc.loc, ErrorOutputType: tc.errType, PartitionKey: keys, Random: counting()}
			if got, err := data.Eval(env); err != nil || got != tc.wantData {
				t.Errorf("data = %q, %v; want %q", got, err, tc.wantData)
			}
			if got, err := errs.Eval(env); err != nil || got != tc.wantErrors {
				t.Errorf("errors = %q, %v; want %q", got, err, tc.wantErrors)
			}
			if data.Kind() != DataPrefix || errs.Kind() != ErrorPrefix {
				t.Errorf("kinds = %v, %v", data.Kind(), errs.Kind())
			}
		})
	}
}

func TestResolveTemplateText(t *testing.T) {
	data, errs, err := Resolve(ptr("legacy"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := data.String(), "legacy!{timestamp:yyyy/MM/dd/HH/}"; got != want {
		t.Errorf("data = %q, want %q", got, want)
	}
	if got, want := errs.String(), "legacy!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}"; got != want {
		t.Errorf("errors = %q, want %q", got, want)
	}
	// A prefix with expressions and no error prefix (rejected by Validate)
	// still resolves: its expressions are not copied into the error prefix.
	_, errs, err = Resolve(ptr("!{timestamp:yyyy}/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := errs.String(), "!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH/}"; got != want {
		t.Errorf("errors = %q, want %q", got, want)
	}
	if _, _, err := Resolve(ptr("!{bad"), nil); err == nil {
		t.Error("Resolve of a malformed prefix succeeded")
	}
}
