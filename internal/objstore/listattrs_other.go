//go:build !linux

package objstore

// listAttrs reads a listed object's size, time and ETag; ok is false for a
// name that is gone or not a regular file.
func (l *Local) listAttrs(d *dirRef, name string) (ObjectAttrs, bool, error) {
	return l.listAttrsOpen(d, name)
}
