package crawler

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// sampleRecords bounds the records read to infer a JSON or CSV schema.
const sampleRecords = 20000

// file is an object found under a target, with what the crawl learned.
type file struct {
	key    string
	dirs   []string // directories between the target and the object
	size   int64
	format string // parquet, json, csv
	codec  string // compress format, "" for none
}

// crawl runs one crawl of every target and returns its metrics.
func (s *Service) crawl(ctx context.Context, c *Crawler) (Metrics, error) {
	var m Metrics
	db := c.DatabaseName
	if db == "" {
		return m, fmt.Errorf("crawler %s has no DatabaseName", c.Name)
	}
	if _, err := s.o.Catalog.GetDatabase(ctx, "", db); err != nil {
		return m, fmt.Errorf("database %s not found", db)
	}
	for _, t := range c.Targets.S3Targets {
		if err := ctx.Err(); err != nil {
			return m, err
		}
		if err := s.crawlTarget(ctx, c, t, &m); err != nil {
			return m, err
		}
	}
	return m, nil
}

// splitPath splits s3://bucket/prefix into the bucket and a prefix ending
// in "/" (or empty).
func splitPath(p string) (string, string, error) {
	rest, ok := strings.CutPrefix(p, "s3://")
	if !ok {
		return "", "", fmt.Errorf("target path %q is not an s3:// path", p)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if err := objstore.ValidBucketName(bucket); err != nil {
		return "", "", fmt.Errorf("target path %q: %w", p, err)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// tableName is Glue's name for a target's table: the prefix's last folder
// (or the bucket), lower-cased, with characters other than letters,
// digits and _ replaced by _.
func tableName(bucket, prefix, tablePrefix string) string {
	name := bucket
	if p := strings.TrimSuffix(prefix, "/"); p != "" {
		name = path.Base(p)
	}
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return '_'
	}, name)
	return strings.ToLower(tablePrefix) + name
}

func (s *Service) crawlTarget(ctx context.Context, c *Crawler, t S3Target, m *Metrics) error {
	bucket, prefix, err := splitPath(t.Path)
	if err != nil {
		return err
	}
	name := tableName(bucket, prefix, c.TablePrefix)
	objs, err := s.o.Objects.List(ctx, bucket, prefix)
	if err != nil && !strings.Contains(err.Error(), objstore.ErrNoSuchBucket.Error()) {
		return err
	}
	var files []file
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		if o.Size == 0 || hidden(rel) || excluded(rel, t.Exclusions) {
			continue
		}
		segs := strings.Split(rel, "/")
		files = append(files, file{key: o.Key, dirs: segs[:len(segs)-1], size: o.Size})
	}
	existing, terr := s.o.Catalog.Table(ctx, "", c.DatabaseName, name, "")
	if len(files) == 0 {
		if terr == nil {
			return s.vanished(ctx, c, existing, m)
		}
		return nil
	}
	// Every object's format; the table's is the most common one.
	counts := map[string]int{}
	for i := range files {
		if err := s.sniff(ctx, bucket, &files[i]); err != nil {
			return err
		}
		counts[files[i].format]++
	}
	format := ""
	for f, n := range counts {
		if format == "" || n > counts[format] || n == counts[format] && f < format {
			format = f
		}
	}
	kept := files[:0]
	for _, f := range files {
		if f.format == format {
			kept = append(kept, f)
		}
	}
	files = kept
	keys, parts := partitionsOf(files)
	cols, serde, err := s.schema(ctx, bucket, format, files, t.SampleSize)
	if err != nil {
		return err
	}
	// Partition keys win over data columns of the same name.
	var data []catalog.Column
	for _, col := range cols {
		if !slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, col.Name) }) {
			data = append(data, col)
		}
	}
	in := tableInput(name, "s3://"+bucket+"/"+prefix, format, serde, data, keys, files, c.Name)
	switch {
	case terr != nil:
		if err := s.o.Catalog.CreateTable(ctx, "", c.DatabaseName, in); err != nil {
			return err
		}
		m.TablesCreated++
	case c.SchemaChangePolicy.UpdateBehavior == "LOG":
		s.log.Info("crawler: schema change logged, table left as is (UpdateBehavior LOG)", "crawler", c.Name, "table", name)
	case changed(existing, in):
		if err := s.o.Catalog.UpdateTable(ctx, "", c.DatabaseName, in, ""); err != nil {
			return err
		}
		m.TablesUpdated++
	}
	if len(keys) == 0 {
		return nil
	}
	var inputs []catalog.PartitionInput
	for _, p := range parts {
		loc := "s3://" + bucket + "/" + prefix + strings.Join(p.dirs, "/") + "/"
		sd := *in.StorageDescriptor
		sd.Location = &loc
		inputs = append(inputs, catalog.PartitionInput{Values: p.values, StorageDescriptor: &sd})
	}
	for start := 0; start < len(inputs); start += 100 {
		// Partitions that exist already are reported and left alone.
		if _, err := s.o.Catalog.CreatePartitions(ctx, "", c.DatabaseName, name, inputs[start:min(start+100, len(inputs))]); err != nil {
			return err
		}
	}
	return nil
}

