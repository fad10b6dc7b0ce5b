package lambda

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/hydrant-io/hydrant/internal/atomicfile"
	hstate "github.com/hydrant-io/hydrant/internal/state"
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

// store keeps functions in a state store under "functions/" (the keys
// below), which on one node are the files of the same names in the data
// dir:
//
//	functions/<name>/function.json     the record (atomic JSON)
//	functions/<name>/code-<hex>.zip    the deployment package
//
// and <dir>/.run/ holds unpacked code and instance scratch (wiped at
// start). In a cluster the store is shared and <dir>/<name>/code-<hex>.zip
// is this node's copy of a package, fetched when a function is first run
// here. Function names match validName, so they never start with a dot and
// never leave dir.
type store struct {
	st     hstate.Store
	prefix string // "functions/"
	dir    string // where packages are run from
	shared bool
	log    *slog.Logger
}

const recordFile = "function.json"

// openStore returns the store of functions: the files in dir, or a shared
// state store (a cluster).
func openStore(dir string, shared hstate.Store, log *slog.Logger) (*store, error) {
	if shared != nil {
		return &store{st: shared, prefix: "functions/", dir: dir, shared: true, log: log}, nil
	}
	base := filepath.Base(dir)
	st, err := hstate.OpenLocal(filepath.Dir(dir), base+"/*/"+recordFile, base+"/*/code-*.zip")
	if err != nil {
		return nil, err
	}
	return &store{st: st, prefix: base + "/", dir: dir, log: log}, nil
}

func (st *store) fnDir(name string) string { return filepath.Join(st.dir, name) }

func (st *store) key(name, file string) string { return st.prefix + name + "/" + file }

// codePath is the local path of a function's package.
func (st *store) codePath(name, file string) string { return filepath.Join(st.fnDir(name), file) }

// parse reads a record key's value; ok is false for other keys.
func (st *store) parse(e hstate.Entry) (name string, rec *record, ok bool, err error) {
	rest, found := strings.CutPrefix(e.Key, st.prefix)
	if !found {
		return "", nil, false, nil
	}
	name, file, found := strings.Cut(rest, "/")
	if !found || file != recordFile || !validName.MatchString(name) {
		return "", nil, false, nil
	}
	var r record
	if err := json.Unmarshal(e.Value, &r); err != nil {
		return name, nil, true, err
	}
	if r.Config.FunctionName != name || !strings.HasPrefix(r.CodeFile, "code-") || path.Base(r.CodeFile) != r.CodeFile {
		return name, nil, true, fmt.Errorf("inconsistent function record (it names %q)", r.Config.FunctionName)
	}
	return name, &r, true, nil
}

// load reads every function and tidies what a crash may have left:
// packages no record names (a create or delete cut short, an update
// replaced) are removed.
func (st *store) load(ctx context.Context) (map[string]*record, error) {
	if err := os.MkdirAll(st.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create functions dir: %w", err)
	}
	entries, err := st.st.List(ctx, st.prefix)
	if err != nil {
		return nil, fmt.Errorf("read functions: %w", err)
	}
	out := map[string]*record{}
	for _, e := range entries {
		name, rec, ok, err := st.parse(e)
		switch {
		case !ok:
			continue
		case err != nil:
			// Leave it for a person to look at; serve the others.
			st.log.Error("skipping unreadable function", "function", name, "err", err)
			continue
		}
		if err := st.ensure(ctx, name, rec.CodeFile); err != nil {
			st.log.Error("skipping function whose package is missing", "function", name, "err", err)
			continue
		}
		out[name] = rec
	}
	if !st.shared {
		for _, e := range entries {
			rest := strings.TrimPrefix(e.Key, st.prefix)
			name, file, _ := strings.Cut(rest, "/")
			if strings.HasPrefix(file, "code-") && (out[name] == nil || out[name].CodeFile != file) {
				if rec := out[name]; rec == nil {
					st.log.Warn("removing the package of an incomplete function", "function", name)
				}
				if err := st.st.Delete(ctx, e.Key, hstate.Any); err != nil {
					return nil, fmt.Errorf("remove stale package of %s: %w", name, err)
				}
			}
		}
		// A directory without function.json is a create or delete cut
		// short: nothing in it is a function.
		dirs, err := os.ReadDir(st.dir)
		if err != nil {
			return nil, fmt.Errorf("read functions dir: %w", err)
		}
		for _, d := range dirs {
			if d.IsDir() && validName.MatchString(d.Name()) && out[d.Name()] == nil {
				st.log.Warn("removing incomplete function directory", "function", d.Name())
				if err := os.RemoveAll(st.fnDir(d.Name())); err != nil {
					return nil, fmt.Errorf("remove incomplete function %s: %w", d.Name(), err)
				}
			}
		}
	}
	return out, nil
}

