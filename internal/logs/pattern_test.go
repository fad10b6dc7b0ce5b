package logs

import (
	"errors"
	"testing"
)

// The examples of CloudWatch Logs' filter pattern syntax page, and the
// edges around them.
func TestPatternMatch(t *testing.T) {
	t.Parallel()
	const doc = `{"eventType":"UpdateTrail","sourceIPAddress":"111.111.111.111","arrayKey":["value","another value"],` +
		`"objectList":[{"name":"a","id":1},{"name":"b","id":2}],"SomeObject":null,"ThisFlag":true,"OtherFlag":false,` +
		`"latency":250,"errorCode":"Lambda.FunctionError","code":"400","nested":{"deep":{"n":1.5e3}}}`
	const compound = `{"user":{"id":1,"email":"John.Stiles@example.com"},"users":[{"id":2,"email":"John.Doe@example.com"},` +
		`{"id":3,"email":"Jane.Doe@example.com"}],"actions":["GET","PUT","DELETE"],"coordinates":[[0,1,2],[4,5,6],[7,8,9]]}`
	const apache = `127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 404 1534`
	cases := []struct {
		name, pattern, msg string
		want               bool
	}{
		{"empty matches all", "", "anything", true},
		{"single term", "ERROR", "[ERROR] A fatal exception has occurred", true},
		{"term is a substring", "ERROR", "Exiting with ERRORCODE: -1", true},
		{"case sensitive", "ERROR", "error: lower case", false},
		{"all terms", "ERROR Exception", "[ERROR] Caught IllegalArgumentException", true},
		{"all terms, one missing", "ERROR Exception", "[ERROR] Caught nothing", false},
		{"terms in any order", "watch Cloud", "Cloud logs watch", true},
		{"phrase", `"INTERNAL SERVER ERROR"`, "[ERROR 500] INTERNAL SERVER ERROR", true},
		{"phrase needs adjacency", `"Cloud watch"`, "Cloud logs watch", false},
		{"phrase with punctuation", `"ERROR][grpc"`, "2025-03-28 [ERROR][grpc] failed", true},
		{"exclude", "ERROR -ARGUMENTS", "[ERROR 400] BAD REQUEST", true},
		{"exclude hits", "ERROR -ARGUMENTS", "[ERROR 420] INVALID ARGUMENTS", false},
		{"exclude quoted with a space", `"ERROR" - "Exiting"`, "Exiting with ERRORCODE: -1", false},
		{"only exclusions", "-DEBUG", "INFO started", true},
		{"or first", "?ERROR ?WARN", "ERROR message", true},
		{"or second", "?ERROR ?WARN", "WARN message", true},
		{"or none", "?ERROR ?WARN", "INFO message", false},
		{"or phrase", `?"clean up" ?xyz`, "map clean up", true},
		{"or with exclusion", "?ERROR ?WARN -DEBUG", "WARN DEBUG message", false},
		{"plain terms win over optional", "ERROR ?WARN", "ERROR only", true},
		{"blank phrase matches all", `" "`, "", true},
		{"empty phrase matches all", `""`, "x", true},
		{"regex", `%ERROR [0-9]{3}%`, "[ERROR 404] gone", true},
		{"regex anchored", `%^INFO%`, "[ERROR] INFO", false},

		{"json string", `{ $.eventType = "UpdateTrail" }`, doc, true},
		{"json bare string", `{ $.eventType = UpdateTrail }`, doc, true},
		{"json string differs", `{ $.eventType = "CreateTrail" }`, doc, false},
		{"json not equal with wildcard", `{ $.sourceIPAddress != 123.123.* }`, doc, true},
		{"json wildcard suffix", `{ $.errorCode = "Lambda.*" }`, doc, true},
		{"json wildcard prefix", `{ $.eventType = *Trail }`, doc, true},
		{"json inner star is literal", `{ $.eventType = Update*ail }`, doc, false},
		{"json star alone", `{ $.latency = * }`, doc, true},
		{"json array index", `{ $.arrayKey[0] = "value" }`, doc, true},
		{"json array of objects", `{ $.objectList[1].id = 2 }`, doc, true},
		{"json index out of range", `{ $.objectList[5].id = 2 }`, doc, false},
		{"json is null", `{ $.SomeObject IS NULL }`, doc, true},
		{"json is null on a value", `{ $.eventType IS NULL }`, doc, false},
		{"json not exists", `{ $.SomeOtherObject NOT EXISTS }`, doc, true},
		{"json not exists when it does", `{ $.SomeObject NOT EXISTS }`, doc, false},
		{"json is true", `{ $.ThisFlag IS TRUE }`, doc, true},
		{"json is false", `{ $.OtherFlag IS FALSE }`, doc, true},
		{"json is true on false", `{ $.OtherFlag IS TRUE }`, doc, false},
		{"json number gt", `{ $.latency > 100 }`, doc, true},
		{"json number le", `{ $.latency <= 249.5 }`, doc, false},
		{"json number signed", `{ $.latency > +100 }`, doc, true},
		{"json number scientific", `{ $.nested.deep.n = 1500 }`, doc, true},
		{"json number vs scientific literal", `{ $.latency < 10e3 }`, doc, true},
		{"json number as string value", `{ $.code = 400 }`, doc, true},
		{"json order compare on a string", `{ $.code > 100 }`, doc, false},
		{"json missing selector", `{ $.nope = "x" }`, doc, false},
		{"json not equal on missing", `{ $.nope != "x" }`, doc, false},
		{"json container", `{ $.arrayKey = "value" }`, doc, false},
		{"json container not equal", `{ $.arrayKey != "value" }`, doc, false},
		{"json regex", `{ $.errorCode = %Function% }`, doc, true},
		{"json regex not equal", `{ $.errorCode != %^Lambda% }`, doc, false},
		{"json and", `{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }`, compound, true},
		{"json and or", `{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }`, compound, false},
		{"json precedence", `{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }`, compound, true},
		{"json parens", `{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }`, compound, false},
		{"json nested array", `{ $.coordinates[1][2] = 6 }`, compound, true},
		{"json pattern on text", `{ $.a = 1 }`, "not json at all", false},

		{"delimited names only", `[ip, user, username, timestamp, request, status_code, bytes]`, apache, true},
		{"delimited wrong count", `[ip, user, username]`, apache, false},
		{"delimited ellipsis end", `[ip, user, ...]`, apache, true},
		{"delimited ellipsis start", `[..., status_code, bytes]`, apache, true},
		{"delimited ellipsis middle", `[ip, user, ..., status_code, bytes]`, apache, true},
		{"delimited numeric", `[ip, user, username, timestamp, request, status_code, bytes > 1000]`, apache, true},
		{"delimited numeric fails", `[ip, user, username, timestamp, request, status_code, bytes > 2000]`, apache, false},
		{"delimited string wildcard", `[ip, user, username, timestamp, request, status_code = 4*, bytes]`, apache, true},
		{"delimited bracketed field", `[ip, user, username, timestamp = "10/Oct/2000:13:25:15 -0700", ...]`, apache, true},
		{"delimited quoted field", `[..., request = *gif*, status_code = 404, bytes]`, apache, true},
		{"delimited and", `[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]`, apache, true},
		{"delimited and excluded", `[ip, user, username, timestamp, request, status_code = 4* && status_code != 404, bytes]`, apache, false},
		{"delimited or", `[w1=ERROR || w1=WARN, w2]`, "WARN message", true},
		{"delimited or neither", `[w1=ERROR || w1=WARN, w2]`, "INFO message", false},
		{"delimited trailing comma", `[..., request=*.gif*, status_code=4*,]`, apache, false},
		{"delimited trailing comma exact", `[..., status_code=4*, bytes,]`, apache, true},
		{"delimited regex", `[ip, ..., status = %^4[0-9]{2}$%, bytes]`, apache, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := ParsePattern(c.pattern)
			if err != nil {
				t.Fatalf("parse %q: %v", c.pattern, err)
			}
			if got := p.Match([]byte(c.msg)); got != c.want {
				t.Fatalf("%q on %q = %v, want %v", c.pattern, c.msg, got, c.want)
			}
		})
	}
}

