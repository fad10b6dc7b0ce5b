package lambdabench

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// envInt reads a benchmark setting from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func envString(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// tally keeps the rounds of one side of the comparison.
type tally struct {
	name  string
	best  time.Duration
	cpu   time.Duration // summed over rounds
	extra time.Duration // hydrant: the function's share of cpu
	n     int
}

func (t *tally) add(m measure) {
	if t.n == 0 || m.took < t.best {
		t.best = m.took
	}
	t.cpu += m.cpu
	t.n++
}

func (t *tally) rate(records int) float64 { return float64(records) / t.best.Seconds() }

// cpuPerRecord is the mean CPU time per record over the rounds.
func (t *tally) cpuPerRecord(records int) time.Duration {
	return t.cpu / time.Duration(t.n*records)
}

// comparison runs hydrant's path and the baselines alternately, rounds
// times, so that other load on the machine hits all of them alike, and
// reports the best time of each, the median of the rounds' throughput
// ratios, and the CPU time per record.
type comparison struct {
	b       *testing.B
	records int
	size    int // the records' mean size
	hydrant tally
	bases   []*tally
	ratios  [][]float64 // per baseline: hydrant's time / the baseline's, per round
	// others and idle add up, over hydrant's rounds, the cores other
	// processes used and the cores left idle.
	others, idle float64
}

func (c *comparison) round(h run, bases ...measure) {
	if c.ratios == nil {
		c.ratios = make([][]float64, len(bases))
	}
	c.hydrant.add(measure{h.took, h.cpuHydrant + h.cpuFunction})
	c.hydrant.extra += h.cpuFunction
	// What other processes took meanwhile, in cores.
	others := (h.machineBusy - h.cpuHydrant - h.cpuFunction).Seconds() / h.took.Seconds()
	idle := h.machineIdle.Seconds() / h.took.Seconds()
	c.others += others
	c.idle += idle
	line := fmt.Sprintf("round %d: through hydrant %.0f records/s in %v (first invocation after %v, %v after the last; others used %.2f cores, %.2f idle)",
		c.hydrant.n, float64(c.records)/h.took.Seconds(), h.took.Round(time.Millisecond), h.beforeFirst.Round(time.Millisecond),
		h.afterLast.Round(time.Millisecond), others, idle)
	for i, m := range bases {
		c.bases[i].add(m)
		c.ratios[i] = append(c.ratios[i], h.took.Seconds()/m.took.Seconds())
		line += fmt.Sprintf("; %s %.0f records/s", c.bases[i].name, float64(c.records)/m.took.Seconds())
	}
	c.b.Log(line)
}