// ensure makes sure a function's package is on this node's disk, fetching
// it from a shared store when it is not.
func (st *store) ensure(ctx context.Context, name, file string) error {
	p := st.codePath(name, file)
	if _, err := os.Stat(p); err == nil || !st.shared {
		return err
	}
	e, err := st.st.Get(ctx, st.key(name, file))
	if err != nil {
		return fmt.Errorf("fetch package of %s: %w", name, err)
	}
	if err := os.MkdirAll(st.fnDir(name), 0o755); err != nil {
		return fmt.Errorf("create function dir: %w", err)
	}
	return atomicfile.Write(p, e.Value, 0o644)
}

// writeCode stores a package durably under its content name and returns
// that name.
func (st *store) writeCode(name string, zip []byte) (string, error) {
	sum := sha256.Sum256(zip)
	file := "code-" + hex.EncodeToString(sum[:]) + ".zip"
	if _, err := st.st.Put(context.Background(), st.key(name, file), zip, hstate.Any); err != nil {
		return "", err
	}
	if st.shared {
		// This node runs it from its own copy.
		if err := os.MkdirAll(st.fnDir(name), 0o755); err != nil {
			return "", fmt.Errorf("create function dir: %w", err)
		}
		if err := atomicfile.Write(st.codePath(name, file), zip, 0o644); err != nil {
			return "", err
		}
	}
	return file, nil
}

// save writes a function's record atomically. create refuses to replace
// one that exists (another node created the same name a moment ago).
func (st *store) save(rec *record, create bool) error {
	b, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return fmt.Errorf("encode function %s: %w", rec.Config.FunctionName, err)
	}
	rev := hstate.Any
	if create {
		rev = 0
	}
	_, err = st.st.Put(context.Background(), st.key(rec.Config.FunctionName, recordFile), append(b, '\n'), rev)
	return err
}

// removeStale deletes packages other than keep.
func (st *store) removeStale(name, keep string) {
	ctx := context.Background()
	entries, err := st.st.List(ctx, st.prefix+name+"/")
	if err != nil {
		return
	}
	for _, e := range entries {
		file := path.Base(e.Key)
		if file == keep || !strings.HasPrefix(file, "code-") {
			continue
		}
		if err := st.st.Delete(ctx, e.Key, hstate.Any); err != nil {
			st.log.Warn("remove stale package", "function", name, "file", file, "err", err)
		}
	}
	if st.shared {
		st.dropLocal(name, keep)
	}
}

// dropLocal deletes this node's copies of a function's packages other than
// keep ("" for all).
func (st *store) dropLocal(name, keep string) {
	entries, err := os.ReadDir(st.fnDir(name))
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	for _, e := range entries {
		if e.Name() != keep {
			_ = os.Remove(filepath.Join(st.fnDir(name), e.Name()))
		}
	}
	if keep == "" {
		_ = os.Remove(st.fnDir(name))
	}
}

// remove deletes a function: its record first (durably), so that a crash
// part-way leaves packages that load removes rather than a function
// without its package.
func (st *store) remove(name string) error {
	ctx := context.Background()
	if err := st.st.Delete(ctx, st.key(name, recordFile), hstate.Any); err != nil {
		return fmt.Errorf("delete function %s: %w", name, err)
	}
	entries, err := st.st.List(ctx, st.prefix+name+"/")
	if err != nil {
		return fmt.Errorf("delete function %s: %w", name, err)
	}
	for _, e := range entries {
		if err := st.st.Delete(ctx, e.Key, hstate.Any); err != nil {
			return fmt.Errorf("delete function %s: %w", name, err)
		}
	}
	if st.shared {
		st.dropLocal(name, "")
	}
	return nil
}
