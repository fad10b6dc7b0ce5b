// Package compress implements Firehose's CompressionFormat values for
// delivered objects: the byte formats (GZIP, ZIP, snappy-java framing,
// Hadoop block framing), their default file extensions and the
// Content-Encoding Firehose sets on the object (reference §5.6).
//
// Writers are deterministic: the same input bytes and Options give the same
// output bytes however the input is split into Write calls. Delivery relies
// on this to redo a batch after a crash and overwrite an object with an
// identical one.
package compress

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
)

// CompressionFormat values, spelled (case-sensitively) as in the Firehose API.
const (
	Uncompressed = "UNCOMPRESSED"
	GZIP         = "GZIP"
	ZIP          = "ZIP"
	Snappy       = "Snappy"
	HadoopSnappy = "HADOOP_SNAPPY"
)

// ErrUnknownFormat is wrapped by NewWriter and NewReader for a format that is
// not one of the five CompressionFormat values.
var ErrUnknownFormat = errors.New("unknown compression format")

// Options fixes everything besides the input that would otherwise make two
// writes of the same batch differ.
type Options struct {
	// EntryName is the name of the single ZIP entry (Firehose uses a UUID;
	// delivery passes the object's). Required for ZIP, ignored otherwise.
	EntryName string
	// ModTime is the modification time stored in GZIP headers and ZIP
	// entries. Zero stores no time in GZIP (MTIME 0) and the DOS epoch,
	// 1980-01-01 00:00:00 UTC, in ZIP.
	ModTime time.Time
}

// Known reports whether format is one of the five CompressionFormat values.
func Known(format string) bool {
	switch format {
	case Uncompressed, GZIP, ZIP, Snappy, HadoopSnappy:
		return true
	}
	return false
}

// Extension returns the file extension Firehose gives objects of a format,
// with its dot: ".gz", ".zip", ".snappy" (for both Snappy and HADOOP_SNAPPY:
// the documentation says ".hsnappy" for HADOOP_SNAPPY but real AWS was seen
// writing ".snappy"), or "" for UNCOMPRESSED and unknown formats. A
// configured FileExtension replaces it; that is the caller's business.
func Extension(format string) string {
	switch format {
	case GZIP:
		return ".gz"
	case ZIP:
		return ".zip"
	case Snappy, HadoopSnappy:
		return ".snappy"
	}
	return ""
}

// ContentEncoding returns the Content-Encoding Firehose sets on objects of a
// format: "gzip", "zip", "snappy-java", "hadoop-snappy", or "" for
// UNCOMPRESSED and unknown formats.
func ContentEncoding(format string) string {
	switch format {
	case GZIP:
		return "gzip"
	case ZIP:
		return "zip"
	case Snappy:
		return "snappy-java"
	case HadoopSnappy:
		return "hadoop-snappy"
	}
	return ""
}

// NewWriter returns a writer that compresses what is written to it into w in
// the given format. Close must be called to write the last block and any
// trailer; it does not close w. The output is a function of the bytes
// written and o only (see the package comment).
func NewWriter(format string, w io.Writer, o Options) (io.WriteCloser, error) {
	switch format {
	case Uncompressed:
		return nopCloser{w}, nil
	case GZIP:
		zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
		if err != nil {
			return nil, fmt.Errorf("gzip writer: %w", err)
		}
		if !o.ModTime.IsZero() {
			zw.ModTime = o.ModTime
		}
		return zw, nil
	case ZIP:
		return newZipWriter(w, o)
	case Snappy:
		return newXerialWriter(w), nil
	case HadoopSnappy:
		return newHadoopWriter(w), nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownFormat, format)
}

// NewReader returns a reader of the uncompressed content of r, which holds
// one object in the given format. ZIP needs random access, so for ZIP the
// whole of r is read into memory first; the content of all entries is
// returned in order. Close releases the decoder; it does not close r.
func NewReader(format string, r io.Reader) (io.ReadCloser, error) {
	switch format {
	case Uncompressed:
		return io.NopCloser(r), nil
	case GZIP:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("gzip reader: %w", err)
		}
		return zr, nil
	case ZIP:
		return newZipReader(r)
	case Snappy:
		return newXerialReader(r)
	case HadoopSnappy:
		return newHadoopReader(r), nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownFormat, format)
}

// nopCloser passes writes through; UNCOMPRESSED has nothing to finish.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// zipWriter is one ZIP archive holding one deflated entry.
type zipWriter struct {
	zw    *zip.Writer
	entry io.Writer
}

func newZipWriter(w io.Writer, o Options) (*zipWriter, error) {
	if o.EntryName == "" {
		return nil, errors.New("zip writer: Options.EntryName is required")
	}
	mod := o.ModTime
	if mod.IsZero() {
		mod = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC) // earliest DOS date
	}
	zw := zip.NewWriter(w)
	// klauspost's deflate, registered on this writer only (never globally).
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.DefaultCompression)
	})
	entry, err := zw.CreateHeader(&zip.FileHeader{
		Name:     o.EntryName,
		Method:   zip.Deflate,
		Modified: mod.UTC(),
	})
	if err != nil {
		return nil, fmt.Errorf("zip entry %q: %w", o.EntryName, err)
	}
	return &zipWriter{zw: zw, entry: entry}, nil
}

func (z *zipWriter) Write(p []byte) (int, error) { return z.entry.Write(p) }

// Close finishes the entry and writes the central directory.
func (z *zipWriter) Close() error {
	if err := z.zw.Close(); err != nil {
		return fmt.Errorf("zip close: %w", err)
	}
	return nil
}

// zipReader reads the entries of an archive one after another.
type zipReader struct {
	files []*zip.File
	cur   io.ReadCloser
}

func newZipReader(r io.Reader) (*zipReader, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("zip read: %w", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("zip open: %w", err)
	}
	zr.RegisterDecompressor(zip.Deflate, func(in io.Reader) io.ReadCloser { return flate.NewReader(in) })
	var files []*zip.File
	for _, f := range zr.File {
		if !f.FileInfo().IsDir() {
			files = append(files, f)
		}
	}
	return &zipReader{files: files}, nil
}

func (z *zipReader) Read(p []byte) (int, error) {
	for {
		if z.cur == nil {
			if len(z.files) == 0 {
				return 0, io.EOF
			}
			f := z.files[0]
			z.files = z.files[1:]
			rc, err := f.Open()
			if err != nil {
				return 0, fmt.Errorf("zip entry %q: %w", f.Name, err)
			}
			z.cur = rc
		}
		n, err := z.cur.Read(p)
		if err == io.EOF {
			// archive/zip checks the CRC before returning EOF.
			z.cur.Close()
			z.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (z *zipReader) Close() error {
	if z.cur != nil {
		return z.cur.Close()
	}
	return nil
}
