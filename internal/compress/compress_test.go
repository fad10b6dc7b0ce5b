package compress

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

var formats = []string{Uncompressed, GZIP, ZIP, Snappy, HadoopSnappy}

var testOpts = Options{
	EntryName: "fa9ee534-7fa0-4ac9-a4c3-44da5692e8f6",
	ModTime:   time.Date(2023, 12, 28, 17, 28, 4, 0, time.UTC),
}

// records returns about n bytes of JSON-ish records with some incompressible
// fields, the shape delivery compresses.
func records(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"ts":"2023-12-28T17:28:%02d.%03dZ","user":"u%05d","event":"click","payload":"%016x%016x"}`+"\n",
			i, i%60, r.IntN(1000), r.IntN(100000), r.Uint64(), r.Uint64())
	}
	return b.Bytes()[:n]
}

// compress writes data in chunks of the given size (0 = one write).
func compress(t testing.TB, format string, data []byte, chunk int) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(format, &out, testOpts)
	if err != nil {
		t.Fatalf("NewWriter(%s): %v", format, err)
	}
	if chunk <= 0 {
		chunk = len(data) + 1
	}
	for p := data; len(p) > 0; {
		n := min(chunk, len(p))
		if k, err := w.Write(p[:n]); err != nil || k != n {
			t.Fatalf("Write: %d, %v", k, err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%s): %v", format, err)
	}
	return out.Bytes()
}

func decompress(t testing.TB, format string, data []byte) []byte {
	t.Helper()
	r, err := NewReader(format, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("NewReader(%s): %v", format, err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", format, err)
	}
	return got
}

func TestRoundTrip(t *testing.T) {
	inputs := map[string][]byte{
		"empty":       {},
		"small":       []byte(`{"hello":"world"}`),
		"one block":   records(xerialBlockSize, 1),
		"multi-block": records(6<<20+12345, 2),
	}
	for _, format := range formats {
		for name, in := range inputs {
			t.Run(format+"/"+name, func(t *testing.T) {
				for _, chunk := range []int{0, 1000, 65536 + 7} {
					out := compress(t, format, in, chunk)
					if got := decompress(t, format, out); !bytes.Equal(got, in) {
						t.Fatalf("chunk %d: round trip gave %d bytes, want %d", chunk, len(got), len(in))
					}
				}
			})
		}
	}
}

// Delivery redoes a batch after a crash and must write the same object.
func TestDeterministic(t *testing.T) {
	in := records(3<<20+99, 3)
	for _, format := range formats {
		t.Run(format, func(t *testing.T) {
			a := compress(t, format, in, 0)
			b := compress(t, format, in, 0)
			c := compress(t, format, in, 4093) // different write boundaries
			if !bytes.Equal(a, b) || !bytes.Equal(a, c) {
				t.Fatalf("same input gave different bytes (%d, %d, %d)", len(a), len(b), len(c))
			}
		})
	}
}

func TestUnknownFormat(t *testing.T) {
	for _, f := range []string{"SNAPPY", "gzip", "", "LZ4"} {
		if _, err := NewWriter(f, io.Discard, testOpts); !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), fmt.Sprintf("%q", f)) {
			t.Errorf("NewWriter(%q): err = %v", f, err)
		}
		if _, err := NewReader(f, strings.NewReader("")); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("NewReader(%q): err = %v", f, err)
		}
		if Known(f) || Extension(f) != "" || ContentEncoding(f) != "" {
			t.Errorf("%q is treated as known", f)
		}
	}
}

func TestExtensionAndEncoding(t *testing.T) {
	tests := []struct{ format, ext, enc string }{
		{Uncompressed, "", ""},
		{GZIP, ".gz", "gzip"},
		{ZIP, ".zip", "zip"},
		{Snappy, ".snappy", "snappy-java"},
		{HadoopSnappy, ".snappy", "hadoop-snappy"},
	}
	for _, tc := range tests {
		if !Known(tc.format) || Extension(tc.format) != tc.ext || ContentEncoding(tc.format) != tc.enc {
			t.Errorf("%s: known %v, ext %q, enc %q; want %q, %q", tc.format, Known(tc.format),
				Extension(tc.format), ContentEncoding(tc.format), tc.ext, tc.enc)
		}
	}
}

func TestGzipHeader(t *testing.T) {
	out := compress(t, GZIP, []byte("x"), 0)
	zr, err := gzip.NewReader(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.Equal(testOpts.ModTime) || zr.Name != "" || zr.Comment != "" {
		t.Fatalf("header = %+v", zr.Header)
	}
	// Zero ModTime stores MTIME 0.
	var buf bytes.Buffer
	w, _ := NewWriter(GZIP, &buf, Options{})
	w.Close()
	if mtime := buf.Bytes()[4:8]; !bytes.Equal(mtime, []byte{0, 0, 0, 0}) {
		t.Fatalf("MTIME = %x, want 0", mtime)
	}
}

func TestZipEntry(t *testing.T) {
	in := records(100000, 4)
	out := compress(t, ZIP, in, 0)
	zr, err := zip.NewReader(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("%d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != testOpts.EntryName || f.Method != zip.Deflate || !f.Modified.Equal(testOpts.ModTime) {
		t.Fatalf("entry %q method %d modified %v", f.Name, f.Method, f.Modified)
	}
	if f.CompressedSize64 >= f.UncompressedSize64 {
		t.Fatalf("entry not compressed: %d >= %d", f.CompressedSize64, f.UncompressedSize64)
	}
	if _, err := NewWriter(ZIP, io.Discard, Options{}); err == nil {
		t.Fatal("ZIP without an entry name succeeded")
	}
}

// The tools people will use on delivered objects must read them.
func TestExternalTools(t *testing.T) {
	in := records(2<<20+3, 5)
	dir := t.TempDir()
	tests := []struct {
		format string
		tool   string
		args   func(path string) []string
	}{
		{GZIP, "gzip", func(p string) []string { return []string{"-dc", p} }},
		{ZIP, "unzip", func(p string) []string { return []string{"-p", p} }},
	}
	for _, tc := range tests {
		t.Run(tc.tool, func(t *testing.T) {
			bin, err := exec.LookPath(tc.tool)
			if err != nil {
				t.Skipf("%s not installed", tc.tool)
			}
			for name, data := range map[string][]byte{"empty": {}, "records": in} {
				path := filepath.Join(dir, tc.tool+"-"+name+Extension(tc.format))
				if err := os.WriteFile(path, compress(t, tc.format, data, 0), 0o644); err != nil {
					t.Fatal(err)
				}
				var stderr bytes.Buffer
				cmd := exec.Command(bin, tc.args(path)...)
				cmd.Stderr = &stderr
				got, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s %s: %v: %s", tc.tool, name, err, stderr.String())
				}
				if !bytes.Equal(got, data) {
					t.Fatalf("%s %s: got %d bytes, want %d", tc.tool, name, len(got), len(data))
				}
			}
		})
	}
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte(""), uint16(0))
	f.Add([]byte("hello hello hello hello"), uint16(3))
	f.Add(records(70000, 6), uint16(1000))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint16) {
		for _, format := range formats {
			out := compress(t, format, in, int(chunk))
			if got := decompress(t, format, out); !bytes.Equal(got, in) {
				t.Fatalf("%s: round trip changed the data", format)
			}
		}
	})
}

// Readers take objects from outside (and later from query): corrupt input
// must give an error, never a panic or a huge allocation.
func FuzzNewReader(f *testing.F) {
	for i, format := range formats {
		f.Add(uint8(i), compress(f, format, []byte("hello, hello, hello"), 0))
		f.Add(uint8(i), compress(f, format, records(40000, 7), 0))
	}
	f.Add(uint8(4), []byte{0, 0, 0, 5, 0, 0, 0, 7})
	f.Add(uint8(3), []byte(xerialHeader+"\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		r, err := NewReader(formats[int(which)%len(formats)], bytes.NewReader(data))
		if err != nil {
			return
		}
		defer r.Close()
		io.Copy(io.Discard, io.LimitReader(r, 256<<20))
	})
}

// BenchmarkGzipRecords measures GZIP writing of 300-byte JSON records, the
// common Firehose payload.
func BenchmarkGzipRecords(b *testing.B) {
	const recSize = 300
	data := records(recSize*10000, 8)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewWriter(GZIP, io.Discard, testOpts)
		if err != nil {
			b.Fatal(err)
		}
		for p := data; len(p) > 0; p = p[recSize:] {
			if _, err := w.Write(p[:recSize]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
