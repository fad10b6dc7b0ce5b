package process

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// FuzzBase64 checks the event encoder against encoding/base64.
func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "a", "ab", "abc", "abcdef", "abcdefgh", "\x00\xff\x10\x83 event data of a few more bytes"} {
		f.Add([]byte("prefix"), []byte(s))
	}
	f.Fuzz(func(t *testing.T, dst, src []byte) {
		want := base64.StdEncoding.AppendEncode(bytes.Clone(dst), src)
		if got := appendBase64(bytes.Clone(dst), src); !bytes.Equal(got, want) {
			t.Fatalf("appendBase64(%q, %q) = %q, want %q", dst, src, got, want)
		}
	})
}

func BenchmarkBase64(b *testing.B) {
	src := bytes.Repeat([]byte("0123456789abcdef"), 20)
	var dst []byte
	b.SetBytes(int64(len(src)))
	b.Run("stdlib", func(b *testing.B) {
		for b.Loop() {
			dst = base64.StdEncoding.AppendEncode(dst[:0], src)
		}
	})
	b.Run("pairs", func(b *testing.B) {
		for b.Loop() {
			dst = appendBase64(dst[:0], src)
		}
	})
}
