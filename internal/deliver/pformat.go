package deliver

import (
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/keys"
)

// The records of a partition log (docs/FORMAT.md, "Partition log"). Each
// Append to it is one group: the records of one partition that one move
// brought over, then a trailing header that names the partition and the
// move. Every record starts with a tag byte.
const (
	tagRecord = 'R' // a record of the group
	tagHeader = 'H' // the group's header, its last record
)

// Partition kinds: the first byte of a partition id.
const (
	kindData   = 'd' // destination records, by partition keys
	kindError  = 'e' // error output, by error-output-type
	kindBackup = 'b' // S3 backup of source records
)

// errBadPartitionRecord reports a partition-log record that cannot be
// parsed: the log was written by something else, or damaged.
var errBadPartitionRecord = errors.New("deliver: malformed partition log record")

// groupHeader ends every group.
type groupHeader struct {
	// move identifies the move; groups of one move share it.
	move uint64
	// mainFrom and mainTo are the range of the stream log the move took.
	mainFrom, mainTo uint64
	// groups is how many groups the move appended; index is this one's.
	groups, index int
	// part is the partition id.
	part string
}

func appendGroupHeader(b []byte, h groupHeader) []byte {
	b = append(b, tagHeader)
	b = binary.AppendUvarint(b, h.move)
	b = binary.AppendUvarint(b, h.mainFrom)
	b = binary.AppendUvarint(b, h.mainTo)
	b = binary.AppendUvarint(b, uint64(h.groups))
	b = binary.AppendUvarint(b, uint64(h.index))
	b = binary.AppendUvarint(b, uint64(len(h.part)))
	return append(b, h.part...)
}

func parseGroupHeader(b []byte) (groupHeader, error) {
	var h groupHeader
	if len(b) == 0 || b[0] != tagHeader {
		return h, errBadPartitionRecord
	}
	d := decoder{b: b[1:]}
	h.move = d.uvarint()
	h.mainFrom = d.uvarint()
	h.mainTo = d.uvarint()
	h.groups = int(d.uvarint())
	h.index = int(d.uvarint())
	h.part = string(d.bytes())
	if d.err != nil || len(d.b) != 0 || h.part == "" {
		return h, errBadPartitionRecord
	}
	return h, nil
}

// recHeaderMax bounds the header appendRec writes before the data.
const recHeaderMax = 1 + 2*binary.MaxVarintLen64

// appendRec frames a destination or backup record: tag, its arrival
// (Unix ms), its sequence number in the stream log, then its data.
func appendRec(b []byte, arrival time.Time, seq uint64, data []byte) []byte {
	b = append(b, tagRecord)
	b = binary.AppendVarint(b, arrival.UnixMilli())
	b = binary.AppendUvarint(b, seq)
	return append(b, data...)
}

// parseRec reads a record that appendRec framed; data aliases b.
func parseRec(b []byte) (arrival time.Time, seq uint64, data []byte, err error) {
	if len(b) == 0 || b[0] != tagRecord {
		return time.Time{}, 0, nil, errBadPartitionRecord
	}
	d := decoder{b: b[1:]}
	ms := d.varint()
	seq = d.uvarint()
	if d.err != nil {
		return time.Time{}, 0, nil, errBadPartitionRecord
	}
	return time.UnixMilli(ms), seq, d.b, nil
}

// appendFailure frames an error-output record: the fields of the Failure
// that a record carries before its object is written (Table is only set
// by format conversion, which runs when objects are written).
func appendFailure(b []byte, f Failure) []byte {
	b = append(b, tagRecord)
	b = binary.AppendVarint(b, f.Arrival.UnixMilli())
	b = binary.AppendUvarint(b, f.Seq)
	b = binary.AppendUvarint(b, uint64(f.Attempts))
	ended := int64(0)
	if !f.EndedAt.IsZero() {
		ended = f.EndedAt.UnixMilli()
	}
	b = binary.AppendVarint(b, ended)
	for _, s := range []string{f.Type, f.Code, f.Message, f.LambdaARN} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return append(b, f.Raw...)
}

// parseFailure reads what appendFailure wrote; Raw is a copy.
func parseFailure(b []byte) (Failure, error) {
	if len(b) == 0 || b[0] != tagRecord {
		return Failure{}, errBadPartitionRecord
	}
	d := decoder{b: b[1:]}
	var f Failure
	f.Arrival = time.UnixMilli(d.varint())
	f.Seq = d.uvarint()
	f.Attempts = int(d.uvarint())
	if ended := d.varint(); ended != 0 {
		f.EndedAt = time.UnixMilli(ended)
	}
	f.Type = string(d.bytes())
	f.Code = string(d.bytes())
	f.Message = string(d.bytes())
	f.LambdaARN = string(d.bytes())
	if d.err != nil {
		return Failure{}, errBadPartitionRecord
	}
	f.Raw = append([]byte(nil), d.b...)
	return f, nil
}