// vanished applies the DeleteBehavior to a table whose objects are gone.
func (s *Service) vanished(ctx context.Context, c *Crawler, t *catalog.Table, m *Metrics) error {
	switch c.SchemaChangePolicy.DeleteBehavior {
	case "DELETE_FROM_DATABASE":
		if err := s.o.Catalog.DeleteTable(ctx, "", c.DatabaseName, t.Name); err != nil {
			return err
		}
		m.TablesDeleted++
	case "DEPRECATE_IN_DATABASE":
		in := t.TableInput
		params := map[string]string{}
		for k, v := range in.Parameters {
			params[k] = v
		}
		params["DEPRECATED_BY_CRAWLER"] = strconv.Itoa(1)
		in.Parameters = params
		if err := s.o.Catalog.UpdateTable(ctx, "", c.DatabaseName, in, ""); err != nil {
			return err
		}
		m.TablesDeleted++
	}
	return nil
}

// changed reports whether a crawl's table differs from the stored one in
// what the crawl decides.
func changed(old *catalog.Table, in catalog.TableInput) bool {
	if old.StorageDescriptor == nil {
		return true
	}
	eqCols := func(a, b []catalog.Column) bool {
		return slices.EqualFunc(a, b, func(x, y catalog.Column) bool { return x.Name == y.Name && x.Type == y.Type })
	}
	return !eqCols(old.StorageDescriptor.Columns, in.StorageDescriptor.Columns) || !eqCols(old.PartitionKeys, in.PartitionKeys) ||
		old.Parameters["classification"] != in.Parameters["classification"] || old.Parameters["DEPRECATED_BY_CRAWLER"] != ""
}

// hidden reports keys Hive and Glue skip: _ and . names, folder markers.
func hidden(rel string) bool {
	for seg := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(seg, "_") || strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return strings.HasSuffix(rel, "$folder$")
}

// excluded matches a key below the target against the exclusion globs: *
// within a folder, ** across folders, ? one character, [...] classes,
// {a,b} alternatives.
func excluded(rel string, globs []string) bool {
	for _, g := range globs {
		for _, alt := range expandBraces(g) {
			if globMatch(strings.Split(alt, "/"), strings.Split(rel, "/")) {
				return true
			}
		}
	}
	return false
}

func expandBraces(g string) []string {
	i := strings.IndexByte(g, '{')
	j := strings.IndexByte(g, '}')
	if i < 0 || j < i {
		return []string{g}
	}
	var out []string
	for alt := range strings.SplitSeq(g[i+1:j], ",") {
		out = append(out, expandBraces(g[:i]+alt+g[j+1:])...)
	}
	return out
}

func globMatch(pat, segs []string) bool {
	if len(pat) == 0 {
		return len(segs) == 0
	}
	if pat[0] == "**" {
		for k := 0; k <= len(segs); k++ {
			if globMatch(pat[1:], segs[k:]) {
				return true
			}
		}
		return false
	}
	if len(segs) == 0 {
		return false
	}
	ok, err := path.Match(pat[0], segs[0])
	if err != nil || !ok {
		return false
	}
	if len(pat) == 1 && len(segs) > 1 {
		// "folder/*" also excludes what is below the folder's children,
		// as Glue's exclusions do for a matched folder.
		return true
	}
	return globMatch(pat[1:], segs[1:])
}

