package logs

import (
	"path/filepath"
	"time"
)

// janitorEvery is how often retention is enforced without a reason to
// look sooner.
const janitorEvery = time.Minute

func (s *Store) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// janitor enforces retention and MaxBytes every minute and whenever an
// append passes MaxBytes or a retention policy changes.
func (s *Store) janitor() {
	defer close(s.done)
	t := time.NewTicker(janitorEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.wake:
		}
		s.Enforce()
	}
}

// candidate is a segment that may be dropped.
type candidate struct {
	g     *group
	st    *stream
	seg   *segment
	maxTs int64 // of the segment when the round began
	empty bool
}

// Enforce drops the segment files whose events are all past their group's
// retention, then, while the store holds more than MaxBytes, the segment
// with the oldest newest event, logging what the cap dropped. (Events past
// retention are already invisible to reads; this frees their space.)
func (s *Store) Enforce() {
	var all []candidate
	s.mu.RLock()
	for _, g := range s.byName {
		g.mu.RLock()
		for _, st := range g.streams {
			st.mu.RLock()
			for _, seg := range st.segs {
				all = append(all, candidate{g, st, seg, seg.maxTs, len(seg.blocks) == 0})
			}
			st.mu.RUnlock()
		}
		g.mu.RUnlock()
	}
	s.mu.RUnlock()
	kept := all[:0]
	for _, c := range all {
		if !c.empty && c.maxTs < s.cutoff(c.g) {
			s.drop(c, "retention")
			continue
		}
		kept = append(kept, c)
	}
	for s.opts.MaxBytes > 0 && s.total.Load() > s.opts.MaxBytes && len(kept) > 0 {
		oldest := 0
		for i, c := range kept {
			if c.maxTs < kept[oldest].maxTs {
				oldest = i
			}
		}
		s.drop(kept[oldest], "size cap")
		kept = append(kept[:oldest], kept[oldest+1:]...)
	}
}

// drop deletes one segment and records the sequence numbers it held, so
// they are not handed out again after a restart.
func (s *Store) drop(c candidate, why string) {
	c.st.mu.RLock()
	events, maxSeq, minTs, maxTs := c.seg.events(), c.seg.maxSeq, c.seg.minTs, c.seg.maxTs
	c.st.mu.RUnlock()
	n, err := c.st.dropSegment(c.seg, c.maxTs)
	s.total.Add(-n)
	if err != nil {
		s.log.Error("drop log segment", "log_group", c.g.name, "log_stream", c.st.name, "err", err)
		return
	}
	if n == 0 && events == 0 {
		return
	}
	if why == "size cap" {
		s.log.Warn("--logs-max-bytes reached: dropped the oldest log events", "log_group", c.g.name, "log_stream", c.st.name,
			"events", events, "bytes", n, "oldest", time.UnixMilli(minTs).UTC(), "newest", time.UnixMilli(maxTs).UTC(),
			"stored_bytes", s.total.Load(), "max_bytes", s.opts.MaxBytes)
	} else {
		s.log.Debug("log events past retention deleted", "log_group", c.g.name, "log_stream", c.st.name, "events", events, "bytes", n)
	}
	c.g.mu.Lock()
	defer c.g.mu.Unlock()
	if c.g.deleted || maxSeq < c.g.meta.SeqFloor {
		return
	}
	meta := c.g.meta
	meta.SeqFloor = maxSeq + 1
	if err := writeJSON(filepath.Join(c.g.dir, groupFile), meta); err != nil {
		s.log.Error("record log group sequence floor", "log_group", c.g.name, "err", err)
		return
	}
	c.g.meta = meta
}
