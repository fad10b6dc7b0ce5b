package buffer

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The damage tests build a log of three segments of three frames (batches
// 0-8, two records each: batch b holds sequence numbers 2b+1 and 2b+2),
// damage it, and check exactly which records recovery keeps.
const (
	dmgBatches  = 9
	dmgRecLen   = 8
	dmgFrame    = frameOverhead + 2*(recordHeader+dmgRecLen) // 52 bytes
	dmgSegBytes = segHeaderSize + 3*dmgFrame                 // three frames a segment
)

// dmgRecord is record r (0 or 1) of batch b.
func dmgRecord(b, r int) string { return fmt.Sprintf("b%d-r%d-xx", b, r)[:dmgRecLen] }

// placed is where a batch's frame sits.
type placed struct {
	path string
	off  int64
}

// buildDamageLog writes the nine batches into dir and returns where each
// frame is. commit, when above 1, is committed before closing.
func buildDamageLog(t *testing.T, dir string, commit uint64) []placed {
	t.Helper()
	l := openLog(t, dir, Options{SegmentBytes: dmgSegBytes})
	for b := range dmgBatches {
		mustAppend(t, l, dmgRecord(b, 0), dmgRecord(b, 1))
	}
	if commit > 1 {
		if err := l.Commit(context.Background(), commit, nil); err != nil {
			t.Fatal(err)
		}
	}
	l.mu.Lock()
	var out []placed
	for _, f := range l.frames {
		out = append(out, placed{f.seg.path, f.off})
	}
	l.mu.Unlock()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(out) != dmgBatches && commit <= 1 {
		t.Fatalf("built %d frames", len(out))
	}
	if got := segFiles(t, dir); len(got) != 3 {
		t.Fatalf("built segments %v, want 3", got)
	}
	return out
}

// dmgSurvivors lists the records of every batch not in gone, from the
// record at sequence number from on.
func dmgSurvivors(from uint64, gone ...int) []string {
	var out []string
	for b := range dmgBatches {
		if slices.Contains(gone, b) {
			continue
		}
		for r := range 2 {
			if uint64(2*b+r+1) >= from {
				out = append(out, dmgRecord(b, r))
			}
		}
	}
	return out
}

// Offsets of the parts of a frame and of a segment header.
var (
	frameParts = []struct {
		name string
		off  int64
	}{
		{"length", 1}, {"crc", 5}, {"first sequence", 8}, {"arrival", 17},
		{"record count", 24}, {"record length", frameOverhead}, {"record data", frameOverhead + recordHeader + 3},
	}
	headerParts = []struct {
		name string
		off  int64
	}{
		{"magic", 1}, {"version", 4}, {"first sequence", 8}, {"crc", 18},
	}
)

type damageCase struct {
	commit uint64 // committed before the damage (0: nothing)
	damage func(t *testing.T, dir string, at []placed)
	lost   []int  // batches lost to damage: one Error naming them, counted
	torn   []int  // batches cut as a torn tail: one Warn, not counted
	warn   string // the one Warn expected instead of an Error ("" none)
	// regions is how many damaged runs are quarantined (default: one per
	// Error).
	regions int
}

func damageCases() map[string]damageCase {
	cases := map[string]damageCase{}
	// Each part of a frame, at four places: a middle frame, the last frame
	// of an older segment, the first frame of the active segment, and the
	// last frame of the log (a torn tail to recovery, since nothing
	// follows it).
	places := []struct {
		name  string
		batch int
	}{{"middle frame", 4}, {"last frame of an older segment", 2}, {"first frame of the active segment", 6}, {"last frame of the log", 8}}
	for _, pl := range places {
		for _, part := range frameParts {
			c := damageCase{damage: flipAt(pl.batch, part.off)}
			switch {
			case part.name == "length":
				// The payload up to the next frame (or the end) matches
				// its CRC: the length is rewritten, nothing lost.
				c.warn = "repaired a damaged frame length"
			case pl.batch == 8:
				c.torn, c.warn = []int{8}, "cut torn tail"
			default:
				c.lost = []int{pl.batch}
			}
			cases[fmt.Sprintf("%s: %s", pl.name, part.name)] = c
		}
	}
	// Each part of a segment header, in an older and in the active
	// segment: the frames after it prove the name right; the header is
	// rewritten and nothing is lost.
	for _, seg := range []struct {
		name  string
		batch int
	}{{"older segment", 3}, {"active segment", 6}} {
		for _, part := range headerParts {
			cases[fmt.Sprintf("%s header: %s", seg.name, part.name)] = damageCase{
				damage: func(t *testing.T, dir string, at []placed) { flip(t, at[seg.batch].path, part.off) },
				warn:   "repaired a damaged segment header",
			}
		}
		cases[seg.name+" header: reserved"] = damageCase{
			damage: func(t *testing.T, dir string, at []placed) { flip(t, at[seg.batch].path, 21) },
		}
	}

	cases["two adjacent frames"] = damageCase{
		damage: func(t *testing.T, dir string, at []placed) {
			flipAt(4, 30)(t, dir, at)
			flipAt(5, 40)(t, dir, at)
		},
		lost: []int{4, 5},
	}
	cases["across a segment boundary"] = damageCase{
		damage: func(t *testing.T, dir string, at []placed) {
			flipAt(2, 40)(t, dir, at)
			flip(t, at[3].path, 2)
			flipAt(3, 40)(t, dir, at)
		},
		lost: []int{2, 3}, regions: 2,
	}
	cases["first frame of the log"] = damageCase{damage: flipAt(0, 12), lost: []int{0}}
	cases["a frame zeroed"] = damageCase{
		damage: func(t *testing.T, dir string, at []placed) {
			patch(t, at[4].path, at[4].off, make([]byte, dmgFrame))
		},
		lost: []int{4},
	}
	cases["valid CRC, records do not fill the frame"] = damageCase{
		damage: func(t *testing.T, dir string, at []placed) {
			b := readFile(t, at[4].path)
			f := b[at[4].off:]
			f[frameHeader+16] = 3 // record count
			rewriteCRC(f)
			writeFile(t, at[4].path, b)
		},
		lost: []int{4},
	}
	cases["missing older segment"] = damageCase{
		damage: func(t *testing.T, dir string, at []placed) {
			if err := os.Remove(at[3].path); err != nil {
				t.Fatal(err)
			}
		},
		lost: []int{3, 4, 5}, regions: -1,
	}
	cases["older segment overwritten with random bytes"] = damageCase{
		damage: func(t *testing.T, dir string, at []placed) {
			rng := rand.NewChaCha8([32]byte{7})
			junk := make([]byte, dmgSegBytes)
			rng.Read(junk)
			writeFile(t, at[3].path, junk)
		},
		lost: []int{3, 4, 5},
	}
	cases["damage in delivered records"] = damageCase{
		commit: 5, damage: flipAt(1, 40),
		warn: "no undelivered record lost",
	}
	cases["cursor inside the damaged frame"] = damageCase{
		commit: 4, damage: flipAt(1, 40), lost: []int{1},
	}
	return cases
}

// flipAt flips a bit at off in the frame of batch b.
func flipAt(b int, off int64) func(*testing.T, string, []placed) {
	return func(t *testing.T, dir string, at []placed) { flip(t, at[b].path, at[b].off+off) }
}

func TestRecoverDamage(t *testing.T) {
	for name, tc := range damageCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			at := buildDamageLog(t, dir, 1)
			if tc.commit > 1 {
				// Deliver first, then damage: the layout is the same.
				l := openLog(t, dir, Options{SegmentBytes: dmgSegBytes})
				if err := l.Commit(context.Background(), tc.commit, nil); err != nil {
					t.Fatal(err)
				}
				l.Close()
			}
			tc.damage(t, dir, at)
			from := max(tc.commit, 1)
			gone := slices.Concat(tc.lost, tc.torn)
			want := dmgSurvivors(from, gone...)

			sink := &logSink{}
			opts := Options{SegmentBytes: dmgSegBytes, Logger: sink.logger()}
			l := openLog(t, dir, opts)
			checkSurvivors(t, l, from, want)
			lostRecs := checkDamageReport(t, dir, sink, tc, from)
			if got, _ := l.Lost(); got != lostRecs {
				t.Errorf("Lost() = %d records, want %d", got, lostRecs)
			}

			// The log goes on after the last sequence number ever
			// handed out, except over a torn tail (never acknowledged).
			next := uint64(2*dmgBatches + 1)
			if len(tc.torn) > 0 {
				next -= 2
			}
			if s := mustAppend(t, l, "new"); s != next {
				t.Fatalf("Append after recovery = %d, want %d", s, next)
			}
			want = append(want, "new")
			l.Close()

			// Until delivered past, the loss is found again, but it is
			// not reported as new nor counted twice.
			sink = &logSink{}
			l = openLog(t, dir, Options{SegmentBytes: dmgSegBytes, Logger: sink.logger()})
			checkSurvivors(t, l, from, want)
			lines := sink.lines(slog.LevelWarn)
			if len(tc.lost) > 0 && (len(lines) != 1 || !strings.HasPrefix(lines[0], "WARN buffer: damaged log, records lost (reported when first found)")) {
				t.Errorf("second open logged %q, want one Warn about the known loss", lines)
			}
			if n, _ := l.Lost(); n != 0 {
				t.Errorf("second open counted %d lost records again", n)
			}
			if len(tc.lost) == 0 && tc.commit == 0 && len(lines) != 0 {
				t.Errorf("second open after a repair logged %q", lines)
			}

			// Delivery steps over the holes: small cuts, each read and
			// committed, see every surviving record once.
			var got []string
			cursor := from
			for !l.Backlog(cursor).Empty() {
				sp, err := l.Cut(cursor, dmgRecLen)
				if err != nil || sp.Records == 0 || sp.From != cursor {
					t.Fatalf("Cut(%d) = %+v, %v", cursor, sp, err)
				}
				recs := readAll(t, l, sp.From, sp.To)
				if len(recs) != sp.Records {
					t.Fatalf("Cut(%d) = %+v, Read gave %d records", cursor, sp, len(recs))
				}
				got = append(got, dataOf(recs)...)
				if err := l.Commit(context.Background(), sp.To, []byte("plan")); err != nil {
					t.Fatal(err)
				}
				cursor = sp.To
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("delivered %q, want %q", got, want)
			}
			l.Close()

			// Delivered past the damage: a clean open.
			sink = &logSink{}
			l = openLog(t, dir, Options{SegmentBytes: dmgSegBytes, Logger: sink.logger()})
			if lines := sink.lines(slog.LevelWarn); len(lines) != 0 {
				t.Errorf("open after delivering past the damage logged %q", lines)
			}
			if n, _ := l.Lost(); n != 0 {
				t.Errorf("Lost() = %d after delivering past the damage", n)
			}
			if s := mustAppend(t, l, "later"); s != next+1 {
				t.Errorf("Append = %d, want %d", s, next+1)
			}
		})
	}
}

