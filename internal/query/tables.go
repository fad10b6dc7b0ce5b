package query

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/compress"
	"github.com/hydrant-io/hydrant/internal/format"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// Storage formats of tables.
const (
	fmtParquet = "parquet"
	fmtJSON    = "json"
	fmtCSV     = "csv"
)

// location splits a table location s3://bucket/prefix/ into its bucket and
// key prefix (ending in "/" unless empty).
func location(loc string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		if rest, ok = strings.CutPrefix(loc, "s3a://"); !ok {
			rest, ok = strings.CutPrefix(loc, "s3n://")
		}
	}
	if !ok {
		return "", "", fmt.Errorf("location %q is not an s3:// URI", loc)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if err := objstore.ValidBucketName(bucket); err != nil {
		return "", "", fmt.Errorf("location %q: %w", loc, err)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}

// tableFormat tells a table's storage format from its SerDe, input format
// and classification, and returns the SerDe's parameters.
func tableFormat(t *catalog.Table) (string, map[string]string, error) {
	sd := t.StorageDescriptor
	var lib, input string
	var params map[string]string
	if sd != nil {
		if sd.SerdeInfo != nil {
			if sd.SerdeInfo.SerializationLibrary != nil {
				lib = *sd.SerdeInfo.SerializationLibrary
			}
			params = sd.SerdeInfo.Parameters
		}
		if sd.InputFormat != nil {
			input = *sd.InputFormat
		}
	}
	ll, li := strings.ToLower(lib), strings.ToLower(input)
	switch {
	case strings.Contains(ll, "parquet") || strings.Contains(li, "parquet"):
		return fmtParquet, params, nil
	case strings.Contains(ll, "jsonserde"):
		return fmtJSON, params, nil
	case strings.Contains(ll, "lazysimpleserde") || strings.Contains(ll, "opencsvserde"):
		return fmtCSV, params, nil
	case strings.Contains(ll, "orc") || strings.Contains(li, "orc"):
		return "", nil, fmt.Errorf("table %s.%s is ORC (%s), which hydrant's engine does not read", t.DatabaseName, t.Name, lib)
	case lib != "":
		return "", nil, fmt.Errorf("table %s.%s: SerDe %s is not supported (Parquet, JSON and CSV tables are)", t.DatabaseName, t.Name, lib)
	}
	switch strings.ToLower(t.Parameters["classification"]) {
	case "parquet":
		return fmtParquet, params, nil
	case "json":
		return fmtJSON, params, nil
	case "csv":
		return fmtCSV, params, nil
	}
	if strings.Contains(li, "textinputformat") {
		return fmtCSV, params, nil
	}
	// A table written by Firehose's conversion without a SerDe: Parquet,
	// the only format conversion writes.
	return fmtParquet, params, nil
}

// duckTypeOf is the DuckDB type of a Hive type.
func duckTypeOf(hive string) (string, error) {
	t, err := format.ParseType(hive)
	if err != nil {
		return "", err
	}
	return duckFromHive(t), nil
}

func duckFromHive(t *format.Type) string {
	switch t.Kind {
	case format.Boolean:
		return "BOOLEAN"
	case format.TinyInt:
		return "TINYINT"
	case format.SmallInt:
		return "SMALLINT"
	case format.Int:
		return "INTEGER"
	case format.BigInt:
		return "BIGINT"
	case format.Float:
		return "FLOAT"
	case format.Double:
		return "DOUBLE"
	case format.Decimal:
		return fmt.Sprintf("DECIMAL(%d,%d)", t.Precision, t.Scale)
	case format.Binary:
		return "BLOB"
	case format.Date:
		return "DATE"
	case format.Timestamp:
		return "TIMESTAMP"
	case format.Array:
		return duckFromHive(t.Elem) + "[]"
	case format.Map:
		return "MAP(" + duckFromHive(t.Key) + ", " + duckFromHive(t.Value) + ")"
	case format.Struct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = quoteIdent(f.Name) + " " + duckFromHive(f.Type)
		}
		return "STRUCT(" + strings.Join(parts, ", ") + ")"
	}
	return "VARCHAR"
}

