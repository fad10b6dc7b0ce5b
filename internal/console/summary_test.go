package console

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// noAPIs is a server that routes no RPC API.
type noAPIs struct{}

func (noAPIs) Service(string) *awsproto.Service { return nil }

func ptr[T any](v T) *T { return &v }

// consoleWithStreams opens a registry with n streams, each holding a
// record, and a console over it.
func consoleWithStreams(tb testing.TB, n int) *Console {
	tb.Helper()
	dir := tb.TempDir()
	store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	reg, err := stream.Open(stream.Options{Dir: filepath.Join(dir, "streams"), Region: "us-east-1", AccountID: "000000000000", Store: store})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = reg.Close() })
	ctx := context.Background()
	for i := range n {
		name := fmt.Sprintf("s%03d", i)
		_, err := reg.Create(ctx, firehose.StreamConfig{Name: name, Type: "DirectPut", Destination: firehose.ExtendedS3Destination{
			S3Destination: firehose.S3Destination{RoleARN: ptr("arn:aws:iam::000000000000:role/r"), BucketARN: ptr("arn:aws:s3:::bucket"),
				BufferingHints: &firehose.BufferingHints{SizeInMBs: ptr(5), IntervalInSeconds: ptr(900)}, CompressionFormat: ptr("UNCOMPRESSED")}}})
		if err != nil {
			tb.Fatal(err)
		}
		var b buffer.Batch
		b.Add([]byte(`{"n":1}`))
		if _, _, err := reg.Put(ctx, name, &b); err != nil {
			tb.Fatal(err)
		}
	}
	c, err := New(Options{Streams: reg, Objects: store, APIs: noAPIs{}, DataDir: dir})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestSummary(t *testing.T) {
	c := consoleWithStreams(t, 3)
	s := c.summary(context.Background())
	if len(s.Streams) != 3 || s.Streams[0].Name != "s000" || s.Streams[0].BufferedRecords != 1 || s.Streams[0].Appended != 1 || s.Features.Metrics || s.Features.Functions {
		t.Fatalf("%+v", s)
	}
}

// BenchmarkSummary is what one open overview costs the server per poll
// (every 5 seconds) with 200 streams: the summary computed and encoded.
func BenchmarkSummary(b *testing.B) {
	c := consoleWithStreams(b, 200)
	h := c.api(c.handleSummary)
	req := httptest.NewRequest("GET", "/_hydrant/ui/api/summary", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
