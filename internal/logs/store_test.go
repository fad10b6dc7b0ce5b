package logs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func openStore(t *testing.T, dir string, c *clock, maxBytes int64) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir, Now: c.now, MaxBytes: maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func batch(start int64, n int, prefix string) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = Event{Timestamp: start + int64(i), Message: fmt.Sprintf("%s-%d", prefix, i)}
	}
	return evs
}

func messages(evs []OutEvent) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Message
	}
	return out
}

func TestStoreGetPagesAndTokens(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := openStore(t, t.TempDir(), c, 0)
	mustOK(t, s.CreateGroup(GroupConfig{Name: "/aws/lambda/f"}))
	mustOK(t, s.CreateStream("/aws/lambda/f", "2026/03/01/[$LATEST]abc"))
	base := c.now().UnixMilli()
	mustOK(t, s.Append("/aws/lambda/f", "2026/03/01/[$LATEST]abc", batch(base, 5, "a")))
	// A later batch with older timestamps sorts before the first.
	mustOK(t, s.Append("/aws/lambda/f", "2026/03/01/[$LATEST]abc", batch(base-10, 3, "b")))

	p, err := s.Get("/aws/lambda/f", "2026/03/01/[$LATEST]abc", GetOptions{StartFromHead: true, Limit: 4})
	mustOK(t, err)
	if got := strings.Join(messages(p.Events), ","); got != "b-0,b-1,b-2,a-0" {
		t.Fatalf("first page %s", got)
	}
	p2, err := s.Get("/aws/lambda/f", "2026/03/01/[$LATEST]abc", GetOptions{Token: p.Forward, Limit: 4})
	mustOK(t, err)
	if got := strings.Join(messages(p2.Events), ","); got != "a-1,a-2,a-3,a-4" {
		t.Fatalf("second page %s", got)
	}
	// At the end the forward token comes back unchanged.
	p3, err := s.Get("/aws/lambda/f", "2026/03/01/[$LATEST]abc", GetOptions{Token: p2.Forward})
	mustOK(t, err)
	if len(p3.Events) != 0 || p3.Forward != p2.Forward {
		t.Fatalf("end page %v forward %q want %q", p3.Events, p3.Forward, p2.Forward)
	}
	// Backward from the second page gives the first page's events.
	pb, err := s.Get("/aws/lambda/f", "2026/03/01/[$LATEST]abc", GetOptions{Token: p2.Backward, Limit: 2})
	mustOK(t, err)
	if got := strings.Join(messages(pb.Events), ","); got != "b-2,a-0" {
		t.Fatalf("backward page %s", got)
	}
	// Without a token or startFromHead: the newest events.
	pl, err := s.Get("/aws/lambda/f", "2026/03/01/[$LATEST]abc", GetOptions{Limit: 2})
	mustOK(t, err)
	if got := strings.Join(messages(pl.Events), ","); got != "a-3,a-4" {
		t.Fatalf("latest page %s", got)
	}
	// A time window.
	st, en := base-9, base+2
	pw, err := s.Get("/aws/lambda/f", "2026/03/01/[$LATEST]abc", GetOptions{StartFromHead: true, Start: &st, End: &en})
	mustOK(t, err)
	if got := strings.Join(messages(pw.Events), ","); got != "b-1,b-2,a-0,a-1" {
		t.Fatalf("window %s", got)
	}
	if pw.Events[0].Ingestion != base || pw.Events[0].Timestamp != base-9 {
		t.Fatalf("event times %+v", pw.Events[0])
	}
	if _, err := s.Get("/aws/lambda/f", "2026/03/01/[$LATEST]abc", GetOptions{Token: "f/nonsense"}); err != ErrBadToken {
		t.Fatalf("bad token: %v", err)
	}
}

