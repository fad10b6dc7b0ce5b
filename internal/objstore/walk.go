package objstore

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// Paged listing. S3 lists keys in byte order a page at a time, from a
// marker. The local store walks the bucket's directories in that order:
// within a directory, a file "a-c" sorts as its name and a directory "a"
// as "a/" (every key below it starts so), which puts "a-c" before "a/b"
// as S3 does. The walk starts at the marker, reading only the directories
// on the way to it and those the page covers, and stops after the page.
// Each directory's sorted entries are cached, so paging through a
// directory of 100,000 objects does not read and sort it once per page;
// the store drops a directory's entries whenever it changes it, and
// checks the directory's modification time on each use for changes made
// by others.

// ListOptions select one page of a bucket's keys.
type ListOptions struct {
	Prefix string
	// StartAfter: only keys (and common prefixes) after it are listed.
	StartAfter string
	// Delimiter rolls keys that contain it after the prefix up into
	// common prefixes, as S3's delimiter does.
	Delimiter string
	// MaxKeys bounds keys and common prefixes together; 0 or less means
	// 1000.
	MaxKeys int
}

// ListPage is one page of a listing.
type ListPage struct {
	// Objects have Key, Size, LastModified and ETag set.
	Objects  []ObjectAttrs
	Prefixes []string
	// Truncated reports that more keys follow; Last is the last key or
	// common prefix of the page, the StartAfter of the next.
	Truncated bool
	Last      string
}

// List returns the objects of bucket whose keys start with prefix, in key
// order (as S3 sorts them: byte order of the UTF-8 key). Only regular
// files whose paths are valid keys are objects; directories, symbolic
// links and other files placed in a bucket by hand are skipped.
func (l *Local) List(ctx context.Context, bucket, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	err := l.walkKeys(ctx, bucket, ListOptions{Prefix: prefix}, false, func(it walkItem) (bool, error) {
		r, err := it.dir.root()
		if err != nil {
			return false, err
		}
		fi, err := r.Lstat(it.name)
		if isMissing(err) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		if fi.Mode().IsRegular() {
			out = append(out, ObjectInfo{Key: it.key, Size: fi.Size(), LastModified: fi.ModTime()})
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", bucket, err)
	}
	return out, nil
}

// Page lists one page of a bucket's current objects, as S3's ListObjects
// does.
func (l *Local) Page(ctx context.Context, bucket string, o ListOptions) (ListPage, error) {
	if o.MaxKeys <= 0 {
		o.MaxKeys = 1000
	}
	var p ListPage
	full := func() bool {
		if len(p.Objects)+len(p.Prefixes) < o.MaxKeys {
			return false
		}
		p.Truncated = true
		return true
	}
	rollup := o.Delimiter == "/"
	lastPrefix := ""
	err := l.walkKeys(ctx, bucket, o, rollup, func(it walkItem) (bool, error) {
		if it.prefix {
			if full() {
				return false, nil
			}
			p.Prefixes = append(p.Prefixes, it.key)
			p.Last = it.key
			return true, nil
		}
		if o.Delimiter != "" && !rollup {
			if i := strings.Index(it.key[len(o.Prefix):], o.Delimiter); i >= 0 {
				cp := it.key[:len(o.Prefix)+i+len(o.Delimiter)]
				if cp == lastPrefix || cp <= o.StartAfter {
					return true, nil
				}
				if full() {
					return false, nil
				}
				lastPrefix = cp
				p.Prefixes = append(p.Prefixes, cp)
				p.Last = cp
				return true, nil
			}
		}
		a, ok, err := l.listAttrs(it.dir, it.name)
		if err != nil {
			return false, err
		}
		if !ok {
			return true, nil // deleted since the directory was read, or not a file
		}
		if full() {
			return false, nil
		}
		a.Key = it.key
		p.Objects = append(p.Objects, a)
		p.Last = it.key
		return true, nil
	})
	if err != nil {
		return ListPage{}, fmt.Errorf("list %s: %w", bucket, err)
	}
	return p, nil
}

// walkItem is one key (or, rolled up, one common prefix ending in '/')
// found by walkKeys, with the directory that holds it open.
type walkItem struct {
	key    string
	prefix bool
	dir    *dirRef // the directory holding the key's file
	name   string  // the file's name in dir
}

// dirRef is a directory a walk is in, opened (through the store's root)
// when first needed.
type dirRef struct {
	l    *Local
	name string
	f    *os.File
	r    *os.Root
}

// file returns the directory, open.
func (d *dirRef) file() (*os.File, error) {
	if d.f == nil {
		f, err := d.l.root.Open(d.name)
		if err != nil {
			return nil, err
		}
		d.f = f
	}
	return d.f, nil
}

// root returns the directory as a root of its own.
func (d *dirRef) root() (*os.Root, error) {
	if d.r == nil {
		r, err := d.l.root.OpenRoot(d.name)
		if err != nil {
			return nil, err
		}
		d.r = r
	}
	return d.r, nil
}

func (d *dirRef) close() {
	if d.f != nil {
		d.f.Close()
	}
	if d.r != nil {
		d.r.Close()
	}
}

// etagCache keeps listed objects' ETags by the identity and times of
// their files, so that paging through a bucket again costs a stat per key.
type etagCache struct {
	mu sync.Mutex
	m  map[fileID]string
}

// fileID identifies one state of a file: any write, rename over it or
// attribute change gives another.
type fileID struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64
}

const maxCachedETags = 1 << 20

func (c *etagCache) get(id fileID) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[id]
	return e, ok
}

