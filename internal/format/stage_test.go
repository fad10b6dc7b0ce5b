package format

import (
	"context"
	"errors"
	"testing"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

func TestStage(t *testing.T) {
	cat, err := catalog.Open(t.TempDir(), "123456789012", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st := &streamspec.Stream{Name: "s", Revision: "0/1", Conversion: streamspec.Conversion{
		Enabled:      true,
		Schema:       streamspec.Schema{CatalogID: "123456789012", Region: "eu-west-1", Database: "default", Table: "t", VersionID: "LATEST"},
		Deserializer: streamspec.Deserializer{CaseInsensitive: true, ColumnToJSONKey: map[string]string{"ts": "timestamp"}},
		Parquet: streamspec.Parquet{BlockSizeBytes: 64 << 20, PageSizeBytes: 1 << 16, Compression: "GZIP",
			Dictionary: true, WriterVersion: "V2"},
	}}
	stage := Stage(cat, StageOptions{Counters: &Metrics{}})

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
		p.opts.BlockSize != 64<<20 || p.opts.PageSize != 1<<16 ||
		p.deser.ColumnToJSONKey["ts"] != "timestamp" || p.Table["catalogArn"] != "arn:aws:glue:eu-west-1:123456789012:catalog" ||
		p.Table["versionId"] != "LATEST" {
		t.Fatalf("format %+v %+v %v", p.opts, p.deser, p.Table)
	}
	if again, _ := stage(ctx, st); again != fm {
		t.Error("the same table version built a new format")
	}
	next := *st
	next.Revision = "0/2"
	if again, _ := stage(ctx, &next); again == fm {
		t.Error("a new configuration of the stream reused the old format")
	}
	st.Conversion = streamspec.Conversion{}
	if fm, err := stage(ctx, st); fm != nil || err != nil {
		t.Fatalf("disabled: %v %v", fm, err)
	}
}
