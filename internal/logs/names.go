package logs

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// dirName turns a log group or stream name into a directory name that can
// never leave its parent, whatever the name holds ('/', '.', '..', '[',
// '$', '#', 512 characters): a readable part (the name's letters, digits,
// '-' and '_', every other byte as '_', at most 48 of them) and 16 hex
// digits of the name's SHA-256, which also keeps apart names that differ
// only in case on a case-insensitive file system. prefix ("g-", "s-")
// keeps every name clear of '.' and '..'. The exact name is kept in the
// directory's JSON file.
func dirName(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	n := 0
	for i := 0; i < len(name) && n < 48; i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
		}
		n++
	}
	sum := sha256.Sum256([]byte(name))
	b.WriteByte('-')
	b.WriteString(hex.EncodeToString(sum[:8]))
	return b.String()
}
