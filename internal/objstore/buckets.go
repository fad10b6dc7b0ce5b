package objstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"time"
)

// Buckets. A bucket is the directory <bucket> under the root: made by
// CreateBucket, or by the first Put to it (delivery needs no creation
// step). What the S3 API configures on it (versioning, encryption, tags)
// is kept in .s3/buckets/<bucket>.json, written atomically; a bucket
// without that file is unversioned and unconfigured, and its creation time
// is its directory's.

const bucketConfigDir = ".s3/buckets"

// BucketConfig is a local bucket's configuration.
type BucketConfig struct {
	Created    time.Time        `json:"created"`
	Versioning VersioningStatus `json:"versioning,omitempty"`
	// Settings are the S3 API's other configurations of the bucket, by
	// name (encryption, tagging), kept as the API gives them.
	Settings map[string]string `json:"settings,omitempty"`
}

// BucketInfo names a bucket and when it was created.
type BucketInfo struct {
	Name    string
	Created time.Time
}

// configName is the file of a bucket's configuration.
func configName(bucket string) string { return bucketConfigDir + "/" + bucket + ".json" }

// versioning returns a bucket's versioning state (cached: Put asks on
// every object).
func (l *Local) versioning(bucket string) (VersioningStatus, error) {
	c, err := l.bucketConfig(bucket)
	return c.Versioning, err
}

// bucketConfig reads a bucket's configuration, from the cache when it has
// been read before. A bucket without one has the zero configuration.
func (l *Local) bucketConfig(bucket string) (BucketConfig, error) {
	l.configMu.RLock()
	c, ok := l.configs[bucket]
	l.configMu.RUnlock()
	if ok {
		return c, nil
	}
	b, err := l.root.ReadFile(configName(bucket))
	switch {
	case isMissing(err):
		c = BucketConfig{}
	case err != nil:
		return BucketConfig{}, fmt.Errorf("read configuration of bucket %s: %w", bucket, err)
	default:
		if err := json.Unmarshal(b, &c); err != nil {
			return BucketConfig{}, fmt.Errorf("read configuration of bucket %s: %w", bucket, err)
		}
	}
	l.configMu.Lock()
	l.configs[bucket] = c
	l.configMu.Unlock()
	return c, nil
}

// BucketConfig returns a bucket's configuration; a missing bucket gives
// ErrNoSuchBucket.
func (l *Local) BucketConfig(ctx context.Context, bucket string) (BucketConfig, error) {
	if err := l.requireBucket(ctx, bucket); err != nil {
		return BucketConfig{}, err
	}
	c, err := l.bucketConfig(bucket)
	if err != nil {
		return BucketConfig{}, err
	}
	if c.Created.IsZero() {
		if fi, err := l.root.Stat(bucket); err == nil {
			c.Created = fi.ModTime()
		}
	}
	return c, nil
}

// UpdateBucketConfig changes a bucket's configuration with update and
// writes it atomically. Updates of one store are serialized.
func (l *Local) UpdateBucketConfig(ctx context.Context, bucket string, update func(*BucketConfig) error) error {
	if err := l.requireBucket(ctx, bucket); err != nil {
		return err
	}
	l.configWrite.Lock()
	defer l.configWrite.Unlock()
	c, err := l.BucketConfig(ctx, bucket)
	if err != nil {
		return err
	}
	c.Settings = clone(c.Settings)
	if err := update(&c); err != nil {
		return err
	}
	return l.writeBucketConfig(bucket, c)
}

func clone(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// writeBucketConfig writes a bucket's configuration file atomically and
// updates the cache.
func (l *Local) writeBucketConfig(bucket string, c BucketConfig) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := l.writeSmall(configName(bucket), b); err != nil {
		return fmt.Errorf("write configuration of bucket %s: %w", bucket, err)
	}
	l.configMu.Lock()
	l.configs[bucket] = c
	l.configMu.Unlock()
	return nil
}

