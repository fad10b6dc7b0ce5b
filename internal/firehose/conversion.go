package firehose

// checkConversion applies Firehose's rules for an enabled
// DataFormatConversionConfiguration, in the order AWS checks them
// (reference §4): CompressionFormat first, then the buffer size, then the
// members that are required when conversion is enabled. It fills the
// defaults Describe shows: Enabled true, and 128 MiB / 300 s buffering
// hints when BufferingHints is omitted. prev is nil on create.
//
// The SizeInMBs message is AWS's own (observed); the other messages are
// hydrant's wording, as AWS's texts for them are not documented.
func checkConversion(d *ExtendedS3Destination, prev *ExtendedS3Destination, f Features) error {
	dc := d.DataFormatConversionConfiguration
	if dc == nil || (dc.Enabled != nil && !*dc.Enabled) {
		return nil
	}
	if !f.FormatConversion {
		return invalidArg("DataFormatConversionConfiguration (record format conversion) is not supported by hydrant yet.")
	}
	if c := d.CompressionFormat; c != nil && *c != "UNCOMPRESSED" {
		return invalidArg("CompressionFormat must be UNCOMPRESSED when data format conversion is enabled; the Parquet serializer compresses the file itself (ParquetSerDe.Compression).")
	}
	if h := d.BufferingHints; h == nil {
		d.BufferingHints = &BufferingHints{SizeInMBs: ptr(128), IntervalInSeconds: ptr(300)}
	} else if h.SizeInMBs != nil && *h.SizeInMBs < 64 {
		return invalidArg("BufferingHints.SizeInMBs must be at least 64 when data format conversion is enabled.")
	}
	if dc.SchemaConfiguration == nil {
		return invalidArg("SchemaConfiguration is required when data format conversion is enabled.")
	}
	if dc.InputFormatConfiguration == nil || dc.InputFormatConfiguration.Deserializer == nil {
		return invalidArg("InputFormatConfiguration (Deserializer) is required when data format conversion is enabled.")
	}
	if dc.OutputFormatConfiguration == nil || dc.OutputFormatConfiguration.Serializer == nil {
		return invalidArg("OutputFormatConfiguration (Serializer) is required when data format conversion is enabled.")
	}
	if de := dc.InputFormatConfiguration.Deserializer; (de.OpenXJsonSerDe != nil) == (de.HiveJsonSerDe != nil) {
		return invalidArg("InputFormatConfiguration.Deserializer must set exactly one of OpenXJsonSerDe and HiveJsonSerDe.")
	}
	se := dc.OutputFormatConfiguration.Serializer
	if (se.ParquetSerDe != nil) == (se.OrcSerDe != nil) {
		return invalidArg("OutputFormatConfiguration.Serializer must set exactly one of ParquetSerDe and OrcSerDe.")
	}
	if se.OrcSerDe != nil {
		return invalidArg("OutputFormatConfiguration.Serializer.OrcSerDe (ORC output) is not supported by hydrant: no sound pure-Go ORC writer is available. Use ParquetSerDe.")
	}
	sc := dc.SchemaConfiguration
	var missing string
	switch {
	case prev == nil && isEmpty(sc.RoleARN):
		missing = "RoleARN"
	case isEmpty(sc.DatabaseName):
		missing = "DatabaseName"
	case isEmpty(sc.TableName):
		missing = "TableName"
	}
	if missing != "" {
		return invalidArg("SchemaConfiguration.%s is required when data format conversion is enabled.", missing)
	}
	cp := *dc
	cp.Enabled = ptr(true)
	d.DataFormatConversionConfiguration = &cp
	return nil
}

func isEmpty(s *string) bool { return s == nil || *s == "" }
