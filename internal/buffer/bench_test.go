package buffer

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkAppend measures group commit on the real disk: concurrent
// appenders (GOMAXPROCS × parallelism goroutines, like API handlers) each
// appending PutRecordBatch-sized batches of 500 records of 300 bytes. MB/s
// counts record data.
func BenchmarkAppend(b *testing.B) {
	for _, par := range []int{1, 8, 32} {
		b.Run(fmt.Sprintf("appenders=%dxGOMAXPROCS", par), func(b *testing.B) {
			l, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			const records, size = 500, 300
			b.SetBytes(records * size)
			b.ReportAllocs()
			b.SetParallelism(par)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var batch Batch
				rec := make([]byte, size)
				for i := range records {
					rec[0] = byte(i)
					batch.Add(rec)
				}
				for pb.Next() {
					if _, err := l.Append(context.Background(), &batch); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(b.N*records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