func (c *etagCache) put(id fileID, etag string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedETags {
		c.m = map[fileID]string{}
	}
	c.m[id] = etag
}

// listAttrsOpen reads a listed object's size, time and ETag by opening it.
func (l *Local) listAttrsOpen(d *dirRef, name string) (ObjectAttrs, bool, error) {
	r, err := d.root()
	if err != nil {
		return ObjectAttrs{}, false, err
	}
	f, err := r.Open(name)
	if isMissing(err) {
		return ObjectAttrs{}, false, nil
	}
	if err != nil {
		return ObjectAttrs{}, false, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ObjectAttrs{}, false, err
	}
	if !fi.Mode().IsRegular() {
		return ObjectAttrs{}, false, nil
	}
	etag, err := l.readETag(f, fi.ModTime())
	if err != nil {
		return ObjectAttrs{}, false, err
	}
	return ObjectAttrs{Size: fi.Size(), LastModified: fi.ModTime(), ETag: etag}, true, nil
}

// walkKeys calls visit for each key of bucket that starts with o.Prefix
// and sorts after o.StartAfter, in key order, until visit returns false.
// With rollup, the directories directly under the prefix's directory are
// reported as common prefixes instead of being entered.
func (l *Local) walkKeys(ctx context.Context, bucket string, o ListOptions, rollup bool, visit func(walkItem) (bool, error)) error {
	if err := ValidBucketName(bucket); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if ok, err := l.bucketExists(bucket); err != nil {
		return err
	} else if !ok {
		return ErrNoSuchBucket
	}
	// Start in the deepest directory the prefix names in full: prefix
	// "2024/05/1" starts in <bucket>/2024/05. If that part of the prefix
	// is not itself a valid key, no valid key can start with it.
	dirKey := ""
	if i := strings.LastIndexByte(o.Prefix, '/'); i >= 0 {
		if ValidKey(o.Prefix[:i]) != nil {
			return nil
		}
		dirKey = o.Prefix[:i+1]
	}
	seek := o.Prefix
	if o.StartAfter != "" && o.StartAfter+"\x00" > seek {
		seek = o.StartAfter + "\x00"
	}
	if !strings.HasPrefix(seek, dirKey) {
		return nil // past every key in the prefix's directory
	}
	w := walker{l: l, ctx: ctx, bucket: bucket, prefix: o.Prefix, after: o.StartAfter, rollup: rollup, visit: visit}
	_, err := w.dir(dirKey, seek[len(dirKey):], true)
	if isMissing(err) {
		return nil
	}
	return err
}

type walker struct {
	l      *Local
	ctx    context.Context
	bucket string
	prefix string
	after  string
	rollup bool
	visit  func(walkItem) (bool, error)
}

// dir walks the directory of keys starting with dirKey ("" or "a/b/"),
// from the first entry not before seek (relative to dirKey). It returns
// false when the walk is over.
func (w *walker) dir(dirKey, seek string, top bool) (bool, error) {
	name := w.bucket
	if dirKey != "" {
		name += "/" + strings.TrimSuffix(dirKey, "/")
	}
	ents, err := w.l.sortedDir(name)
	if err != nil {
		if isMissing(err) {
			return true, nil // removed under us: nothing more here
		}
		return false, err
	}
	i, _ := slices.BinarySearchFunc(ents, seek, func(e dirEntry, s string) int { return strings.Compare(e.sortKey(), s) })
	// A directory sorts as "name/": a seek into it lands just after it.
	if i > 0 && ents[i-1].dir && strings.HasPrefix(seek, ents[i-1].sortKey()) {
		i--
	}
	handle := &dirRef{l: w.l, name: name}
	defer handle.close()
	for j := i; j < len(ents); j++ {
		if err := w.ctx.Err(); err != nil {
			return false, err
		}
		e := ents[j]
		key := dirKey + e.name
		if e.dir {
			key += "/"
		}
		if !strings.HasPrefix(key, w.prefix) {
			if key > w.prefix && !strings.HasPrefix(w.prefix, key) {
				return false, nil // past the prefix: done
			}
			if !e.dir || !strings.HasPrefix(w.prefix, key) {
				continue
			}
		}
		if ValidKey(strings.TrimSuffix(key, "/")) != nil {
			continue
		}
		if e.dir {
			if top && w.rollup && strings.HasPrefix(key, w.prefix) {
				if key <= w.after {
					continue
				}
				if ok, err := w.visit(walkItem{key: key, prefix: true}); !ok || err != nil {
					return false, err
				}
				continue
			}
			sub := ""
			if j == i && strings.HasPrefix(seek, e.name+"/") {
				sub = seek[len(e.name)+1:]
			}
			ok, err := w.dir(key, sub, false)
			if !ok || err != nil {
				return ok, err
			}
			continue
		}
		if ok, err := w.visit(walkItem{key: key, dir: handle, name: e.name}); !ok || err != nil {
			return false, err
		}
	}
	return true, nil
}

