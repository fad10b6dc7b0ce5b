package console

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/lambda"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/stream"
)

func TestTail(t *testing.T) {
	ev := func(ts int64, m string) lambda.LogEvent { return lambda.LogEvent{Timestamp: ts, Message: m} }
	events := []lambda.LogEvent{ev(1, "a"), ev(2, "b"), ev(2, "c"), ev(3, "d")}
	msgs := func(l functionLogs) string {
		var out []string
		for _, e := range l.Events {
			out = append(out, e.Message)
		}
		return strings.Join(out, "")
	}
	first := tail(events, 0, 0)
	if msgs(first) != "abcd" || first.Since != 3 || first.Seen != 1 {
		t.Fatalf("first page %+v", first)
	}
	// Two lines at ms 2 seen: only what follows them.
	if got := tail(events, 2, 2); msgs(got) != "d" || got.Since != 3 || got.Seen != 1 {
		t.Errorf("after (2,2): %+v", got)
	}
	// One line at ms 2 seen: the other comes, the cursor counts both.
	events2 := events[:3]
	if got := tail(events2, 2, 1); msgs(got) != "c" || got.Since != 2 || got.Seen != 2 {
		t.Errorf("after (2,1): %+v", got)
	}
	if got := tail(events, 3, 1); msgs(got) != "" || got.Since != 3 || got.Seen != 1 {
		t.Errorf("nothing new: %+v", got)
	}
}

func TestListLevel(t *testing.T) {
	store, err := objstore.NewLocal(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"logs/2026/01/a", "logs/2026/02/b", "logs/top", "logs/2027/c", "other/x"} {
		if err := store.Put(context.Background(), "bkt", k, objstore.Meta{}, func(w io.Writer) error { _, err := io.WriteString(w, k); return err }); err != nil {
			t.Fatal(err)
		}
	}
	// The local store pages with a delimiter; a store that only lists (the
	// S3 store) is rolled up to the same answer.
	for _, st := range []objstore.Store{store, listOnly{store}, objstore.NewRouter(listOnly{store}, nil)} {
		c := &Console{opts: Options{Objects: st}}
		out := listing{Bucket: "bkt", Prefix: "logs/"}
		if err := c.listLevel(httptest.NewRequest("GET", "/", nil), &out); err != nil {
			t.Fatal(err)
		}
		if strings.Join(out.Folders, ",") != "logs/2026/,logs/2027/" || len(out.Objects) != 1 || out.Objects[0].Key != "logs/top" {
			t.Fatalf("%T: level %+v", st, out)
		}
	}
	c := &Console{opts: Options{Objects: store}}
	out := listing{Bucket: "bkt"}
	if err := c.listNewest(httptest.NewRequest("GET", "/", nil), "bkt", []string{"logs/2026/"}, nil, &out); err != nil || len(out.Objects) != 2 {
		t.Fatalf("newest %+v %v", out, err)
	}
}

// listOnly is a store without paged listing.
type listOnly struct{ objstore.Store }

func TestSummarizeStream(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	oldest := now.Add(-30 * time.Second)
	attempt := &deliver.StatusError{Time: now.Add(-10 * time.Second), Code: "S3.AccessDenied"}
	record := &deliver.StatusError{Time: now.Add(-5 * time.Second), Type: "processing-failed", Code: "Lambda.FunctionError"}
	row := summarizeStream(stream.Stats{Name: "s", Status: "ACTIVE", OldestUndelivered: &oldest, BufferedRecords: 2,
		Delivery: &deliver.Status{Objects: 3, FailedAttempts: 1, LastError: attempt, LastRecordError: record}}, now)
	if row.Freshness != 30 || row.LastError != record || row.Objects != 3 {
		t.Errorf("%+v", row)
	}
	row = summarizeStream(stream.Stats{Name: "s", Delivery: &deliver.Status{Failing: true, LastError: attempt}}, now)
	if row.LastError != attempt || !row.Failing || row.Freshness != 0 {
		t.Errorf("%+v", row)
	}
}

func TestAWSTime(t *testing.T) {
	var v struct{ A, B, C awsTime }
	if err := json.Unmarshal([]byte(`{"A":1700000000.123,"B":"2023-11-14T22:13:20.000+0000","C":"2023-11-14T22:13:20Z"}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.Time().UnixMilli() != 1700000000123 || v.B.Time().Unix() != 1700000000 || v.C.Time().Unix() != 1700000000 {
		t.Errorf("%v %v %v", v.A.Time(), v.B.Time(), v.C.Time())
	}
	b, _ := json.Marshal(v.A)
	if string(b) != `"2023-11-14T22:13:20.123Z"` {
		t.Errorf("marshalled %s", b)
	}
}

func TestIsHeader(t *testing.T) {
	s := func(v string) *string { return &v }
	cols := []column{{Name: "a"}, {Name: "b"}}
	if !isHeader([]*string{s("a"), s("b")}, cols) || isHeader([]*string{s("a"), nil}, cols) || isHeader([]*string{s("a")}, cols) {
		t.Error("isHeader")
	}
}

func TestDecimalString(t *testing.T) {
	for _, c := range []struct {
		v     int64
		scale int
		want  string
	}{{123456, 2, "1234.56"}, {-5, 2, "-0.05"}, {7, 0, "7"}, {0, 3, "0.000"}} {
		if got := decimalString(big.NewInt(c.v), c.scale); got != c.want {
			t.Errorf("%d scale %d: %s, want %s", c.v, c.scale, got, c.want)
		}
	}
}