// writeSmall replaces the file name (relative to the root) with data,
// atomically and durably.
func (l *Local) writeSmall(name string, data []byte) error {
	if err := l.makeDirs(path.Dir(name)); err != nil {
		return err
	}
	tmp := path.Join(tmpDir, rand.Text())
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = l.syncFile(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = l.root.Rename(tmp, name)
	}
	if err != nil {
		l.root.Remove(tmp)
		return err
	}
	return l.syncDir(path.Dir(name))
}

// requireBucket fails with ErrNoSuchBucket unless bucket exists.
func (l *Local) requireBucket(ctx context.Context, bucket string) error {
	if err := ValidBucketName(bucket); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ok, err := l.bucketExists(bucket)
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucket, err)
	}
	if !ok {
		return fmt.Errorf("bucket %s: %w", bucket, ErrNoSuchBucket)
	}
	return nil
}

// BucketExists reports whether a bucket exists; invalid names do not.
func (l *Local) BucketExists(ctx context.Context, bucket string) (bool, error) {
	err := l.requireBucket(ctx, bucket)
	if errors.Is(err, ErrNoSuchBucket) || errors.Is(err, ErrInvalidKey) {
		return false, nil
	}
	return err == nil, err
}

// CreateBucket makes an empty bucket; an existing one gives
// ErrBucketExists.
func (l *Local) CreateBucket(ctx context.Context, bucket string) error {
	if err := ValidBucketName(bucket); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l.bucketMu.Lock()
	defer l.bucketMu.Unlock()
	l.dirMu.Lock()
	err := l.root.Mkdir(bucket, 0o755)
	l.dirMu.Unlock()
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create bucket %s: %w", bucket, ErrBucketExists)
	}
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	l.dirChanged(".")
	if err := l.syncDir("."); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	// A configuration left by a bucket of the same name that was deleted
	// by hand does not carry over.
	return l.writeBucketConfig(bucket, BucketConfig{Created: time.Now().UTC()})
}

// DeleteBucket removes an empty bucket, its configuration and its
// unfinished multipart uploads. A bucket that holds objects, noncurrent
// versions or delete markers gives ErrBucketNotEmpty.
func (l *Local) DeleteBucket(ctx context.Context, bucket string) error {
	l.bucketMu.Lock()
	defer l.bucketMu.Unlock()
	if err := l.requireBucket(ctx, bucket); err != nil {
		return err
	}
	for _, dir := range []string{bucket, versionsDir + "/" + bucket} {
		if has, err := l.hasFiles(dir); err != nil {
			return fmt.Errorf("delete bucket %s: %w", bucket, err)
		} else if has {
			return fmt.Errorf("delete bucket %s: %w", bucket, ErrBucketNotEmpty)
		}
	}
	for _, dir := range []string{uploadsDir + "/" + bucket, versionsDir + "/" + bucket, bucket} {
		if err := l.root.RemoveAll(dir); err != nil {
			return fmt.Errorf("delete bucket %s: %w", bucket, err)
		}
	}
	if err := l.root.Remove(configName(bucket)); err != nil && !isMissing(err) {
		return fmt.Errorf("delete bucket %s: %w", bucket, err)
	}
	l.configMu.Lock()
	delete(l.configs, bucket)
	l.configMu.Unlock()
	l.dirChanged(".")
	return l.syncDir(".")
}

// hasFiles reports whether the tree at dir holds any file that is not a
// directory.
func (l *Local) hasFiles(dir string) (bool, error) {
	found := errors.New("found")
	err := fs.WalkDir(l.root.FS(), dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if isMissing(err) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return found
		}
		return nil
	})
	if errors.Is(err, found) {
		return true, nil
	}
	return false, err
}

// Buckets lists the buckets, by name.
func (l *Local) Buckets(ctx context.Context) ([]BucketInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	es, err := fs.ReadDir(l.root.FS(), ".")
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	var out []BucketInfo
	for _, e := range es {
		if !e.IsDir() || ValidBucketName(e.Name()) != nil {
			continue
		}
		c, err := l.BucketConfig(ctx, e.Name())
		if errors.Is(err, ErrNoSuchBucket) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, BucketInfo{Name: e.Name(), Created: c.Created})
	}
	slices.SortFunc(out, func(a, b BucketInfo) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out, nil
}
