package logs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// maxResponseBytes is the most event bytes (message + 26 each) one
// GetLogEvents or FilterLogEvents answer carries, as in CloudWatch Logs.
const maxResponseBytes = 1 << 20

// maxScanBytes bounds the block bytes one FilterLogEvents call reads: past
// it the call answers with what it found and a nextToken, as CloudWatch
// Logs does when a search runs long.
const maxScanBytes = 64 << 20

// ErrBadToken is a nextToken hydrant did not hand out.
var ErrBadToken = errors.New("logs: invalid token")

// OutEvent is an event as queries return it.
type OutEvent struct {
	Stream    string
	Timestamp int64
	Ingestion int64
	Message   string
	ID        string
}

// Tokens are positions: "f/" or "b/" (GetLogEvents' forward and backward
// tokens, the shape CloudWatch Logs uses) or "n/" (FilterLogEvents), then
// 56 digits: the timestamp shifted to be non-negative (20 digits), the
// sequence number (20), and 16 zeros; then "/s".
func formatToken(kind string, p pos) string {
	return kind + "/" + fmt.Sprintf("%020d%020d%016d", uint64(p.ts)^(1<<63), p.seq, 0) + "/s"
}

func parseToken(kind, tok string) (pos, error) {
	body, ok := strings.CutPrefix(tok, kind+"/")
	if !ok {
		return pos{}, ErrBadToken
	}
	body, ok = strings.CutSuffix(body, "/s")
	if !ok || len(body) != 56 {
		return pos{}, ErrBadToken
	}
	ts, err1 := strconv.ParseUint(body[:20], 10, 64)
	seq, err2 := strconv.ParseUint(body[20:40], 10, 64)
	if err1 != nil || err2 != nil || strings.Trim(body[40:], "0") != "" {
		return pos{}, ErrBadToken
	}
	return pos{ts: int64(ts ^ (1 << 63)), seq: seq}, nil
}

// eventID is an event's identity in its group: its position, 56 digits.
func eventID(e event) string { return fmt.Sprintf("%020d%020d%016d", uint64(e.ts), e.seq, 0) }

// GetOptions select a page of one stream (GetLogEvents).
type GetOptions struct {
	// Start and End bound timestamps: [Start, End); nil is unbounded.
	Start, End *int64
	// Token is a nextForwardToken or nextBackwardToken of an earlier page.
	Token string
	// StartFromHead, without a token, reads from the oldest event instead
	// of ending at the newest.
	StartFromHead bool
	// Limit is the most events (1..10000).
	Limit int
}

// Page is one GetLogEvents answer: events in timestamp order and the
// tokens for the pages after and before it. At the end of the stream the
// forward token is the one given (or one at the end): CloudWatch Logs
// readers poll with it until new events arrive.
type Page struct {
	Events   []OutEvent
	Forward  string
	Backward string
}

func (s *Store) window(g *group, start, end *int64) window {
	w := window{from: math.MinInt64, to: math.MaxInt64, cutoff: s.cutoff(g)}
	if start != nil {
		w.from = *start
	}
	if end != nil {
		w.to = *end
	}
	return w
}

