package format

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/deliver"
)

// BenchmarkMemory128MiB converts 128 MiB of records (a full Firehose
// buffer at the largest SizeInMBs) into one Parquet object, generating the
// records on the fly so that only the converter holds memory, and reports
// the peak Go heap in use (sampled every millisecond) and the object size.
// The pages of the row group go to a spool file, as they do in hydrant.
//
//	go test -run XXX -bench Memory128MiB -benchtime 1x ./internal/format
func BenchmarkMemory128MiB(b *testing.B) {
	for _, spool := range []bool{true, false} {
		b.Run(fmt.Sprintf("spool=%t", spool), func(b *testing.B) {
			o := ParquetOptions{Dictionary: true, BlockSize: 128 << 20}
			if spool {
				o.TempDir = b.TempDir()
			}
			p, err := NewParquet(benchCols, Deserializer{CaseInsensitive: true}, o)
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				runtime.GC()
				base, peak := heapInUse(), atomic.Uint64{}
				stop := make(chan struct{})
				done := make(chan struct{})
				go func() {
					defer close(done)
					t := time.NewTicker(time.Millisecond)
					defer t.Stop()
					for {
						select {
						case <-stop:
							return
						case <-t.C:
							if h := heapInUse(); h > peak.Load() {
								peak.Store(h)
							}
						}
					}
				}()
				var out countWriter
				enc, err := p.NewEncoder(&out)
				if err != nil {
					b.Fatal(err)
				}
				var in int64
				var r []byte
				for i := 0; in < 128<<20; i++ {
					r = appendEvent(r[:0], i)
					if err := enc.Encode(deliver.Rec{Data: r}); err != nil {
						b.Fatal(err)
					}
					in += int64(len(r))
				}
				if err := enc.Close(); err != nil {
					b.Fatal(err)
				}
				close(stop)
				<-done
				b.ReportMetric(float64(peak.Load()-base)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(out.n)/(1<<20), "object-MiB")
				b.ReportMetric(float64(in)/(1<<20), "input-MiB")
				b.ReportMetric(peakRSS(), "process-peak-RSS-MiB")
			}
		})
	}
}

// heapInUse is the live heap as of the last collection, from
// runtime/metrics: what the converter holds, without the garbage the
// collector has not reclaimed yet.
func heapInUse() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakRSS is the process's peak resident set (VmHWM), in MiB.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

var _ io.Writer = (*countWriter)(nil)
