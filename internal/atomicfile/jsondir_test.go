package atomicfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJSONDir: records saved, replaced, loaded, filtered, removed; a
// damaged record is named in the error and the others still load; a
// crash's temporary files are cleaned at open.
func TestJSONDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".a.json.tmp-123"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := OpenJSONDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type rec struct{ N int }
	for name, n := range map[string]int{"a": 1, "b": 2, "skip": 3} {
		if err := d.Save(name, rec{n}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Save("a", rec{10}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadJSON[rec](d, func(name string) bool { return name != "skip" })
	if err == nil || !strings.Contains(err.Error(), "bad.json") {
		t.Errorf("Load error %v; want one naming bad.json", err)
	}
	sum := 0
	for _, r := range got {
		sum += r.N
	}
	if len(got) != 2 || sum != 12 {
		t.Fatalf("Load = %d records summing %d; want a (10) and b (2)", len(got), sum)
	}
	if err := d.Remove("a"); err != nil {
		t.Fatal(err)
	}
	if err := d.Remove("a"); err != nil {
		t.Fatalf("removing a missing record: %v", err)
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, ".*.tmp-*")); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}
}