// checkDamageReport checks what the first open logged and quarantined, and
// returns how many records it should have counted as lost.
func checkDamageReport(t *testing.T, dir string, sink *logSink, tc damageCase, from uint64) int64 {
	t.Helper()
	lines := sink.lines(slog.LevelWarn)
	quarantined, _ := filepath.Glob(filepath.Join(dir, "*.damaged"))
	missing, _ := filepath.Glob(filepath.Join(dir, "*.missing"))
	if len(tc.lost) == 0 {
		switch {
		case tc.warn == "" && len(lines) != 0:
			t.Errorf("logged %q, want nothing", lines)
		case tc.warn != "" && (len(lines) != 1 || !strings.HasPrefix(lines[0], "WARN") || !strings.Contains(lines[0], tc.warn)):
			t.Errorf("logged %q, want one Warn containing %q", lines, tc.warn)
		}
		if len(quarantined) != 0 {
			t.Errorf("quarantined %v with nothing lost", quarantined)
		}
		return 0
	}
	lo := max(uint64(2*slices.Min(tc.lost)+1), from)
	hi := uint64(2*slices.Max(tc.lost) + 2)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "ERROR buffer: damaged log, records lost") ||
		!strings.Contains(lines[0], fmt.Sprintf(" lost=%d-%d ", lo, hi)) {
		t.Errorf("logged %q, want one Error naming lost=%d-%d", lines, lo, hi)
	}
	regions := tc.regions
	if regions == 0 {
		regions = 1
	}
	if regions < 0 {
		regions = 0
	}
	if len(quarantined) != regions {
		t.Errorf("quarantine files %v, want %d", quarantined, regions)
	}
	if tc.regions < 0 && (len(missing) != 1 || filepath.Base(missing[0]) != segName(lo)+".missing" || !strings.Contains(lines[0], missing[0])) {
		t.Errorf("missing segment marked by %v, want %s named in the Error line", missing, segName(lo)+".missing")
	}
	// Each holds exactly the damaged bytes still in its segment.
	for _, q := range quarantined {
		seg, off, ok := strings.Cut(strings.TrimSuffix(filepath.Base(q), ".damaged"), ".seg.")
		n, err := strconv.ParseInt(off, 10, 64)
		if !ok || err != nil {
			t.Fatalf("quarantine file name %s", q)
		}
		held := readFile(t, q)
		src := readFile(t, filepath.Join(dir, seg+".seg"))
		if len(held) == 0 || int(n)+len(held) > len(src) || string(src[n:int(n)+len(held)]) != string(held) {
			t.Errorf("%s does not hold bytes %d.. of its segment", q, n)
		}
		if !strings.Contains(lines[0], q) {
			t.Errorf("Error line %q does not name %s", lines[0], q)
		}
	}
	return int64(hi - lo + 1)
}

