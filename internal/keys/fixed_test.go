package keys

import "testing"

func TestFixedPrefix(t *testing.T) {
	for _, c := range []struct {
		name, prefix, errPrefix string
		typ                     string
		data, errs              string
	}{
		{"defaults", "", "", "processing-failed", "", "processing-failed/"},
		{"static prefix", "logs/", "", "format-conversion-failed", "logs/", "logs/format-conversion-failed/"},
		{"timestamped", "logs/year=!{timestamp:yyyy}/", "errors/!{firehose:error-output-type}/!{timestamp:yyyy}/", "partitioning-failed", "logs/year=", "errors/partitioning-failed/"},
		{"partitioned", "data/!{partitionKeyFromQuery:k}/", "err/!{timestamp:yyyy}/!{firehose:error-output-type}/", "processing-failed", "data/", "err/"},
		{"no type", "", "e/!{firehose:error-output-type}/", "", "", "e/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, errs, err := Resolve(&c.prefix, &c.errPrefix)
			if err != nil {
				t.Fatal(err)
			}
			if got := data.FixedPrefix(""); got != c.data {
				t.Errorf("data: got %q, want %q", got, c.data)
			}
			if got := errs.FixedPrefix(c.typ); got != c.errs {
				t.Errorf("errors: got %q, want %q", got, c.errs)
			}
		})
	}
}
