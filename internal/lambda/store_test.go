package lambda

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestPersistence: functions survive a restart, with their configuration,
// and what a crash leaves half-done is cleaned up.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	createFake(t, s, "kept", 9, map[string]string{"MY_VAR": "v"})
	before, _ := s.lookup("kept")
	if _, fnErr, err := invokeJSON(t, s, "kept", fakeEvent{Op: "echo"}); err != nil || fnErr != "" {
		t.Fatalf("invoke: %v %q", err, fnErr)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A create cut short (no function.json) and a stray package.
	_ = os.MkdirAll(filepath.Join(dir, "halfmade"), 0o755)
	_ = os.WriteFile(filepath.Join(dir, "kept", "code-stale.zip"), []byte("x"), 0o644)

	s2 := openService(t, Options{Dir: dir})
	_, rec := s2.lookup("kept")
	if rec == nil {
		t.Fatal("function lost across restart")
	}
	if rec.Config.RevisionId != before.rec.Config.RevisionId || rec.Config.Timeout != 9 || rec.Config.Environment.Variables["MY_VAR"] != "v" {
		t.Errorf("restored config %+v", rec.Config)
	}
	if _, err := os.Stat(filepath.Join(dir, "halfmade")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("incomplete function directory not removed")
	}
	if _, err := os.Stat(filepath.Join(dir, "kept", "code-stale.zip")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale package not removed")
	}
	res, fnErr, err := invokeJSON(t, s2, "kept", fakeEvent{Op: "echo"})
	if err != nil || fnErr != "" || decodeReply(t, res).Env["MY_VAR"] != "v" {
		t.Errorf("invoke after restart: %v %q %s", err, fnErr, res)
	}
}

// TestUnzipConfined: no entry of a hostile archive lands outside the code
// directory, whether by name or through a symlink an earlier entry made.
func TestUnzipConfined(t *testing.T) {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	add := func(name, body string, mode os.FileMode) {
		h := &zip.FileHeader{Name: name}
		h.SetMode(mode)
		w, _ := zw.CreateHeader(h)
		_, _ = w.Write([]byte(body))
	}
	add("../escape.txt", "x", 0o644)
	add("/abs.txt", "x", 0o644)
	add("a/../../escape2.txt", "x", 0o644)
	add("link", "..", os.ModeSymlink|0o777)
	add("link/escape3.txt", "x", 0o644)
	add("inner", "sub", os.ModeSymlink|0o777)
	add("sub/ok.txt", "fine", 0o644)
	add("bootstrap", "#!/bin/sh\n", 0o755)
	_ = zw.Close()
	parent := t.TempDir()
	src := filepath.Join(parent, "code.zip")
	_ = os.WriteFile(src, b.Bytes(), 0o644)
	dir := filepath.Join(parent, "task")
	_ = os.Mkdir(dir, 0o755)
	_ = unzip(src, dir) // errors for the hostile entries are fine; escapes are not
	for _, p := range []string{"escape.txt", "escape2.txt", "escape3.txt", "../escape.txt"} {
		if _, err := os.Stat(filepath.Join(parent, p)); err == nil {
			t.Errorf("%s escaped the code directory", p)
		}
	}
	if fi, err := os.Lstat(filepath.Join(dir, "link")); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		t.Errorf("symlink pointing outside was created")
	}
	if b, err := os.ReadFile(filepath.Join(dir, "inner", "ok.txt")); err != nil || string(b) != "fine" {
		t.Errorf("inner symlink: %v %q", err, b)
	}
	if fi, err := os.Stat(filepath.Join(dir, "abs.txt")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("absolute name not confined to the code dir: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "bootstrap")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("bootstrap lost its executable bit: %v", err)
	}
}

func TestParseFunctionName(t *testing.T) {
	tests := []struct {
		in   string
		want funcRef
		ok   bool
	}{
		{"my-function", funcRef{Name: "my-function"}, true},
		{"my-function:$LATEST", funcRef{Name: "my-function", Qualifier: "$LATEST"}, true},
		{"123456789012:function:f", funcRef{AccountID: "123456789012", Name: "f"}, true},
		{"123456789012:function:f:prod", funcRef{AccountID: "123456789012", Name: "f", Qualifier: "prod"}, true},
		{"arn:aws:lambda:us-west-2:123456789012:function:f", funcRef{Region: "us-west-2", AccountID: "123456789012", Name: "f"}, true},
		{"arn:aws:lambda:us-west-2:123456789012:function:f:1", funcRef{Region: "us-west-2", AccountID: "123456789012", Name: "f", Qualifier: "1"}, true},
		{"../etc", funcRef{}, false},
		{"a/b", funcRef{}, false},
		{"f:", funcRef{}, false},
		{"arn:aws:s3:::bucket", funcRef{}, false},
		{"", funcRef{}, false},
	}
	for _, tt := range tests {
		got, ok := parseFunctionName(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%q: got %+v %v, want %+v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestRelativeDir: a relative data directory (hydrant's default is
// ./hydrant-data) still gives instances absolute paths, since they run in
// their code directory.
func TestRelativeDir(t *testing.T) {
	requireTool(t, "python3")
	t.Chdir(t.TempDir())
	s := openService(t, Options{Dir: "functions"})
	mustCreate(t, s, "rel", "python3.12", "app.handler", zipOf(t, map[string]string{"app.py": "def handler(e, c):\n    return 'ok'\n"}), 10, nil)
	if res, fnErr, err := invokeJSON(t, s, "rel", map[string]any{}); err != nil || fnErr != "" || string(res) != `"ok"` {
		t.Errorf("invoke: %v %q %s", err, fnErr, res)
	}
}
