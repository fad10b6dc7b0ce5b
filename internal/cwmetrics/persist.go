package cwmetrics

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// The store's files: one per UTC day, <Dir>/YYYY-MM-DD.cwm, appended to
// once a minute by Flush. Each write is one frame:
//
//	u32 length | u32 CRC-32C of payload | payload
//
// and a payload is a sequence of records:
//
//	'D' uvarint id, string namespace, string name, uvarint n, n × (string name, string value)
//	'P' uvarint id, varint minute, u8 unit, 4 × f64 (count, sum, min, max), uvarint n, n bytes of sketch
//
// (strings are uvarint length and bytes; numbers little-endian). A 'D'
// record defines a series id for the rest of its file; every file defines
// the series it uses, so old files can be deleted whole. A 'P' record is
// the full state of a point: a later record of the same point replaces an
// earlier one (a minute that got late data is written again). A torn or
// damaged frame ends its file: the file is cut there when loaded.

const fileExt = ".cwm"

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// dayLog is one open day file.
type dayLog struct {
	day string
	f   *os.File
}

func dayName(t time.Time) string { return t.UTC().Format("2006-01-02") }

// Flush writes every changed point of the minutes that are over to the
// day file, and drops what is older than the retention. Call it about once
// a minute (Run does); a point is kept in memory either way.
func (s *Store) Flush() error { return s.flush(false) }

// Close writes every changed point, including the minute in progress.
func (s *Store) Close() error {
	err := s.flush(true)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.disk != nil {
		if cerr := s.disk.f.Close(); err == nil {
			err = cerr
		}
		s.disk = nil
	}
	return err
}

func (s *Store) flush(all bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := s.opts.Now()
	cutoff := now.Unix() / 60
	if all {
		cutoff = math.MaxInt64
	}
	// Expired points are dropped once an hour: each pass moves every
	// series' points.
	if oldest := now.Add(-s.opts.Retention).Unix() / 60; all || oldest-s.pruned >= 60 {
		s.prune(oldest)
		s.pruned = oldest
	}
	if s.opts.Dir == "" {
		s.Each(func(sr *Series) { sr.seal(cutoff, nil, nil) })
		return nil
	}
	if err := s.rotate(now); err != nil {
		return err
	}
	var buf []byte
	s.Each(func(sr *Series) { buf = sr.seal(cutoff, s.disk, buf) })
	if len(buf) == 0 {
		return nil
	}
	frame := make([]byte, 8, 8+len(buf))
	binary.LittleEndian.PutUint32(frame[0:], uint32(len(buf)))
	binary.LittleEndian.PutUint32(frame[4:], crc32.Checksum(buf, crcTable))
	frame = append(frame, buf...)
	st, err := s.disk.f.Stat()
	if err != nil {
		return fmt.Errorf("metrics file: %w", err)
	}
	_, err = s.disk.f.Write(frame)
	if err == nil {
		err = s.disk.f.Sync()
	}
	if err != nil {
		// Cut the file back to its last whole frame and start a new
		// dayLog, so that every series is defined again before its next
		// point; the points of this frame stay in memory only.
		_ = s.disk.f.Truncate(st.Size())
		_ = s.disk.f.Close()
		s.disk = nil
		return fmt.Errorf("write metrics: %w", err)
	}
	return nil
}

// seal closes the series' changed points before cutoff and, with a day
// file, appends their records to buf.
func (sr *Series) seal(cutoff int64, d *dayLog, buf []byte) []byte {
	sr.mu.Lock()
	defer sr.mu.Unlock()
	for i := range sr.pts {
		p := &sr.pts[i]
		if !p.dirty || p.minute >= cutoff {
			continue
		}
		p.dirty = false
		if p.sk != nil {
			var enc []byte
			p.sk.Encode(&enc, true)
			p.enc, p.sk = enc, nil
		}
		if d == nil {
			continue
		}
		if sr.written != d {
			buf = sr.appendDef(buf)
			sr.written = d
		}
		buf = append(buf, 'P')
		buf = binary.AppendUvarint(buf, uint64(sr.id))
		buf = binary.AppendVarint(buf, p.minute)
		buf = append(buf, byte(p.unit))
		for _, f := range []float64{p.count, p.sum, p.min, p.max} {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
		}
		buf = binary.AppendUvarint(buf, uint64(len(p.enc)))
		buf = append(buf, p.enc...)
	}
	return buf
}