// partition is one set of partition values and where its objects are.
type partition struct {
	values []string
	bucket string
	prefix string
	files  []objstore.ObjectInfo // when already listed (discovery)
	listed bool
}

// hidden reports whether a key below a table's prefix names an object
// Hive and Athena skip: one whose name or directory starts with _ or .,
// and S3 console folder markers.
func hidden(rel string) bool {
	for seg := range strings.SplitSeq(rel, "/") {
		if strings.HasPrefix(seg, "_") || strings.HasPrefix(seg, ".") {
			return true
		}
	}
	return strings.HasSuffix(rel, "$folder$") || strings.HasSuffix(rel, "/")
}

// candidates lists a table's partitions: those registered in the catalog;
// failing those, those its projection properties generate; failing those,
// the Hive-style key=value prefixes found under its location.
func (en *Engine) candidates(ctx context.Context, t *catalog.Table, bucket, prefix string) ([]partition, error) {
	keys := t.PartitionKeys
	if len(keys) == 0 {
		return []partition{{bucket: bucket, prefix: prefix}}, nil
	}
	registered, err := en.opts.Catalog.Partitions(ctx, t.CatalogId, t.DatabaseName, t.Name)
	if err != nil {
		return nil, err
	}
	if len(registered) > 0 {
		out := make([]partition, 0, len(registered))
		for _, p := range registered {
			loc := p.Location()
			pb, pp := bucket, prefix+hivePath(keys, p.Values)
			if loc != "" {
				if pb, pp, err = location(loc); err != nil {
					return nil, fmt.Errorf("partition %v: %w", p.Values, err)
				}
			}
			out = append(out, partition{values: p.Values, bucket: pb, prefix: pp})
		}
		return out, nil
	}
	if strings.EqualFold(t.Parameters["projection.enabled"], "true") {
		return projected(t, bucket, prefix)
	}
	return en.hiveDiscover(ctx, t, bucket, prefix)
}

