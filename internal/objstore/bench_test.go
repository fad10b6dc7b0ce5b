package objstore_test

import (
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// BenchmarkPut64MiB stores a 64 MiB object with Local.Put (delivery's
// write: temporary file, an opaque ETag, xattrs, fsync, rename, directory
// fsync) and Local.PutObject (the S3 API's: the same with the MD5 of the
// bytes for the ETag), next to the same steps without the xattrs
// ("file"), in the same run: what keeping an S3 ETag costs.
func BenchmarkPut64MiB(b *testing.B) {
	data := make([]byte, 64<<20)
	_, _ = rand.Read(data)
	dir := b.TempDir()
	l, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.Run("file", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			tmp := filepath.Join(dir, "tmp")
			f, err := os.Create(tmp)
			if err != nil {
				b.Fatal(err)
			}
			for off := 0; off < len(data); off += 64 << 10 {
				if _, err := f.Write(data[off : off+64<<10]); err != nil {
					b.Fatal(err)
				}
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			f.Close()
			if err := os.Rename(tmp, filepath.Join(dir, "obj")); err != nil {
				b.Fatal(err)
			}
			d, _ := os.Open(dir)
			_ = d.Sync()
			d.Close()
		}
	})
	b.Run("local", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			err := l.Put(b.Context(), "bench", "obj", objstore.Meta{ContentType: "application/octet-stream"}, func(w io.Writer) error {
				_, err := w.Write(data)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("putobject", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			_, err := l.PutObject(b.Context(), "bench", "obj", objstore.PutOptions{}, func(w io.Writer) error {
				_, err := w.Write(data)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