// sniff tells an object's compression and format from its first bytes.
func (s *Service) sniff(ctx context.Context, bucket string, f *file) error {
	rc, err := s.o.Objects.Get(ctx, bucket, f.key)
	if err != nil {
		return err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	head, _ := br.Peek(8)
	switch {
	case len(head) >= 4 && string(head[:4]) == "PAR1":
		f.format = "parquet"
		return nil
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		f.codec = compress.GZIP
	case len(head) >= 4 && string(head[:4]) == "PK\x03\x04":
		f.codec = compress.ZIP
	case len(head) >= 8 && string(head) == "\x82SNAPPY\x00":
		f.codec = compress.Snappy
	case strings.HasSuffix(f.key, ".snappy"):
		f.codec = compress.HadoopSnappy
	case strings.HasSuffix(f.key, ".orc") || len(head) >= 3 && string(head[:3]) == "ORC":
		f.format = "orc"
		return nil
	}
	var r io.Reader = br
	if f.codec != "" {
		dr, err := compress.NewReader(f.codec, br)
		if err != nil {
			return fmt.Errorf("%s: %w", f.key, err)
		}
		defer dr.Close()
		r = dr
	}
	buf := make([]byte, 4096)
	n, _ := io.ReadFull(r, buf)
	text := bytes.TrimLeft(buf[:n], " \t\r\n\ufeff")
	switch {
	case len(text) > 0 && (text[0] == '{' || text[0] == '['):
		f.format = "json"
	default:
		f.format = "csv"
	}
	return nil
}

// part is one partition found by a crawl.
type part struct {
	dirs   []string
	values []string
}

// partitionsOf finds the partition columns of a table's objects: each
// folder level between the target and the objects is a column, named by
// Hive's key=value when every folder at that level uses the same key,
// else partition_N as Glue names them.
func partitionsOf(files []file) ([]string, []part) {
	depth := -1
	for _, f := range files {
		if depth < 0 || len(f.dirs) < depth {
			depth = len(f.dirs)
		}
	}
	if depth <= 0 {
		return nil, nil
	}
	keys := make([]string, depth)
	for lvl := 0; lvl < depth; lvl++ {
		key := ""
		hive := true
		for _, f := range files {
			k, _, ok := strings.Cut(f.dirs[lvl], "=")
			if !ok || key != "" && !strings.EqualFold(k, key) {
				hive = false
				break
			}
			key = strings.ToLower(k)
		}
		if hive && key != "" {
			keys[lvl] = key
		} else {
			keys[lvl] = "partition_" + strconv.Itoa(lvl)
		}
	}
	seen := map[string]bool{}
	var parts []part
	for _, f := range files {
		dirs := f.dirs[:depth]
		id := strings.Join(dirs, "/")
		if seen[id] {
			continue
		}
		seen[id] = true
		values := make([]string, depth)
		for lvl, d := range dirs {
			if strings.HasPrefix(keys[lvl], "partition_") {
				values[lvl] = d
			} else {
				_, values[lvl], _ = strings.Cut(d, "=")
			}
		}
		parts = append(parts, part{dirs: dirs, values: values})
	}
	return keys, parts
}

// schema infers a table's columns from a sample of its objects.
func (s *Service) schema(ctx context.Context, bucket, format string, files []file, sample *int) ([]catalog.Column, map[string]string, error) {
	switch format {
	case "parquet":
		if s.o.Describe == nil {
			return nil, nil, fmt.Errorf("reading Parquet schemas needs the query engine")
		}
		keys := make([]string, 0, len(files))
		for _, f := range files {
			keys = append(keys, f.key)
		}
		cols, err := s.o.Describe(ctx, bucket, keys)
		return cols, nil, err
	case "json":
		in := catalog.NewInferrer()
		limit := sampleRecords
		for _, f := range files {
			if in.Records() >= limit {
				break
			}
			if err := s.read(ctx, bucket, f, func(r io.Reader) error { return in.Add(r) }); err != nil {
				return nil, nil, fmt.Errorf("%s: %w", f.key, err)
			}
		}
		return in.Columns(), nil, nil
	case "csv":
		var lines [][]string
		delim := ""
		for _, f := range files {
			if len(lines) >= sampleRecords {
				break
			}
			err := s.read(ctx, bucket, f, func(r io.Reader) error {
				sc := bufio.NewScanner(r)
				sc.Buffer(make([]byte, 64<<10), 4<<20)
				var raw []string
				for sc.Scan() && len(raw) < sampleRecords {
					if strings.TrimSpace(sc.Text()) != "" {
						raw = append(raw, sc.Text())
					}
				}
				if delim == "" {
					delim = sniffDelimiter(raw)
				}
				for _, l := range raw {
					lines = append(lines, splitCSV(l, delim))
				}
				return sc.Err()
			})
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", f.key, err)
			}
		}
		cols, header := csvColumns(lines)
		serde := map[string]string{"field.delim": delim}
		if header {
			serde["hydrant:header"] = "true"
		}
		return cols, serde, nil
	}
	return nil, nil, fmt.Errorf("objects in %s format cannot be crawled by hydrant (Parquet, JSON and CSV can)", format)
}