// hiveDiscover finds the partitions of a table from the key=value/...
// directories under its location, in key order, with their objects.
func (en *Engine) hiveDiscover(ctx context.Context, t *catalog.Table, bucket, prefix string) ([]partition, error) {
	keys := t.PartitionKeys
	objs, err := en.list(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	byPath := map[string]*partition{}
	var order []string
	for _, o := range objs {
		rel := strings.TrimPrefix(o.Key, prefix)
		segs := strings.Split(rel, "/")
		if len(segs) <= len(keys) {
			continue
		}
		values := make([]string, len(keys))
		ok := true
		for i, k := range keys {
			name, v, found := strings.Cut(segs[i], "=")
			if !found || !strings.EqualFold(name, k.Name) {
				ok = false
				break
			}
			values[i] = unescapeHive(v)
		}
		if !ok {
			continue
		}
		dir := strings.Join(segs[:len(keys)], "/") + "/"
		p := byPath[dir]
		if p == nil {
			p = &partition{values: values, bucket: bucket, prefix: prefix + dir, listed: true}
			byPath[dir] = p
			order = append(order, dir)
		}
		p.files = append(p.files, o)
	}
	out := make([]partition, 0, len(order))
	for _, d := range order {
		out = append(out, *byPath[d])
	}
	return out, nil
}

// hivePath is the key=value/... directory of partition values.
func hivePath(keys []catalog.Column, values []string) string {
	var b strings.Builder
	for i, k := range keys {
		if i < len(values) {
			b.WriteString(strings.ToLower(k.Name) + "=" + escapeHive(values[i]) + "/")
		}
	}
	return b.String()
}

// escapeHive and unescapeHive are Hive's path escaping of partition
// values (%XX for characters paths cannot hold).
func escapeHive(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || strings.IndexByte("\"#%'*/:=?\\\x7f{[]^", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func unescapeHive(v string) string {
	if !strings.Contains(v, "%") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			var c byte
			if _, err := fmt.Sscanf(v[i+1:i+3], "%02X", &c); err == nil {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// list lists the visible objects under a prefix of a local bucket. The
// slice returned is shared with the listing cache: callers do not change
// it.
func (en *Engine) list(ctx context.Context, bucket, prefix string) ([]objstore.ObjectInfo, error) {
	if en.opts.IsLocal != nil && !en.opts.IsLocal(bucket) {
		return nil, fmt.Errorf("bucket %s is delivered to S3 (--bucket-store), and hydrant's engine reads only local buckets; query it where it lives (docs/QUERY.md)", bucket)
	}
	// The store's change count is read before listing: a write that
	// lands during the listing changes it, and the next query lists
	// again.
	cc, counted := en.opts.Store.(changeCounter)
	var gen uint64
	if counted {
		gen = cc.Changes(bucket, prefix)
		if objs, ok := en.listings.get(bucket, prefix, gen); ok {
			return objs, nil
		}
	}
	objs, err := en.opts.Store.List(ctx, bucket, prefix)
	if err != nil {
		if !strings.Contains(err.Error(), objstore.ErrNoSuchBucket.Error()) {
			return nil, err
		}
		objs = nil
	}
	out := objs[:0]
	for _, o := range objs {
		if o.Size == 0 || hidden(strings.TrimPrefix(o.Key, prefix)) {
			continue
		}
		out = append(out, o)
	}
	if counted {
		en.listings.put(bucket, prefix, gen, out)
	}
	return out, nil
}

// changeCounter is a store that counts the changes to its buckets
// (objstore.Local): while the count for a prefix stays the same, so does
// its listing.
type changeCounter interface {
	Changes(bucket, prefix string) uint64
}

// listingCache keeps listings of table and partition prefixes between
// queries, each with the store's change count when it was listed: it is
// used only while the count is unchanged, so a query sees every object
// whose write returned before it started. It is bounded by the objects
// it holds, emptied whole when full.
type listingCache struct {
	mu      sync.Mutex
	m       map[listingKey]listing
	objects int
}

type listingKey struct{ bucket, prefix string }

type listing struct {
	gen  uint64
	objs []objstore.ObjectInfo
}

// maxCachedObjects bounds the listing cache (about 100 bytes an object).
const maxCachedObjects = 200_000

func (c *listingCache) get(bucket, prefix string, gen uint64) ([]objstore.ObjectInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.m[listingKey{bucket, prefix}]
	if !ok || l.gen != gen {
		return nil, false
	}
	return l.objs, true
}

func (c *listingCache) put(bucket, prefix string, gen uint64, objs []objstore.ObjectInfo) {
	if len(objs) > maxCachedObjects {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := listingKey{bucket, prefix}
	if old, ok := c.m[k]; ok {
		if old.gen > gen {
			return // a later listing is already kept
		}
		c.objects -= len(old.objs)
	}
	if c.m == nil || c.objects+len(objs) > maxCachedObjects {
		c.m, c.objects = map[listingKey]listing{}, 0
	}
	c.m[k] = listing{gen: gen, objs: objs}
	c.objects += len(objs)
}

// filePath is where the local store keeps an object.
func (en *Engine) filePath(bucket, key string) (string, error) {
	if err := objstore.ValidKey(key); err != nil {
		return "", err
	}
	return filepath.Join(en.opts.Root, bucket, filepath.FromSlash(key)), nil
}

// codecOf tells how an object is compressed from its first bytes and name:
// "" for plain, or a compress format. DuckDB reads plain and .gz objects
// itself; the others are decoded to spool files first.
func codecOf(p, key string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return compress.GZIP, nil
	case len(head) >= 4 && string(head[:4]) == "PK\x03\x04":
		return compress.ZIP, nil
	case len(head) >= 8 && string(head) == "\x82SNAPPY\x00":
		return compress.Snappy, nil
	case strings.HasSuffix(key, ".snappy"):
		return compress.HadoopSnappy, nil
	}
	return "", nil
}

// decode writes the uncompressed content of a compressed object to a spool
// file in dir and returns its path.
func decode(src, codec, dir string, n int) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	r, err := compress.NewReader(codec, bufio.NewReader(in))
	if err != nil {
		return "", err
	}
	defer r.Close()
	dst := filepath.Join(dir, fmt.Sprintf("object-%d", n))
	out, err := os.Create(dst)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return "", fmt.Errorf("decode %s (%s): %w", src, codec, err)
	}
	return dst, out.Close()
}