func TestStoreFilterInterleavesStreams(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := openStore(t, t.TempDir(), c, 0)
	mustOK(t, s.CreateGroup(GroupConfig{Name: "g"}))
	base := c.now().UnixMilli()
	for i, name := range []string{"one", "two", "other"} {
		mustOK(t, s.CreateStream("g", name))
		evs := []Event{{base + int64(i), name + " ERROR x"}, {base + 10 + int64(i), name + " INFO y"}}
		mustOK(t, s.Append("g", name, evs))
	}
	p, err := s.Filter("g", FilterOptions{Prefix: "t"})
	mustOK(t, err)
	if got := strings.Join(messages(p.Events), "|"); got != "two ERROR x|two INFO y" {
		t.Fatalf("prefix %s", got)
	}
	p, err = s.Filter("g", FilterOptions{Match: func(m []byte) bool { return strings.Contains(string(m), "ERROR") }, Limit: 2})
	mustOK(t, err)
	if got := strings.Join(messages(p.Events), "|"); got != "one ERROR x|two ERROR x" || p.Next == "" {
		t.Fatalf("page 1 %s next %q", got, p.Next)
	}
	p, err = s.Filter("g", FilterOptions{Match: func(m []byte) bool { return strings.Contains(string(m), "ERROR") }, Limit: 2, Token: p.Next})
	mustOK(t, err)
	if got := strings.Join(messages(p.Events), "|"); got != "other ERROR x" || p.Next != "" {
		t.Fatalf("page 2 %s next %q", got, p.Next)
	}
	if p.Events[0].Stream != "other" || len(p.Events[0].ID) != 56 {
		t.Fatalf("event %+v", p.Events[0])
	}
}

func TestStoreRestartKeepsEventsAndRepairsTornTail(t *testing.T) {
	t.Parallel()
	c := newClock()
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Now: c.now})
	mustOK(t, err)
	mustOK(t, s.CreateGroup(GroupConfig{Name: "g/with[odd]$#name"}))
	mustOK(t, s.CreateStream("g/with[odd]$#name", "../../escape"))
	mustOK(t, s.CreateStream("g/with[odd]$#name", "empty"))
	base := c.now().UnixMilli()
	mustOK(t, s.Append("g/with[odd]$#name", "../../escape", batch(base, 100, "e")))
	mustOK(t, s.Close())
	// Every file stays under dir/groups.
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if !strings.HasPrefix(p, filepath.Join(dir, "groups")) && p != dir {
			t.Errorf("file outside groups: %s", p)
		}
		return nil
	})
	// A torn append: half a block at the end of the segment.
	segs, _ := filepath.Glob(filepath.Join(dir, "groups", "*", "streams", "*", "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("segments %v", segs)
	}
	f, err := os.OpenFile(segs[0], os.O_WRONLY|os.O_APPEND, 0)
	mustOK(t, err)
	junk := appendBlock(nil, 1000, base, batch(base+100, 10, "torn"))
	_, _ = f.Write(junk[:len(junk)/2])
	_ = f.Close()

	s2 := openStore(t, dir, c, 0)
	sts, err := s2.Streams("g/with[odd]$#name")
	mustOK(t, err)
	if len(sts) != 2 || sts[0].Name != "../../escape" || sts[0].Events != 100 || sts[1].Name != "empty" {
		t.Fatalf("streams %+v", sts)
	}
	p, err := s2.Get("g/with[odd]$#name", "../../escape", GetOptions{StartFromHead: true})
	mustOK(t, err)
	if len(p.Events) != 100 || p.Events[99].Message != "e-99" {
		t.Fatalf("after restart %d events", len(p.Events))
	}
	// New appends continue with fresh sequence numbers.
	mustOK(t, s2.Append("g/with[odd]$#name", "../../escape", batch(base+200, 1, "new")))
	p, err = s2.Get("g/with[odd]$#name", "../../escape", GetOptions{StartFromHead: true})
	mustOK(t, err)
	if len(p.Events) != 101 || p.Events[100].ID <= p.Events[99].ID {
		t.Fatalf("after append: %d events, ids %s %s", len(p.Events), p.Events[99].ID, p.Events[100].ID)
	}
}