// dataPartID is the id of a destination partition: its kind, then each
// partition key the Prefix uses with its value, in the Prefix's order
// (appendPartKey).
func dataPartID(qkeys, lkeys []string, q, l map[string]string) string {
	b := []byte{kindData}
	for _, k := range qkeys {
		b = appendPartKey(b, 'q', k, q[k])
	}
	for _, k := range lkeys {
		b = appendPartKey(b, 'l', k, l[k])
	}
	return string(b)
}

// appendPartKey appends one key of a destination partition id: ns is 'q'
// (partitionKeyFromQuery) or 'l' (partitionKeyFromLambda).
func appendPartKey(b []byte, ns byte, k, v string) []byte {
	b = append(b, ns)
	b = binary.AppendUvarint(b, uint64(len(k)))
	b = append(b, k...)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// partKeys decodes a destination partition id into a lookup for
// keys.Env.PartitionKey.
func partKeys(id string) (func(ns, k string) (string, bool), error) {
	if id == "" || id[0] != kindData {
		return nil, errBadPartitionRecord
	}
	type nk struct{ ns, k string }
	m := map[nk]string{}
	d := decoder{b: []byte(id[1:])}
	for len(d.b) > 0 && d.err == nil {
		ns := keys.NSPartitionKeyFromQuery
		if d.b[0] == 'l' {
			ns = keys.NSPartitionKeyFromLambda
		}
		d.b = d.b[1:]
		k := string(d.bytes())
		v := string(d.bytes())
		m[nk{ns, k}] = v
	}
	if d.err != nil {
		return nil, errBadPartitionRecord
	}
	return func(ns, k string) (string, bool) {
		v, ok := m[nk{ns, k}]
		return v, ok
	}, nil
}

// errorPartID is the id of the error output of one error-output-type.
func errorPartID(typ string) string { return string(kindError) + typ }

// backupPartID is the id of the S3 backup.
const backupPartID = string(kindBackup)

// describePart renders a partition id for logs.
func describePart(id string) string {
	switch {
	case id == backupPartID:
		return "backup"
	case id == "" || id[0] != kindData:
		return "error-output:" + strings.TrimPrefix(id, string(kindError))
	}
	var parts []string
	d := decoder{b: []byte(id[1:])}
	for len(d.b) > 0 && d.err == nil {
		d.b = d.b[1:]
		k, v := string(d.bytes()), string(d.bytes())
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

// decoder reads varints and length-prefixed byte strings, remembering the
// first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadPartitionRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errBadPartitionRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.err = errBadPartitionRecord
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// groupBatch gathers one group's records, by reference, and then builds its
// Append (seal): records first, the header last, in one buffer of the
// right size.
type groupBatch struct {
	part    string
	recs    []groupRec
	framed  int // bytes the records take framed, at most
	records int
	bytes   int64 // record data, without the framing
	oldest  time.Time
	b       buffer.Batch
}

// groupRec is a record of a group: data with its arrival and sequence
// number, or an error-output record already framed.
type groupRec struct {
	arrival time.Time
	seq     uint64
	data    []byte
	framed  []byte
}

func (g *groupBatch) note(arrival time.Time, n int) {
	if g.records == 0 || arrival.Before(g.oldest) {
		g.oldest = arrival
	}
	g.records++
	g.bytes += int64(n)
}

// addRec adds a destination or backup record; data must stay unchanged
// until seal.
func (g *groupBatch) addRec(arrival time.Time, seq uint64, data []byte) {
	g.recs = append(g.recs, groupRec{arrival: arrival, seq: seq, data: data})
	g.framed += 4 + recHeaderMax + len(data)
	g.note(arrival, len(data))
}

// addFailure adds an error-output record.
func (g *groupBatch) addFailure(f Failure) {
	b := appendFailure(nil, f)
	g.recs = append(g.recs, groupRec{framed: b})
	g.framed += 4 + len(b)
	g.note(f.Arrival, len(f.Raw))
}

// seal builds the group's batch, ending with its header.
func (g *groupBatch) seal(h groupHeader) {
	hdr := appendGroupHeader(nil, h)
	g.b.Grow(g.framed + 4 + len(hdr))
	for _, r := range g.recs {
		if r.framed != nil {
			g.b.Add(r.framed)
			continue
		}
		_ = g.b.AddWith(recHeaderMax+len(r.data), func(dst []byte) (int, error) {
			return len(appendRec(dst[:0], r.arrival, r.seq, r.data)), nil
		})
	}
	g.recs = nil
	g.b.Add(hdr)
}
