package atomicfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// JSONDir is a directory of records, one JSON file each
// (<dir>/<name>.json), written atomically: the file store of a service
// whose records are few and change one at a time. Names are the caller's
// to make safe as file names.
type JSONDir struct{ dir string }

// OpenJSONDir creates dir if needed and removes the temporary files of
// writes a crash cut short.
func OpenJSONDir(dir string) (*JSONDir, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if _, err := CleanTemps(dir); err != nil {
		return nil, err
	}
	return &JSONDir{dir: dir}, nil
}

// Save writes v as name's record.
func (d *JSONDir) Save(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return Write(filepath.Join(d.dir, name+".json"), b, 0o644)
}

// Remove deletes name's record; a missing one is not an error.
func (d *JSONDir) Remove(name string) error {
	if err := os.Remove(filepath.Join(d.dir, name+".json")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// LoadJSON reads every record of d whose name keep accepts (nil: all).
// A record that cannot be read or decoded is skipped, and named in the
// error returned with the others.
func LoadJSON[T any](d *JSONDir, keep func(name string) bool) ([]*T, error) {
	files, err := filepath.Glob(filepath.Join(d.dir, "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*T
	var errs []error
	for _, f := range files {
		if keep != nil && !keep(strings.TrimSuffix(filepath.Base(f), ".json")) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		v := new(T)
		if err := json.Unmarshal(b, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		out = append(out, v)
	}
	return out, errors.Join(errs...)
}
