package deliver

import (
	"context"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
)

// appendGroup appends one group of records (as data) for part, from move.
func appendGroup(t *testing.T, l buffer.Log, h groupHeader, records ...string) uint64 {
	t.Helper()
	var g groupBatch
	for i, r := range records {
		g.addRec(time.UnixMilli(int64(1000+i)), uint64(i+1), []byte(r))
	}
	g.seal(h)
	first, err := l.Append(context.Background(), &g.b)
	if err != nil {
		t.Fatal(err)
	}
	return first
}

// TestScanPartitions: the scan keeps complete moves, voids a move cut short
// ahead of the stream log's cursor, skips what a watermark or a void entry
// covers, and survives a record it cannot parse.
func TestScanPartitions(t *testing.T) {
	l, err := buffer.Open(t.TempDir(), buffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, b := dataPartID([]string{"c"}, nil, map[string]string{"c": "a"}, nil), dataPartID([]string{"c"}, nil, map[string]string{"c": "b"}, nil)
	// Move 1 (stream log [1,3)), committed there: a's group was delivered
	// (watermark), b's was not.
	a1 := appendGroup(t, l, groupHeader{move: 11, mainFrom: 1, mainTo: 3, groups: 2, index: 0, part: a}, "a1")
	appendGroup(t, l, groupHeader{move: 11, mainFrom: 1, mainTo: 3, groups: 2, index: 1, part: b}, "b1")
	// Move 2 ([3,5)), voided earlier.
	appendGroup(t, l, groupHeader{move: 22, mainFrom: 3, mainTo: 5, groups: 1, part: a}, "void")
	// A group with a record no version wrote.
	var g buffer.Batch
	g.Add([]byte("Xgarbage"))
	g.Add(appendGroupHeader(nil, groupHeader{move: 33, mainFrom: 3, mainTo: 6, groups: 1, part: b}))
	if _, err := l.Append(context.Background(), &g); err != nil {
		t.Fatal(err)
	}
	// Move 4 ([3,7)), complete, not committed in the stream log.
	appendGroup(t, l, groupHeader{move: 44, mainFrom: 3, mainTo: 7, groups: 1, part: a}, "a2", "a3")
	// Move 5 ([7,9)), cut short: one group of two.
	appendGroup(t, l, groupHeader{move: 55, mainFrom: 7, mainTo: 9, groups: 2, part: b}, "lost")
	x := newPIndex()
	x.marks[a] = a1 + 2
	x.void = []voidMove{{Move: 22}}
	if err := l.Commit(context.Background(), 1, x.state(1, nil)); err != nil {
		t.Fatal(err)
	}

	sc, err := scanPartitions(context.Background(), l, 3)
	if err != nil {
		t.Fatal(err)
	}
	if sc.mainTo != 7 || !sc.voided || sc.bad != 2 || sc.orphans != 0 {
		t.Fatalf("scan: mainTo %d voided %v bad %d orphans %d", sc.mainTo, sc.voided, sc.bad, sc.orphans)
	}
	got := map[string]int{}
	for id, p := range sc.index.parts {
		got[describePart(id)] = p.records
	}
	if len(got) != 2 || got["c=a"] != 2 || got["c=b"] != 1 || sc.index.data != 2 {
		t.Fatalf("partitions %v", got)
	}
	if !sc.index.voided(55) || !sc.index.voided(22) {
		t.Fatalf("void %+v", sc.index.void)
	}
	if upto := sc.index.upto(); upto != a1+2 {
		t.Fatalf("upto %d, want b's group at %d", upto, a1+2)
	}
}
