package buffer

import (
	"github.com/hydrant-io/hydrant/internal/atomicfile"
	"io"
	"log/slog"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Options configures a SegmentLog. The zero value is usable: every field has
// a default, filled in by Open.
type Options struct {
	// SegmentBytes is the size at which the active segment is closed and a
	// new one started. Default 64 MiB.
	SegmentBytes int64
	// MaxBytes caps the bytes of undelivered frames on disk (including
	// appends in flight); past it Append returns ErrFull. Zero means no cap.
	MaxBytes int64
	// Budget, when set, is a cap on buffered bytes shared with other logs
	// (hydrant's --max-buffer-bytes): appends reserve their frame bytes from
	// it too, and fail with ErrFull past it. Nil means no shared cap.
	Budget *Budget
	// RetryInterval is how long the log refuses appends after a failed write
	// or fsync before it lets one through to try again. Default 1s.
	RetryInterval time.Duration
	// Logger receives recovery and write-failure reports. Nil discards them.
	Logger *slog.Logger
	// Now is the log's clock: arrival times and the retry timer. Default
	// time.Now.
	Now func() time.Time
	// OpenFile opens segment and cursor files. Nil opens real files. Tests
	// use it to inject faults; it must return files backed by the named path
	// (the log stats, renames and removes them through the os package).
	OpenFile func(name string, flag int, perm os.FileMode) (File, error)
}

// File is the part of a file the log uses. *os.File-like; Sync must make
// every completed write durable, data and the file length (fdatasync is
// enough).
type File interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Close() error
}

const (
	defaultSegmentBytes  = 64 << 20
	defaultRetryInterval = time.Second
)

// withDefaults returns o with every unset field filled in.
func (o Options) withDefaults() Options {
	if o.SegmentBytes <= 0 {
		o.SegmentBytes = defaultSegmentBytes
	}
	if o.RetryInterval <= 0 {
		o.RetryInterval = defaultRetryInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OpenFile == nil {
		o.OpenFile = openOSFile
	}
	return o
}

// osFile is a real file whose Sync is fdatasync: the log never relies on
// mtime, and fdatasync still flushes the length needed to read data back.
type osFile struct {
	*os.File
	fd int
}

func openOSFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &osFile{File: f, fd: int(f.Fd())}, nil
}

// Sync flushes the file's data with fdatasync, retrying on EINTR.
func (f *osFile) Sync() error {
	for {
		err := unix.Fdatasync(f.fd)
		if err != unix.EINTR {
			if err != nil {
				return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
			}
			return nil
		}
	}
}

// syncDir makes the directory's entries (created, renamed files) durable.
func syncDir(dir string) error { return atomicfile.SyncDir(dir) }
