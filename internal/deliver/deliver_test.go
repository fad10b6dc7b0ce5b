package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

type fixture struct {
	log   *buffer.SegmentLog
	store *objstore.Local
	info  streamspec.Stream
}

func newFixture(t *testing.T, st streamspec.Stream) *fixture {
	t.Helper()
	dir := t.TempDir()
	lg, err := buffer.Open(dir+"/log", buffer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lg.Close() })
	store, err := objstore.NewLocal(dir+"/buckets", nil)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{log: lg, store: store, info: st}
}

func (f *fixture) put(t *testing.T, recs ...string) {
	t.Helper()
	var b buffer.Batch
	for _, r := range recs {
		b.Add([]byte(r))
	}
	if _, err := f.log.Append(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) objects(t *testing.T) map[string]string {
	t.Helper()
	infos, err := f.store.List(context.Background(), "bkt", "")
	if errors.Is(err, objstore.ErrNoSuchBucket) {
		return map[string]string{}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, oi := range infos {
		rc, err := f.store.Get(context.Background(), "bkt", oi.Key)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[oi.Key] = string(b)
	}
	return out
}

func (f *fixture) run(t *testing.T, stages Stages) {
	t.Helper()
	d := Start(Config{Stream: f.info, Log: f.log, Store: f.store, Stages: stages})
	select {
	case <-d.Idle():
	case <-time.After(10 * time.Second):
		t.Fatal("delivery did not finish")
	}
	d.Stop()
}

// upper upper-cases records, fails those containing "bad" and drops those
// containing "drop".
type upper struct{ calls int }

func (u *upper) ChunkBytes() int64 { return 8 }
func (u *upper) Chunks() int       { return 1 }
func (u *upper) Process(ctx context.Context, in []Rec) ([]Rec, []Failure, error) {
	u.calls++
	var out []Rec
	var failed []Failure
	for _, r := range in {
		switch {
		case bytes.Contains(r.Data, []byte("bad")):
			failed = append(failed, Failure{Type: "processing-failed", Raw: r.Data, Arrival: r.Arrival, Code: "Lambda.ProcessingFailedStatus",
				Message: "ProcessingFailed status set for record", Attempts: 1, LambdaARN: "arn:aws:lambda:us-east-1:000000000000:function:f"})
		case bytes.Contains(r.Data, []byte("drop")):
		default:
			r.Data = bytes.ToUpper(r.Data)
			out = append(out, r)
		}
	}
	return out, failed, nil
}

func TestPipelineAndErrorOutput(t *testing.T) {
	f := newFixture(t, testStream(t, "data/", "errors/!{firehose:error-output-type}/"))
	f.put(t, "a1,", "bad2,", "drop3,", "a4,")
	u := &upper{}
	f.run(t, func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error) { return u, nil, nil })
	objs := f.objects(t)
	if len(objs) != 2 {
		t.Fatalf("want a data and an error object, got %v", objs)
	}
	if u.calls < 2 {
		t.Fatalf("ChunkBytes not honoured: %d calls", u.calls)
	}
	for k, v := range objs {
		switch {
		case strings.HasPrefix(k, "data/"):
			if v != "A1,A4," {
				t.Fatalf("data object %q", v)
			}
		case strings.HasPrefix(k, "errors/processing-failed/"):
			if strings.HasSuffix(k, ".gz") || strings.Count(v, "\n") != 1 {
				t.Fatalf("error object %s: %q", k, v)
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(strings.TrimSpace(v)), &m); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(v, `{"rawData":"YmFkMiw="`) || m["errorCode"] != "Lambda.ProcessingFailedStatus" ||
				m["attemptsMade"] != 1.0 || m["lambdaARN"] == nil {
				t.Fatalf("error record %s", v)
			}
		default:
			t.Fatalf("unexpected key %s", k)
		}
	}
}

func TestAllDroppedWritesNoObject(t *testing.T) {
	f := newFixture(t, testStream(t, "", ""))
	f.put(t, "drop1", "drop2")
	f.run(t, func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error) {
		return &upper{}, nil, nil
	})
	if objs := f.objects(t); len(objs) != 0 {
		t.Fatalf("objects written for dropped records: %v", objs)
	}
	if upto, state := f.log.Committed(); upto != 3 || state != nil {
		t.Fatalf("cursor %d %q", upto, state)
	}
}

// csvFormat converts records to "len:data|" and refuses records with "x".
type csvFormat struct{}

func (csvFormat) Extension() string { return ".csvx" }
func (csvFormat) NewEncoder(w io.Writer) (Encoder, error) {
	return encFunc(func(r Rec) error {
		if bytes.Contains(r.Data, []byte("x")) {
			return &ConversionError{Code: "DataFormatConversion.MalformedData", Message: "no x", Table: map[string]string{"tableName": "t"}}
		}
		_, err := io.WriteString(w, string(r.Data)+"|")
		return err
	}), nil
}

type encFunc func(Rec) error

func (e encFunc) Encode(r Rec) error { return e(r) }
func (e encFunc) Close() error       { return nil }

func TestFormatConversionFailures(t *testing.T) {
	f := newFixture(t, testStream(t, "", ""))
	f.put(t, "ok", "xx", "ok2")
	f.run(t, func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error) {
		return nil, csvFormat{}, nil
	})
	objs := f.objects(t)
	var data, errs string
	for k, v := range objs {
		if strings.HasPrefix(k, "format-conversion-failed/") {
			errs = v
		} else {
			data = v
		}
	}
	if data != "ok|ok2|" {
		t.Fatalf("data %q (objects %v)", data, objs)
	}
	if !strings.Contains(errs, `"lastErrorCode":"DataFormatConversion.MalformedData"`) || !strings.Contains(errs, `"dataCatalogTable":{"tableName":"t"}`) {
		t.Fatalf("conversion error record %q", errs)
	}
}

func TestStagesErrorRetriesWithoutLoss(t *testing.T) {
	f := newFixture(t, testStream(t, "", ""))
	f.put(t, "r1")
	calls := 0
	f.run(t, func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error) {
		calls++
		if calls < 3 {
			return nil, nil, errors.New("table not found")
		}
		return nil, nil, nil
	})
	objs := f.objects(t)
	if len(objs) != 1 || calls < 3 {
		t.Fatalf("calls %d objects %v", calls, objs)
	}
}
