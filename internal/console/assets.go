package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// The front end: HTML shells, CSS, JavaScript modules and the vendored
// chart library, served from the binary.
//
//go:embed assets
var assetFS embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	gz    []byte // gzip of body, when it is worth it
	etag  string
	ctype string
}

// assets are the embedded files by path under assets/.
type assets struct {
	files map[string]*asset
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]*asset{}}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &asset{body: body, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: contentType(p)}
		if len(body) > 1024 && !strings.HasSuffix(p, ".png") {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			f.gz = buf.Bytes()
		}
		a.files[strings.TrimPrefix(p, "assets/")] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console assets: %w", err)
	}
	for _, need := range []string{"index.html", "login.html"} {
		if a.files[need] == nil {
			return nil, fmt.Errorf("console assets: %s missing", need)
		}
	}
	return a, nil
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// serve writes an asset, honouring If-None-Match and gzip; the browser
// revalidates each use (no-cache), which costs a 304 on loopback.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	secure(w)
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Add("Vary", "Accept-Encoding")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.body
	if a.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = a.gz
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(body)
}

func (c *Console) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, Prefix+"/assets/")
	f := c.assets.files[name]
	if f == nil || strings.HasSuffix(name, ".html") {
		secure(w)
		http.NotFound(w, r)
		return
	}
	f.serve(w, r)
}

// servePage serves the console's shell for every page path: the pages
// themselves are drawn by the scripts, from the API, so the shell holds no
// data and needs no session (the scripts send to the login page when the
// API asks for one).
func (c *Console) servePage(w http.ResponseWriter, r *http.Request) {
	c.assets.files["index.html"].serve(w, r)
}

func (c *Console) serveLoginPage(w http.ResponseWriter, r *http.Request) {
	c.assets.files["login.html"].serve(w, r)
}