func TestPatternErrors(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		`"unterminated`,
		`{ $.a = 1`,
		`{ a = 1 }`,
		`{ $.a }`,
		`{ $.a = }`,
		`{ $.a > x }`,
		`{ $.a = 1 && }`,
		`{ ($.a = 1 }`,
		`{ $.a IS MAYBE }`,
		`{ $.a NOT THERE }`,
		`{ $.a[x] = 1 }`,
		`{ $.a = 1 & $.b = 2 }`,
		`%(group)%`,
		`%bang!%`,
		`{ $.a = %a% || $.b = %b% || $.c = %c% }`,
		`[a, , b]`,
		`[a, a]`,
		`[a = "x]`,
		`- `,
	} {
		_, err := ParsePattern(p)
		var pe *PatternError
		if !errors.As(err, &pe) {
			t.Errorf("%q: got %v, want a PatternError", p, err)
		}
	}
}

func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{`{ $.a[0].b = "x*" && ($.c > 1 || $.d IS NULL) }`, `[a, ..., b = 4* || b > 3]`, `?x -"y z"`, `%a|b%`} {
		f.Add(s, `{"a":[{"b":"xy"}],"c":2} a b 4`)
	}
	f.Fuzz(func(t *testing.T, pattern, msg string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		p.Match([]byte(msg))
	})
}