// report logs the figures. A baseline's overhead is how much longer a
// record takes through hydrant than in the loop (hydrant's time over the
// loop's, minus one), by the best round of each and by the rounds' median.
func (c *comparison) report() {
	b, n := c.b, c.records
	hy := &c.hydrant
	fnCPU := hy.extra / time.Duration(hy.n*n)
	b.Logf("%d records of %d bytes on average, %d rounds", n, c.size, hy.n)
	b.Logf("%-20s %8.0f records/s (best round), CPU %5.2f µs/record (hydrant %.2f, function %.2f); others used %.2f cores, %.2f idle",
		"through hydrant:", hy.rate(n), us(hy.cpuPerRecord(n)), us(hy.cpuPerRecord(n)-fnCPU), us(fnCPU),
		c.others/float64(hy.n), c.idle/float64(hy.n))
	b.ReportMetric(hy.rate(n), "records/s")
	for i, t := range c.bases {
		r := slices.Clone(c.ratios[i])
		slices.Sort(r)
		cpuOver := float64(hy.cpuPerRecord(n))/float64(t.cpuPerRecord(n)) - 1
		b.Logf("%-20s %8.0f records/s (best round), CPU %5.2f µs/record; hydrant's time per record %+.1f%% (median round %+.1f%%, %+.0f%% to %+.0f%%), CPU per record %+.0f%%",
			t.name+":", t.rate(n), us(t.cpuPerRecord(n)), 100*(hy.best.Seconds()/t.best.Seconds()-1), 100*(r[len(r)/2]-1),
			100*(r[0]-1), 100*(r[len(r)-1]-1), 100*cpuOver)
		b.ReportMetric(t.rate(n), strings.ReplaceAll(t.name, " ", "-")+"-records/s")
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func newComparison(b *testing.B, records, size int, names ...string) *comparison {
	c := &comparison{b: b, records: records, size: size, hydrant: tally{name: "through hydrant"}}
	for _, n := range names {
		c.bases = append(c.bases, &tally{name: n})
	}
	return c
}

// BenchmarkLambdaGo delivers records through a pass-through Go function
// (aws-lambda-go, provided.al2023) as the stream's Lambda processor, and
// calls the same handler in a loop, in a Go process of its own, on the
// events hydrant sent: through aws-lambda-go's codec (lambda.NewHandler(h).
// Invoke, what the function's process does per invocation besides the
// Runtime API calls), and alone. Run with -benchtime 1x; BENCH_RECORDS
// (400,000: one object of 128 MiB, the largest SizeInMBs), BENCH_ROUNDS
// (3), BENCH_BUFFER_MB (BufferSizeInMBs, 1) and BENCH_CONCURRENCY
// (--lambda-concurrency, 4) change the run. BENCH_CPUPROFILE=FILE profiles
// hydrant's side of each round (FILE.1, ...), BENCH_FUNCTION_CPUPROFILE=DIR
// the function's instances; BENCH_FUNCTION_LOGS=1 sends what the function
// prints to a CloudWatch Logs store, as serve does; BENCH_FUNCTION_GOGC
// sets GOGC in the function's Environment.
func BenchmarkLambdaGo(b *testing.B) {
	n := envInt("BENCH_RECORDS", 400_000)
	want := dataBytes(n)
	env := map[string]string{}
	if v := os.Getenv("BENCH_FUNCTION_GOGC"); v != "" {
		// The function's own GC setting, in its Environment.
		env["GOGC"] = v
	}
	if dir := os.Getenv("BENCH_FUNCTION_CPUPROFILE"); dir != "" {
		// The function's instances profile themselves (passthrough/bootstrap).
		env["PASSTHROUGH_CPUPROFILE"], env["PASSTHROUGH_PROFILE_SECONDS"] = dir, envString("BENCH_FUNCTION_PROFILE_SECONDS", "10")
	}
	r := newRig(b, rigOptions{runtime: "provided.al2023", handler: "bootstrap", zip: goFunctionZip(b),
		bufferMB: envString("BENCH_BUFFER_MB", "1"), concurrency: envInt("BENCH_CONCURRENCY", 4), env: env,
		functionLogs: os.Getenv("BENCH_FUNCTION_LOGS") == "1"})
	events := r.events(n)
	r.warm()
	c := newComparison(b, n, int(want/int64(n)), "handler+codec loop", "handler loop")
	b.ResetTimer()
	for range b.N * envInt("BENCH_ROUNDS", 3) {
		var got int64
		h := r.deliver(n, func(obj []byte) { got += int64(len(obj)) })
		if got != want {
			b.Fatalf("delivered %d bytes, want %d", got, want)
		}
		codec, handler := goBaseline(b, events, n)
		c.round(h, codec, handler)
	}
	c.report()
}

// BenchmarkLambdaPython is the same with the recipe's Python function
// (examples/recipe/lambda_function.py) and a python3 process
// calling its lambda_handler in a loop (testdata/baseline.py).
// BENCH_RECORDS defaults to 100,000.
func BenchmarkLambdaPython(b *testing.B) {
	python, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 not installed")
	}
	if exec.Command(python, "-c", "import boto3").Run() != nil {
		b.Skip("python3 has no boto3, which the recipe's function imports")
	}
	n := envInt("BENCH_RECORDS", 100_000)
	r := newRig(b, rigOptions{runtime: "python3.12", handler: "lambda_function.lambda_handler", zip: pythonFunctionZip(b),
		bufferMB: envString("BENCH_BUFFER_MB", "1"), concurrency: envInt("BENCH_CONCURRENCY", 4),
		functionLogs: os.Getenv("BENCH_FUNCTION_LOGS") == "1"})
	events := r.events(n)
	r.warm()
	c := newComparison(b, n, int(dataBytes(n)/int64(n)), "handler+codec loop", "handler loop")
	b.ResetTimer()
	for range b.N * envInt("BENCH_ROUNDS", 3) {
		lines, transformed := 0, true
		h := r.deliver(n, func(obj []byte) {
			lines += bytes.Count(obj, []byte("\n"))
			transformed = transformed && bytes.Contains(obj[:min(len(obj), 1000)], []byte(`"processed_by": "lambda-firehose-transform"`))
		})
		if lines != n || !transformed {
			b.Fatalf("delivered %d lines, want %d transformed ones", lines, n)
		}
		codec, handler := pyBaseline(b, python, events, n)
		c.round(h, codec, handler)
	}
	c.report()
}