// dirEntry is a directory entry as the walk sorts it.
type dirEntry struct {
	name string
	dir  bool
}

func (e dirEntry) sortKey() string {
	if e.dir {
		return e.name + "/"
	}
	return e.name
}

// dirCache keeps directories' sorted entries.
type dirCache struct {
	mu      sync.Mutex
	gen     uint64 // bumped by every change, so a read racing one is not kept
	entries int
	m       map[string]cachedDir
	// changes counts the changes to directories (see Changes), keyed by
	// "." (the root: buckets made or removed), "b" (bucket b's own
	// directory), "b/" (anywhere in bucket b) and "b/s/" (anywhere under
	// b's top-level directory s).
	changes map[string]uint64
}

type cachedDir struct {
	mtime time.Time
	ents  []dirEntry
}

// maxCachedEntries bounds the directory cache (about 100 bytes an entry).
const maxCachedEntries = 1 << 20

// dirChanged drops a directory's cached entries; the store calls it
// whenever it adds or removes an entry.
func (l *Local) dirChanged(name string) {
	c := &l.dirs
	c.mu.Lock()
	c.gen++
	if c.changes == nil {
		c.changes = map[string]uint64{}
	}
	switch bucket, rest, deep := strings.Cut(name, "/"); {
	case name == ".":
		c.changes["."]++
	case !deep:
		c.changes[bucket]++
		c.changes[bucket+"/"]++
	default:
		top, _, _ := strings.Cut(rest, "/")
		c.changes[bucket+"/"]++
		c.changes[bucket+"/"+top+"/"]++
	}
	if d, ok := c.m[name]; ok {
		c.entries -= len(d.ents)
		delete(c.m, name)
	}
	c.mu.Unlock()
}

// Changes returns a number that changes whenever this store adds,
// replaces or removes an object of bucket whose key starts with prefix,
// or makes or removes a bucket: equal numbers before and after a listing
// mean nothing it covers changed in between. (Changes are counted by
// bucket and the key's first path segment, so a change elsewhere in the
// same bucket may change the number too.) A change counts by the time the
// call making it (Put, Delete, CompleteUpload, ...) returns, and once its
// object is visible: a listing kept with the number read before it
// started holds every object whose write returned before the number is
// read again. Files changed in the store's directories by other programs
// are not counted.
func (l *Local) Changes(bucket, prefix string) uint64 {
	c := &l.dirs
	c.mu.Lock()
	defer c.mu.Unlock()
	if top, _, ok := strings.Cut(prefix, "/"); ok {
		// The top-level directory's own entry is in the bucket's.
		return c.changes["."] + c.changes[bucket] + c.changes[bucket+"/"+top+"/"]
	}
	return c.changes["."] + c.changes[bucket+"/"]
}

// sortedDir returns a directory's entries sorted in key order.
func (l *Local) sortedDir(name string) ([]dirEntry, error) {
	d, err := l.root.Open(name)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	fi, err := d.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return nil, fs.ErrNotExist
	}
	c := &l.dirs
	c.mu.Lock()
	cd, ok := c.m[name]
	gen := c.gen
	c.mu.Unlock()
	if ok && cd.mtime.Equal(fi.ModTime()) {
		return cd.ents, nil
	}
	des, err := d.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	ents := make([]dirEntry, 0, len(des))
	for _, de := range des {
		t := de.Type()
		switch {
		case t.IsDir():
			ents = append(ents, dirEntry{name: de.Name(), dir: true})
		case t.IsRegular():
			ents = append(ents, dirEntry{name: de.Name()})
		}
	}
	slices.SortFunc(ents, func(a, b dirEntry) int { return strings.Compare(a.sortKey(), b.sortKey()) })
	c.mu.Lock()
	if c.gen == gen {
		if c.m == nil || c.entries+len(ents) > maxCachedEntries {
			c.m, c.entries = map[string]cachedDir{}, 0
		}
		if old, ok := c.m[name]; ok {
			c.entries -= len(old.ents)
		}
		c.m[name] = cachedDir{mtime: fi.ModTime(), ents: ents}
		c.entries += len(ents)
	}
	c.mu.Unlock()
	return ents, nil
}