// TestRecoverAnyFlippedByte flips each byte of the log in turn: recovery
// never fails, and every batch whose frame the byte is not in survives,
// except that damage to the last frame of the log is a torn tail.
func TestRecoverAnyFlippedByte(t *testing.T) {
	src := t.TempDir()
	at := buildDamageLog(t, src, 1)
	segs := segFiles(t, src)
	orig := map[string][]byte{}
	for _, s := range segs {
		orig[s] = readFile(t, filepath.Join(src, s))
	}
	for _, s := range segs {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for off := range len(orig[s]) {
				for name, b := range orig {
					writeFile(t, filepath.Join(dir, name), b)
				}
				for _, m := range []string{"cursor", "*.damaged", "*.missing"} {
					extra, _ := filepath.Glob(filepath.Join(dir, m))
					for _, e := range extra {
						os.Remove(e)
					}
				}
				b := slices.Clone(orig[s])
				b[off] ^= 0x10
				writeFile(t, filepath.Join(dir, s), b)
				// The batch whose frame holds the byte, if any.
				hit := -1
				for i, p := range at {
					if filepath.Base(p.path) == s && int64(off) >= p.off && int64(off) < p.off+dmgFrame {
						hit = i
					}
				}
				l, err := Open(dir, Options{SegmentBytes: dmgSegBytes})
				if err != nil {
					t.Fatalf("flip at %s:%d: Open: %v", s, off, err)
				}
				bl := l.Backlog(1)
				got := dataOf(readAll(t, l, bl.From, bl.To))
				l.Close()
				for _, w := range dmgSurvivors(1, hit) {
					if !slices.Contains(got, w) {
						t.Fatalf("flip at %s:%d (batch %d): lost %q; got %q", s, off, hit, w, got)
					}
				}
			}
		})
	}
}

// checkSurvivors reads everything from from (which may be in a hole: Backlog
// then starts after it) and compares it with want.
func checkSurvivors(t *testing.T, l *SegmentLog, from uint64, want []string) {
	t.Helper()
	bl := l.Backlog(from)
	got := dataOf(readAll(t, l, from, max(bl.To, from)))
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("records from %d:\n got %q\nwant %q", from, got, want)
	}
	if bl.Records != len(want) || bl.From < from {
		t.Fatalf("Backlog(%d) = %+v, want %d records", from, bl, len(want))
	}
}
