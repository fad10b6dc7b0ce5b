package stream

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

func ptr[T any](v T) *T { return &v }

func open(t *testing.T, dir string) *Registry {
	t.Helper()
	store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(Options{Dir: filepath.Join(dir, "streams"), Region: "us-east-1", AccountID: "000000000000", Store: store})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func config(name string) firehose.StreamConfig {
	return firehose.StreamConfig{Name: name, Type: "DirectPut", Destination: firehose.ExtendedS3Destination{
		S3Destination: firehose.S3Destination{
			RoleARN:           ptr("arn:aws:iam::000000000000:role/r"),
			BucketARN:         ptr("arn:aws:s3:::bucket"),
			BufferingHints:    &firehose.BufferingHints{SizeInMBs: ptr(5), IntervalInSeconds: ptr(300)},
			CompressionFormat: ptr("UNCOMPRESSED"),
		},
	}}
}

// setStatus rewrites a stream's persisted status, as a crash in the middle
// of a create or a delete would have left it.
func setStatus(t *testing.T, dir, name, status string) {
	t.Helper()
	p := filepath.Join(dir, "streams", dirPrefix+name, stateFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var info firehose.StreamInfo
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	info.Status = status
	b, _ = json.Marshal(info)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRecovery checks what Open makes of the states a crash can leave: a
// stream caught CREATING finishes its creation and keeps its records, one
// caught DELETING is removed, a directory without state is removed, and
// stream names that are path elements stay inside the streams directory.
func TestRecovery(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r := open(t, dir)
	for _, n := range []string{"creating", "deleting", ".."} {
		if _, err := r.Create(ctx, config(n)); err != nil {
			t.Fatal(err)
		}
	}
	var b buffer.Batch
	b.Add([]byte("kept"))
	if _, _, err := r.Put(ctx, "creating", &b); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, config("creating")); !errors.Is(err, firehose.ErrStreamExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	setStatus(t, dir, "creating", firehose.StatusCreating)
	setStatus(t, dir, "deleting", firehose.StatusDeleting)
	if err := os.MkdirAll(filepath.Join(dir, "streams", dirPrefix+"half"), 0o755); err != nil {
		t.Fatal(err)
	}

	r = open(t, dir)
	defer r.Close()
	if names := r.Names(); len(names) != 2 || names[0] != ".." || names[1] != "creating" {
		t.Fatalf("streams after recovery: %v", names)
	}
	info, err := r.Get(ctx, "creating")
	if err != nil || info.Status != firehose.StatusActive {
		t.Fatalf("creating stream: %+v %v", info, err)
	}
	st, err := r.Stats("creating")
	if err != nil || st.BufferedRecords+int(st.Delivered) < 1 {
		t.Fatalf("the acknowledged record is gone: %+v %v", st, err)
	}
	for _, gone := range []string{"deleting", "half"} {
		if _, err := os.Stat(filepath.Join(dir, "streams", dirPrefix+gone)); !os.IsNotExist(err) {
			t.Fatalf("%s not removed: %v", gone, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "streams", dirPrefix+"..", stateFile)); err != nil {
		t.Fatalf("stream '..' not kept inside the streams dir: %v", err)
	}
	if _, _, err := r.Put(ctx, "deleting", &b); !errors.Is(err, firehose.ErrStreamNotFound) {
		t.Fatalf("put to a deleted stream: %v", err)
	}
}

// TestPartitionedStream: a dynamically partitioned stream gets its partition
// log, Stats shows what its partition buffers hold (moved out of the stream
// log, not delivered yet), a reopened registry finds them again, and delete
// removes them.
func TestPartitionedStream(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r := open(t, dir)
	cfg := config("dp")
	d := &cfg.Destination
	d.Prefix, d.ErrorOutputPrefix = ptr("c=!{partitionKeyFromQuery:c}/"), ptr("e/!{firehose:error-output-type}/")
	d.BufferingHints = &firehose.BufferingHints{SizeInMBs: ptr(64), IntervalInSeconds: ptr(900)}
	d.DynamicPartitioningConfiguration = &firehose.DynamicPartitioningConfiguration{Enabled: ptr(true)}
	d.ProcessingConfiguration = &firehose.ProcessingConfiguration{Enabled: ptr(true), Processors: []firehose.Processor{
		{Type: firehose.ProcessorMetadataExtraction, Parameters: []firehose.ProcessorParameter{
			{ParameterName: "MetadataExtractionQuery", ParameterValue: "{c:.c}"}}},
	}}
	if _, err := r.Create(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	var b buffer.Batch
	b.Add([]byte(`{"c":"a"}`))
	b.Add([]byte(`{"c":"b"}`))
	if _, _, err := r.Put(ctx, "dp", &b); err != nil {
		t.Fatal(err)
	}
	moved := func(r *Registry) Stats {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, err := r.Stats("dp")
			if err != nil {
				t.Fatal(err)
			}
			if st.Delivered == 2 && st.Partitions != nil && st.Partitions.Records == 2 {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("records not moved into the partition buffers: %+v %+v", st, st.Partitions)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// This registry runs no processors (Stages is nil), so the records
	// lack their key: they wait in the error-output buffer, which is not
	// an active partition.
	st := moved(r)
	if st.Partitions.Active != 0 || st.BufferedRecords != 2 || st.OldestUndelivered == nil {
		t.Fatalf("stats %+v %+v", st, st.Partitions)
	}
	if _, err := os.Stat(filepath.Join(dir, "streams", dirPrefix+"dp", "partitions")); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = open(t, dir)
	moved(r)
	if err := r.Delete(ctx, "dp"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "streams", dirPrefix+"dp")); !os.IsNotExist(err) {
		t.Fatalf("stream directory left: %v", err)
	}
	_ = r.Close()
}

// TestDeletedHook: Options.Deleted is called with a deleted stream's name
// once its delivery loop has stopped (hydrant serve wires it to the
// processors' Forget), and not for the streams that stay.
func TestDeletedHook(t *testing.T) {
	dir := t.TempDir()
	store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	r, err := Open(Options{Dir: filepath.Join(dir, "streams"), Region: "us-east-1", AccountID: "000000000000", Store: store,
		Deleted: func(name string) { deleted = append(deleted, name) }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	for _, n := range []string{"gone", "kept"} {
		if _, err := r.Create(ctx, config(n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if len(deleted) != 1 || deleted[0] != "gone" {
		t.Fatalf("Deleted called with %v, want [gone]", deleted)
	}
}
