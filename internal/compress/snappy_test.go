package compress

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/snappy/xerial"
)

// Golden byte layouts, written out from xerial snappy-java
// (SnappyCodec.MAGIC_HEADER = {-126,'S','N','A','P','P','Y',0},
// DEFAULT_VERSION = MINIMUM_COMPATIBLE_VERSION = 1, SnappyOutputStream
// writeInt(compressedSize) before each block) and Hadoop's
// BlockCompressorStream (rawWriteInt(uncompressed), rawWriteInt(compressed)
// before each chunk; finish() of an empty stream writes rawWriteInt(0)).
// The raw Snappy block of "hello" is varint 5, literal tag (5-1)<<2, bytes.
func TestSnappyGolden(t *testing.T) {
	const helloBlock = "05" + "10" + "68656c6c6f"
	const header = "82534e4150505900" + "00000001" + "00000001"
	tests := []struct {
		format string
		in     string
		want   string
	}{
		{Snappy, "hello", header + "00000007" + helloBlock},
		{Snappy, "", header},
		{HadoopSnappy, "hello", "00000005" + "00000007" + helloBlock},
		{HadoopSnappy, "", "00000000"},
	}
	for _, tc := range tests {
		t.Run(tc.format+"/"+tc.in, func(t *testing.T) {
			got := hex.EncodeToString(compress(t, tc.format, []byte(tc.in), 0))
			if got != tc.want {
				t.Fatalf("bytes = %s\n          want %s", got, tc.want)
			}
		})
	}
}

// frame is one parsed block of either framing.
type frame struct{ uncompressed, compressed int }

// parseFrames walks a stream by the documented layout, independently of the
// package's reader.
func parseFrames(t *testing.T, data []byte, hadoop bool) []frame {
	t.Helper()
	if !hadoop {
		if !bytes.HasPrefix(data, []byte(xerialHeader)) {
			t.Fatalf("no header: % x", data[:min(16, len(data))])
		}
		data = data[16:]
	}
	var out []frame
	for len(data) > 0 {
		var f frame
		if hadoop {
			f.uncompressed = int(binary.BigEndian.Uint32(data))
			data = data[4:]
		}
		f.compressed = int(binary.BigEndian.Uint32(data))
		data = data[4:]
		n, err := snappy.DecodedLen(data[:f.compressed])
		if err != nil {
			t.Fatal(err)
		}
		if hadoop && n != f.uncompressed {
			t.Fatalf("block says %d bytes, chunk decodes to %d", f.uncompressed, n)
		}
		f.uncompressed = n
		data = data[f.compressed:]
		out = append(out, f)
	}
	return out
}

func TestSnappyBlockSizes(t *testing.T) {
	tests := []struct {
		format string
		size   int
		blocks []int
	}{
		{Snappy, 100 << 10, []int{32768, 32768, 32768, 4096}},
		{Snappy, 32768, []int{32768}},
		{HadoopSnappy, 500000, []int{218422, 218422, 63156}},
	}
	for _, tc := range tests {
		t.Run(tc.format, func(t *testing.T) {
			out := compress(t, tc.format, records(tc.size, 9), 777)
			frames := parseFrames(t, out, tc.format == HadoopSnappy)
			if len(frames) != len(tc.blocks) {
				t.Fatalf("%d blocks, want %d", len(frames), len(tc.blocks))
			}
			for i, f := range frames {
				if f.uncompressed != tc.blocks[i] {
					t.Errorf("block %d holds %d bytes, want %d", i, f.uncompressed, tc.blocks[i])
				}
				// Hadoop's default decompressor buffer is 256 KiB.
				if f.compressed > 256<<10 {
					t.Errorf("block %d compresses to %d bytes, over Hadoop's buffer", i, f.compressed)
				}
			}
		})
	}
}

// klauspost's xerial package is an independent implementation of the
// snappy-java framing (used by Kafka clients); it must read ours and we
// must read its.
func TestXerialInterop(t *testing.T) {
	in := records(1<<20+5, 10)
	got, err := xerial.Decode(compress(t, Snappy, in, 0))
	if err != nil || !bytes.Equal(got, in) {
		t.Fatalf("xerial.Decode of ours: %d bytes, %v", len(got), err)
	}
	if got := decompress(t, Snappy, xerial.Encode(nil, in)); !bytes.Equal(got, in) {
		t.Fatal("our reader of xerial.Encode output differs")
	}
}

