package keys

import (
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// counting returns a Reader of the bytes 0, 1, 2, ... (mod 256).
func counting() io.Reader {
	b := make([]byte, 4096)
	for i := range b {
		b[i] = byte(i)
	}
	return strings.NewReader(string(b))
}

func mustParse(t *testing.T, s string, kind Kind) *Template {
	t.Helper()
	tpl, err := Parse(s, kind)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return tpl
}

func TestEvalSameInstant(t *testing.T) {
	tpl := mustParse(t, "!{timestamp:HH:mm:ss.SSSSSSSSS}|!{timestamp:HH:mm:ss.SSSSSSSSS}", DataPrefix)
	got, err := tpl.Eval(Env{Time: ref})
	if err != nil {
		t.Fatal(err)
	}
	a, b, _ := strings.Cut(got, "|")
	if a != b || a != "17:28:04.123456789" {
		t.Fatalf("timestamps %q and %q, want both 17:28:04.123456789", a, b)
	}
}

func TestEvalRandomString(t *testing.T) {
	tpl := mustParse(t, "!{firehose:random-string}/!{firehose:random-string}/", DataPrefix)
	got, err := tpl.Eval(Env{Time: ref, Random: counting()})
	if err != nil {
		t.Fatal(err)
	}
	// UUIDv4 from bytes 00..0f and 10..1f, first 11 characters each.
	if want := "00010203-04/10111213-14/"; got != want {
		t.Fatalf("Eval = %q, want %q", got, want)
	}
	shape := regexp.MustCompile(`^[0-9a-f-]{11}/[0-9a-f-]{11}/$`)
	seen := map[string]bool{}
	for range 50 {
		got, err := tpl.Eval(Env{Time: ref}) // crypto/rand
		if err != nil {
			t.Fatal(err)
		}
		if !shape.MatchString(got) {
			t.Fatalf("random strings %q do not look like AWS's", got)
		}
		a, b, _ := strings.Cut(strings.TrimSuffix(got, "/"), "/")
		if a == b || seen[a] {
			t.Fatalf("random strings repeat: %q", got)
		}
		seen[a] = true
	}
	_, err = tpl.Eval(Env{Time: ref, Random: iotest.ErrReader(errors.New("boom"))})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("failing Random: err = %v", err)
	}
}

func TestEvalErrorOutputTypes(t *testing.T) {
	tpl := mustParse(t, "errors/!{firehose:error-output-type}/!{firehose:error-output-type}/", ErrorPrefix)
	for _, typ := range []string{
		"processing-failed", "format-conversion-failed", "AmazonOpenSearchService-failed",
		"splunk-failed", "http-endpoint-failed", "partitioning-failed", "decompression-failed",
	} {
		t.Run(typ, func(t *testing.T) {
			got, err := tpl.Eval(Env{Time: ref, ErrorOutputType: typ})
			if want := "errors/" + typ + "/" + typ + "/"; err != nil || got != want {
				t.Fatalf("Eval = %q, %v; want %q", got, err, want)
			}
		})
	}
	if _, err := tpl.Eval(Env{Time: ref}); err == nil {
		t.Fatal("Eval without an error output type succeeded")
	}
}

func TestEvalMissingPartitionKey(t *testing.T) {
	tpl := mustParse(t, "!{partitionKeyFromQuery:a}/!{partitionKeyFromLambda:b}/", DataPrefix)
	only := func(ns, k string) (string, bool) { return "x", ns == NSPartitionKeyFromQuery && k == "a" }
	for name, env := range map[string]Env{
		"no lookup":   {Time: ref},
		"key missing": {Time: ref, PartitionKey: only},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := tpl.Eval(env); !errors.Is(err, ErrMissingPartitionKey) {
				t.Fatalf("err = %v, want ErrMissingPartitionKey", err)
			}
		})
	}
}

