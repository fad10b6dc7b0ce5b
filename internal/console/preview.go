package console

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// Preview bounds: the first records of an object, read from at most
// maxPreviewBytes of its uncompressed content. A Parquet object is read
// with random access; stores that give none are read into memory, up to
// maxParquetBytes.
const (
	maxPreviewRecords = 100
	maxPreviewBytes   = 1 << 20
	maxParquetBytes   = 64 << 20
	maxRecordShown    = 64 << 10
)

// preview is GET /api/streams/{name}/object?key=: the first records of an
// object, decoded as what it holds.
type preview struct {
	Bucket      string    `json:"bucket"`
	Key         string    `json:"key"`
	Size        int64     `json:"size"`
	Modified    time.Time `json:"modified,omitzero"`
	Compression string    `json:"compression"`
	// Format is "records" (JSON values or lines: Records), "errors"
	// (Firehose's error output: Errors), "parquet" (Columns and Rows) or
	// "binary" (Text is a hex dump of the start).
	Format    string        `json:"format"`
	Records   []string      `json:"records,omitempty"`
	Errors    []errorRecord `json:"errors,omitempty"`
	Columns   []column      `json:"columns,omitempty"`
	Rows      [][]any       `json:"rows,omitempty"`
	TotalRows int64         `json:"totalRows,omitempty"`
	Text      string        `json:"text,omitempty"`
	// Truncated says there is more than the preview shows.
	Truncated bool `json:"truncated"`
}

// errorRecord is one record of the error output with its rawData decoded:
// RawData is the record as text when it is UTF-8, RawBase64 otherwise.
type errorRecord struct {
	ErrorCode              string          `json:"errorCode"`
	ErrorMessage           string          `json:"errorMessage"`
	AttemptsMade           int             `json:"attemptsMade"`
	ArrivalTimestamp       int64           `json:"arrivalTimestamp"`
	AttemptEndingTimestamp int64           `json:"attemptEndingTimestamp"`
	LambdaARN              string          `json:"lambdaArn,omitempty"`
	SequenceNumber         string          `json:"sequenceNumber,omitempty"`
	DataCatalogTable       json.RawMessage `json:"dataCatalogTable,omitempty"`
	RawData                *string         `json:"rawData,omitempty"`
	RawBase64              string          `json:"rawBase64,omitempty"`
	RawSize                int             `json:"rawSize"`
}

func (c *Console) handlePreview(w http.ResponseWriter, r *http.Request) error {
	_, st, err := c.stream(r, r.PathValue("name"))
	if err != nil {
		return err
	}
	key := r.URL.Query().Get("key")
	if key == "" {
		return errorf(http.StatusBadRequest, "key is required")
	}
	p, err := c.preview(r, st.Destination.Bucket, key)
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return errorf(http.StatusNotFound, "no object %s in bucket %s", key, st.Destination.Bucket)
	case errors.Is(err, objstore.ErrNoSuchBucket):
		return errorf(http.StatusNotFound, "no bucket %s", st.Destination.Bucket)
	case errors.Is(err, objstore.ErrInvalidKey):
		return errorf(http.StatusBadRequest, "%v", err)
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// preview reads the start of an object and decodes it.
func (c *Console) preview(r *http.Request, bucket, key string) (*preview, error) {
	ctx := r.Context()
	rc, err := c.opts.Objects.Get(ctx, bucket, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	p := &preview{Bucket: bucket, Key: key, Size: -1}
	if f, ok := rc.(interface{ Stat() (os.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil {
			p.Size, p.Modified = fi.Size(), fi.ModTime()
		}
	}
	br := bufio.NewReaderSize(rc, 64<<10)
	head, _ := br.Peek(16)
	if bytes.HasPrefix(head, []byte("PAR1")) {
		p.Compression = "UNCOMPRESSED"
		return p, c.previewParquet(p, rc, br)
	}
	p.Compression = compress.Detect(head, key)
	var in io.Reader = br
	if p.Compression == compress.ZIP {
		// ZIP needs the whole object (its directory is at the end).
		in = io.LimitReader(br, maxParquetBytes)
	}
	zr, err := compress.NewReader(p.Compression, in)
	if err != nil {
		return nil, fmt.Errorf("decompress %s as %s: %w", key, p.Compression, err)
	}
	defer zr.Close()
	content, err := io.ReadAll(io.LimitReader(zr, maxPreviewBytes+1))
	if err != nil && len(content) == 0 {
		return nil, fmt.Errorf("decompress %s as %s: %w", key, p.Compression, err)
	}
	if len(content) > maxPreviewBytes {
		content, p.Truncated = content[:maxPreviewBytes], true
	}
	decodeContent(p, content)
	return p, nil
}

// decodeContent fills p from an object's uncompressed start: Firehose's
// error output, JSON values (one per line or back to back, as records
// without a delimiter arrive), lines of text, or a hex dump.
func decodeContent(p *preview, content []byte) {
	if errs, ok := decodeErrorRecords(content); ok {
		p.Format, p.Errors = "errors", errs
		if len(errs) == maxPreviewRecords {
			p.Truncated = true
		}
		return
	}
	if !textLike(content) {
		p.Format, p.Text = "binary", hexDump(content[:min(len(content), 512)])
		return
	}
	p.Format = "records"
	if recs, ok := jsonValues(content); ok {
		p.Records = recs
	} else {
		for line := range strings.Lines(string(content)) {
			p.Records = append(p.Records, clipRecord(strings.TrimRight(line, "\r\n")))
			if len(p.Records) == maxPreviewRecords {
				break
			}
		}
	}
	if len(p.Records) == maxPreviewRecords {
		p.Truncated = true
	}
}

// textLike reports whether b is UTF-8 text without NUL bytes (a rune cut
// at its end by the preview's byte limit allowed).
func textLike(b []byte) bool {
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				b = b[:i]
			}
			break
		}
	}
	return utf8.Valid(b)
}

// jsonValues splits content into its first JSON values, each compacted;
// ok is false unless content starts with JSON values.
func jsonValues(content []byte) ([]string, bool) {
	dec := json.NewDecoder(bytes.NewReader(content))
	var out []string
	for len(out) < maxPreviewRecords {
		var v json.RawMessage
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A value cut by the preview's byte limit ends the list; text
			// that is not JSON at all is shown as lines.
			return out, len(out) > 0
		}
		out = append(out, clipRecord(string(v)))
	}
	return out, len(out) > 0
}

