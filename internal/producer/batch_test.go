package producer

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// cut runs records of the given sizes through a batcher and returns the
// record count of each batch.
func cut(sizes ...int) []int {
	b := newBatcher()
	var out []int
	for _, n := range sizes {
		if full := b.add(make([]byte, n), int64(n)); full != nil {
			out = append(out, full.len())
		}
	}
	if last := b.flush(); last != nil {
		out = append(out, last.len())
	}
	return out
}

func repeat(n, size int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = size
	}
	return s
}

func TestBatchBoundaries(t *testing.T) {
	tests := map[string]struct {
		sizes []int
		want  []int
	}{
		"500 records fill one batch":     {repeat(500, 10), []int{500}},
		"the 501st starts the next":      {repeat(501, 10), []int{500, 1}},
		"1001 records":                   {repeat(1001, 1), []int{500, 500, 1}},
		"exactly 4 MiB fits":             {repeat(4, MaxBatchBytes/4), []int{4}},
		"one byte over 4 MiB is cut":     {append(repeat(4, MaxBatchBytes/4), 1), []int{4, 1}},
		"four of the largest records":    {repeat(5, MaxRecordBytes), []int{4, 1}},
		"bytes cut before the count":     {append(repeat(13, MaxRecordBytes/3), repeat(600, 1)...), []int{12, 500, 101}},
		"largest record after small one": {[]int{MaxBatchBytes - MaxRecordBytes + 1, MaxRecordBytes}, []int{1, 1}},
		"nothing":                        {nil, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := cut(tc.sizes...)
			if len(got) != len(tc.want) {
				t.Fatalf("batches %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("batches %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestBatchKeepsRecords(t *testing.T) {
	b := newBatcher()
	b.add([]byte("one\n"), 4)
	b.add([]byte("two\n"), 6) // a blank line before it
	got := b.flush()
	if string(got.record(0)) != "one\n" || string(got.record(1)) != "two\n" || got.src != 10 {
		t.Fatalf("records %q %q, src %d", got.record(0), got.record(1), got.src)
	}
}

// lines reads every record of input and the oversized line numbers.
func lines(t *testing.T, input string, keepNewline bool) (recs []string, over []int64, src int64) {
	t.Helper()
	lr := newLineReader(strings.NewReader(input), keepNewline)
	for {
		rec, n, err := lr.next()
		src += n
		var o *errOversized
		switch {
		case err == io.EOF:
			return recs, over, src
		case errors.As(err, &o):
			over = append(over, o.line)
		case err != nil:
			t.Fatal(err)
		default:
			recs = append(recs, string(rec))
		}
	}
}

func TestLineReader(t *testing.T) {
	big := strings.Repeat("x", MaxRecordBytes)
	tests := map[string]struct {
		input string
		keep  bool
		want  []string
		over  []int64
	}{
		"newlines kept":               {"a\nbb\n", true, []string{"a\n", "bb\n"}, nil},
		"newlines dropped":            {"a\nbb\n", false, []string{"a", "bb"}, nil},
		"last line gets its newline":  {"a\nbb", true, []string{"a\n", "bb\n"}, nil},
		"blank lines skipped":         {"\n\na\n\n", true, []string{"a\n"}, nil},
		"CRLF kept as written":        {"a\r\n", true, []string{"a\r\n"}, nil},
		"largest record, no newline":  {big + "\nb\n", false, []string{big, "b"}, nil},
		"largest record with newline": {big[1:] + "\nb\n", true, []string{big[1:] + "\n", "b\n"}, nil},
		"newline makes it oversized":  {big + "\nb\n", true, []string{"b\n"}, []int64{1}},
		"oversized skipped, go on":    {"a\n" + big + "x\nb\n", false, []string{"a", "b"}, []int64{2}},
		"huge last line":              {"a\n" + big + big, false, []string{"a"}, []int64{2}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			recs, over, src := lines(t, tc.input, tc.keep)
			if strings.Join(recs, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("records %.40q, want %.40q", recs, tc.want)
			}
			if len(over) != len(tc.over) || (len(over) > 0 && over[0] != tc.over[0]) {
				t.Fatalf("oversized lines %v, want %v", over, tc.over)
			}
			if src != int64(len(tc.input)) {
				t.Fatalf("accounted for %d input bytes of %d", src, len(tc.input))
			}
		})
	}
}

// TestLineReaderLongLines crosses the bufio buffer with lines of every
// size around it.
func TestLineReaderLongLines(t *testing.T) {
	var in bytes.Buffer
	var want []string
	for _, n := range []int{1, 256<<10 - 1, 256 << 10, 256<<10 + 1, 600 << 10} {
		l := strings.Repeat("y", n)
		want = append(want, l)
		in.WriteString(l + "\n")
	}
	recs, over, _ := lines(t, in.String(), false)
	if len(over) != 0 || len(recs) != len(want) {
		t.Fatalf("%d records, %d oversized", len(recs), len(over))
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Fatalf("record %d: %d bytes, want %d", i, len(recs[i]), len(want[i]))
		}
	}
}
