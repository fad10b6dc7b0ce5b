package deliver

import (
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// TestStream is testStream for the package's external tests.
var TestStream = testStream

// testStream is stream "s" delivering to bucket bkt, uncompressed, with
// 1 MiB / 0 s hints and the given prefixes; tests change what they need.
func testStream(t testing.TB, prefix, errorPrefix string) streamspec.Stream {
	t.Helper()
	data, errs, err := keys.Resolve(&prefix, &errorPrefix)
	if err != nil {
		t.Fatal(err)
	}
	return streamspec.Stream{
		Name: "s", ARN: "arn:aws:firehose:us-east-1:000000000000:deliverystream/s",
		Region: "us-east-1", AccountID: "000000000000", VersionID: 1, Revision: "1/1",
		Destination: streamspec.Destination{
			Bucket: "bkt", Prefix: data, ErrorPrefix: errs, Compression: "UNCOMPRESSED",
			Buffering: streamspec.Buffering{Bytes: 1 << 20}, Location: time.UTC,
		},
	}
}