func clipRecord(s string) string {
	if len(s) > maxRecordShown {
		return s[:maxRecordShown] + "…"
	}
	return s
}

// decodeErrorRecords reads Firehose's error output: one JSON object per
// line with rawData (base64) and errorCode, or lastErrorCode for format
// conversion failures. ok is false unless the first line is one.
func decodeErrorRecords(content []byte) ([]errorRecord, bool) {
	var out []errorRecord
	for line := range bytes.Lines(content) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var raw struct {
			RawData                *string         `json:"rawData"`
			ErrorCode              string          `json:"errorCode"`
			ErrorMessage           string          `json:"errorMessage"`
			LastErrorCode          string          `json:"lastErrorCode"`
			LastErrorMessage       string          `json:"lastErrorMessage"`
			AttemptsMade           int             `json:"attemptsMade"`
			ArrivalTimestamp       int64           `json:"arrivalTimestamp"`
			AttemptEndingTimestamp int64           `json:"attemptEndingTimestamp"`
			LambdaARN              string          `json:"lambdaArn"`
			SequenceNumber         string          `json:"sequenceNumber"`
			DataCatalogTable       json.RawMessage `json:"dataCatalogTable"`
		}
		if err := json.Unmarshal(line, &raw); err != nil || raw.RawData == nil || raw.ErrorCode == "" && raw.LastErrorCode == "" {
			if len(out) == 0 {
				return nil, false
			}
			break // the line the byte limit cut
		}
		e := errorRecord{ErrorCode: raw.ErrorCode, ErrorMessage: raw.ErrorMessage, AttemptsMade: raw.AttemptsMade,
			ArrivalTimestamp: raw.ArrivalTimestamp, AttemptEndingTimestamp: raw.AttemptEndingTimestamp,
			LambdaARN: raw.LambdaARN, SequenceNumber: raw.SequenceNumber, DataCatalogTable: raw.DataCatalogTable}
		if e.ErrorCode == "" {
			e.ErrorCode, e.ErrorMessage = raw.LastErrorCode, raw.LastErrorMessage
		}
		data, err := base64.StdEncoding.DecodeString(*raw.RawData)
		switch {
		case err != nil:
			e.RawBase64 = *raw.RawData
		case utf8.Valid(data):
			s := clipRecord(string(data))
			e.RawData = &s
		default:
			e.RawBase64 = *raw.RawData
		}
		e.RawSize = len(data)
		out = append(out, e)
		if len(out) == maxPreviewRecords {
			break
		}
	}
	return out, len(out) > 0
}

// hexDump shows bytes as offset, hex and printable characters.
func hexDump(b []byte) string {
	var sb strings.Builder
	for off := 0; off < len(b); off += 16 {
		row := b[off:min(off+16, len(b))]
		fmt.Fprintf(&sb, "%08x  ", off)
		for i := range 16 {
			if i < len(row) {
				fmt.Fprintf(&sb, "%02x ", row[i])
			} else {
				sb.WriteString("   ")
			}
		}
		sb.WriteString(" ")
		for _, ch := range row {
			if ch >= 0x20 && ch < 0x7f {
				sb.WriteByte(ch)
			} else {
				sb.WriteByte('.')
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}