func TestStoreRetentionDropsOldEvents(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := openStore(t, t.TempDir(), c, 0)
	mustOK(t, s.CreateGroup(GroupConfig{Name: "g"}))
	mustOK(t, s.CreateStream("g", "s"))
	base := c.now().UnixMilli()
	mustOK(t, s.Append("g", "s", batch(base, 3, "old")))
	c.add(36 * time.Hour)
	mustOK(t, s.Append("g", "s", batch(c.now().UnixMilli(), 2, "new")))
	mustOK(t, s.SetRetention("g", 1))
	p, err := s.Get("g", "s", GetOptions{StartFromHead: true})
	mustOK(t, err)
	if got := strings.Join(messages(p.Events), ","); got != "new-0,new-1" {
		t.Fatalf("after retention %s", got)
	}
	before := s.StoredBytes()
	s.Enforce()
	// Both batches share the segment: it stays until all of it is old.
	if s.StoredBytes() != before {
		t.Fatalf("segment with live events dropped")
	}
	c.add(25 * time.Hour)
	s.Enforce()
	if s.StoredBytes() != 0 {
		t.Fatalf("stored %d bytes after everything expired", s.StoredBytes())
	}
	sts, _ := s.Streams("g")
	if sts[0].Events != 0 {
		t.Fatalf("stream stats %+v", sts[0])
	}
}

func TestStoreSizeCapDropsOldestFirst(t *testing.T) {
	t.Parallel()
	c := newClock()
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Now: c.now, MaxBytes: 256 << 10, SegmentBytes: 32 << 10})
	mustOK(t, err)
	defer s.Close()
	mustOK(t, s.CreateGroup(GroupConfig{Name: "g"}))
	mustOK(t, s.CreateStream("g", "a"))
	mustOK(t, s.CreateStream("g", "b"))
	msg := strings.Repeat("x", 1000)
	base := c.now().UnixMilli()
	for i := 0; i < 600; i++ {
		name := "a"
		if i%2 == 1 {
			name = "b"
		}
		mustOK(t, s.Append("g", name, []Event{{base + int64(i), fmt.Sprintf("%d %s", i, msg)}}))
	}
	s.Enforce()
	if s.StoredBytes() > 256<<10 {
		t.Fatalf("stored %d > cap", s.StoredBytes())
	}
	p, err := s.Filter("g", FilterOptions{})
	mustOK(t, err)
	if len(p.Events) == 0 || len(p.Events) > 260 {
		t.Fatalf("%d events kept", len(p.Events))
	}
	// What is kept is the newest: the last event is, the first is gone.
	if !strings.HasPrefix(p.Events[len(p.Events)-1].Message, "599 ") || strings.HasPrefix(p.Events[0].Message, "0 ") {
		t.Fatalf("kept %s .. %s", p.Events[0].Message[:5], p.Events[len(p.Events)-1].Message[:5])
	}
}

// A reader that starts on an empty stream (newest first, the default)
// and polls with the forward token sees what arrives later.
func TestStoreFollowFromEmpty(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := openStore(t, t.TempDir(), c, 0)
	mustOK(t, s.CreateGroup(GroupConfig{Name: "g"}))
	mustOK(t, s.CreateStream("g", "s"))
	p, err := s.Get("g", "s", GetOptions{})
	mustOK(t, err)
	if len(p.Events) != 0 {
		t.Fatal("events in an empty stream")
	}
	mustOK(t, s.Append("g", "s", batch(c.now().UnixMilli(), 2, "later")))
	p2, err := s.Get("g", "s", GetOptions{Token: p.Forward})
	mustOK(t, err)
	if got := strings.Join(messages(p2.Events), ","); got != "later-0,later-1" {
		t.Fatalf("followed %q", got)
	}
	p3, err := s.Get("g", "s", GetOptions{Token: p2.Forward})
	mustOK(t, err)
	mustOK(t, s.Append("g", "s", batch(c.now().UnixMilli()+5, 1, "more")))
	p4, err := s.Get("g", "s", GetOptions{Token: p3.Forward})
	mustOK(t, err)
	if len(p3.Events) != 0 || strings.Join(messages(p4.Events), ",") != "more-0" {
		t.Fatalf("poll %v then %v", messages(p3.Events), messages(p4.Events))
	}
	// Backward from the first page's backward token finds nothing and
	// offers a forward token that reads the page again.
	pb, err := s.Get("g", "s", GetOptions{Token: p2.Backward})
	mustOK(t, err)
	pf, err := s.Get("g", "s", GetOptions{Token: pb.Forward})
	mustOK(t, err)
	if len(pb.Events) != 0 || pb.Backward != p2.Backward || strings.Join(messages(pf.Events), ",") != "later-0,later-1,more-0" {
		t.Fatalf("turnaround: %v %v", messages(pb.Events), messages(pf.Events))
	}
}
