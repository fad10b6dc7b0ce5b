package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	fh "github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/aws/aws-sdk-go-v2/service/firehose/types"
)

// cpuTime is the CPU time a process's threads have run, from each
// thread's schedstat (nanoseconds, unlike the 10 ms ticks of stat).
func cpuTime(t *testing.T, pid int) time.Duration {
	t.Helper()
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("read schedstat of %d: %v", pid, err)
	}
	var total time.Duration
	for _, p := range tasks {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // a thread that ended meanwhile
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

// TestConsolePerformance measures what docs/PERFORMANCE.md reports for the
// console, without asserting on it: how long the overview of 200 streams
// takes to render, what its live updates cost the server (CPU with the
// page open, against the same server idle), and how long a 1,000-row
// result table takes to render.
func TestConsolePerformance(t *testing.T) {
	t.Parallel()
	const streams = 200
	s := startServer(t)
	c := sdkClient(s)
	ctx := context.Background()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range streams {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name := fmt.Sprintf("perf-%03d", i)
			createStream(t, c, name, &types.ExtendedS3DestinationConfiguration{BucketARN: aws.String("arn:aws:s3:::console-perf"),
				BufferingHints: &types.BufferingHints{SizeInMBs: aws.Int32(5), IntervalInSeconds: aws.Int32(900)}})
			if _, err := c.PutRecord(ctx, &fh.PutRecordInput{DeliveryStreamName: aws.String(name), Record: &types.Record{Data: []byte(`{"n":1}` + "\n")}}); err != nil {
				t.Errorf("put %s: %v", name, err)
			}
		}()
	}
	wg.Wait()
	pid := s.cmd.Process.Pid
	window := 20 * time.Second

	// The server with 200 idle streams and no page open.
	time.Sleep(time.Second)
	c0 := cpuTime(t, pid)
	time.Sleep(window)
	idle := cpuTime(t, pid) - c0

	b := newBrowser(t)
	// The overview, loaded three times: the machine is shared, so the
	// least disturbed load is the one reported (with the others).
	var renders []float64
	for range 3 {
		b.open(s.ui(""))
		b.wait("200 streams", fmt.Sprintf(`document.querySelectorAll('#streams tbody tr[data-stream]').length === %d && performance.getEntriesByName('hydrant:overview-rendered').length === 1`, streams))
		renders = append(renders, eval[float64](b, `performance.getEntriesByName('hydrant:overview-rendered')[0].startTime`))
	}
	b.checkErrors("overview of 200 streams")

	// The same window with the overview open and polling.
	time.Sleep(2 * time.Second)
	c1 := cpuTime(t, pid)
	time.Sleep(window)
	open := cpuTime(t, pid) - c1
	polls := eval[int](b, `performance.getEntriesByType('resource').filter((e) => e.name.endsWith('/api/summary')).length`)

	// A 1,000-row result table, drawn by the query page's renderer, five
	// times: until the first rows show, and until every row is in.
	var firsts, alls []float64
	for range 5 {
		got := eval[[]float64](b, `import('/_hydrant/ui/assets/js/table.js').then((m) => new Promise((resolve) => {
		  const columns = ['ts', 'stream', 'user', 'page', 'n', 'bytes', 'ok', 'note'].map((name) => ({ name, type: 'varchar' }));
		  const rows = [];
		  for (let i = 0; i < 1000; i++) rows.push([new Date(1.7e12 + i * 1000).toISOString(), 'perf-' + (i % 200), 'user-' + i, '/page/' + (i % 37), String(i), String(i * 113), i % 2 ? 'true' : 'false', i % 5 ? null : 'a note']);
		  const t0 = performance.now();
		  const el = m.resultTable({ columns, rows });
		  document.querySelector('main').append(el);
		  el.getBoundingClientRect();
		  const first = performance.now() - t0;
		  const check = () => {
		    if (el.dataset.complete) {
		      el.getBoundingClientRect();
		      const all = performance.now() - t0;
		      const n = el.querySelectorAll('tbody tr').length;
		      el.remove();
		      resolve([first, all, n]);
		    } else requestAnimationFrame(check);
		  };
		  check();
		}))`)
		if got[2] != 1000 {
			t.Errorf("the result table has %v rows", got[2])
		}
		firsts, alls = append(firsts, got[0]), append(alls, got[1])
	}
	b.checkErrors("result table")
	load, _ := os.ReadFile("/proc/loadavg")

	extra := (open - idle).Seconds() / window.Seconds() * 100
	t.Logf("load average %s", strings.TrimSpace(string(load)))
	t.Logf("overview of %d streams rendered %.0f ms after navigation (best of %s ms)", streams, slices.Min(renders), fmtMs(renders))
	t.Logf("server CPU over %s: %.0f ms idle, %.0f ms with the overview open (%d summary polls): +%.2f%% of one core",
		window, idle.Seconds()*1000, open.Seconds()*1000, polls, extra)
	t.Logf("1,000-row result table: first rows in %.1f ms, every row in %.1f ms (best of %s / %s ms)",
		slices.Min(firsts), slices.Min(alls), fmtMs(firsts), fmtMs(alls))
}

func fmtMs(v []float64) string {
	var parts []string
	for _, x := range v {
		parts = append(parts, strconv.FormatFloat(x, 'f', 0, 64))
	}
	return strings.Join(parts, ", ")
}