func TestEvalMaxLength(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		ok     bool
	}{
		{"exactly 512 with the appended time path", strings.Repeat("a", MaxEvaluatedLength-len("2023/12/28/17/")), true},
		{"513 with the appended time path", strings.Repeat("a", MaxEvaluatedLength-len("2023/12/28/17/")+1), false},
		{"512 multi-byte characters", strings.Repeat("é", MaxEvaluatedLength-len("2023/12/28/17/")), true},
		{"partition key values count", "!{partitionKeyFromQuery:k}" + strings.Repeat("b", MaxEvaluatedLength-3), false},
	}
	long := func(string, string) (string, bool) { return "xyzw", true }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, _, err := Resolve(&tc.prefix, ptr("e/!{firehose:error-output-type}/"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := data.Eval(Env{Time: ref, PartitionKey: long})
			if tc.ok && err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrPrefixTooLong) {
				t.Fatalf("Eval = %d chars, err %v; want ErrPrefixTooLong", len(got), err)
			}
		})
	}
}

func TestObjectName(t *testing.T) {
	tests := []struct {
		name, stream, version, id, ext string
		at                             time.Time
		want                           string
	}{
		{
			name: "real key, no prefix, uncompressed", stream: "tf-lambda-firehose-to-s3", version: "1",
			at: time.Date(2023, 12, 28, 17, 28, 4, 999, time.UTC), id: "fa9ee534-7fa0-4ac9-a4c3-44da5692e8f6",
			want: "tf-lambda-firehose-to-s3-1-2023-12-28-17-28-04-fa9ee534-7fa0-4ac9-a4c3-44da5692e8f6",
		},
		{
			name: "real key, gzip, version 3", stream: "tf-lambda-firehose-to-s3", version: "3", ext: ".gz",
			at: time.Date(2023, 12, 31, 18, 43, 24, 0, time.UTC), id: "31f965fd-de35-4eaa-98fb-8035e8998e41",
			want: "tf-lambda-firehose-to-s3-3-2023-12-31-18-43-24-31f965fd-de35-4eaa-98fb-8035e8998e41.gz",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ObjectName(tc.stream, tc.version, tc.at, tc.id, tc.ext); got != tc.want {
				t.Fatalf("ObjectName = %q, want %q", got, tc.want)
			}
		})
	}
}

// The real keys of reference §5.1, built as delivery builds them: evaluated
// prefix followed by the object name.
func TestRealKeys(t *testing.T) {
	tests := []struct {
		name    string
		prefix  *string
		version string
		at      time.Time
		id, ext string
		want    string
	}{
		{
			name: "no prefix, uncompressed", version: "1",
			at: time.Date(2023, 12, 28, 17, 28, 4, 0, time.UTC), id: "fa9ee534-7fa0-4ac9-a4c3-44da5692e8f6",
			want: "2023/12/28/17/tf-lambda-firehose-to-s3-1-2023-12-28-17-28-04-fa9ee534-7fa0-4ac9-a4c3-44da5692e8f6",
		},
		{
			name: "static prefix ending in slash, gzip", prefix: ptr("logs/lambda/tf-lambda-firehose-to-s3-hello/"), version: "3",
			at: time.Date(2023, 12, 31, 18, 43, 24, 0, time.UTC), id: "31f965fd-de35-4eaa-98fb-8035e8998e41", ext: ".gz",
			want: "logs/lambda/tf-lambda-firehose-to-s3-hello/2023/12/31/18/tf-lambda-firehose-to-s3-3-2023-12-31-18-43-24-31f965fd-de35-4eaa-98fb-8035e8998e41.gz",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, _, err := Resolve(tc.prefix, nil)
			if err != nil {
				t.Fatal(err)
			}
			p, err := data.Eval(Env{Time: tc.at})
			if err != nil {
				t.Fatal(err)
			}
			if key := p + ObjectName("tf-lambda-firehose-to-s3", tc.version, tc.at, tc.id, tc.ext); key != tc.want {
				t.Fatalf("key = %q, want %q", key, tc.want)
			}
		})
	}
}
