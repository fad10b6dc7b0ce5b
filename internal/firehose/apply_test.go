package firehose_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/stream"
)

// applyEnv is a registry in a temp dir and the API over it, reopened at
// will as a restart would.
type applyEnv struct {
	t   *testing.T
	dir string
	reg *stream.Registry
	svc *firehose.Service
}

func newApplyEnv(t *testing.T, f firehose.Features) *applyEnv {
	e := &applyEnv{t: t, dir: t.TempDir()}
	e.open(f)
	t.Cleanup(func() { _ = e.reg.Close() })
	return e
}

func (e *applyEnv) open(f firehose.Features) {
	e.t.Helper()
	store, err := objstore.NewLocal(e.dir+"/buckets", nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.reg, err = stream.Open(stream.Options{Dir: e.dir + "/streams", Region: "us-east-1", AccountID: "000000000000", Store: store})
	if err != nil {
		e.t.Fatal(err)
	}
	e.svc, err = firehose.NewService(e.reg, firehose.Options{Region: "us-east-1", AccountID: "000000000000", Features: f})
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *applyEnv) restart(f firehose.Features) {
	e.t.Helper()
	if err := e.reg.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open(f)
}

func (e *applyEnv) apply(doc string, want firehose.Change) {
	e.t.Helper()
	got, err := e.svc.ApplyConfig(context.Background(), []byte(doc))
	if err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	if got != want {
		e.t.Fatalf("apply: %s, want %s", got, want)
	}
}

func (e *applyEnv) get(name string) firehose.StreamInfo {
	e.t.Helper()
	info, err := e.reg.Get(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

const applyDest = `"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::bucket"`

func TestApplyConfigIsIdempotent(t *testing.T) {
	e := newApplyEnv(t, firehose.Features{})
	doc := `{"DeliveryStreamName":"s","DirectPutSourceConfiguration":{"ThroughputHintInMBs":5},
		"ExtendedS3DestinationConfiguration":{` + applyDest + `,"Prefix":"p/","CompressionFormat":"GZIP",
		"ProcessingConfiguration":{"Enabled":false,"Processors":[]}},
		"Tags":[{"Key":"b","Value":"2"},{"Key":"a"}]}`
	e.apply(doc, firehose.Created)
	e.apply(doc, firehose.Unchanged)
	// State read back from stream.json must compare equal too, or every
	// restart would move the VersionId.
	e.restart(firehose.Features{})
	e.apply(doc, firehose.Unchanged)
	if v := e.get("s").VersionID; v != 1 {
		t.Fatalf("VersionId %d after idempotent applies, want 1", v)
	}
}

func TestApplyConfigUpdates(t *testing.T) {
	e := newApplyEnv(t, firehose.Features{})
	e.apply(`{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{`+applyDest+`,"Prefix":"p/","CompressionFormat":"GZIP"}}`, firehose.Created)
	before := e.get("s")

	// The document replaces the destination: CompressionFormat, left out,
	// goes back to its default rather than staying GZIP as a merge would.
	e.apply(`{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{`+applyDest+`,"Prefix":"q/"}}`, firehose.Updated)
	after := e.get("s")
	if after.VersionID != 2 || !after.Updated.After(before.Updated) {
		t.Fatalf("VersionId %d, updated %v (before %v): want 2 and a later time", after.VersionID, after.Updated, before.Updated)
	}
	if p, c := *after.Destination.Prefix, *after.Destination.CompressionFormat; p != "q/" || c != "UNCOMPRESSED" {
		t.Fatalf("Prefix %q, CompressionFormat %q; want q/ and UNCOMPRESSED", p, c)
	}
	if after.DestinationID != before.DestinationID || after.Salt != before.Salt || after.ARN != before.ARN {
		t.Fatal("an update must keep the stream's identity")
	}

	// Tags alone change without a new VersionId, as TagDeliveryStream does.
	e.apply(`{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{`+applyDest+`,"Prefix":"q/"},"Tags":[{"Key":"k","Value":"v"}]}`, firehose.Updated)
	if info := e.get("s"); info.VersionID != 2 || len(info.Tags) != 1 || info.Tags[0].Key != "k" {
		t.Fatalf("after tagging: VersionId %d, tags %+v", info.VersionID, info.Tags)
	}
	e.apply(`{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{`+applyDest+`,"Prefix":"q/"},"Tags":[{"Key":"k","Value":"v"}]}`, firehose.Unchanged)
}

func TestApplyConfigRefuses(t *testing.T) {
	// A valid dynamically partitioned destination, so that only the rule
	// of updates can refuse it.
	dp := firehose.Features{DynamicPartitioning: true, Processors: map[string]bool{"MetadataExtraction": true}}
	tests := []struct {
		name     string
		existing string // created first
		doc      string
		typ      string
		msg      string
	}{
		{
			name: "model constraints",
			doc:  `{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{` + applyDest + `,"BufferingHints":{"SizeInMBs":0,"IntervalInSeconds":60}}}`,
			typ:  awsproto.ValidationException,
			msg:  "1 validation error detected: Value '0' at 'extendedS3DestinationConfiguration.bufferingHints.sizeInMBs' failed to satisfy constraint: Member must have value greater than or equal to 1",
		},
		{
			name: "create rules",
			doc:  `{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{` + applyDest + `,"S3BackupMode":"Enabled"}}`,
			typ:  firehose.InvalidArgumentException,
			msg:  "S3BackupMode Enabled",
		},
		{
			name:     "update rules",
			existing: `{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{` + applyDest + `}}`,
			doc: `{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{` + applyDest + `,
				"Prefix":"!{partitionKeyFromQuery:k}/","ErrorOutputPrefix":"e/",
				"BufferingHints":{"SizeInMBs":64,"IntervalInSeconds":60},
				"ProcessingConfiguration":{"Enabled":true,"Processors":[{"Type":"MetadataExtraction","Parameters":[
					{"ParameterName":"MetadataExtractionQuery","ParameterValue":"{k: .k}"},
					{"ParameterName":"JsonParsingEngine","ParameterValue":"JQ-1.6"}]}]},
				"DynamicPartitioningConfiguration":{"Enabled":true}}}`,
			typ: firehose.InvalidArgumentException,
			msg: "Dynamic partitioning cannot be enabled on an existing Firehose stream.",
		},
		{
			name:     "source change",
			existing: `{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{` + applyDest + `}}`,
			doc:      `{"DeliveryStreamName":"s","DirectPutSourceConfiguration":{"ThroughputHintInMBs":10},"ExtendedS3DestinationConfiguration":{` + applyDest + `}}`,
			typ:      firehose.InvalidArgumentException,
			msg:      "DirectPutSourceConfiguration of Firehose s cannot be changed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newApplyEnv(t, dp)
			if tc.existing != "" {
				e.apply(tc.existing, firehose.Created)
			}
			_, err := e.svc.ApplyConfig(context.Background(), []byte(tc.doc))
			var ae *awsproto.Error
			if !errors.As(err, &ae) || ae.Type != tc.typ || !strings.Contains(ae.Message, tc.msg) {
				t.Fatalf("got %v, want %s containing %q", err, tc.typ, tc.msg)
			}
			if tc.existing != "" {
				if v := e.get("s").VersionID; v != 1 {
					t.Fatalf("a refused apply moved VersionId to %d", v)
				}
			} else if _, err := e.reg.Get(context.Background(), "s"); !errors.Is(err, firehose.ErrStreamNotFound) {
				t.Fatalf("a refused apply created the stream: %v", err)
			}
		})
	}
}
