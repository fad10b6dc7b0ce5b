package console

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/stream"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// errorOutputTypes are the error output types hydrant writes, in the order
// the errors tab lists them.
var errorOutputTypes = []string{"processing-failed", "format-conversion-failed", "partitioning-failed"}

// streamPage is GET /api/streams/{name}: the stream's configuration in
// readable form (resolved by firehose.Spec, every default filled in), its
// description as DescribeDeliveryStream answers it (the raw JSON), where to
// browse its objects, and its buffer.
type streamPage struct {
	Name      string          `json:"name"`
	ARN       string          `json:"arn"`
	Status    string          `json:"status"`
	VersionID int             `json:"versionId"`
	Config    streamConfig    `json:"config"`
	Browse    browseRoots     `json:"browse"`
	Stats     stream.Stats    `json:"stats"`
	Raw       json.RawMessage `json:"raw"`
	// LogGroup is the CloudWatch Logs group of the stream's delivery
	// errors ("" when logging is off).
	LogGroup  string `json:"logGroup,omitempty"`
	LogStream string `json:"logStream,omitempty"`
}

// browseRoots are the fixed parts of the stream's prefixes: where its data
// objects and each error output type's objects are found.
type browseRoots struct {
	Bucket string            `json:"bucket"`
	Data   string            `json:"data"`
	Errors map[string]string `json:"errors"`
}

// streamConfig is a stream's resolved configuration, as the stream page
// shows it.
type streamConfig struct {
	Bucket        string      `json:"bucket"`
	Prefix        string      `json:"prefix"`
	ErrorPrefix   string      `json:"errorPrefix"`
	Compression   string      `json:"compression"`
	Extension     string      `json:"extension"`
	TimeZone      string      `json:"timeZone"`
	BufferBytes   int64       `json:"bufferBytes"`
	BufferSeconds float64     `json:"bufferSeconds"`
	Logging       logging     `json:"logging"`
	Processors    []processor `json:"processors"`
	Partitioning  *partition  `json:"partitioning,omitempty"`
	Conversion    *conversion `json:"conversion,omitempty"`
	Backup        *backup     `json:"backup,omitempty"`
	RoleARN       string      `json:"roleArn,omitempty"`
}

type logging struct {
	Enabled bool   `json:"enabled"`
	Group   string `json:"group,omitempty"`
	Stream  string `json:"stream,omitempty"`
}

// processor is one processor with its parameters, in the order they run.
type processor struct {
	Type   string      `json:"type"`
	Params [][2]string `json:"params,omitempty"`
}

type partition struct {
	RetrySeconds float64 `json:"retrySeconds"`
}

type conversion struct {
	CatalogID    string `json:"catalogId"`
	Database     string `json:"database"`
	Table        string `json:"table"`
	Version      string `json:"version"`
	Deserializer string `json:"deserializer"`
	Compression  string `json:"compression"`
	BlockBytes   int64  `json:"blockBytes"`
	PageBytes    int    `json:"pageBytes"`
	Writer       string `json:"writerVersion"`
}

type backup struct {
	Bucket      string `json:"bucket"`
	Prefix      string `json:"prefix"`
	Compression string `json:"compression"`
}

