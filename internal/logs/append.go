package logs

import (
	"errors"
	"fmt"
	"sort"
)

// Event is a log event to append: a timestamp (epoch milliseconds) and a
// message.
type Event struct {
	Timestamp int64
	Message   string
}

// eventOverhead is what CloudWatch Logs counts for each event on top of
// its message's UTF-8 bytes, in the 1 MiB batch limit.
const eventOverhead = 26

// errUnsorted is a batch whose events are not in timestamp order.
var errUnsorted = errors.New("logs: events must be in chronological order")

// Append durably stores evs (in timestamp order) at the end of a stream:
// when it returns nil they are written and fsynced. The group and stream
// must exist. Retention and batch rules are the caller's (the API's).
func (s *Store) Append(groupName, streamName string, evs []Event) error {
	g, st, err := s.stream(groupName, streamName)
	if err != nil {
		return err
	}
	return s.append(g, st, evs)
}

func (s *Store) append(g *group, st *stream, evs []Event) error {
	if len(evs) == 0 {
		return nil
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Timestamp < evs[i-1].Timestamp {
			return errUnsorted
		}
	}
	st.wmu.Lock()
	defer st.wmu.Unlock()
	if st.broken != nil {
		if errors.Is(st.broken, ErrStreamNotFound) {
			return ErrStreamNotFound
		}
		return st.broken
	}
	// Sequence numbers are handed out under the stream's write lock, so a
	// stream's blocks carry increasing numbers in file order.
	g.seqMu.Lock()
	first := g.nextSeq
	g.nextSeq += uint64(len(evs))
	g.seqMu.Unlock()
	ingest := s.now()
	st.buf = appendBlock(st.buf[:0], first, ingest, evs)
	bi := blockInfo{size: uint32(len(st.buf)), count: uint32(len(evs)), firstSeq: first, ingest: ingest,
		minTs: evs[0].Timestamp, maxTs: evs[len(evs)-1].Timestamp}
	if _, err := st.appendBlock(st.buf, bi, s.opts.SegmentBytes); err != nil {
		return err
	}
	if cap(st.buf) > 4<<20 {
		st.buf = nil // one huge batch need not pin its buffer
	}
	if s.total.Add(int64(bi.size)) > s.opts.MaxBytes && s.opts.MaxBytes > 0 {
		s.poke()
	}
	return nil
}

// AppendCreating appends to a stream, creating the group and the stream
// first if they do not exist, as Lambda does for its functions' logs.
// Events need not be sorted: they are sorted by timestamp (stably) first.
func (s *Store) AppendCreating(groupName, streamName string, evs []Event) error {
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].Timestamp < evs[j].Timestamp })
	for attempt := 0; ; attempt++ {
		g, err := s.group(groupName)
		if errors.Is(err, ErrGroupNotFound) {
			if err := s.CreateGroup(GroupConfig{Name: groupName}); err != nil && !errors.Is(err, ErrGroupExists) {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		g.mu.RLock()
		st := g.streams[streamName]
		g.mu.RUnlock()
		if st == nil {
			if st, err = s.createStream(g, streamName); err != nil && !errors.Is(err, ErrStreamExists) {
				if errors.Is(err, ErrGroupNotFound) && attempt < 3 {
					continue // deleted meanwhile: create it again
				}
				return err
			}
		}
		err = s.append(g, st, evs)
		if errors.Is(err, ErrStreamNotFound) && attempt < 3 {
			continue
		}
		if err != nil {
			return fmt.Errorf("append to %s %s: %w", groupName, streamName, err)
		}
		return nil
	}
}
