package main

import (
	"io"
	"testing"
)

func TestCapSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		str  string
	}{
		{"0", 0, "0"},
		{"1048576", 1 << 20, "1MiB"},
		{"512MiB", 512 << 20, "512MiB"},
		{"8GiB", 8 << 30, "8GiB"},
		{"8G", 8 << 30, "8GiB"},
		{"1.5GiB", 3 << 29, "1536MiB"},
		{"64 KB", 64 << 10, "64KiB"},
		{"100B", 100, "100"},
		{"2tib", 2 << 40, "2TiB"},
	}
	for _, tt := range tests {
		var c capSize
		if err := c.Set(tt.in); err != nil {
			t.Errorf("Set(%q): %v", tt.in, err)
			continue
		}
		if int64(c) != tt.want || c.String() != tt.str {
			t.Errorf("Set(%q) = %d (%s), want %d (%s)", tt.in, int64(c), c.String(), tt.want, tt.str)
		}
	}
	for _, bad := range []string{"", "-1", "GiB", "lots", "1e30GiB", "NaN"} {
		var c capSize
		if err := c.Set(bad); err == nil {
			t.Errorf("Set(%q) = %d, want an error", bad, int64(c))
		}
	}
}

func TestBufferFlags(t *testing.T) {
	c, err := parseServe(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.buffers.maxStream != defaultMaxStreamBufferBytes || c.buffers.maxTotal != defaultMaxBufferBytes {
		t.Fatalf("defaults = %d, %d", c.buffers.maxStream, c.buffers.maxTotal)
	}
	c, err = parseServe([]string{"--max-stream-buffer-bytes", "64KiB", "--max-buffer-bytes", "0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.buffers.maxStream != 64<<10 || c.buffers.maxTotal != 0 {
		t.Fatalf("parsed = %d, %d", c.buffers.maxStream, c.buffers.maxTotal)
	}
}
