package objstore

import (
	"context"
	"errors"
	"fmt"
	"github.com/hydrant-io/hydrant/internal/atomicfile"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
)

// fsyncDir syncs the directory name (relative to the root).
func (l *Local) fsyncDir(name string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be synced there; renames are durable
	}
	d, err := l.root.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncPath syncs the directory at an absolute path.
func syncPath(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	return atomicfile.SyncDir(dir)
}

// objectName validates bucket and key and returns the object's path
// relative to the root, "bucket/key".
func objectName(bucket, key string) (string, error) {
	if err := ValidBucketName(bucket); err != nil {
		return "", err
	}
	if err := ValidKey(key); err != nil {
		return "", err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if len(seg) > maxSegment {
			return "", fmt.Errorf("%w: key %s has a %d-byte path segment; the local store allows %d",
				ErrInvalidKey, quoteShort(key), len(seg), maxSegment)
		}
	}
	name := bucket + "/" + key
	// Defence in depth: validation already rules this out, and os.Root
	// would refuse to leave the root anyway.
	if clean := path.Clean(name); clean != name || !strings.HasPrefix(clean, bucket+"/") || !filepath.IsLocal(filepath.FromSlash(clean)) {
		return "", fmt.Errorf("%w: key %s resolves outside bucket %q", ErrInvalidKey, quoteShort(key), bucket)
	}
	return name, nil
}

// keyOf strips the bucket from "bucket/key".
func keyOf(name string) string {
	_, key, _ := strings.Cut(name, "/")
	return key
}

// isMissing reports whether err means a path does not exist, including a
// path whose parent is a file.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// ctxWriter fails writes once ctx is done, so a cancelled Put stops
// streaming instead of writing the rest of a large object.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
