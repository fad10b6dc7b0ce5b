package objstore

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"
)

// Versions. The current version of a key is always the file
// <bucket>/<key>, so delivery, tools and unversioned readers see the
// latest bytes. A bucket whose versioning is enabled or suspended keeps
// older versions and delete markers under
//
//	.s3/versions/<bucket>/<escaped key>%v/<version ID>
//
// where each key segment has '%' escaped as "%25", so that "%v" marks a
// versions directory and never a key's own directory. An overwrite first
// hard-links the current file there (its xattrs, version ID included, go
// with the inode), then renames the new file over the key: a crash between
// the two leaves the same version twice, which listings show once. Version
// IDs are 32 hex digits that sort by creation time.

// VersioningStatus is a bucket's versioning state, as S3 names it.
type VersioningStatus string

// The versioning states. A bucket whose versioning was never set is
// Unversioned; once enabled it can only be suspended.
const (
	VersioningUnversioned VersioningStatus = ""
	VersioningEnabled     VersioningStatus = "Enabled"
	VersioningSuspended   VersioningStatus = "Suspended"
)

// DeleteResult is what DeleteObject did.
type DeleteResult struct {
	// VersionID is the version removed, or the delete marker created.
	VersionID string
	// DeleteMarker reports that a delete marker was created, or that the
	// version removed was one.
	DeleteMarker bool
}

const (
	versionsDir  = ".s3/versions"
	versionsMark = "%v"
)

// newVersionID returns a version ID that sorts after every earlier one:
// the time in nanoseconds and 8 random bytes, in hex.
func newVersionID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixNano()))
	_, _ = rand.Read(b[8:])
	return hex.EncodeToString(b[:])
}

// ValidVersionID reports whether id can name a version in this store.
func ValidVersionID(id string) bool {
	if id == NullVersion {
		return true
	}
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// versionsPath is the directory of a key's noncurrent versions.
func versionsPath(bucket, key string) (string, error) {
	var b strings.Builder
	b.WriteString(versionsDir + "/" + bucket)
	for seg := range strings.SplitSeq(key, "/") {
		esc := strings.ReplaceAll(seg, "%", "%25")
		if len(esc)+len(versionsMark) > maxSegment {
			return "", fmt.Errorf("%w: key %s has a path segment too long to keep versions of (%d bytes escaped; at most %d)",
				ErrInvalidKey, quoteShort(key), len(esc), maxSegment-len(versionsMark))
		}
		b.WriteString("/" + esc)
	}
	b.WriteString(versionsMark)
	return b.String(), nil
}

// keyOfVersionsPath inverts versionsPath for a path relative to the
// bucket's versions directory.
func keyOfVersionsPath(rel string) string {
	return strings.ReplaceAll(strings.TrimSuffix(rel, versionsMark), "%25", "%")
}

// keyLocks serializes the operations on one key that read its current
// version and then change it (versioned puts and deletes, conditional
// puts), striped by a hash of the key.
type keyLocks struct {
	seed  maphash.Seed
	locks [256]chanMutex
}

// chanMutex is a mutex that is usable at its zero value through init.
type chanMutex struct{ ch chan struct{} }

func (l *Local) lockKey(bucket, key string) func() {
	h := maphash.String(l.keys.seed, bucket+"/"+key)
	m := &l.keys.locks[h%uint64(len(l.keys.locks))]
	m.ch <- struct{}{}
	return func() { <-m.ch }
}

// initKeyLocks prepares the striped locks.
func (k *keyLocks) init() {
	k.seed = maphash.MakeSeed()
	for i := range k.locks {
		k.locks[i].ch = make(chan struct{}, 1)
	}
}

// openVersion opens the current version of key (versionID "") or the
// version named.
func (l *Local) openVersion(ctx context.Context, op, bucket, key, versionID string) (*os.File, ObjectAttrs, error) {
	if versionID != "" && !ValidVersionID(versionID) {
		return nil, ObjectAttrs{}, fmt.Errorf("%s %s/%s version %q: %w", op, bucket, key, versionID, ErrNoSuchVersion)
	}
	f, fi, err := l.open(ctx, op, bucket, key)
	curExists := err == nil
	if err == nil {
		a, err := l.readAttrs(f, fi, key)
		if err != nil {
			f.Close()
			return nil, ObjectAttrs{}, fmt.Errorf("%s %s/%s: %w", op, bucket, key, err)
		}
		if versionID == "" || a.VersionID == versionID {
			a.IsLatest = true
			return f, a, nil
		}
		f.Close()
	} else if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrNoSuchBucket) {
		return nil, ObjectAttrs{}, err
	}
	vdir, verr := versionsPath(bucket, key)
	if verr != nil {
		return nil, ObjectAttrs{}, fmt.Errorf("%s: %w", op, verr)
	}
	if versionID == "" {
		// No current version: the key is missing, or its latest version
		// is a delete marker.
		latest, lerr := l.latestArchived(vdir, key)
		if lerr == nil && latest.DeleteMarker {
			return nil, latest, fmt.Errorf("%s %s/%s: %w: %w", op, bucket, key, ErrNotFound, ErrIsDeleteMarker)
		}
		return nil, ObjectAttrs{}, err
	}
	vf, err := l.root.Open(vdir + "/" + versionID)
	if isMissing(err) {
		return nil, ObjectAttrs{}, fmt.Errorf("%s %s/%s version %s: %w", op, bucket, key, versionID, ErrNoSuchVersion)
	}
	if err != nil {
		return nil, ObjectAttrs{}, fmt.Errorf("%s %s/%s version %s: %w", op, bucket, key, versionID, err)
	}
	vfi, err := vf.Stat()
	if err == nil && !vfi.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file")
	}
	var a ObjectAttrs
	if err == nil {
		a, err = l.readAttrs(vf, vfi, key)
	}
	if err != nil {
		vf.Close()
		return nil, ObjectAttrs{}, fmt.Errorf("%s %s/%s version %s: %w", op, bucket, key, versionID, err)
	}
	a.VersionID = versionID
	if !curExists {
		if latest, err := l.latestArchived(vdir, key); err == nil && latest.VersionID == versionID {
			a.IsLatest = true
		}
	}
	return vf, a, nil
}

