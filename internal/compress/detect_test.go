package compress

import (
	"bytes"
	"io"
	"testing"
)

// TestDetect compresses the same lines in every format and checks that
// Detect names the format from the head and key, and that NewReader of
// the detected format gives the lines back.
func TestDetect(t *testing.T) {
	data := []byte(`{"a":1}` + "\n" + `{"a":2}` + "\n")
	for _, format := range []string{Uncompressed, GZIP, ZIP, Snappy, HadoopSnappy} {
		var buf bytes.Buffer
		w, err := NewWriter(format, &buf, Options{EntryName: "e"})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(data)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		key := "s-1-2026-01-01-00-00-00-id" + Extension(format)
		head := buf.Bytes()[:min(16, buf.Len())]
		if got := Detect(head, key); got != format {
			t.Errorf("%s detected as %s", format, got)
			continue
		}
		r, err := NewReader(format, &buf)
		if err != nil {
			t.Fatal(err)
		}
		back, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(back, data) {
			t.Errorf("%s: read back %q, %v", format, back, err)
		}
	}
}