// read opens an object decompressed.
func (s *Service) read(ctx context.Context, bucket string, f file, use func(io.Reader) error) error {
	rc, err := s.o.Objects.Get(ctx, bucket, f.key)
	if err != nil {
		return err
	}
	defer rc.Close()
	var r io.Reader = rc
	if f.codec != "" {
		dr, err := compress.NewReader(f.codec, rc)
		if err != nil {
			return err
		}
		defer dr.Close()
		r = dr
	}
	return use(r)
}

// tableInput is the table a crawl makes.
func tableInput(name, location, format string, serde map[string]string, cols []catalog.Column, keys []string, files []file, crawler string) catalog.TableInput {
	var size int64
	codecs := map[string]bool{}
	for _, f := range files {
		size += f.size
		codecs[f.codec] = true
	}
	params := map[string]string{"classification": format, "typeOfData": "file", "UPDATED_BY_CRAWLER": crawler,
		"CrawlerSchemaSerializerVersion": "1.0", "CrawlerSchemaDeserializerVersion": "1.0",
		"objectCount": strconv.Itoa(len(files)), "sizeKey": strconv.FormatInt(size, 10)}
	if len(codecs) == 1 {
		for c := range codecs {
			if c != "" {
				params["compressionType"] = strings.ToLower(c)
			}
		}
	}
	sd := &catalog.StorageDescriptor{Columns: cols, Location: &location, SerdeInfo: &catalog.SerDeInfo{}}
	str := func(s string) *string { return &s }
	switch format {
	case "parquet":
		sd.InputFormat = str("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat")
		sd.OutputFormat = str("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat")
		sd.SerdeInfo.SerializationLibrary = str("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe")
		sd.SerdeInfo.Parameters = map[string]string{"serialization.format": "1"}
	case "json":
		sd.InputFormat = str("org.apache.hadoop.mapred.TextInputFormat")
		sd.OutputFormat = str("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat")
		sd.SerdeInfo.SerializationLibrary = str("org.openx.data.jsonserde.JsonSerDe")
		sd.SerdeInfo.Parameters = map[string]string{"paths": columnList(cols)}
	case "csv":
		sd.InputFormat = str("org.apache.hadoop.mapred.TextInputFormat")
		sd.OutputFormat = str("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat")
		sd.SerdeInfo.SerializationLibrary = str("org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe")
		sd.SerdeInfo.Parameters = map[string]string{"field.delim": serde["field.delim"]}
		params["delimiter"] = serde["field.delim"]
		if serde["hydrant:header"] == "true" {
			params["skip.header.line.count"] = "1"
		}
	}
	in := catalog.TableInput{Name: name, StorageDescriptor: sd, TableType: str("EXTERNAL_TABLE"), Parameters: params}
	for _, k := range keys {
		in.PartitionKeys = append(in.PartitionKeys, catalog.Column{Name: k, Type: "string"})
	}
	return in
}

func columnList(cols []catalog.Column) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	return strings.Join(names, ",")
}
