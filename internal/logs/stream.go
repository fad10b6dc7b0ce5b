package logs

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
)

// stream is one log stream: its segment files, oldest first, the last one
// being appended to.
type stream struct {
	name string
	dir  string
	meta streamMeta
	log  *slog.Logger

	wmu    sync.Mutex // serializes appends: file writes and fsyncs
	active *os.File   // the last segment, open for writing
	buf    []byte
	broken error // sticky: a failed fsync leaves the file's state unknown

	mu   sync.RWMutex // guards segs and the segments' block lists
	segs []*segment
}

// segment is one file of a stream.
type segment struct {
	num    uint64
	path   string
	size   int64       // bytes of whole blocks
	blocks []blockInfo // in file order
	minTs  int64
	maxTs  int64
	maxSeq uint64
	ingest int64 // the latest ingestion time
}

func (seg *segment) events() int {
	n := 0
	for _, b := range seg.blocks {
		n += int(b.count)
	}
	return n
}

func (seg *segment) add(bi blockInfo) {
	if len(seg.blocks) == 0 {
		seg.minTs, seg.maxTs = bi.minTs, bi.maxTs
	}
	seg.minTs = min(seg.minTs, bi.minTs)
	seg.maxTs = max(seg.maxTs, bi.maxTs)
	seg.maxSeq = max(seg.maxSeq, bi.lastSeq())
	seg.ingest = max(seg.ingest, bi.ingest)
	seg.blocks = append(seg.blocks, bi)
	seg.size = bi.off + int64(bi.size)
}

const segExt = ".seg"

func segName(num uint64) string { return fmt.Sprintf("%016d%s", num, segExt) }

// load indexes the stream's segments. Every block of the last segment is
// checked in full: a torn or damaged tail (a crash during an append that
// was therefore never acknowledged) is cut off. Earlier segments are
// indexed by their block headers; a block found damaged when it is read is
// skipped then.
func (st *stream) load() error {
	entries, err := os.ReadDir(st.dir)
	if err != nil {
		return fmt.Errorf("read %s: %w", st.dir, err)
	}
	var nums []uint64
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), segExt)
		if !ok {
			continue
		}
		num, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			continue
		}
		nums = append(nums, num)
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	for i, num := range nums {
		seg := &segment{num: num, path: filepath.Join(st.dir, segName(num))}
		if err := st.scan(seg, i == len(nums)-1); err != nil {
			return err
		}
		st.segs = append(st.segs, seg)
	}
	return nil
}

