package lambda

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// maxUnzipped is Lambda's limit on a package's unzipped size.
const maxUnzipped = 262144000

// errBadZip is a package that is not a readable zip archive.
var errBadZip = errors.New("could not unzip uploaded file")

// checkZip verifies that b is a zip archive within Lambda's unzipped
// limit (as its directory declares; unzip counts again).
func checkZip(b []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return errBadZip
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total > maxUnzipped {
		return fmt.Errorf("unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	return nil
}

// unzip extracts the archive at src into dir, which must exist and be
// empty. Every write goes through an os.Root at dir, so no entry, however
// named (../x, /etc/x) and whatever symlinks earlier entries made, can land
// outside it. Symlinks that would point outside the package are skipped.
// Files keep the archive's permission bits; archives made without Unix
// modes (on Windows) get 0644, and 0755 for bootstrap.
func unzip(src, dir string) error {
	zr, err := zip.OpenReader(src)
	if err != nil {
		return fmt.Errorf("open package: %w", err)
	}
	defer zr.Close()
	root, err := os.OpenRoot(dir)
	if err != nil {
		return fmt.Errorf("open code dir: %w", err)
	}
	defer root.Close()
	var written int64
	for _, f := range zr.File {
		name := strings.TrimPrefix(path.Clean("/"+strings.ReplaceAll(f.Name, `\`, "/")), "/")
		if name == "" || !filepath.IsLocal(name) {
			continue
		}
		mode := f.Mode()
		switch {
		case mode.IsDir():
			if err := root.MkdirAll(name, 0o755); err != nil {
				return fmt.Errorf("unzip %s: %w", name, err)
			}
			continue
		case mode&fs.ModeSymlink != 0:
			if err := unzipSymlink(root, f, name); err != nil {
				return err
			}
			continue
		case !mode.IsRegular():
			continue
		}
		if d := path.Dir(name); d != "." {
			if err := root.MkdirAll(d, 0o755); err != nil {
				return fmt.Errorf("unzip %s: %w", name, err)
			}
		}
		perm := mode.Perm()
		if f.CreatorVersion>>8 != 3 { // not made on Unix: no modes recorded
			perm = 0o644
			if name == "bootstrap" {
				perm = 0o755
			}
		}
		n, err := unzipFile(root, f, name, perm|0o400, maxUnzipped-written)
		written += n
		if err != nil {
			return err
		}
	}
	return nil
}

func unzipFile(root *os.Root, f *zip.File, name string, perm fs.FileMode, budget int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, fmt.Errorf("unzip %s: %w", name, err)
	}
	defer rc.Close()
	out, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return 0, fmt.Errorf("unzip %s: %w", name, err)
	}
	// The declared sizes of an archive can lie; count what is written.
	n, err := io.Copy(out, io.LimitReader(rc, budget+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("unzip %s: %w", name, err)
	}
	if n > budget {
		return n, fmt.Errorf("unzip: unzipped size must be smaller than %d bytes", maxUnzipped)
	}
	return n, nil
}

func unzipSymlink(root *os.Root, f *zip.File, name string) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("unzip %s: %w", name, err)
	}
	target, err := io.ReadAll(io.LimitReader(rc, 4096))
	rc.Close()
	if err != nil {
		return fmt.Errorf("unzip %s: %w", name, err)
	}
	t := string(target)
	if path.IsAbs(t) || !filepath.IsLocal(path.Join(path.Dir(name), t)) {
		return nil // would point outside the package
	}
	if d := path.Dir(name); d != "." {
		if err := root.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("unzip %s: %w", name, err)
		}
	}
	if err := root.Symlink(t, name); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("unzip %s: %w", name, err)
	}
	return nil
}
