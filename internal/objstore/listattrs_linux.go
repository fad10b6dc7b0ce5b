//go:build linux

package objstore

import (
	"errors"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// listAttrs reads a listed object's size, time and ETag without opening
// it: fstatat relative to its directory (not following a symbolic link),
// the ETag from the cache or, on a miss, its xattr read through the
// directory's /proc/self/fd link (lgetxattr does not follow the last
// element either, and the name has no slash). ok is false for a name that
// is gone or not a regular file.
func (l *Local) listAttrs(d *dirRef, name string) (ObjectAttrs, bool, error) {
	df, err := d.file()
	if err != nil {
		return ObjectAttrs{}, false, err
	}
	fd := int(df.Fd())
	var st unix.Stat_t
	if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
			return ObjectAttrs{}, false, nil
		}
		return ObjectAttrs{}, false, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return ObjectAttrs{}, false, nil
	}
	mtime := time.Unix(st.Mtim.Sec, st.Mtim.Nsec)
	a := ObjectAttrs{Size: st.Size, LastModified: mtime}
	id := fileID{dev: st.Dev, ino: st.Ino, size: st.Size, mtime: mtime.UnixNano(), ctime: st.Ctim.Nano()}
	if etag, ok := l.etags.get(id); ok {
		a.ETag = etag
		return a, true, nil
	}
	var buf [128]byte
	n, err := unix.Lgetxattr("/proc/self/fd/"+strconv.Itoa(fd)+"/"+name, xattrETag, buf[:])
	if err == nil {
		a.ETag = etagFor(string(buf[:n]), mtime)
	}
	if a.ETag == "" {
		// Never recorded, recorded for other bytes, or no /proc: open it.
		b, ok, err := l.listAttrsOpen(d, name)
		if !ok || err != nil {
			return b, ok, err
		}
		a = b
	}
	l.etags.put(id, a.ETag)
	return a, true, nil
}