// Get reads a page of a stream, as GetLogEvents does.
func (s *Store) Get(groupName, streamName string, o GetOptions) (Page, error) {
	g, st, err := s.stream(groupName, streamName)
	if err != nil {
		return Page{}, err
	}
	forward, bound := o.StartFromHead, minPos
	if !forward {
		bound = maxPos
	}
	switch {
	case strings.HasPrefix(o.Token, "f/"):
		forward = true
		bound, err = parseToken("f", o.Token)
	case strings.HasPrefix(o.Token, "b/"):
		forward = false
		bound, err = parseToken("b", o.Token)
	case o.Token != "":
		err = ErrBadToken
	}
	if err != nil {
		return Page{}, err
	}
	limit := o.Limit
	if limit <= 0 {
		limit = 10000
	}
	it := s.iterate([]*stream{st}, s.window(g, o.Start, o.End), bound, forward)
	var evs []event
	var p Page
	size := 0
	for len(evs) < limit {
		e, r, ok := it.next()
		if !ok {
			break
		}
		size += len(e.msg) + eventOverhead
		if size > maxResponseBytes && len(evs) > 0 {
			break
		}
		evs = append(evs, e)
		p.Events = append(p.Events, OutEvent{Stream: st.name, Timestamp: e.ts, Ingestion: r.bi.ingest, Message: string(e.msg), ID: eventID(e)})
	}
	if !forward {
		for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
			evs[i], evs[j] = evs[j], evs[i]
			p.Events[i], p.Events[j] = p.Events[j], p.Events[i]
		}
	}
	if len(evs) == 0 {
		// Nothing here: the token in the direction read stays where the
		// reader is (a follower polls with it until events arrive), the
		// other turns around at the same place.
		if forward {
			p.Forward, p.Backward = formatToken("f", bound), formatToken("b", bound)
			if bound != minPos {
				p.Backward = formatToken("b", pos{bound.ts, bound.seq + 1})
			}
		} else {
			p.Forward, p.Backward = formatToken("f", minPos), formatToken("b", bound)
			if bound != maxPos && bound.seq > 0 {
				p.Forward = formatToken("f", pos{bound.ts, bound.seq - 1})
			}
		}
		if o.Token != "" {
			if forward {
				p.Forward = o.Token
			} else {
				p.Backward = o.Token
			}
		}
		return p, nil
	}
	first, last := evs[0], evs[len(evs)-1]
	p.Forward = formatToken("f", pos{last.ts, last.seq})
	p.Backward = formatToken("b", pos{first.ts, first.seq})
	return p, nil
}

// FilterOptions select events of a group (FilterLogEvents).
type FilterOptions struct {
	// Streams names the streams to search; nil means every stream (with
	// Prefix, those whose name starts with it).
	Streams []string
	Prefix  string
	// Start and End bound timestamps: [Start, End); nil is unbounded.
	Start, End *int64
	// Match keeps an event when it returns true; nil keeps every event.
	Match func(msg []byte) bool
	Token string
	Limit int
}

// FilterPage is one FilterLogEvents answer; Next is empty when the search
// is complete.
type FilterPage struct {
	Events []OutEvent
	Next   string
}

// Filter searches a group's streams, interleaved in timestamp order.
func (s *Store) Filter(groupName string, o FilterOptions) (FilterPage, error) {
	g, err := s.group(groupName)
	if err != nil {
		return FilterPage{}, err
	}
	bound := minPos
	if o.Token != "" {
		if bound, err = parseToken("n", o.Token); err != nil {
			return FilterPage{}, err
		}
	}
	var streams []*stream
	g.mu.RLock()
	if o.Streams != nil {
		for _, n := range o.Streams {
			if st := g.streams[n]; st != nil {
				streams = append(streams, st)
			}
		}
	} else {
		for n, st := range g.streams {
			if strings.HasPrefix(n, o.Prefix) {
				streams = append(streams, st)
			}
		}
	}
	g.mu.RUnlock()
	limit := o.Limit
	if limit <= 0 {
		limit = 10000
	}
	it := s.iterate(streams, s.window(g, o.Start, o.End), bound, true)
	var page FilterPage
	var evs []event
	size := 0
	last := bound
	more := false
	for {
		e, r, ok := it.next()
		if !ok {
			break
		}
		if len(evs) >= limit || it.scanned > maxScanBytes {
			more = true
			break
		}
		if o.Match != nil && !o.Match(e.msg) {
			last = pos{e.ts, e.seq}
			continue
		}
		size += len(e.msg) + eventOverhead
		if size > maxResponseBytes && len(evs) > 0 {
			more = true
			break
		}
		last = pos{e.ts, e.seq}
		evs = append(evs, e)
		page.Events = append(page.Events, OutEvent{Stream: r.st.name, Timestamp: e.ts, Ingestion: r.bi.ingest, Message: string(e.msg), ID: eventID(e)})
	}
	if more {
		page.Next = formatToken("n", last)
	}
	return page, nil
}
