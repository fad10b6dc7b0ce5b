package logs

import (
	"container/heap"
	"errors"
	"math"
	"os"
	"sort"
)

// Reading: a query gathers the blocks of one or more streams that may
// hold events in its window, then merges them lazily in position order
// (timestamp, then sequence number), forward or backward from a bound,
// opening a block only when its first event could be the next one. Blocks
// of one append are sorted; appends are usually in time order, so the
// merge rarely holds more than one or two blocks at a time.

// window is the part of a stream a query looks at.
type window struct {
	from, to int64 // timestamps [from, to)
	cutoff   int64 // the retention cutoff: older events are gone
}

func (w window) lo() int64 { return max(w.from, w.cutoff) }

// blockRef is one block a query may read.
type blockRef struct {
	st  *stream
	seg *segment
	bi  blockInfo
}

var (
	minPos = pos{ts: math.MinInt64, seq: 0}
	maxPos = pos{ts: math.MaxInt64, seq: math.MaxUint64}
)

// refs returns the blocks of streams that may hold events of w strictly
// after (forward) or before (backward) bound.
func refs(streams []*stream, w window, bound pos, forward bool) []blockRef {
	var out []blockRef
	lo := w.lo()
	for _, st := range streams {
		st.mu.RLock()
		for _, seg := range st.segs {
			if len(seg.blocks) == 0 || seg.maxTs < lo || seg.minTs >= w.to {
				continue
			}
			for _, bi := range seg.blocks {
				if bi.maxTs < lo || bi.minTs >= w.to {
					continue
				}
				if forward && !bound.less(bi.maxKey()) || !forward && !bi.minKey().less(bound) {
					continue
				}
				out = append(out, blockRef{st: st, seg: seg, bi: bi})
			}
		}
		st.mu.RUnlock()
	}
	if forward {
		sort.Slice(out, func(i, j int) bool { return out[i].bi.minKey().less(out[j].bi.minKey()) })
	} else {
		sort.Slice(out, func(i, j int) bool { return out[j].bi.maxKey().less(out[i].bi.maxKey()) })
	}
	return out
}

// iter merges the events of blocks in position order.
type iter struct {
	s       *Store
	refs    []blockRef
	opened  int // refs[:opened] have been opened
	h       blockHeap
	w       window
	bound   pos
	scanned int64 // block bytes opened
}

// open is one block being merged: evs[i:] (forward) or evs[:i+1]
// (backward) are still to come.
type open struct {
	ref *blockRef
	evs []event
	i   int
}

func (o *open) key() pos { e := o.evs[o.i]; return pos{e.ts, e.seq} }

type blockHeap struct {
	items   []*open
	forward bool
}

func (h blockHeap) Len() int { return len(h.items) }
func (h blockHeap) Less(i, j int) bool {
	if h.forward {
		return h.items[i].key().less(h.items[j].key())
	}
	return h.items[j].key().less(h.items[i].key())
}
func (h blockHeap) Swap(i, j int) { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *blockHeap) Push(x any)   { h.items = append(h.items, x.(*open)) }
func (h *blockHeap) Pop() any {
	n := len(h.items) - 1
	x := h.items[n]
	h.items = h.items[:n]
	return x
}

func (s *Store) iterate(streams []*stream, w window, bound pos, forward bool) *iter {
	return &iter{s: s, refs: refs(streams, w, bound, forward), w: w, bound: bound, h: blockHeap{forward: forward}}
}

// next returns the next event and the block it is in; ok is false at the
// end.
func (it *iter) next() (ev event, r *blockRef, ok bool) {
	fwd := it.h.forward
	for it.opened < len(it.refs) {
		r := &it.refs[it.opened]
		if it.h.Len() > 0 {
			top := it.h.items[0].key()
			if fwd && top.less(r.bi.minKey()) || !fwd && r.bi.maxKey().less(top) {
				break
			}
		}
		it.opened++
		it.open(r)
	}
	if it.h.Len() == 0 {
		return event{}, nil, false
	}
	o := it.h.items[0]
	ev = o.evs[o.i]
	if fwd {
		o.i++
	} else {
		o.i--
	}
	if o.i < 0 || o.i >= len(o.evs) {
		heap.Pop(&it.h)
	} else {
		heap.Fix(&it.h, 0)
	}
	return ev, o.ref, true
}

// open reads a block and pushes the part of it in the query's range.
func (it *iter) open(r *blockRef) {
	evs := it.s.readBlock(r)
	it.scanned += int64(r.bi.size)
	lo, to := it.w.lo(), it.w.to
	// The events in the window: [a, b).
	a := sort.Search(len(evs), func(i int) bool { return evs[i].ts >= lo })
	b := sort.Search(len(evs), func(i int) bool { return evs[i].ts >= to })
	if it.h.forward {
		a = max(a, sort.Search(len(evs), func(i int) bool { return it.bound.less(pos{evs[i].ts, evs[i].seq}) }))
	} else {
		b = min(b, sort.Search(len(evs), func(i int) bool { return !(pos{evs[i].ts, evs[i].seq}).less(it.bound) }))
	}
	if a >= b {
		return
	}
	o := &open{ref: r, evs: evs[a:b]}
	if !it.h.forward {
		o.i = len(o.evs) - 1
	}
	heap.Push(&it.h, o)
}

// readBlock returns a block's events, from the cache or the file. A block
// that cannot be read (damaged, or its segment dropped meanwhile) reads as
// empty; damage is logged once.
func (s *Store) readBlock(r *blockRef) []event {
	k := cacheKey{r.seg, r.bi.off}
	if evs, ok := s.cache.get(k); ok {
		return evs
	}
	b := make([]byte, r.bi.size)
	f, err := os.Open(r.seg.path)
	if err == nil {
		_, err = f.ReadAt(b, r.bi.off)
		_ = f.Close()
	}
	var evs []event
	if err == nil {
		evs, err = decodeBlock(b, r.bi)
	}
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			r.st.log.Error("unreadable log block skipped", "segment", r.seg.path, "offset", r.bi.off, "events", r.bi.count, "err", err)
			s.cache.put(k, []event{}, 1) // do not log it again
		}
		return nil
	}
	s.cache.put(k, evs, int64(len(b))+int64(len(evs))*40)
	return evs
}
