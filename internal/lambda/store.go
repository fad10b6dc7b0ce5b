package lambda

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
)

// record is what hydrant keeps of a function, in
// <dir>/<name>/function.json beside the package it names.
type record struct {
	Config FunctionConfiguration `json:"configuration"`
	Tags   map[string]string     `json:"tags,omitempty"`
	// CodeFile is the package's file name in the function's directory,
	// code-<sha256 hex>.zip. A new package is written under its own name
	// before function.json points at it, so a crash between the two leaves
	// the old, complete function.
	CodeFile string `json:"codeFile"`
}

// store keeps functions on disk:
//
//	<dir>/<name>/function.json     the record (atomic JSON)
//	<dir>/<name>/code-<hex>.zip    the deployment package
//	<dir>/.run/                    unpacked code and instance scratch; wiped at start
//
// Function names match validName, so they never start with a dot and never
// leave dir.
type store struct {
	dir string
	log *slog.Logger
}

const recordFile = "function.json"

func (st *store) fnDir(name string) string { return filepath.Join(st.dir, name) }

// codePath is the path of a function's package.
func (st *store) codePath(name, file string) string { return filepath.Join(st.fnDir(name), file) }

// load reads every function and tidies what a crash may have left: a
// directory without function.json (a create or delete cut short) is
// removed, as are packages no record names.
func (st *store) load() (map[string]*record, error) {
	if err := os.MkdirAll(st.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create functions dir: %w", err)
	}
	entries, err := os.ReadDir(st.dir)
	if err != nil {
		return nil, fmt.Errorf("read functions dir: %w", err)
	}
	out := map[string]*record{}
	for _, e := range entries {
		if !e.IsDir() || !validName.MatchString(e.Name()) {
			continue
		}
		name := e.Name()
		b, err := os.ReadFile(filepath.Join(st.fnDir(name), recordFile))
		if errors.Is(err, fs.ErrNotExist) {
			st.log.Warn("removing incomplete function directory", "function", name)
			if err := os.RemoveAll(st.fnDir(name)); err != nil {
				return nil, fmt.Errorf("remove incomplete function %s: %w", name, err)
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read function %s: %w", name, err)
		}
		var rec record
		if err := json.Unmarshal(b, &rec); err != nil {
			// Leave it for a person to look at; serve the others.
			st.log.Error("skipping unreadable function", "function", name, "err", err)
			continue
		}
		if rec.Config.FunctionName != name || !strings.HasPrefix(rec.CodeFile, "code-") {
			st.log.Error("skipping inconsistent function record", "function", name, "record_name", rec.Config.FunctionName)
			continue
		}
		if _, err := os.Stat(st.codePath(name, rec.CodeFile)); err != nil {
			st.log.Error("skipping function whose package is missing", "function", name, "err", err)
			continue
		}
		st.removeStale(name, rec.CodeFile)
		out[name] = &rec
	}
	return out, nil
}

// writeCode stores a package durably under its content name and returns
// that name.
func (st *store) writeCode(name string, zip []byte) (string, error) {
	if err := os.MkdirAll(st.fnDir(name), 0o755); err != nil {
		return "", fmt.Errorf("create function dir: %w", err)
	}
	sum := sha256.Sum256(zip)
	file := "code-" + hex.EncodeToString(sum[:]) + ".zip"
	if err := atomicfile.Write(st.codePath(name, file), zip, 0o644); err != nil {
		return "", err
	}
	return file, nil
}

// save writes a function's record atomically.
func (st *store) save(rec *record) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode function %s: %w", rec.Config.FunctionName, err)
	}
	return atomicfile.Write(filepath.Join(st.fnDir(rec.Config.FunctionName), recordFile), append(b, '\n'), 0o644)
}

// removeStale deletes packages and temporary files other than keep.
func (st *store) removeStale(name, keep string) {
	entries, err := os.ReadDir(st.fnDir(name))
	if err != nil {
		return
	}
	for _, e := range entries {
		n := e.Name()
		if n == keep || n == recordFile {
			continue
		}
		if strings.HasPrefix(n, "code-") || strings.HasPrefix(n, ".") {
			if err := os.Remove(filepath.Join(st.fnDir(name), n)); err != nil {
				st.log.Warn("remove stale package", "function", name, "file", n, "err", err)
			}
		}
	}
}

// remove deletes a function: its record first (durably), so that a crash
// part-way leaves a directory that load removes rather than a function
// without its package.
func (st *store) remove(name string) error {
	err := os.Remove(filepath.Join(st.fnDir(name), recordFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete function %s: %w", name, err)
	}
	if err := atomicfile.SyncDir(st.fnDir(name)); err != nil {
		return err
	}
	if err := os.RemoveAll(st.fnDir(name)); err != nil {
		return fmt.Errorf("delete function %s: %w", name, err)
	}
	return nil
}
