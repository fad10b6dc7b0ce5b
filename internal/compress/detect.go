package compress

import (
	"bytes"
	"strings"
)

// Detect names the CompressionFormat of an object from its first bytes
// (at least 8 for a sure answer) and its key, for readers that do not know
// how the object was written (the console's previews): GZIP, ZIP and
// Snappy (snappy-java) by their magic bytes, HADOOP_SNAPPY, which has none,
// by the ".snappy" extension Firehose gives it, UNCOMPRESSED otherwise.
func Detect(head []byte, key string) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return GZIP
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return ZIP
	case bytes.HasPrefix(head, []byte(xerialHeader[:8])):
		return Snappy
	case strings.HasSuffix(key, ".snappy") || strings.HasSuffix(key, ".hsnappy"):
		return HadoopSnappy
	}
	return Uncompressed
}
