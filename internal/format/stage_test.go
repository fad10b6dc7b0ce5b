package format

import (
	"context"
	"errors"
	"testing"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/firehose"
)

func TestStage(t *testing.T) {
	cat, err := catalog.Open(t.TempDir(), "123456789012", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	str := func(s string) *string { return &s }
	st := &firehose.StreamInfo{StreamConfig: firehose.StreamConfig{Name: "s", Destination: firehose.ExtendedS3Destination{
		DataFormatConversionConfiguration: &firehose.DataFormatConversionConfiguration{
			SchemaConfiguration: &firehose.SchemaConfiguration{DatabaseName: str("default"), TableName: str("t")},
			InputFormatConfiguration: &firehose.InputFormatConfiguration{Deserializer: &firehose.Deserializer{
				OpenXJsonSerDe: &firehose.OpenXJSONSerDe{ColumnToJsonKeyMappings: map[string]string{"ts": "timestamp"}}}},
			OutputFormatConfiguration: &firehose.OutputFormatConfiguration{Serializer: &firehose.Serializer{
				ParquetSerDe: &firehose.ParquetSerDe{Compression: str("GZIP"), WriterVersion: str("V2")}}},
		}}}}
	stage := Stage(cat, StageOptions{Region: "eu-west-1", AccountID: "123456789012", Counters: &Metrics{}})

	_, err = stage(ctx, st)
	var te *TableError
	if !errors.As(err, &te) || te.Code != CodeEntityNotFound || !errors.Is(err, catalog.ErrNotFound) {
		t.Fatalf("missing table: %v", err)
	}
	in := catalog.TableInput{Name: "t", StorageDescriptor: &catalog.StorageDescriptor{Columns: []catalog.Column{{Name: "ts", Type: "timestamp"}, {Name: "x", Type: "nope"}}}}
	if err := cat.CreateTable(ctx, "", "default", in); err != nil {
		t.Fatal(err)
	}
	if _, err = stage(ctx, st); !errors.As(err, &te) || te.Code != CodeInvalidSchema {
		t.Fatalf("bad type: %v", err)
	}
	in.StorageDescriptor.Columns[1].Type = "int"
	if err := cat.UpdateTable(ctx, "", "default", in, ""); err != nil {
		t.Fatal(err)
	}
	fm, err := stage(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	p := fm.(*Parquet)
	if p.opts.Compression != "GZIP" || p.opts.WriterVersion != "V2" || !p.opts.Dictionary || !p.deser.CaseInsensitive ||
		p.deser.ColumnToJSONKey["ts"] != "timestamp" || p.Table["catalogArn"] != "arn:aws:glue:eu-west-1:123456789012:catalog" ||
		p.Table["versionId"] != "LATEST" {
		t.Fatalf("format %+v %+v %v", p.opts, p.deser, p.Table)
	}
	if again, _ := stage(ctx, st); again != fm {
		t.Error("the same table version built a new format")
	}
	off := false
	st.Destination.DataFormatConversionConfiguration.Enabled = &off
	if fm, err := stage(ctx, st); fm != nil || err != nil {
		t.Fatalf("disabled: %v %v", fm, err)
	}
}
