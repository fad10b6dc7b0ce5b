package athena

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/objstore"
)

// Result files are written as Athena writes them: a SELECT's as
// <id>.csv, every value double-quoted (quotes doubled), NULL as an empty
// unquoted field, a header line of column names first; a DDL or utility
// statement's as <id>.txt, one line per row, columns separated by tabs.
// Beside each, <file>.metadata holds the result's columns (hydrant writes
// it as JSON: Athena's own encoding of that file is undocumented).

// spool collects a running query's result in a local file, so results of
// any size are never held in memory; once the query succeeds the file is
// stored where Athena stores it.
type spool struct {
	f      *os.File
	w      *bufio.Writer
	cols   []Column
	header bool
	begun  bool
	rows   int64
	bytes  int64
	max    int64 // bound on the result's bytes (0: none)
}

func newSpool(path string, max int64) (*spool, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("result spool: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 64<<10), max: max}, nil
}

// Begin implements Results.
func (s *spool) Begin(cols []Column, header bool) error {
	if s.begun {
		return errors.New("athena: Begin called twice")
	}
	s.cols, s.header, s.begun = cols, header, true
	if header {
		names := make([]*string, len(cols))
		for i := range cols {
			names[i] = &cols[i].Name
		}
		return s.write(names)
	}
	return nil
}

// Row implements Results.
func (s *spool) Row(vals []*string) error {
	if !s.begun {
		return errors.New("athena: Row before Begin")
	}
	s.rows++
	return s.write(vals)
}

func (s *spool) write(vals []*string) error {
	n := 0
	if s.header {
		for i, v := range vals {
			if i > 0 {
				s.w.WriteByte(',')
				n++
			}
			if v == nil {
				continue
			}
			s.w.WriteByte('"')
			s.w.WriteString(strings.ReplaceAll(*v, `"`, `""`))
			s.w.WriteByte('"')
			n += len(*v) + 2
		}
	} else {
		for i, v := range vals {
			if i > 0 {
				s.w.WriteByte('\t')
				n++
			}
			if v != nil {
				s.w.WriteString(*v)
				n += len(*v)
			}
		}
	}
	if err := s.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("result spool: %w", err)
	}
	s.bytes += int64(n + 1)
	if s.max > 0 && s.bytes > s.max {
		return &QueryError{Category: CategoryUser, Type: ErrResourcesExhausted,
			Message: fmt.Sprintf("Query result exceeded the limit of %d bytes (--query-max-result-bytes)", s.max)}
	}
	return nil
}

// close flushes and closes the spool file.
func (s *spool) close() error {
	err := s.w.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// metadata is the .metadata file's content.
type metadata struct {
	ColumnInfo []Column `json:"ColumnInfo"`
	Header     bool     `json:"Header"`
	Rows       int64    `json:"Rows"`
}

// store copies the spool to bucket/key and writes key.metadata.
func (s *spool) store(ctx context.Context, st objstore.Store, bucket, key string) error {
	path := s.f.Name()
	ct := "text/csv"
	if !s.header {
		ct = "text/plain"
	}
	meta, _ := json.Marshal(metadata{ColumnInfo: s.cols, Header: s.header, Rows: s.rows})
	// The two objects are written at once: each waits for its own fsyncs.
	metaErr := make(chan error, 1)
	go func() {
		metaErr <- st.Put(ctx, bucket, key+".metadata", objstore.Meta{ContentType: "application/json"}, func(w io.Writer) error {
			_, err := w.Write(meta)
			return err
		})
	}()
	err := st.Put(ctx, bucket, key, objstore.Meta{ContentType: ct}, func(w io.Writer) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(w, f)
		return err
	})
	if merr := <-metaErr; err == nil {
		err = merr
	}
	return err
}

// pageToken is where the next page of a result starts.
type pageToken struct {
	offset int64
	row    int64
}

func (t pageToken) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf("h1:%d:%d", t.offset, t.row)))
}

func parseToken(s string) (pageToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageToken{}, err
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != "h1" {
		return pageToken{}, errors.New("bad token")
	}
	off, err1 := strconv.ParseInt(parts[1], 10, 64)
	row, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || off < 0 || row < 0 {
		return pageToken{}, errors.New("bad token")
	}
	return pageToken{offset: off, row: row}, nil
}

// readPage reads up to max rows of a stored result from a token's place.
// It returns the rows and the next token ("" at the end).
func readPage(ctx context.Context, st objstore.Store, bucket, key string, csv bool, ncols int, tok pageToken, max int) ([][]*string, string, error) {
	rc, err := st.Get(ctx, bucket, key)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	if sk, ok := rc.(io.Seeker); ok {
		if _, err := sk.Seek(tok.offset, io.SeekStart); err != nil {
			return nil, "", err
		}
	} else if _, err := io.CopyN(io.Discard, rc, tok.offset); err != nil {
		return nil, "", err
	}
	br := bufio.NewReaderSize(rc, 64<<10)
	var rows [][]*string
	off := tok.offset
	for len(rows) < max {
		row, n, err := readRecord(br, csv, ncols)
		if err == io.EOF {
			return rows, "", nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("read result %s/%s at %d: %w", bucket, key, off, err)
		}
		off += int64(n)
		rows = append(rows, row)
	}
	if _, err := br.Peek(1); err == io.EOF {
		return rows, "", nil
	}
	return rows, pageToken{offset: off, row: tok.row + int64(len(rows))}.String(), nil
}

// readRecord reads one line of a result file and the bytes it took.
func readRecord(br *bufio.Reader, csv bool, ncols int) ([]*string, int, error) {
	if !csv {
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return nil, 0, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, 0, err
		}
		n := len(line)
		line = strings.TrimSuffix(line, "\n")
		var fields []string
		if ncols <= 1 {
			fields = []string{line}
		} else {
			fields = strings.SplitN(line, "\t", ncols)
		}
		out := make([]*string, len(fields))
		for i := range fields {
			out[i] = &fields[i]
		}
		return out, n, nil
	}
	var out []*string
	n := 0
	for {
		c, err := br.ReadByte()
		if err == io.EOF && n == 0 {
			return nil, 0, io.EOF
		}
		if err != nil {
			return nil, 0, err
		}
		n++
		switch c {
		case '\n':
			return append(out, nil), n, nil
		case ',':
			out = append(out, nil)
		case '"':
			var b strings.Builder
			for {
				c, err := br.ReadByte()
				if err != nil {
					return nil, 0, fmt.Errorf("unterminated quoted field")
				}
				n++
				if c == '"' {
					next, err := br.ReadByte()
					if err != nil {
						return nil, 0, fmt.Errorf("record without newline")
					}
					n++
					if next == '"' {
						b.WriteByte('"')
						continue
					}
					v := b.String()
					out = append(out, &v)
					if next == '\n' {
						return out, n, nil
					}
					if next != ',' {
						return nil, 0, fmt.Errorf("unexpected %q after a quoted field", next)
					}
					break
				}
				b.WriteByte(c)
			}
		default:
			return nil, 0, fmt.Errorf("unexpected %q in a result record", c)
		}
	}
}
