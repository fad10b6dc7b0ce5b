//go:build linux

package objstore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// Meta is kept in user extended attributes of the object file. They are set
// on the temporary file before it is synced and renamed, so an object and
// its Meta appear together, and an overwrite without Meta clears the old.

// setXattr sets the extended attribute name on f.
func setXattr(f *os.File, name string, value []byte) error {
	pname, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	var pvalue unsafe.Pointer
	if len(value) > 0 {
		pvalue = unsafe.Pointer(&value[0])
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_FSETXATTR, fd,
			uintptr(unsafe.Pointer(pname)), uintptr(pvalue), uintptr(len(value)), 0, 0)
	})
	if err != nil {
		return err
	}
	if errno != 0 {
		return os.NewSyscallError("fsetxattr", mapXattrErr(errno))
	}
	return nil
}

// getXattr returns the extended attribute name of f, or "" if it is unset.
func getXattr(f *os.File, name string) (string, error) {
	pname, err := syscall.BytePtrFromString(name)
	if err != nil {
		return "", err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return "", err
	}
	// Content types and encodings are short; 4 KiB is far more than enough,
	// and a longer value (not written by hydrant) reads as ERANGE.
	buf := make([]byte, 4096)
	var n uintptr
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		n, _, errno = syscall.Syscall6(syscall.SYS_FGETXATTR, fd,
			uintptr(unsafe.Pointer(pname)), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
	})
	switch {
	case err != nil:
		return "", err
	case errno == syscall.ENODATA:
		return "", nil
	case errno != 0:
		return "", os.NewSyscallError("fgetxattr", mapXattrErr(errno))
	}
	return string(buf[:n]), nil
}

// mapXattrErr makes "file system without user xattrs" recognisable as
// errXattrUnsupported while keeping the errno in the chain.
func mapXattrErr(errno syscall.Errno) error {
	if errno == syscall.ENOTSUP {
		return fmt.Errorf("%w: %w", errXattrUnsupported, errno)
	}
	return errno
}

// isTooBig reports whether a setxattr failed because the value (or all of
// a file's attributes together) is larger than the file system allows.
func isTooBig(err error) bool {
	return errors.Is(err, syscall.E2BIG) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.ERANGE)
}