func (c *Console) handleStream(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	info, st, err := c.stream(r, name)
	if err != nil {
		return err
	}
	page := streamPage{Name: info.Name, ARN: info.ARN, Status: info.Status, VersionID: info.VersionID,
		Config: readable(st), Browse: roots(st)}
	if page.Stats, err = c.opts.Streams.Stats(name); err != nil {
		return errorf(http.StatusNotFound, "%v", err)
	}
	var raw struct {
		DeliveryStreamDescription json.RawMessage
	}
	if err := c.call(r.Context(), firehoseAPI, "DescribeDeliveryStream", map[string]string{"DeliveryStreamName": name}, &raw); err != nil {
		return err
	}
	page.Raw = raw.DeliveryStreamDescription
	if lg := st.Destination.Logging; lg.Enabled {
		page.LogGroup, page.LogStream = lg.Group, lg.Stream
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// stream finds a stream and resolves its configuration.
func (c *Console) stream(r *http.Request, name string) (firehose.StreamInfo, streamspec.Stream, error) {
	info, err := c.opts.Streams.Get(r.Context(), name)
	if errors.Is(err, firehose.ErrStreamNotFound) {
		return info, streamspec.Stream{}, errorf(http.StatusNotFound, "no delivery stream %q", name)
	}
	if err != nil {
		return info, streamspec.Stream{}, err
	}
	st, err := firehose.Spec(info)
	if err != nil {
		return info, st, err
	}
	return info, st, nil
}

func roots(st streamspec.Stream) browseRoots {
	b := browseRoots{Bucket: st.Destination.Bucket, Errors: map[string]string{}}
	if t := st.Destination.Prefix; t != nil {
		b.Data = t.FixedPrefix("")
	}
	if t := st.Destination.ErrorPrefix; t != nil {
		for _, typ := range errorOutputTypes {
			b.Errors[typ] = t.FixedPrefix(typ)
		}
	}
	return b
}

func templateText(t *keys.Template) string {
	if t == nil {
		return ""
	}
	return t.String()
}

// readable lays the resolved stream out for the page.
func readable(st streamspec.Stream) streamConfig {
	d := st.Destination
	cfg := streamConfig{
		Bucket: d.Bucket, Prefix: templateText(d.Prefix), ErrorPrefix: templateText(d.ErrorPrefix),
		Compression: d.Compression, Extension: d.Extension, TimeZone: "UTC",
		BufferBytes: d.Buffering.Bytes, BufferSeconds: d.Buffering.Interval.Seconds(),
		Logging:    logging{Enabled: d.Logging.Enabled, Group: d.Logging.Group, Stream: d.Logging.Stream},
		Processors: processors(st.Processing),
		RoleARN:    d.RoleARN,
	}
	if d.Location != nil {
		cfg.TimeZone = d.Location.String()
	}
	if st.Partitioning.Enabled {
		cfg.Partitioning = &partition{RetrySeconds: st.Partitioning.RetryDuration.Seconds()}
	}
	if cv := st.Conversion; cv.Enabled {
		deser := "OpenX JSON SerDe"
		if cv.Deserializer.Hive {
			deser = "Hive JSON SerDe"
		}
		cfg.Conversion = &conversion{CatalogID: cv.Schema.CatalogID, Database: cv.Schema.Database, Table: cv.Schema.Table,
			Version: cv.Schema.VersionID, Deserializer: deser, Compression: cv.Parquet.Compression,
			BlockBytes: cv.Parquet.BlockSizeBytes, PageBytes: cv.Parquet.PageSizeBytes, Writer: cv.Parquet.WriterVersion}
	}
	if b := st.Backup; b.Enabled {
		cfg.Backup = &backup{Bucket: b.Bucket, Prefix: templateText(b.Prefix), Compression: b.Compression}
	}
	return cfg
}

// processors lists the enabled processors in the order they run
// (internal/process).
func processors(p streamspec.Processing) []processor {
	out := []processor{}
	if !p.Enabled {
		return out
	}
	if p.Decompression != "" {
		out = append(out, processor{Type: "Decompression", Params: [][2]string{{"CompressionFormat", p.Decompression}}})
	}
	if p.CloudWatchLogs {
		out = append(out, processor{Type: "CloudWatchLogProcessing", Params: [][2]string{{"DataMessageExtraction", "true"}}})
	}
	if da := p.DeAggregation; da.Enabled {
		params := [][2]string{{"SubRecordType", "JSON"}}
		if !da.JSON {
			params = [][2]string{{"SubRecordType", "DELIMITED"}, {"Delimiter", string(da.Delimiter)}}
		}
		out = append(out, processor{Type: "RecordDeAggregation", Params: params})
	}
	if l := p.Lambda; l.Enabled {
		out = append(out, processor{Type: "Lambda", Params: [][2]string{
			{"LambdaArn", l.ARN}, {"NumberOfRetries", itoa(l.Retries)},
			{"BufferSizeInMBs", itoa(int(l.BufferBytes >> 20))}, {"BufferIntervalInSeconds", itoa(int(l.BufferInterval.Seconds()))}}})
	}
	if m := p.MetadataExtraction; m.Enabled {
		out = append(out, processor{Type: "MetadataExtraction", Params: [][2]string{{"MetadataExtractionQuery", m.Query}, {"JsonParsingEngine", "JQ-1.6"}}})
	}
	if p.AppendDelimiter {
		out = append(out, processor{Type: "AppendDelimiterToRecord"})
	}
	return out
}

// handleFlush is the stream page's "flush now": the registry's own flush
// endpoint (stream.FlushHandler), waiting up to ?wait= (default 30 s) for
// what was buffered to be delivered.
func (c *Console) handleFlush(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("wait") == "" {
		q.Set("wait", "30s")
	}
	r2 := r.Clone(r.Context())
	r2.URL = &url.URL{Path: r.URL.Path, RawQuery: q.Encode()}
	stream.FlushHandler(c.opts.Streams).ServeHTTP(w, r2)
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
