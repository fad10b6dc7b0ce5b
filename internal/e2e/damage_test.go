package e2e

import (
	"context"
	bin "encoding/binary"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// TestDamagedLog flips one bit in the middle of a stopped hydrant's log:
// at restart the records of the damaged frame are named in one Error line
// and counted in hydrant_buffer_lost_records_total, the damaged bytes are
// quarantined beside the log, and every other record is delivered, those
// after the damage included.
func TestDamagedLog(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := sdkClient(s)
	ctx := context.Background()
	createStream(t, c, "dmg", &types.ExtendedS3DestinationConfiguration{
		BucketARN:      aws.String("arn:aws:s3:::dmg"),
		BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(128), IntervalInSeconds: aws.Int32(900)},
	})
	// Three batches of ten records: three frames of the log.
	for b := range 3 {
		var recs []types.Record
		for r := range 10 {
			recs = append(recs, types.Record{Data: fmt.Appendf(nil, "b%d-r%d\n", b, r)})
		}
		out, err := c.PutRecordBatch(ctx, &fh.PutRecordBatchInput{DeliveryStreamName: aws.String("dmg"), Records: recs})
		if err != nil || aws.ToInt32(out.FailedPutCount) != 0 {
			t.Fatalf("PutRecordBatch: %v %v", out, err)
		}
	}
	s.Stop()

	// The second frame follows the 24-byte segment header and the first
	// frame (8 bytes of length and CRC, then its payload).
	logDir := filepath.Join(s.DataDir, "streams", "ds-dmg", "log")
	seg := filepath.Join(logDir, "00000000000000000001.seg")
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	second := 24 + 8 + int(bin.LittleEndian.Uint32(b[24:]))
	b[second+8+20+4+1] ^= 0x10 // a byte of its first record
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}

	s.Restart()
	var lossLines []string
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, "records lost") {
			lossLines = append(lossLines, line)
		}
	}
	if len(lossLines) != 1 || !strings.Contains(lossLines[0], "level=ERROR") || !strings.Contains(lossLines[0], "lost=11-20") {
		t.Fatalf("restart logged %q; want one Error naming lost=11-20", lossLines)
	}
	if got := s.metric("hydrant_buffer_lost_records_total", "dmg"); got != 10 {
		t.Errorf("hydrant_buffer_lost_records_total = %v, want 10", got)
	}
	quarantine := filepath.Join(logDir, fmt.Sprintf("00000000000000000001.seg.%d.damaged", second))
	if q, err := os.ReadFile(quarantine); err != nil || len(q) == 0 || string(q) != string(b[second:second+len(q)]) {
		t.Errorf("quarantine file %s: %v, %d bytes", quarantine, err, len(q))
	}

	resp, err := http.Post(s.URL+"/_hydrant/streams/dmg/flush?wait=20s", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var got []string
	waitFor(t, 20*time.Second, "the surviving records delivered", func() bool {
		got = nil
		for _, body := range s.bucketFiles("dmg") {
			got = append(got, strings.Fields(string(body))...)
		}
		return len(got) >= 20
	})
	slices.Sort(got)
	var want []string
	for _, b := range []int{0, 2} {
		for r := range 10 {
			want = append(want, fmt.Sprintf("b%d-r%d", b, r))
		}
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("delivered %q, want %q", got, want)
	}
}
