package objstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

// List returns the objects of bucket whose keys start with prefix, sorted
// by key as S3 sorts them (byte order of the UTF-8 key). It reads only the
// directories that can hold matching keys. Only regular files whose paths
// are valid keys are objects; directories, symbolic links and other files
// placed in a bucket by hand are skipped.
func (l *Local) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	if err := ValidBucketName(bucket); err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("list %s: %w", bucket, err)
	}
	if ok, err := l.bucketExists(bucket); err != nil {
		return nil, fmt.Errorf("list %s: %w", bucket, err)
	} else if !ok {
		return nil, fmt.Errorf("list %s: %w", bucket, ErrNoSuchBucket)
	}

	// Start at the deepest directory the prefix names in full: prefix
	// "2024/05/1" starts at <bucket>/2024/05. If that part of the prefix is
	// not itself a valid key, no valid key can start with it.
	start := bucket
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		if ValidKey(prefix[:i]) != nil {
			return nil, nil
		}
		start = bucket + "/" + prefix[:i]
	}

	var out []ObjectInfo
	err := fs.WalkDir(l.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// The start directory does not exist (no key has the prefix),
			// or an entry vanished under a concurrent Delete.
			if isMissing(err) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == bucket {
			return nil
		}
		key := p[len(bucket)+1:]
		if ValidKey(key) != nil {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			// Descend only where keys with the prefix can be.
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, ObjectInfo{Key: key, Size: fi.Size(), LastModified: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", bucket, err)
	}
	// WalkDir visits each directory in name order, which is not key
	// order: it yields "a/b" before "a-c", while '-' < '/'.
	slices.SortFunc(out, func(a, b ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}
