package objstore

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest object key in bytes, as in S3.
const MaxKeyLen = 1024

// ValidBucketName reports whether name follows the S3 naming rules for
// general purpose buckets, wrapping ErrInvalidKey with the rule it breaks:
// 3 to 63 characters of lower-case letters, digits, '.' and '-'; beginning
// and ending with a letter or digit; no ".."; not formatted like an IPv4
// address; none of the reserved prefixes ("xn--", "sthree-") or suffixes
// ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3").
//
// One reserved prefix is deliberately allowed: "amzn-s3-demo-", which AWS
// reserves so that its documentation examples ("amzn-s3-demo-bucket") never
// reach a real bucket. On hydrant those examples should just work.
//
// A name that passes is a single, non-hidden path element, so it can never
// name anything but a directory directly under the store's root.
func ValidBucketName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: bucket name %s %s", ErrInvalidKey, quoteShort(name), why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad(fmt.Sprintf("is %d characters long; it must be 3 to 63", len(name)))
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isLowerAlnum(c) && c != '.' && c != '-' {
			return bad(fmt.Sprintf("contains %q at position %d; only lower-case letters, digits, '.' and '-' are allowed", c, i))
		}
	}
	if !isLowerAlnum(name[0]) || !isLowerAlnum(name[len(name)-1]) {
		return bad("must begin and end with a lower-case letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("contains two adjacent periods")
	}
	if looksLikeIPv4(name) {
		return bad("is formatted like an IP address")
	}
	for _, p := range []string{"xn--", "sthree-"} {
		if strings.HasPrefix(name, p) {
			return bad(fmt.Sprintf("starts with the reserved prefix %q", p))
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return bad(fmt.Sprintf("ends with the reserved suffix %q", s))
		}
	}
	return nil
}

func isLowerAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

// looksLikeIPv4 reports whether name is four dot-separated groups of digits.
// Out-of-range groups ("999.1.1.1") count too: the rule is about the form.
func looksLikeIPv4(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// ValidKey reports whether key may name an object, wrapping ErrInvalidKey
// with what is wrong. A valid key is 1 to MaxKeyLen bytes of UTF-8 without
// control characters (C0, DEL, C1) or backslashes, does not start with '/',
// and has no empty, "." or ".." segment between slashes (so no "//" and no
// trailing '/').
//
// S3 itself accepts more; hydrant refuses keys that cannot map one-to-one to
// a relative file path, so that every store, local or S3, holds the same
// keys, and no key can leave its bucket's directory.
func ValidKey(key string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: key %s %s", ErrInvalidKey, quoteShort(key), why)
	}
	switch {
	case key == "":
		return fmt.Errorf("%w: key is empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return bad(fmt.Sprintf("is %d bytes long; the limit is %d", len(key), MaxKeyLen))
	case !utf8.ValidString(key):
		return bad("is not valid UTF-8")
	case key[0] == '/':
		return bad("starts with '/'")
	}
	for i, r := range key {
		switch {
		case r < 0x20 || r == 0x7f || 0x80 <= r && r <= 0x9f:
			return bad(fmt.Sprintf("contains control character U+%04X at byte %d", r, i))
		case r == '\\':
			return bad(fmt.Sprintf("contains a backslash at byte %d", i))
		}
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return bad(`has an empty path segment ("//" or a trailing '/')`)
		case ".", "..":
			return bad(fmt.Sprintf("has a %q path segment", seg))
		}
	}
	return nil
}

// quoteShort quotes s for an error message, eliding the middle of long ones.
func quoteShort(s string) string {
	const max = 80
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q…%q", s[:max/2], s[len(s)-max/2:])
}
