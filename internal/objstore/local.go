package objstore

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
)

// Local is the embedded default Store: the object key in bucket lives in
// the file <root>/<bucket>/<key>, so delivered data can be read with any
// tool. It is safe for concurrent use.
//
// Buckets need no creation step: the first Put to a bucket creates its
// directory (as a Firehose BucketARN naming a fresh bucket just works).
// Until then List reports ErrNoSuchBucket and Get ErrNotFound. Delete never
// removes a bucket directory, so a bucket exists from its first Put on.
//
// Put is atomic and durable in the way of Litestream's file replica client:
// the bytes go to a temporary file under <root>/.tmp (bucket names cannot
// start with '.', and it is on the same file system so rename is atomic),
// which is synced, closed, and renamed over the object; then the object's
// directory is synced, as is the parent of every directory Put created.
// Leftover temporary files of an interrupted Put are removed by NewLocal,
// so only one Local (one process) may use a root at a time.
//
// Meta is kept in the user.hydrant.* extended attributes of the object file
// (Linux only), written before the rename so it is atomic with the bytes.
// Where the file system has no user xattrs, Put logs a warning once and
// drops Meta, and Stat returns an empty Meta.
//
// Names: buckets must pass ValidBucketName and keys ValidKey, and no key
// path segment may be longer than 255 bytes (the file system's limit).
// Every file operation goes through an os.Root, so even a symbolic link
// planted inside a bucket cannot lead outside the root. Because keys are
// paths, "a" and "a/b" cannot both exist (ErrKeyConflict), and keys that
// differ only in case collide on case-insensitive file systems.
type Local struct {
	dir    string
	root   *os.Root
	logger *slog.Logger

	// dirMu keeps "a directory exists" meaning "its entry is durable":
	// Put creates directories holding it exclusively until their parents
	// are synced, and checks for an existing directory holding it shared.
	// Without it a Put could find a directory a concurrent Put has just
	// made, rename into it, and return before that directory is on disk.
	dirMu sync.RWMutex

	// syncDir makes a directory's entries durable and syncFile a file's
	// bytes; tests wrap them.
	syncDir  func(name string) error
	syncFile func(f *os.File) error

	warnMeta sync.Once

	// keys serializes read-then-change operations on one key; bucketMu
	// keeps objects from landing in a bucket while DeleteBucket empties
	// it (writers hold it shared).
	keys     keyLocks
	bucketMu sync.RWMutex
	// configs caches buckets' configurations; configWrite serializes
	// their updates.
	configMu    sync.RWMutex
	configs     map[string]BucketConfig
	configWrite sync.Mutex
	dirs        dirCache
	etags       etagCache
}

var _ Store = (*Local)(nil)

const (
	// tmpDir holds Put's temporary files, inside root but outside every
	// bucket.
	tmpDir = ".tmp"
	// maxSegment is the longest file name common file systems allow.
	maxSegment = 255
	// Extended attribute names for Meta.
	xattrContentType     = "user.hydrant.content-type"
	xattrContentEncoding = "user.hydrant.content-encoding"
)

// errXattrUnsupported marks a file system without user extended attributes.
var errXattrUnsupported = errors.New("extended attributes not supported")

// NewLocal opens (creating it if needed) a local store rooted at root,
// normally <data-dir>/buckets, and removes temporary files left by Puts
// that were interrupted. A nil logger discards logs.
func NewLocal(root string, logger *slog.Logger) (*Local, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("objstore: local root %q: %w", root, err)
	}
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o755); err != nil {
		return nil, fmt.Errorf("objstore: create local root: %w", err)
	}
	// Put syncs directories from the root down; a root made just now needs
	// its own entry made durable once.
	if errors.Is(statErr, fs.ErrNotExist) {
		if err := syncPath(filepath.Dir(dir)); err != nil {
			return nil, fmt.Errorf("objstore: sync parent of local root: %w", err)
		}
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("objstore: open local root: %w", err)
	}
	l := &Local{dir: dir, root: r, logger: logger, configs: map[string]BucketConfig{}}
	l.keys.init()
	l.syncDir = l.fsyncDir
	l.syncFile = (*os.File).Sync
	if err := l.syncDir("."); err != nil {
		r.Close()
		return nil, fmt.Errorf("objstore: sync local root: %w", err)
	}
	n, err := l.removeTemps()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("objstore: remove leftover temporary files: %w", err)
	}
	if n > 0 {
		logger.Info("objstore: removed temporary files of interrupted writes", "root", dir, "removed", n)
	}
	logger.Debug("objstore: local store open", "root", dir)
	return l, nil
}

