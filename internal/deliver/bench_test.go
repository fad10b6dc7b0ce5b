package deliver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// keyed is a pipeline that gives each record the partition key "c" found
// after its first byte (cheap, so that the benchmark measures delivery).
type keyed struct{}

func (keyed) ChunkBytes() int64 { return 4 << 20 }
func (keyed) Chunks() int       { return 1 }
func (keyed) Process(_ context.Context, recs []deliver.Rec) ([]deliver.Rec, []deliver.Failure, error) {
	for i := range recs {
		recs[i].QueryKeys = map[string]string{"c": string(recs[i].Data[1:3])}
	}
	return recs, nil, nil
}

// BenchmarkPartitionedDelivery delivers records already in the stream log,
// from the start of the loop until a flush is done: "partitioned" through
// the partition buffers into one object per partition (100 partitions),
// "plain" without partitioning into as many objects (SizeInMBs set to a
// hundredth of the records). The ratio of the two is the cost of the
// partition buffers (a second durable write of every record, the moves'
// commits). Run with -benchtime 1x:
//
//	go test -run XXX -bench PartitionedDelivery -benchtime 1x ./internal/deliver
func BenchmarkPartitionedDelivery(b *testing.B) {
	const records, size = 200_000, 300
	for _, partitioned := range []bool{false, true} {
		name := "plain"
		if partitioned {
			name = "partitioned"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				lg, err := buffer.Open(dir+"/log", buffer.Options{})
				if err != nil {
					b.Fatal(err)
				}
				parts, err := buffer.Open(dir+"/partitions", buffer.Options{})
				if err != nil {
					b.Fatal(err)
				}
				store, err := objstore.NewLocal(dir+"/buckets", nil)
				if err != nil {
					b.Fatal(err)
				}
				var batch buffer.Batch
				rec := make([]byte, size)
				for i := range records {
					copy(rec, fmt.Sprintf("k%02d-%d-", i%100, i))
					batch.Add(rec)
					if batch.Len() == 500 {
						if _, err := lg.Append(context.Background(), &batch); err != nil {
							b.Fatal(err)
						}
						batch.Reset()
					}
				}
				st := deliver.TestStream(b, "!{partitionKeyFromQuery:c}/", "err/!{firehose:error-output-type}/")
				st.Destination.Buffering = streamspec.Buffering{Bytes: 128 << 20, Interval: time.Hour}
				if partitioned {
					st.Partitioning.Enabled = true
				} else {
					st = deliver.TestStream(b, "data/", "")
					st.Destination.Buffering = streamspec.Buffering{Bytes: records * size / 100, Interval: time.Hour}
				}
				b.StartTimer()
				start := time.Now()
				d := deliver.Start(deliver.Config{Stream: st, Log: lg, PartitionLog: parts, Store: store,
					Stages: func(context.Context, *streamspec.Stream) (deliver.Pipeline, deliver.Format, error) {
						return keyed{}, nil, nil
					}})
				<-d.Flush()
				took := time.Since(start)
				d.Stop()
				b.StopTimer()
				b.ReportMetric(float64(records)/took.Seconds(), "records/s")
				infos, err := store.List(context.Background(), "bkt", "")
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(infos)), "objects")
				_ = lg.Close()
				_ = parts.Close()
				b.StartTimer()
			}
		})
	}
}
