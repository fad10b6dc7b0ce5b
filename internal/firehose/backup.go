package firehose

// checkBackup applies the rules of S3 backup (S3BackupMode Enabled with
// S3BackupConfiguration) and fills the backup's defaults, as Describe shows
// them in S3BackupDescription: the backup needs a configuration with a
// bucket, and its prefixes follow the Prefix rules (no partition keys: the
// backup holds source records, which have none). The Enabled → Disabled rule
// is checkDestination's.
func checkBackup(d *ExtendedS3Destination) error {
	enabled := d.S3BackupMode != nil && *d.S3BackupMode == "Enabled"
	b := d.S3BackupConfiguration
	if b == nil {
		if enabled {
			return invalidArg("S3BackupConfiguration is required when S3BackupMode is Enabled.")
		}
		return nil
	}
	if b.BucketARN == nil || *b.BucketARN == "" {
		return invalidArg("S3BackupConfiguration.BucketARN is required.")
	}
	if err := checkS3Common(b, "S3BackupConfiguration."); err != nil {
		return err
	}
	if err := checkPrefixes(b.Prefix, b.ErrorOutputPrefix, false); err != nil {
		return err
	}
	cp := *b
	if cp.BufferingHints == nil {
		cp.BufferingHints = &BufferingHints{SizeInMBs: ptr(5), IntervalInSeconds: ptr(300)}
	}
	if cp.CompressionFormat == nil {
		cp.CompressionFormat = ptr("UNCOMPRESSED")
	}
	if cp.EncryptionConfiguration == nil || (cp.EncryptionConfiguration.NoEncryptionConfig == nil && cp.EncryptionConfiguration.KMSEncryptionConfig == nil) {
		cp.EncryptionConfiguration = &EncryptionConfiguration{NoEncryptionConfig: ptr("NoEncryption")}
	}
	if cp.CloudWatchLoggingOptions == nil {
		cp.CloudWatchLoggingOptions = &CloudWatchLoggingOptions{Enabled: ptr(false)}
	}
	d.S3BackupConfiguration = &cp
	return nil
}

// BackupBucketName returns the bucket of a destination's S3 backup, or ""
// when backup is not enabled.
func BackupBucketName(d *ExtendedS3Destination) string {
	if d.S3BackupMode == nil || *d.S3BackupMode != "Enabled" || d.S3BackupConfiguration == nil {
		return ""
	}
	return bucketName(deref(d.S3BackupConfiguration.BucketARN))
}
