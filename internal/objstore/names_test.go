package objstore_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

func TestValidBucketName(t *testing.T) {
	for name, tt := range map[string]struct {
		bucket string
		err    string // "" when valid
	}{
		"simple":              {"my-bucket", ""},
		"dots":                {"logs.example.com", ""},
		"digits":              {"123", ""},
		"63 chars":            {strings.Repeat("a", 63), ""},
		"AWS doc example":     {"amzn-s3-demo-bucket", ""},
		"almost IP":           {"192.168.5.4a", ""},
		"five numbers":        {"1.2.3.4.5", ""},
		"too short":           {"ab", "3 to 63"},
		"too long":            {strings.Repeat("a", 64), "3 to 63"},
		"upper case":          {"MyBucket", `contains 'M'`},
		"underscore":          {"my_bucket", `contains '_'`},
		"slash":               {"a/bc", `contains '/'`},
		"space":               {"a bc", `contains ' '`},
		"non-ASCII":           {"bücket", "contains"},
		"leading dot":         {".abc", "begin and end"},
		"leading hyphen":      {"-abc", "begin and end"},
		"trailing hyphen":     {"abc-", "begin and end"},
		"trailing dot":        {"abc.", "begin and end"},
		"dotdot":              {"..", "3 to 63"},
		"adjacent dots":       {"a..b", "adjacent periods"},
		"IPv4":                {"192.168.5.4", "IP address"},
		"IPv4 out of range":   {"999.999.999.999", "IP address"},
		"xn--":                {"xn--bcher-kva", `prefix "xn--"`},
		"sthree-":             {"sthree-bucket", `prefix "sthree-"`},
		"sthree-configurator": {"sthree-configurator-x", `prefix "sthree-"`},
		"-s3alias":            {"abc-s3alias", `suffix "-s3alias"`},
		"--ol-s3":             {"abc--ol-s3", `suffix "--ol-s3"`},
		".mrap":               {"abc.mrap", `suffix ".mrap"`},
		"--x-s3":              {"abc--x-s3", `suffix "--x-s3"`},
		"--table-s3":          {"abc--table-s3", `suffix "--table-s3"`},
	} {
		t.Run(name, func(t *testing.T) {
			checkErr(t, objstore.ValidBucketName(tt.bucket), tt.err)
		})
	}
}

func TestValidKey(t *testing.T) {
	for name, tt := range map[string]struct {
		key string
		err string
	}{
		"simple":          {"a", ""},
		"nested":          {"2024/05/01/12/stream-1-2024-05-01-12-00-00-uuid.gz", ""},
		"dots in names":   {"a.b/..c/c..", ""},
		"hidden file":     {".hidden/.x", ""},
		"unicode":         {"données/ключ/🔥.json", ""},
		"spaces":          {"a b/c d", ""},
		"1024 bytes":      {strings.Repeat("k", 1024), ""},
		"empty":           {"", "empty"},
		"1025 bytes":      {strings.Repeat("k", 1025), "1025 bytes"},
		"bad UTF-8":       {"a\xc3", "not valid UTF-8"},
		"leading slash":   {"/a", "starts with '/'"},
		"NUL":             {"a\x00", "U+0000"},
		"tab":             {"a\tb", "U+0009"},
		"DEL":             {"a\x7f", "U+007F"},
		"C1":              {"a\u009b", "U+009B"},
		"backslash":       {`a\b`, "backslash"},
		"double slash":    {"a//b", "empty path segment"},
		"trailing slash":  {"a/", "empty path segment"},
		"dot":             {".", `"." path segment`},
		"dotdot":          {"..", `".." path segment`},
		"inner dotdot":    {"a/../b", `".." path segment`},
		"trailing dotdot": {"a/..", `".." path segment`},
	} {
		t.Run(name, func(t *testing.T) {
			checkErr(t, objstore.ValidKey(tt.key), tt.err)
		})
	}
}

// checkErr checks err against want: nil for "", else ErrInvalidKey with a
// message containing want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Errorf("got %v; want valid", err)
	case want == "":
	case !errors.Is(err, objstore.ErrInvalidKey):
		t.Errorf("got %v; want ErrInvalidKey", err)
	case !strings.Contains(err.Error(), want):
		t.Errorf("got %q; want it to mention %q", err, want)
	}
}
