package deliver

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// prun is one group of a partition that is still to be delivered: its
// records are [from, to) in the partition log and its header is at to.
type prun struct {
	from, to uint64
	bytes    int64
	records  int
	oldest   int64 // Unix ms: the oldest arrival among its records
	buffered int64 // Unix ms: when the group was appended
}

// bpart is a partition with records buffered: its groups in log order.
type bpart struct {
	id      string
	runs    []prun
	bytes   int64
	records int
}

// bufferedAt is when the partition's oldest buffered group was appended:
// its IntervalInSeconds counts from there.
func (p *bpart) bufferedAt() time.Time { return time.UnixMilli(p.runs[0].buffered) }

// pindex is the delivery loop's view of a partition log: what each
// partition holds, what was delivered, and the moves that must be ignored.
// It is rebuilt from the log at start (scanPartitions) and kept in memory.
type pindex struct {
	parts map[string]*bpart
	// data is how many destination partitions hold records: the active
	// partitions the limit counts.
	data int
	// next is the position after the last record of the log.
	next uint64
	// marks holds each partition's watermark: its records before it are
	// delivered. Only marks above the commit cursor matter.
	marks map[string]uint64
	// void lists moves whose groups must be ignored.
	void []voidMove
}

// voidMove is a move that did not complete: its groups, those appended and
// any a failed append may still have left, are ignored. Before is the
// position of the first group a later move appended (0 until there is
// one); once the cursor passes it the entry is dropped.
type voidMove struct {
	Move   uint64 `json:"move"`
	Before uint64 `json:"before,omitempty"`
}

// pplan is a partition object decided but maybe not yet written. It is
// committed in the partition log's state before the object is written, so
// that a redo writes the same records under the same key.
type pplan struct {
	// Part is the partition id.
	Part []byte `json:"part"`
	// From is the first record of the object; To is the partition's
	// watermark once it is delivered (after the header of its last group).
	From uint64 `json:"from"`
	To   uint64 `json:"to"`
	// Bucket, Key and Compression say where and how the object goes;
	// ObjectID is the UUID of its name and the seed of its random parts.
	Bucket      string `json:"bucket"`
	Key         string `json:"key"`
	Compression string `json:"compression"`
	ObjectID    string `json:"objectId"`
	// Time is the oldest arrival among the object's records.
	Time time.Time `json:"time"`
	// Records and Bytes describe the object's records (logs, metrics).
	Records int   `json:"records"`
	Bytes   int64 `json:"bytes"`
	// FailCode and FailMessage are set when the partition's prefix cannot
	// be evaluated (the Prefix was changed to keys its records do not
	// have): its records go to the error output instead.
	FailCode    string `json:"failCode,omitempty"`
	FailMessage string `json:"failMessage,omitempty"`
}

// pstate is the partition log's commit state.
type pstate struct {
	V     int        `json:"v"`
	Marks []pmark    `json:"marks,omitempty"`
	Void  []voidMove `json:"void,omitempty"`
	Plan  *pplan     `json:"plan,omitempty"`
}

type pmark struct {
	Part []byte `json:"p"`
	To   uint64 `json:"to"`
}

const pstateVersion = 1

func decodePState(b []byte) (pstate, error) {
	var s pstate
	if len(b) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode partition state: %w", err)
	}
	if s.V != pstateVersion {
		return s, fmt.Errorf("decode partition state: unknown version %d", s.V)
	}
	return s, nil
}

func newPIndex() *pindex {
	return &pindex{parts: map[string]*bpart{}, marks: map[string]uint64{}}
}

// add appends a group to its partition.
func (x *pindex) add(id string, r prun) {
	p := x.parts[id]
	if p == nil {
		p = &bpart{id: id}
		x.parts[id] = p
		if id[0] == kindData {
			x.data++
		}
	}
	p.runs = append(p.runs, r)
	p.bytes += r.bytes
	p.records += r.records
	x.next = max(x.next, r.to+1)
}

// upto is the commit cursor: the first record of the oldest group still to
// be delivered, or the end of the log.
func (x *pindex) upto() uint64 {
	upto := x.next
	for _, p := range x.parts {
		upto = min(upto, p.runs[0].from)
	}
	return upto
}

// take returns how many of a partition's groups make its next object: as
// many as fit in size bytes, and at least one.
func (x *pindex) take(p *bpart, size int64) int {
	n, total := 0, int64(0)
	for _, r := range p.runs {
		if n > 0 && total+r.bytes > size {
			break
		}
		n++
		total += r.bytes
	}
	return n
}

// delivered records that a partition's records before to are delivered.
func (x *pindex) delivered(id string, to uint64) {
	x.marks[id] = max(x.marks[id], to)
	p := x.parts[id]
	if p == nil {
		return
	}
	k := 0
	for k < len(p.runs) && p.runs[k].from < to {
		p.bytes -= p.runs[k].bytes
		p.records -= p.runs[k].records
		k++
	}
	p.runs = p.runs[k:]
	if len(p.runs) == 0 {
		delete(x.parts, id)
		if id[0] == kindData {
			x.data--
		}
	}
}

