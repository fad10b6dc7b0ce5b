package process

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// TestDeletedStreamIsForgotten: a stream's pipeline, cached while the
// stream delivers, is dropped when the stream is deleted (the registry's
// Deleted hook, wired to Forget as hydrant serve does), while other
// streams keep theirs.
func TestDeletedStreamIsForgotten(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	f := NewFactory(nil, Options{})
	reg, err := stream.Open(stream.Options{Dir: filepath.Join(dir, "streams"), Region: "us-east-1", AccountID: "000000000000",
		Store: store, Stages: deliver.CombineStages(f.Pipeline, nil), Deleted: f.Forget})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	ctx := context.Background()
	for _, name := range []string{"gone", "kept"} {
		cfg := firehose.StreamConfig{Name: name, Type: "DirectPut", Destination: firehose.ExtendedS3Destination{
			S3Destination: firehose.S3Destination{
				RoleARN: ptr("arn:aws:iam::000000000000:role/r"), BucketARN: ptr("arn:aws:s3:::bucket"),
				Prefix:            ptr(name + "/"),
				BufferingHints:    &firehose.BufferingHints{SizeInMBs: ptr(5), IntervalInSeconds: ptr(300)},
				CompressionFormat: ptr("UNCOMPRESSED"),
			},
			ProcessingConfiguration: &firehose.ProcessingConfiguration{Enabled: ptr(true),
				Processors: []firehose.Processor{proc(firehose.ProcessorAppendDelimiterToRecord)}},
		}}
		if _, err := reg.Create(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		var b buffer.Batch
		b.Add([]byte("x"))
		if _, _, err := reg.Put(ctx, name, &b); err != nil {
			t.Fatal(err)
		}
		done, err := reg.Flush(name)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("%s was not delivered", name)
		}
	}
	cachedNames := func() map[string]bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		out := map[string]bool{}
		for n := range f.cache {
			out[n] = true
		}
		return out
	}
	if c := cachedNames(); !c["gone"] || !c["kept"] {
		t.Fatalf("pipelines cached after delivery: %v, want both streams", c)
	}
	if err := reg.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if c := cachedNames(); c["gone"] || !c["kept"] {
		t.Fatalf("pipelines cached after deleting gone: %v, want kept only", c)
	}
}
