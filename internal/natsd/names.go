package natsd

import (
	"fmt"
	"strings"
)

// Token maps any name (a stream's, a node's, a log's) onto the characters
// that JetStream stream names, subject tokens and key-value keys all allow:
// letters, digits and '-' stay, every other byte becomes _XX (hex). It is
// one-to-one, so FromToken reverses it.
func Token(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "_%02X", c)
	}
	return b.String()
}

// FromToken reverses Token.
func FromToken(tok string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(tok); i++ {
		if tok[i] != '_' {
			b.WriteByte(tok[i])
			continue
		}
		var c byte
		if i+2 >= len(tok) {
			return "", fmt.Errorf("natsd: bad token %q", tok)
		}
		if _, err := fmt.Sscanf(tok[i+1:i+3], "%02X", &c); err != nil {
			return "", fmt.Errorf("natsd: bad token %q", tok)
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}