// state returns the commit state for cursor upto with plan (nil when
// none), dropping what the cursor has passed.
func (x *pindex) state(upto uint64, plan *pplan) []byte {
	s := pstate{V: pstateVersion, Plan: plan}
	for id, to := range x.marks {
		if to <= upto {
			delete(x.marks, id)
			continue
		}
		s.Marks = append(s.Marks, pmark{Part: []byte(id), To: to})
	}
	slices.SortFunc(s.Marks, func(a, b pmark) int { return cmp.Compare(string(a.Part), string(b.Part)) })
	x.void = slices.DeleteFunc(x.void, func(v voidMove) bool { return v.Before != 0 && v.Before <= upto })
	s.Void = x.void
	b, _ := json.Marshal(s)
	return b
}

// voided reports whether a move is void.
func (x *pindex) voided(move uint64) bool {
	return slices.ContainsFunc(x.void, func(v voidMove) bool { return v.Move == move })
}

// appended notes the first group of a move that completed: void moves
// before it can leave nothing after it.
func (x *pindex) appended(first uint64) {
	for i := range x.void {
		if x.void[i].Before == 0 {
			x.void[i].Before = first
		}
	}
}

// totals returns the buffered records and bytes, and the oldest record's
// arrival, of every partition.
func (x *pindex) totals() (records int, bytes int64, oldest time.Time) {
	for _, p := range x.parts {
		records += p.records
		bytes += p.bytes
		for _, r := range p.runs {
			if t := time.UnixMilli(r.oldest); oldest.IsZero() || t.Before(oldest) {
				oldest = t
			}
		}
	}
	return records, bytes, oldest
}

// scanned is what scanPartitions found.
type scanned struct {
	index *pindex
	plan  *pplan
	// mainTo is where the stream log's cursor must be: the end of the last
	// complete move (0 when no move is ahead of the cursor).
	mainTo uint64
	// voided is set when moves were found incomplete and voided: the state
	// must be committed before anything is appended.
	voided bool
	// orphans counts records found after the last group header; bad
	// counts records that could not be parsed, with the rest of their
	// group. Neither is delivered.
	orphans, bad int
}

// scanPartitions rebuilds the index of a partition log from its committed
// state and its records. mainUpto is the stream log's committed cursor: a
// move that ends after it had not been committed there when the process
// stopped, so it counts only if all its groups are in the log (the stream
// log's cursor then moves past it); an incomplete one is voided and its
// records will be moved again.
func scanPartitions(ctx context.Context, pl buffer.Log, mainUpto uint64) (scanned, error) {
	upto, raw := pl.Committed()
	st, err := decodePState(raw)
	if err != nil {
		return scanned{}, err
	}
	x := newPIndex()
	x.next = upto
	for _, m := range st.Marks {
		x.marks[string(m.Part)] = m.To
	}
	x.void = st.Void
	b := pl.Backlog(upto)
	if b.Empty() {
		return scanned{index: x, plan: st.Plan}, nil
	}
	type group struct {
		h   groupHeader
		run prun
	}
	type move struct {
		to          uint64
		groups, got int
	}
	var (
		groups []group
		moves  = map[uint64]*move{}
		run    prun // the records of the group being read
	)
	// A record that cannot be parsed (never written by this code; the log
	// checks its frames) costs its group, not the log: it is counted and
	// the scan goes on.
	bad := 0
	err = pl.Read(ctx, upto, b.To, func(r buffer.Record) error {
		if len(r.Data) > 0 && r.Data[0] == tagHeader {
			h, err := parseGroupHeader(r.Data)
			if err != nil || run.records == 0 {
				bad += run.records + 1
				run = prun{}
				return nil
			}
			run.to, run.buffered = r.Seq, r.Arrival.UnixMilli()
			if !x.voided(h.move) {
				groups = append(groups, group{h: h, run: run})
				m := moves[h.move]
				if m == nil {
					m = &move{to: h.mainTo, groups: h.groups}
					moves[h.move] = m
				}
				m.got++
			}
			run = prun{}
			return nil
		}
		// Failures parse as records too: their data is the rest.
		arrival, _, data, err := parseRec(r.Data)
		if err != nil {
			bad++
			return nil
		}
		if run.records == 0 {
			run.from = r.Seq
		}
		if ms := arrival.UnixMilli(); run.records == 0 || ms < run.oldest {
			run.oldest = ms
		}
		run.records++
		run.bytes += int64(len(data))
		return nil
	})
	if err != nil {
		return scanned{}, fmt.Errorf("scan partition log: %w", err)
	}
	// Appends are atomic, so a group never lacks its header; records
	// without one would be a broken log, and are not delivered.
	x.next = max(x.next, b.To)
	out := scanned{index: x, plan: st.Plan, orphans: run.records, bad: bad}
	for id, m := range moves {
		if m.to <= mainUpto {
			continue // committed in the stream log: complete
		}
		if m.got < m.groups {
			x.void = append(x.void, voidMove{Move: id})
			out.voided = true
			continue
		}
		out.mainTo = max(out.mainTo, m.to)
	}
	for _, g := range groups {
		if x.voided(g.h.move) || g.run.from < x.marks[g.h.part] {
			continue
		}
		x.add(g.h.part, g.run)
	}
	return out, nil
}