// scan indexes one segment file.
func (st *stream) scan(seg *segment, last bool) error {
	f, err := os.OpenFile(seg.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", seg.path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	hdr := make([]byte, scanSize)
	var whole []byte
	off := int64(0)
	for off < size {
		var bi blockInfo
		_, err := f.ReadAt(hdr, off)
		if err == nil || errors.Is(err, io.EOF) {
			bi, err = parseHeader(hdr, off, size)
		}
		if err == nil && last {
			if cap(whole) < int(bi.size) {
				whole = make([]byte, bi.size)
			}
			whole = whole[:bi.size]
			if _, err = f.ReadAt(whole, off); err == nil {
				err = checkBlock(whole, off)
			}
		}
		if err != nil {
			if last {
				// Only an append cut short leaves a bad tail on the last
				// segment; nothing past it was acknowledged.
				st.log.Warn("truncating a torn log segment tail", "segment", seg.path, "offset", off, "dropped_bytes", size-off, "err", err)
				if err := f.Truncate(off); err != nil {
					return fmt.Errorf("truncate %s: %w", seg.path, err)
				}
				if err := f.Sync(); err != nil {
					return err
				}
			} else {
				st.log.Error("damaged log segment: events past this offset are not readable", "segment", seg.path, "offset", off, "lost_bytes", size-off, "err", err)
			}
			break
		}
		seg.add(bi)
		off += int64(bi.size)
	}
	return nil
}

// appendBlock writes one block of events and fsyncs it; bi is filled in
// but for off. rotate is the size past which a new segment starts. It
// returns the block's index entry and the bytes the files grew by.
func (st *stream) appendBlock(block []byte, bi blockInfo, rotate int64) (blockInfo, error) {
	if st.broken != nil {
		return bi, st.broken
	}
	st.mu.RLock()
	var seg *segment
	if n := len(st.segs); n > 0 && st.active != nil {
		seg = st.segs[n-1]
	}
	st.mu.RUnlock()
	if seg == nil || seg.size >= rotate {
		var err error
		if seg, err = st.newSegment(); err != nil {
			return bi, err
		}
	}
	bi.off = seg.size
	if _, err := st.active.WriteAt(block, bi.off); err != nil {
		// Nothing was acknowledged past size: cut what may have landed.
		_ = st.active.Truncate(bi.off)
		return bi, fmt.Errorf("write %s: %w", seg.path, err)
	}
	if err := st.active.Sync(); err != nil {
		st.broken = fmt.Errorf("log stream %q is unwritable until restart: fsync %s: %w", st.name, seg.path, err)
		st.log.Error("fsync failed; the stream refuses writes until restart", "err", err)
		return bi, st.broken
	}
	st.mu.Lock()
	seg.add(bi)
	st.mu.Unlock()
	return bi, nil
}

// newSegment starts the next segment file and makes it the active one.
func (st *stream) newSegment() (*segment, error) {
	st.mu.RLock()
	num := uint64(1)
	if n := len(st.segs); n > 0 {
		num = st.segs[n-1].num + 1
	}
	st.mu.RUnlock()
	seg := &segment{num: num, path: filepath.Join(st.dir, segName(num))}
	f, err := os.OpenFile(seg.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create log segment: %w", err)
	}
	if err := atomicfile.SyncDir(st.dir); err != nil {
		_ = f.Close()
		_ = os.Remove(seg.path)
		return nil, err
	}
	if st.active != nil {
		_ = st.active.Close()
	}
	st.active = f
	st.mu.Lock()
	st.segs = append(st.segs, seg)
	st.mu.Unlock()
	return seg, nil
}

// close closes the active segment and returns the bytes the stream held.
// The stream must not be appended to afterwards.
func (st *stream) close() int64 {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if st.active != nil {
		_ = st.active.Close()
		st.active = nil
	}
	st.broken = ErrStreamNotFound
	st.mu.Lock()
	defer st.mu.Unlock()
	var n int64
	for _, seg := range st.segs {
		n += seg.size
	}
	st.segs = nil
	return n
}

// stats summarizes the stream.
func (st *stream) stats() StreamInfo {
	st.mu.RLock()
	defer st.mu.RUnlock()
	si := StreamInfo{Name: st.name, CreationTime: st.meta.CreationTime}
	first := true
	for _, seg := range st.segs {
		if len(seg.blocks) == 0 {
			continue
		}
		if first || seg.minTs < si.FirstEventTimestamp {
			si.FirstEventTimestamp = seg.minTs
		}
		si.LastEventTimestamp = max(si.LastEventTimestamp, seg.maxTs)
		si.LastIngestionTime = max(si.LastIngestionTime, seg.ingest)
		si.StoredBytes += seg.size
		si.Events += seg.events()
		first = false
	}
	return si
}

// dropSegment removes a segment from the stream and deletes its file, if
// it still holds no event newer than maxTs (appends may have reached it
// since the caller looked). The active segment may go too: the next
// append starts a new one.
func (st *stream) dropSegment(seg *segment, maxTs int64) (int64, error) {
	st.wmu.Lock()
	defer st.wmu.Unlock()
	st.mu.Lock()
	i := -1
	for j, s := range st.segs {
		if s == seg {
			i = j
		}
	}
	if i < 0 || seg.maxTs > maxTs {
		st.mu.Unlock()
		return 0, nil
	}
	st.segs = append(st.segs[:i:i], st.segs[i+1:]...)
	last := i == len(st.segs)
	st.mu.Unlock()
	if last && st.active != nil {
		_ = st.active.Close()
		st.active = nil
	}
	if err := os.Remove(seg.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("remove %s: %w", seg.path, err)
	}
	return seg.size, atomicfile.SyncDir(st.dir)
}