// Dir returns the absolute path of the store's root directory.
func (l *Local) Dir() string { return l.dir }

// Close releases the root directory. Calls after Close fail.
func (l *Local) Close() error { return l.root.Close() }

// removeTemps empties the temporary directory and returns how many entries
// it removed.
func (l *Local) removeTemps() (int, error) {
	entries, err := fs.ReadDir(l.root.FS(), tmpDir)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		if err := l.root.RemoveAll(path.Join(tmpDir, e.Name())); err != nil {
			return 0, err
		}
	}
	return len(entries), nil
}

// Put stores an object atomically and durably; see Local and Store. It is
// PutObject with only Meta, and an opaque ETag (opaqueETag) in place of
// the MD5 of the bytes: Put is how delivery writes, and hashing every
// delivered byte cost a third of the server's CPU on the ingest path.
func (l *Local) Put(ctx context.Context, bucket, key string, meta Meta, write func(w io.Writer) error) error {
	_, err := l.PutObject(ctx, bucket, key, PutOptions{Meta: meta, ETag: opaqueETag()}, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 64<<10)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	return err
}

// opaqueETag is an ETag that is not the MD5 of the object's bytes: 128
// random bits in S3's multipart form ("<32 hex>-1"), which S3's clients
// know not to check against the bytes (S3's own ETags are not MD5s for
// multipart uploads and SSE-KMS objects either). Each write gets a new one,
// so conditional requests still see every change.
func opaqueETag() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:]) + "-1"
}

