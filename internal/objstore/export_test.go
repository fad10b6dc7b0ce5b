package objstore

import "os"

// WrapSyncDir lets tests observe and fail the directory syncs of l: wrap is
// called with each directory (relative to the root) and the real sync.
func WrapSyncDir(l *Local, wrap func(name string, sync func(string) error) error) {
	next := l.syncDir
	l.syncDir = func(name string) error { return wrap(name, next) }
}

// XattrSupported reports whether the file system holding dir keeps the user
// extended attributes Local stores Meta in.
func XattrSupported(dir string) bool {
	f, err := os.CreateTemp(dir, "xattr-probe")
	if err != nil {
		return false
	}
	defer os.Remove(f.Name())
	defer f.Close()
	return setXattr(f, xattrContentType, []byte("text/plain")) == nil
}

// ActiveRequests is the number of S3 requests whose stall guard is still
// running: 0 once every request is over and its answer closed.
func ActiveRequests(s *S3) int64 { return s.http.active.Load() }