// archived lists a key's noncurrent versions, newest first.
func (l *Local) archived(vdir, key string) ([]ObjectAttrs, error) {
	d, err := l.root.Open(vdir)
	if isMissing(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	var out []ObjectAttrs
	for _, n := range names {
		if !ValidVersionID(n) {
			continue
		}
		f, err := l.root.Open(vdir + "/" + n)
		if isMissing(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		var a ObjectAttrs
		if err == nil {
			a, err = l.readAttrs(f, fi, key)
		}
		f.Close()
		if err != nil {
			return nil, err
		}
		a.VersionID = n
		out = append(out, a)
	}
	sortNewestFirst(out)
	return out, nil
}

// sortNewestFirst orders one key's versions newest first: by time, then
// by version ID (which sorts by creation time too).
func sortNewestFirst(vs []ObjectAttrs) {
	slices.SortStableFunc(vs, func(a, b ObjectAttrs) int {
		if c := b.LastModified.Compare(a.LastModified); c != 0 {
			return c
		}
		return strings.Compare(b.VersionID, a.VersionID)
	})
}

// latestArchived returns a key's newest noncurrent version, or ErrNotFound.
func (l *Local) latestArchived(vdir, key string) (ObjectAttrs, error) {
	vs, err := l.archived(vdir, key)
	if err != nil {
		return ObjectAttrs{}, err
	}
	if len(vs) == 0 {
		return ObjectAttrs{}, ErrNotFound
	}
	return vs[0], nil
}

// currentVersion reads the version ID of the key's current file; ok is
// false when there is none.
func (l *Local) currentVersion(name string) (string, bool, error) {
	f, err := l.root.Open(name)
	if isMissing(err) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", false, err
	}
	if !fi.Mode().IsRegular() {
		return "", false, nil
	}
	v, err := getXattr(f, xattrVersion)
	if err != nil && !errors.Is(err, errXattrUnsupported) {
		return "", false, err
	}
	if v == "" {
		v = NullVersion
	}
	return v, true, nil
}

// archiveCurrent keeps the key's current file as a noncurrent version
// before it is replaced or deleted. Under suspended versioning the null
// version is not kept: the new object or delete marker replaces it. The
// caller holds the key's lock.
func (l *Local) archiveCurrent(bucket, key string, vs VersioningStatus) error {
	name := bucket + "/" + key
	vdir, err := versionsPath(bucket, key)
	if err != nil {
		return err
	}
	cur, ok, err := l.currentVersion(name)
	if err != nil {
		return err
	}
	if vs == VersioningSuspended {
		if err := l.root.Remove(vdir + "/" + NullVersion); err != nil && !isMissing(err) {
			return err
		}
		if !ok || cur == NullVersion {
			return nil
		}
	}
	if !ok {
		return nil
	}
	if err := l.makeDirs(vdir); err != nil {
		return err
	}
	err = l.root.Link(name, vdir+"/"+cur)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return l.syncDir(vdir)
}

// writeDeleteMarker records a delete marker with version ID id.
func (l *Local) writeDeleteMarker(ctx context.Context, vdir, key, id string) error {
	a := ObjectAttrs{Key: key, VersionID: id, DeleteMarker: true}
	tmp, err := l.writeTemp(ctx, vdir, &a, func(io.Writer) error { return nil }, nil)
	if err != nil {
		return err
	}
	if err := l.makeDirs(vdir); err != nil {
		l.root.Remove(tmp)
		return err
	}
	if err := l.root.Rename(tmp, vdir+"/"+id); err != nil {
		l.root.Remove(tmp)
		return err
	}
	return l.syncDir(vdir)
}

// DeleteObject deletes as S3's DeleteObject does. Without versionID: in an
// unversioned bucket the object is removed; with versioning enabled the
// current version is kept and a delete marker becomes the latest version;
// suspended, a null delete marker replaces the null version. With
// versionID, that version is removed for good, and when it was the latest
// the next newest becomes current (unless it is a delete marker). Deleting
// a missing key or version is not an error; a missing bucket is.
func (l *Local) DeleteObject(ctx context.Context, bucket, key, versionID string) (DeleteResult, error) {
	name, err := objectName(bucket, key)
	if err != nil {
		return DeleteResult{}, fmt.Errorf("delete: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return DeleteResult{}, fmt.Errorf("delete %s: %w", name, err)
	}
	if ok, err := l.bucketExists(bucket); err != nil {
		return DeleteResult{}, fmt.Errorf("delete %s: %w", name, err)
	} else if !ok {
		return DeleteResult{}, fmt.Errorf("delete %s: %w", name, ErrNoSuchBucket)
	}
	if versionID != "" && !ValidVersionID(versionID) {
		return DeleteResult{}, fmt.Errorf("delete %s version %q: %w", name, versionID, ErrNoSuchVersion)
	}
	vdir, err := versionsPath(bucket, key)
	if err != nil {
		return DeleteResult{}, fmt.Errorf("delete: %w", err)
	}
	l.bucketMu.RLock()
	defer l.bucketMu.RUnlock()
	unlock := l.lockKey(bucket, key)
	defer unlock()

	if versionID == "" {
		vs, err := l.versioning(bucket)
		if err != nil {
			return DeleteResult{}, fmt.Errorf("delete %s: %w", name, err)
		}
		if vs == VersioningUnversioned {
			return DeleteResult{}, l.removeCurrent(name, bucket)
		}
		if err := l.archiveCurrent(bucket, key, vs); err != nil {
			return DeleteResult{}, fmt.Errorf("delete %s: keep current version: %w", name, err)
		}
		id := NullVersion
		if vs == VersioningEnabled {
			id = newVersionID()
		}
		if err := l.writeDeleteMarker(ctx, vdir, key, id); err != nil {
			return DeleteResult{}, fmt.Errorf("delete %s: write delete marker: %w", name, err)
		}
		return DeleteResult{VersionID: id, DeleteMarker: true}, l.removeCurrent(name, bucket)
	}

	cur, ok, err := l.currentVersion(name)
	if err != nil {
		return DeleteResult{}, fmt.Errorf("delete %s: %w", name, err)
	}
	if ok && cur == versionID {
		if err := l.removeCurrent(name, bucket); err != nil {
			return DeleteResult{}, err
		}
		// A leftover link of the same version (an interrupted overwrite)
		// goes with it.
		_ = l.root.Remove(vdir + "/" + versionID)
		return DeleteResult{VersionID: versionID}, l.promoteLatest(bucket, key, vdir)
	}
	res := DeleteResult{VersionID: versionID}
	if f, err := l.root.Open(vdir + "/" + versionID); err == nil {
		m, _ := getXattr(f, xattrDeleteMarker)
		res.DeleteMarker = m == "1"
		f.Close()
	}
	if err := l.root.Remove(vdir + "/" + versionID); err != nil && !isMissing(err) {
		return DeleteResult{}, fmt.Errorf("delete %s version %s: %w", name, versionID, err)
	}
	if err := l.syncDir(vdir); err != nil && !isMissing(err) {
		return DeleteResult{}, fmt.Errorf("delete %s version %s: %w", name, versionID, err)
	}
	l.pruneVersions(vdir, bucket)
	if !ok {
		return res, l.promoteLatest(bucket, key, vdir)
	}
	return res, nil
}

// promoteLatest makes a key's newest noncurrent version current again
// after its current version was removed, unless it is a delete marker.
func (l *Local) promoteLatest(bucket, key, vdir string) error {
	latest, err := l.latestArchived(vdir, key)
	if errors.Is(err, ErrNotFound) || err == nil && latest.DeleteMarker {
		return nil
	}
	if err != nil {
		return err
	}
	name := bucket + "/" + key
	if err := l.install(vdir+"/"+latest.VersionID, name); err != nil {
		return fmt.Errorf("restore version %s of %s: %w", latest.VersionID, name, err)
	}
	if err := l.syncDir(vdir); err != nil {
		return err
	}
	l.pruneVersions(vdir, bucket)
	return nil
}

// pruneVersions removes a key's versions directory, and its parents, once
// they are empty.
func (l *Local) pruneVersions(vdir, bucket string) {
	stop := versionsDir + "/" + bucket
	for d := vdir; d != stop && strings.HasPrefix(d, stop+"/"); d = path.Dir(d) {
		if l.root.Remove(d) != nil {
			return
		}
	}
}

// removeCurrent removes the key's current file and the directories it
// leaves empty, and syncs.
func (l *Local) removeCurrent(name, bucket string) error {
	fi, err := l.root.Lstat(name)
	switch {
	case isMissing(err):
		return nil
	case err != nil:
		return fmt.Errorf("delete %s: %w", name, err)
	case fi.IsDir():
		return nil // a "folder" of other keys, not an object
	}
	if err := l.root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	dir := path.Dir(name)
	l.dirChanged(dir)
	for dir != bucket && l.root.Remove(dir) == nil {
		dir = path.Dir(dir)
		l.dirChanged(dir)
	}
	if err := l.syncDir(dir); err != nil && !isMissing(err) {
		return fmt.Errorf("delete %s: sync directory %s: %w", name, dir, err)
	}
	return nil
}

// ListVersions returns every version of every key in bucket that starts
// with prefix, current and noncurrent, delete markers included: by key,
// and each key's newest first (IsLatest set on it). It reads the whole
// bucket (under prefix): version listings are not paged by the store.
func (l *Local) ListVersions(ctx context.Context, bucket, prefix string) ([]ObjectAttrs, error) {
	cur, err := l.List(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	byKey := map[string][]ObjectAttrs{}
	var keys []string
	for _, o := range cur {
		a, err := l.StatObject(ctx, bucket, o.Key, "")
		if errors.Is(err, ErrNotFound) {
			continue // deleted since listed
		}
		if err != nil {
			return nil, err
		}
		byKey[o.Key] = append(byKey[o.Key], a)
		keys = append(keys, o.Key)
	}
	root := versionsDir + "/" + bucket
	err = fs.WalkDir(l.root.FS(), root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if isMissing(err) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root || !d.IsDir() || !strings.HasSuffix(d.Name(), versionsMark) {
			return nil
		}
		key := keyOfVersionsPath(p[len(root)+1:])
		if !strings.HasPrefix(key, prefix) || ValidKey(key) != nil {
			return nil
		}
		vs, err := l.archived(p, key)
		if err != nil {
			return err
		}
		have := byKey[key]
		if len(have) == 0 && len(vs) > 0 {
			keys = append(keys, key)
		}
		for _, v := range vs {
			if len(have) > 0 && have[0].VersionID == v.VersionID {
				continue // the link an interrupted overwrite left
			}
			byKey[key] = append(byKey[key], v)
		}
		// Keys below this one have versions directories inside it.
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list versions %s: %w", bucket, err)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var out []ObjectAttrs
	for _, k := range keys {
		vs := byKey[k]
		// The current version (first, when there is one) is the latest;
		// otherwise the newest noncurrent one is.
		if len(vs) > 0 && !vs[0].IsLatest {
			sortNewestFirst(vs)
			vs[0].IsLatest = true
		}
		out = append(out, vs...)
	}
	return out, nil
}