func (sr *Series) appendDef(buf []byte) []byte {
	buf = append(buf, 'D')
	buf = binary.AppendUvarint(buf, uint64(sr.id))
	buf = appendString(buf, sr.Metric.Namespace)
	buf = appendString(buf, sr.Metric.Name)
	buf = binary.AppendUvarint(buf, uint64(len(sr.Metric.Dims)))
	for _, d := range sr.Metric.Dims {
		buf = appendString(buf, d.Name)
		buf = appendString(buf, d.Value)
	}
	return buf
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// rotate opens today's file, and deletes files whose every point is past
// the retention (a file of day D holds points up to D + 1 day + 2 hours:
// PutMetricData accepts timestamps up to 2 hours ahead).
func (s *Store) rotate(now time.Time) error {
	day := dayName(now)
	if s.disk != nil && s.disk.day == day {
		return nil
	}
	if err := os.MkdirAll(s.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("metrics dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.opts.Dir, day+fileExt), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open metrics file: %w", err)
	}
	if s.disk != nil {
		_ = s.disk.f.Close()
	}
	s.disk = &dayLog{day: day, f: f}
	files, _ := s.files()
	for _, name := range files {
		if expired(name, now, s.opts.Retention) {
			_ = os.Remove(filepath.Join(s.opts.Dir, name))
		}
	}
	return nil
}

func expired(name string, now time.Time, retention time.Duration) bool {
	d, err := time.Parse("2006-01-02", strings.TrimSuffix(name, fileExt))
	if err != nil {
		return false
	}
	return d.Add(26 * time.Hour).Add(retention).Before(now)
}

// files lists the day files, oldest first.
func (s *Store) files() ([]string, error) {
	ents, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), fileExt) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// prune drops points before minute oldest, and series left with none.
func (s *Store) prune(oldest int64) {
	var empty []*Series
	s.Each(func(sr *Series) {
		if sr.trim(oldest) {
			empty = append(empty, sr)
		}
	})
	if len(empty) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sr := range empty {
		sr.mu.Lock()
		if len(sr.pts) == 0 && s.series[sr.Metric.key()] == sr {
			delete(s.series, sr.Metric.key())
			sr.dead = true
		}
		sr.mu.Unlock()
	}
}

// load reads every day file into memory.
func (s *Store) load() error {
	names, err := s.files()
	if err != nil {
		return fmt.Errorf("read metrics dir: %w", err)
	}
	now := s.opts.Now()
	oldest := now.Add(-s.opts.Retention).Unix() / 60
	for _, name := range names {
		path := filepath.Join(s.opts.Dir, name)
		if expired(name, now, s.opts.Retention) {
			_ = os.Remove(path)
			continue
		}
		if err := s.loadFile(path, oldest); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) loadFile(path string, oldest int64) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open metrics file: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	ids := map[uint64]*Series{}
	var good int64
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break
		}
		n := binary.LittleEndian.Uint32(hdr[0:])
		if n > 1<<30 {
			break
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil {
			break
		}
		if crc32.Checksum(payload, crcTable) != binary.LittleEndian.Uint32(hdr[4:]) {
			break
		}
		if err := s.apply(payload, ids, oldest); err != nil {
			break
		}
		good += 8 + int64(n)
	}
	if st, err := f.Stat(); err == nil && st.Size() > good {
		s.log.Warn("metrics file damaged or torn; cut at the last whole write", "file", path, "offset", good, "size", st.Size())
		if err := f.Truncate(good); err != nil {
			return fmt.Errorf("repair metrics file: %w", err)
		}
	}
	return nil
}

var errRecord = errors.New("bad metrics record")

// apply replays one frame's records.
func (s *Store) apply(b []byte, ids map[uint64]*Series, oldest int64) error {
	rd := reader{b: b}
	for len(rd.b) > 0 && rd.err == nil {
		switch rd.byte() {
		case 'D':
			id := rd.uvarint()
			ns, name := rd.string(), rd.string()
			n := rd.uvarint()
			if n > 30 {
				return errRecord
			}
			dims := make([]Dimension, 0, n)
			for range n {
				dims = append(dims, Dimension{Name: rd.string(), Value: rd.string()})
			}
			if rd.err != nil {
				return rd.err
			}
			sr, err := s.Series(NewMetric(ns, name, dims...))
			if err != nil {
				ids[id] = nil
				continue
			}
			ids[id] = sr
		case 'P':
			id := rd.uvarint()
			p := point{minute: rd.varint(), unit: Unit(rd.byte())}
			p.count, p.sum, p.min, p.max = rd.f64(), rd.f64(), rd.f64(), rd.f64()
			if n := rd.uvarint(); n > 0 {
				p.enc = append([]byte(nil), rd.bytes(int(n))...)
			}
			if rd.err != nil {
				return rd.err
			}
			sr, ok := ids[id]
			if !ok {
				return errRecord
			}
			if sr == nil || p.minute < oldest {
				continue
			}
			sr.mu.Lock()
			*sr.at(p.minute, p.unit) = p
			sr.mu.Unlock()
		default:
			return errRecord
		}
	}
	return rd.err
}

// reader decodes records; the first error sticks.
type reader struct {
	b   []byte
	err error
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.err = errRecord
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errRecord
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) f64() float64 {
	if len(r.b) < 8 {
		r.err = errRecord
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || len(r.b) < n {
		r.err = errRecord
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	return string(r.bytes(int(n)))
}