// setMeta records meta in f's extended attributes.
func (l *Local) setMeta(f *os.File, meta Meta) error {
	for _, a := range [...]struct{ name, value string }{
		{xattrContentType, meta.ContentType},
		{xattrContentEncoding, meta.ContentEncoding},
	} {
		if a.value == "" {
			continue
		}
		err := setXattr(f, a.name, []byte(a.value))
		if errors.Is(err, errXattrUnsupported) {
			l.warnNoXattr(err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("set %s: %w", a.name, err)
		}
	}
	return nil
}

// install renames the finished temporary file tmp to name and makes the new
// directory entry durable.
func (l *Local) install(tmp, name string) error {
	dir := path.Dir(name)
	for attempt := 1; ; attempt++ {
		err := l.makeDirs(dir)
		if err == nil {
			err = l.root.Rename(tmp, name)
		}
		if err == nil {
			break
		}
		// A concurrent Delete may prune a directory between its creation
		// and the rename; make it again.
		if errors.Is(err, fs.ErrNotExist) && attempt < 5 {
			continue
		}
		if fi, serr := l.root.Lstat(name); serr == nil && fi.IsDir() {
			return fmt.Errorf("%w: other keys start with %q", ErrKeyConflict, keyOf(name)+"/")
		}
		return err
	}
	l.dirChanged(dir)
	if err := l.syncDir(dir); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// makeDirs makes sure directory dir ("bucket/a/b") exists and that its
// entry, and each ancestor's, is durable.
func (l *Local) makeDirs(dir string) error {
	l.dirMu.RLock()
	fi, err := l.root.Stat(dir)
	l.dirMu.RUnlock()
	if err == nil && fi.IsDir() {
		return nil
	}

	l.dirMu.Lock()
	defer l.dirMu.Unlock()
	var created []string
	if err := l.mkdirs(dir, &created); err != nil {
		return err
	}
	// A new directory's entry lives in its parent: sync the parents,
	// deepest first (the root itself, ".", when the bucket is new).
	for i := len(created) - 1; i >= 0; i-- {
		p := path.Dir(created[i])
		l.dirChanged(p)
		if err := l.syncDir(p); err != nil {
			return fmt.Errorf("sync directory %s: %w", p, err)
		}
	}
	return nil
}

// mkdirs creates dir and its missing ancestors, appending the directories
// it created to created, outermost first. It works from dir upwards, as
// usually only the last levels are new.
func (l *Local) mkdirs(dir string, created *[]string) error {
	err := l.root.Mkdir(dir, 0o755)
	if errors.Is(err, fs.ErrNotExist) && path.Dir(dir) != "." {
		if err := l.mkdirs(path.Dir(dir), created); err != nil {
			return err
		}
		err = l.root.Mkdir(dir, 0o755)
	}
	switch {
	case err == nil:
		*created = append(*created, dir)
		return nil
	case errors.Is(err, fs.ErrExist):
		if fi, serr := l.root.Stat(dir); serr == nil && fi.IsDir() {
			return nil
		}
	case !errors.Is(err, syscall.ENOTDIR):
		return fmt.Errorf("make directory %s: %w", dir, err)
	}
	// dir or one of its ancestors is a file: name it.
	for d := dir; d != "."; d = path.Dir(d) {
		fi, err := l.root.Stat(d)
		if err != nil || fi.IsDir() {
			continue
		}
		if !strings.Contains(d, "/") {
			return fmt.Errorf("bucket path %s is not a directory", filepath.Join(l.dir, d))
		}
		return fmt.Errorf("%w: %q is an object, so no key can start with %q", ErrKeyConflict, keyOf(d), keyOf(d)+"/")
	}
	return fmt.Errorf("make directory %s: %w", dir, err)
}

// Get opens an object for reading; see Store. The ReadCloser is the
// object's *os.File, so it also implements io.ReaderAt and io.Seeker.
func (l *Local) Get(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	f, _, err := l.open(ctx, "get", bucket, key)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Stat describes an object and returns its Meta (empty where the file
// system keeps no extended attributes). A missing object gives ErrNotFound,
// as Get.
func (l *Local) Stat(ctx context.Context, bucket, key string) (ObjectInfo, Meta, error) {
	f, fi, err := l.open(ctx, "stat", bucket, key)
	if err != nil {
		return ObjectInfo{}, Meta{}, err
	}
	defer f.Close()
	var meta Meta
	if meta.ContentType, err = getXattr(f, xattrContentType); err == nil {
		meta.ContentEncoding, err = getXattr(f, xattrContentEncoding)
	}
	if err != nil && !errors.Is(err, errXattrUnsupported) {
		return ObjectInfo{}, Meta{}, fmt.Errorf("stat %s/%s: %w", bucket, key, err)
	}
	return ObjectInfo{Key: key, Size: fi.Size(), LastModified: fi.ModTime()}, meta, nil
}

// open opens the regular file holding an object.
func (l *Local) open(ctx context.Context, op, bucket, key string) (*os.File, fs.FileInfo, error) {
	name, err := objectName(bucket, key)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", op, name, err)
	}
	f, err := l.root.Open(name)
	if isMissing(err) {
		return nil, nil, l.notFound(op, bucket, key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: %w", op, name, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s %s: %w", op, name, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close() // a directory ("folder" of other keys) is not an object
		return nil, nil, l.notFound(op, bucket, key)
	}
	return f, fi, nil
}

// notFound builds the error for a missing object: ErrNotFound, and also
// ErrNoSuchBucket when the whole bucket is missing.
func (l *Local) notFound(op, bucket, key string) error {
	if ok, err := l.bucketExists(bucket); err != nil {
		return fmt.Errorf("%s %s/%s: %w", op, bucket, key, err)
	} else if !ok {
		return fmt.Errorf("%s %s/%s: %w: %w", op, bucket, key, ErrNoSuchBucket, ErrNotFound)
	}
	return fmt.Errorf("%s %s/%s: %w", op, bucket, key, ErrNotFound)
}

// bucketExists reports whether the bucket's directory exists.
func (l *Local) bucketExists(bucket string) (bool, error) {
	fi, err := l.root.Stat(bucket)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return fi.IsDir(), nil
}

// Delete removes an object; see Store. Deleting from a bucket that was
// never written gives ErrNoSuchBucket, as S3 does. Directories left empty
// are removed, so that after deleting "a/b" the key "a" can be stored. In
// a bucket with versioning enabled or suspended it deletes as S3 does (see
// DeleteObject).
func (l *Local) Delete(ctx context.Context, bucket, key string) error {
	_, err := l.DeleteObject(ctx, bucket, key, "")
	return err
}
