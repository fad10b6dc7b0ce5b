package firehose

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

const (
	convDest = `"RoleARN":"arn:aws:iam::000000000000:role/r","BucketARN":"arn:aws:s3:::bucket"`
	convOK   = `"SchemaConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","DatabaseName":"default","TableName":"t"},` +
		`"InputFormatConfiguration":{"Deserializer":{"OpenXJsonSerDe":{}}},` +
		`"OutputFormatConfiguration":{"Serializer":{"ParquetSerDe":{}}}`
)

func convService(t *testing.T, on bool) *Service {
	t.Helper()
	s, err := NewService(nil, Options{Region: "us-east-1", AccountID: "000000000000", Features: Features{FormatConversion: on}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkDoc applies CreateDeliveryStream's checks to a request document.
func checkDoc(s *Service, doc string) (StreamConfig, error) {
	raw, aerr := s.model.Validate("CreateDeliveryStream", []byte(doc))
	if aerr != nil {
		return StreamConfig{}, aerr
	}
	var in CreateDeliveryStreamInput
	if err := json.Unmarshal([]byte(doc), &in); err != nil {
		return StreamConfig{}, err
	}
	return s.createConfig(raw, &in)
}

func TestConversionCreateRules(t *testing.T) {
	s := convService(t, true)
	doc := func(dest, dc string) string {
		return `{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{` + convDest + dest +
			`,"DataFormatConversionConfiguration":{` + dc + `}}}`
	}
	tests := []struct {
		name, doc, msg string // msg "" = accepted
	}{
		{"ok", doc("", convOK), ""},
		{"gzip checked first", doc(`,"CompressionFormat":"GZIP","BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":60}`, ``), "CompressionFormat must be UNCOMPRESSED"},
		{"small buffer", doc(`,"BufferingHints":{"SizeInMBs":5,"IntervalInSeconds":60}`, convOK), "BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled."},
		{"no schema", doc("", `"InputFormatConfiguration":{"Deserializer":{"OpenXJsonSerDe":{}}}`), "SchemaConfiguration is required"},
		{"no input", doc("", `"SchemaConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","DatabaseName":"d","TableName":"t"},"OutputFormatConfiguration":{"Serializer":{"ParquetSerDe":{}}}`), "InputFormatConfiguration"},
		{"no output", doc("", `"SchemaConfiguration":{"RoleARN":"arn:aws:iam::000000000000:role/r","DatabaseName":"d","TableName":"t"},"InputFormatConfiguration":{"Deserializer":{"OpenXJsonSerDe":{}}}`), "OutputFormatConfiguration"},
		{"both deserializers", doc("", strings.Replace(convOK, `{"OpenXJsonSerDe":{}}`, `{"OpenXJsonSerDe":{},"HiveJsonSerDe":{}}`, 1)), "exactly one of OpenXJsonSerDe and HiveJsonSerDe"},
		{"both serializers", doc("", strings.Replace(convOK, `{"ParquetSerDe":{}}`, `{"ParquetSerDe":{},"OrcSerDe":{}}`, 1)), "exactly one of ParquetSerDe and OrcSerDe"},
		{"orc refused", doc("", strings.Replace(convOK, `{"ParquetSerDe":{}}`, `{"OrcSerDe":{}}`, 1)), "OrcSerDe"},
		{"no role", doc("", strings.Replace(convOK, `"RoleARN":"arn:aws:iam::000000000000:role/r",`, ``, 1)), "SchemaConfiguration.RoleARN is required"},
		{"no table", doc("", strings.Replace(convOK, `,"TableName":"t"`, ``, 1)), "SchemaConfiguration.TableName is required"},
		{"disabled keeps anything", doc("", `"Enabled":false`), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := checkDoc(s, tc.doc)
			if tc.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ae *awsproto.Error
			if !errors.As(err, &ae) || ae.Type != InvalidArgumentException || !strings.Contains(ae.Message, tc.msg) {
				t.Fatalf("got %v (%+v), want InvalidArgumentException %q", err, cfg, tc.msg)
			}
		})
	}

	cfg, err := checkDoc(s, doc("", convOK))
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Destination
	if *d.BufferingHints.SizeInMBs != 128 || *d.BufferingHints.IntervalInSeconds != 300 {
		t.Errorf("default hints %d/%d, want 128/300", *d.BufferingHints.SizeInMBs, *d.BufferingHints.IntervalInSeconds)
	}
	if !*d.DataFormatConversionConfiguration.Enabled || *d.CompressionFormat != "UNCOMPRESSED" {
		t.Errorf("defaults: %+v", d)
	}
	if ObjectExtension(&d) != ".parquet" {
		t.Errorf("extension %q", ObjectExtension(&d))
	}

	_, err = checkDoc(convService(t, false), doc("", convOK))
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("without the feature: %v", err)
	}
}

// Enabling conversion on an existing stream with UpdateDestination works
// when the buffer is large enough.
func TestConversionEnabledByUpdate(t *testing.T) {
	s := convService(t, true)
	cfg, err := checkDoc(s, `{"DeliveryStreamName":"s","ExtendedS3DestinationConfiguration":{`+convDest+`}}`)
	if err != nil {
		t.Fatal(err)
	}
	prev := cfg.Destination
	next := prev
	var upd ExtendedS3Destination
	upd.DataFormatConversionConfiguration = &DataFormatConversionConfiguration{
		SchemaConfiguration:       &SchemaConfiguration{DatabaseName: ptr("default"), TableName: ptr("t")},
		InputFormatConfiguration:  &InputFormatConfiguration{Deserializer: &Deserializer{HiveJsonSerDe: &HiveJSONSerDe{}}},
		OutputFormatConfiguration: &OutputFormatConfiguration{Serializer: &Serializer{ParquetSerDe: &ParquetSerDe{}}},
	}
	mergeInto(&next, &upd)
	upd1 := cfg
	upd1.Destination = next
	if err := s.checkDestination(&upd1, &prev); err == nil || !strings.Contains(err.Error(), "at least 64") {
		t.Fatalf("5 MiB buffer: %v", err)
	}
	upd.BufferingHints = &BufferingHints{SizeInMBs: ptr(64), IntervalInSeconds: ptr(60)}
	mergeInto(&next, &upd)
	upd2 := cfg
	upd2.Destination = next
	if err := s.checkDestination(&upd2, &prev); err != nil {
		t.Fatal(err)
	}
	if ObjectExtension(&upd2.Destination) != ".parquet" {
		t.Fatalf("after update: extension %s", ObjectExtension(&upd2.Destination))
	}
}
