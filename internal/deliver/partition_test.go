package deliver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/process"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// env is a stream with real segment logs (the stream log and, for
// dynamic partitioning, the partition log) and a local store.
type env struct {
	dir   string
	log   *buffer.SegmentLog
	parts *buffer.SegmentLog
	store *objstore.Local
	info  streamspec.Stream
}

func newEnv(t *testing.T, st streamspec.Stream) *env {
	t.Helper()
	dir := t.TempDir()
	lg, err := buffer.Open(dir+"/log", buffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lg.Close() })
	parts, err := buffer.Open(dir+"/partitions", buffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parts.Close() })
	store, err := objstore.NewLocal(dir+"/buckets", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &env{dir: dir, log: lg, parts: parts, store: store, info: st}
}

func (e *env) put(t *testing.T, recs ...string) {
	t.Helper()
	var b buffer.Batch
	for _, r := range recs {
		b.Add([]byte(r))
	}
	if _, err := e.log.Append(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
}

// objects returns the objects of a bucket, gunzipped when their key says so.
func (e *env) objects(t *testing.T, bucket string) map[string]string {
	t.Helper()
	infos, err := e.store.List(context.Background(), bucket, "")
	if errors.Is(err, objstore.ErrNoSuchBucket) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, oi := range infos {
		rc, err := e.store.Get(context.Background(), bucket, oi.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.HasSuffix(oi.Key, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			b, _ = io.ReadAll(zr)
		}
		out[oi.Key] = string(b)
	}
	return out
}

func (e *env) config(store objstore.Store, obs deliver.PartitionObserver, maxPartitions int) deliver.Config {
	f := process.NewFactory(jsonEcho{}, process.Options{RetryDelay: time.Millisecond})
	return deliver.Config{
		Stream: e.info, Log: e.log, Store: store, Partitions: obs,
		Stages:        deliver.CombineStages(f.Pipeline, nil),
		PartitionLog:  e.parts,
		MaxPartitions: maxPartitions,
	}
}

func (e *env) run(t *testing.T, cfg deliver.Config) {
	t.Helper()
	d := deliver.Start(cfg)
	defer d.Stop()
	select {
	case <-d.Idle():
	case <-time.After(10 * time.Second):
		t.Fatal("delivery did not finish")
	}
}

// jsonEcho is a Lambda function that returns each record unchanged with
// partition key "region" taken from the record's "r" member (none when the
// record has none).
type jsonEcho struct{}

func (jsonEcho) Invoke(ctx context.Context, arn string, payload []byte) ([]byte, string, error) {
	var ev struct {
		Records []struct {
			RecordID string `json:"recordId"`
			Data     []byte `json:"data"`
		} `json:"records"`
	}
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, "", err
	}
	var out []map[string]any
	for _, r := range ev.Records {
		var m map[string]any
		_ = json.Unmarshal(r.Data, &m)
		e := map[string]any{"recordId": r.RecordID, "result": "Ok", "data": base64.StdEncoding.EncodeToString(r.Data)}
		if v, ok := m["r"].(string); ok {
			e["metadata"] = map[string]any{"partitionKeys": map[string]string{"region": v}}
		}
		out = append(out, e)
	}
	b, err := json.Marshal(map[string]any{"records": out})
	return b, "", err
}

// partitioned is a stream partitioned by jq key "c" and Lambda key
// "region", with 64 MiB / 0 s hints and a Lambda buffer interval of 0, so
// that records are moved and partitions delivered at once.
func partitioned(t *testing.T, prefix string) streamspec.Stream {
	st := deliver.TestStream(t, prefix, "err/!{firehose:error-output-type}/")
	st.Destination.Buffering.Bytes = 64 << 20
	st.Partitioning = streamspec.Partitioning{Enabled: true, RetryDuration: 300 * time.Second}
	st.Processing = streamspec.Processing{
		Enabled:            true,
		MetadataExtraction: streamspec.MetadataExtraction{Enabled: true, Query: "{c:.c}", Keys: []string{"c"}},
		Lambda: streamspec.Lambda{Enabled: true, ARN: "arn:aws:lambda:us-east-1:000000000000:function:echo",
			Retries: 3, BufferBytes: 1 << 20},
		AppendDelimiter: true,
	}
	return st
}

type partitionObs struct {
	mu       sync.Mutex
	count    int
	most     int
	exceeded bool
	ever     bool // exceeded was reported at least once
}

func (o *partitionObs) Partitions(_ string, n int, exceeded bool) {
	o.mu.Lock()
	o.count, o.exceeded = n, exceeded
	o.most = max(o.most, n)
	o.ever = o.ever || exceeded
	o.mu.Unlock()
}

// byPrefix groups object contents by the key up to the object name.
func byPrefix(objs map[string]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range objs {
		p := k[:strings.LastIndexByte(k, '/')+1]
		out[p] = append(out[p], v)
	}
	return out
}

func TestDynamicPartitioningEndToEnd(t *testing.T) {
	e := newEnv(t, partitioned(t, "c=!{partitionKeyFromQuery:c}/r=!{partitionKeyFromLambda:region}/"))
	e.put(t, `{"c":"a","r":"eu"}`, `{"c":"b","r":"eu"}`, `{"c":"a","r":"eu","n":2}`, `{"c":"a","r":"us"}`,
		`{"r":"eu"}`, `{"c":"a"}`, `not json`, `{"c":"../..","r":"x"}`)
	obs := &partitionObs{}
	e.run(t, e.config(e.store, obs, 0))
	got := byPrefix(e.objects(t, "bkt"))
	want := map[string][]string{
		"c=a/r=eu/": {"{\"c\":\"a\",\"r\":\"eu\"}\n{\"c\":\"a\",\"r\":\"eu\",\"n\":2}\n"},
		"c=b/r=eu/": {"{\"c\":\"b\",\"r\":\"eu\"}\n"},
		"c=a/r=us/": {"{\"c\":\"a\",\"r\":\"us\"}\n"},
	}
	for p, objs := range want {
		if fmt.Sprint(got[p]) != fmt.Sprint(objs) {
			t.Errorf("%s: %q, want %q", p, got[p], objs)
		}
	}
	errs := strings.Join(got["err/partitioning-failed/"], "")
	for _, want := range []string{
		`"errorCode":"DynamicPartitioning.PartitionKeyMissing"`,      // no c
		`"errorCode":"DynamicPartitioning.MetadataExtractionFailed"`, // not json
		`"errorMessage":"Non JSON record provided"`,
		`"errorCode":"DynamicPartitioning.PrefixEvaluationFailed"`, // ../..
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("error output lacks %s:\n%s", want, errs)
		}
	}
	if n := strings.Count(errs, "\n"); n != 4 {
		t.Errorf("%d partitioning failures, want 4:\n%s", n, errs)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.count != 0 || obs.exceeded {
		t.Errorf("PartitionCount %d exceeded %v once all is delivered", obs.count, obs.exceeded)
	}
	if obs.most != 3 {
		t.Errorf("PartitionCount reached %d, want 3", obs.most)
	}
	// Everything delivered: both logs are committed to their ends.
	if upto, _ := e.parts.Committed(); !e.parts.Backlog(upto).Empty() {
		t.Errorf("partition log still holds records from %d", upto)
	}
	if upto, state := e.log.Committed(); upto != 9 || state != nil {
		t.Errorf("stream log at %d %q", upto, state)
	}
}

func TestPartitionLimit(t *testing.T) {
	e := newEnv(t, partitioned(t, "!{partitionKeyFromQuery:c}/"))
	e.put(t, `{"c":"1"}`, `{"c":"2"}`, `{"c":"3"}`, `{"c":"1"}`, `{"c":"4"}`)
	obs := &partitionObs{}
	e.run(t, e.config(e.store, obs, 2))
	got := byPrefix(e.objects(t, "bkt"))
	if len(got["1/"]) != 1 || len(got["2/"]) != 1 || got["3/"] != nil || got["4/"] != nil {
		t.Fatalf("objects %v", got)
	}
	errs := strings.Join(got["err/partitioning-failed/"], "")
	if strings.Count(errs, `"errorCode":"DynamicPartitioning.PartitionCountExceeded"`) != 2 {
		t.Fatalf("error output %s", errs)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if !obs.ever || obs.most != 2 {
		t.Fatalf("PartitionCountExceeded not reported: %+v", obs)
	}
}

// flakyStore fails every Put whose key starts with fail, until fixed.
type flakyStore struct {
	objstore.Store
	fail    string
	fixed   atomic.Bool
	refused atomic.Int32
}

func (s *flakyStore) Put(ctx context.Context, bucket, key string, meta objstore.Meta, write func(io.Writer) error) error {
	if !s.fixed.Load() && strings.HasPrefix(key, s.fail) {
		s.refused.Add(1)
		return errors.New("injected store failure")
	}
	return s.Store.Put(ctx, bucket, key, meta, write)
}

func TestPartitionedRedoWritesSameKeys(t *testing.T) {
	e := newEnv(t, partitioned(t, "!{partitionKeyFromQuery:c}/!{firehose:random-string}/"))
	e.put(t, `{"c":"a"}`, `{"c":"b"}`, `{"c":"c"}`, `{"c":"x"}`)
	// The second partition's object cannot be written: the loop retries
	// until it is stopped, as a crash would stop it.
	fs := &flakyStore{Store: e.store, fail: "b/"}
	d := deliver.Start(e.config(fs, nil, 0))
	deadline := time.Now().Add(10 * time.Second)
	for fs.refused.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	d.Stop()
	first := e.objects(t, "bkt")
	if len(first) > 3 {
		t.Fatalf("before the restart: %v", first)
	}
	if upto, state := e.log.Committed(); upto != 5 || state != nil {
		t.Fatalf("the records must have left the stream log: %d %q", upto, state)
	}
	// The plan of b's object is committed in the partition log.
	_, raw := e.parts.Committed()
	var state struct {
		Plan struct{ Key string } `json:"plan"`
	}
	if err := json.Unmarshal(raw, &state); err != nil || !strings.HasPrefix(state.Plan.Key, "b/") {
		t.Fatalf("the plan of b must be pending: %s (%v)", raw, err)
	}
	fs.fixed.Store(true)
	d = deliver.Start(e.config(fs, nil, 0))
	select {
	case <-d.Idle():
	case <-time.After(30 * time.Second):
		t.Fatal("delivery did not finish")
	}
	if ps := d.PartitionStats(); ps != (deliver.PartitionStats{}) {
		t.Errorf("partition buffers after the redo: %+v", ps)
	}
	d.Stop()
	final := e.objects(t, "bkt")
	if len(final) != 4 {
		t.Fatalf("after the redo %d objects, want 4 (one per partition, no duplicates): %v", len(final), keysOf(final))
	}
	for k := range first {
		if _, ok := final[k]; !ok {
			t.Fatalf("redo did not keep %s: %v", k, keysOf(final))
		}
	}
	if _, ok := final[state.Plan.Key]; !ok {
		t.Fatalf("redo did not write the planned key %s: %v", state.Plan.Key, keysOf(final))
	}
}

func keysOf(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestS3Backup(t *testing.T) {
	st := deliver.TestStream(t, "data/", "")
	st.Destination.Buffering.Bytes = 64 << 20
	st.Destination.Compression, st.Destination.Extension = "GZIP", ".gz"
	raw, rawErr, err := keys.Resolve(ptr("raw/"), nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Backup = streamspec.Backup{Enabled: true, Bucket: "bkp", Prefix: raw, ErrorPrefix: rawErr, Compression: "GZIP", Extension: ".gz",
		Buffering: streamspec.Buffering{Bytes: 1 << 20, Interval: 300 * time.Second}}
	st.Processing = streamspec.Processing{
		Enabled:         true,
		DeAggregation:   streamspec.DeAggregation{Enabled: true, Delimiter: []byte("|")},
		AppendDelimiter: true,
	}
	e := newEnv(t, st)
	big := strings.Repeat("z", 700<<10)
	big2 := strings.Repeat("y", 700<<10)
	e.put(t, "a|b", "c", big, big2, "d|e")
	cfg := e.config(e.store, nil, 0)
	obs := &backupCounter{}
	cfg.Observer = obs
	e.run(t, cfg)
	if obs.objects != 2 || obs.records != 5 || obs.bytes != int64(len("a|bc"+big+big2+"d|e")) {
		t.Errorf("BackupObserver saw %d objects, %d records, %d bytes", obs.objects, obs.records, obs.bytes)
	}
	data := e.objects(t, "bkt")
	if len(data) != 1 {
		t.Fatalf("destination %v", keysOf(data))
	}
	for k, v := range data {
		if !strings.HasPrefix(k, "data/") || v != "a\nb\nc\n"+big+"\n"+big2+"\nd\ne\n" {
			t.Fatalf("destination object %s has %d bytes", k, len(v))
		}
	}
	backup := e.objects(t, "bkp")
	ks := keysOf(backup)
	if len(ks) != 2 {
		t.Fatalf("backup objects %v: the 1 MB backup size must split the batch", ks)
	}
	var all []string
	for _, k := range ks {
		if !strings.HasPrefix(k, "raw/") || !strings.HasSuffix(k, ".gz") || !strings.Contains(k, "/s-1-") {
			t.Fatalf("backup key %s", k)
		}
		all = append(all, backup[k])
	}
	sort.Slice(all, func(i, j int) bool { return strings.HasPrefix(all[i], "a|b") })
	if strings.Join(all, "") != "a|bc"+big+big2+"d|e" {
		t.Fatalf("backup does not hold the source records")
	}
}

func ptr[T any](v T) *T { return &v }

// backupCounter is a deliver.Observer that adds up the backup metrics.
type backupCounter struct {
	objects, records int
	bytes            int64
}

func (*backupCounter) Delivered(string, deliver.Delivery) {}
func (*backupCounter) Failed(string, deliver.Plan, error) {}
func (b *backupCounter) BackedUp(stream string, records int, bytes int64, err error) {
	if err == nil {
		b.objects++
		b.records += records
		b.bytes += bytes
	}
}