// hadoopStream builds a stream by hand: blocks of chunks.
func hadoopStream(blocks ...[]string) []byte {
	var b []byte
	for _, chunks := range blocks {
		total := 0
		for _, c := range chunks {
			total += len(c)
		}
		b = binary.BigEndian.AppendUint32(b, uint32(total))
		for _, c := range chunks {
			enc := snappy.Encode(nil, []byte(c))
			b = binary.BigEndian.AppendUint32(b, uint32(len(enc)))
			b = append(b, enc...)
		}
	}
	return b
}

func TestHadoopReaderShapes(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty file", nil, ""},
		{"empty stream marker", hadoopStream(nil), ""},
		{"several chunks in one block", hadoopStream([]string{"hello, ", "world"}), "hello, world"},
		{"zero block after data (Hadoop after an exact write)", hadoopStream([]string{"abc"}, nil), "abc"},
		{"blocks then zero then blocks", hadoopStream([]string{"a"}, nil, []string{"b", "c"}), "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := decompress(t, HadoopSnappy, tc.data); string(got) != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestXerialConcatenated(t *testing.T) {
	a := compress(t, Snappy, []byte("first "), 0)
	b := compress(t, Snappy, []byte("second"), 0)
	if got := decompress(t, Snappy, append(a, b...)); string(got) != "first second" {
		t.Fatalf("got %q", got)
	}
}

func TestSnappyCorrupt(t *testing.T) {
	good := compress(t, Snappy, records(70000, 11), 0)
	goodH := compress(t, HadoopSnappy, records(70000, 11), 0)
	tests := []struct {
		name   string
		format string
		data   []byte
		want   error
	}{
		{"snappy empty file", Snappy, nil, io.ErrUnexpectedEOF},
		{"snappy bad magic", Snappy, append([]byte("\x82SNAPPX\x00"), good[8:]...), ErrCorrupt},
		{"snappy version 0", Snappy, append([]byte("\x82SNAPPY\x00\x00\x00\x00\x00"), good[12:]...), ErrCorrupt},
		{"snappy truncated chunk", Snappy, good[:len(good)-3], io.ErrUnexpectedEOF},
		{"snappy truncated length", Snappy, good[:18], io.ErrUnexpectedEOF},
		{"snappy huge chunk", Snappy, []byte(xerialHeader + "\x7f\xff\xff\xff"), ErrCorrupt},
		{"snappy garbage chunk", Snappy, []byte(xerialHeader + "\x00\x00\x00\x02\xff\xff"), ErrCorrupt},
		{"hadoop truncated", HadoopSnappy, goodH[:len(goodH)-1], io.ErrUnexpectedEOF},
		{"hadoop missing chunk", HadoopSnappy, []byte{0, 0, 0, 5}, io.ErrUnexpectedEOF},
		{"hadoop huge block", HadoopSnappy, []byte{0xff, 0, 0, 0}, ErrCorrupt},
		{"hadoop zero chunk", HadoopSnappy, []byte{0, 0, 0, 5, 0, 0, 0, 0}, ErrCorrupt},
	}
	overrun := binary.BigEndian.AppendUint32(nil, 3)
	enc := snappy.Encode(nil, []byte("hello"))
	overrun = append(binary.BigEndian.AppendUint32(overrun, uint32(len(enc))), enc...)
	tests = append(tests, struct {
		name   string
		format string
		data   []byte
		want   error
	}{"hadoop chunk decodes past block", HadoopSnappy, overrun, ErrCorrupt})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReader(tc.format, bytes.NewReader(tc.data))
			if err == nil {
				_, err = io.ReadAll(r)
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestSnappyWriteErrorSticks(t *testing.T) {
	for _, format := range []string{Snappy, HadoopSnappy} {
		w, _ := NewWriter(format, errWriter{}, Options{})
		_, err := w.Write(bytes.Repeat([]byte("x"), 300000))
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Fatalf("%s: Write err = %v", format, err)
		}
		if _, err2 := w.Write([]byte("y")); err2 == nil {
			t.Fatalf("%s: write after failure succeeded", format)
		}
		if err3 := w.Close(); err3 == nil {
			t.Fatalf("%s: Close after failure succeeded", format)
		}
	}
}
