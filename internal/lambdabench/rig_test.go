package lambdabench

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/hydrant-io/hydrant/internal/buffer"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/lambda"
	"github.com/hydrant-io/hydrant/internal/logs"
	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/process"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// records calls fn with n clickstream events of about 300 bytes, with the
// fields the recipe's function reads, the same n every time. rec is only
// valid during the call: the benchmark's own heap stays small, as hydrant's
// is.
func records(n int, fn func(i int, rec []byte)) {
	r := rand.New(rand.NewPCG(4, 2))
	types := []string{"page_view", "click", "add_to_cart", "purchase", "scroll"}
	agents := []string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
	}
	var b []byte
	for i := range n {
		b = fmt.Appendf(b[:0], `{"event_type":"%s","user_id":"user%06d","session_id":"session-%08d",`+
			`"page_url":"https://example.com/products/%d?ref=home","referrer":"https://www.google.com/",`+
			`"user_agent":"%s","ip_address":"203.0.%d.%d"}`,
			types[r.IntN(len(types))], r.IntN(1_000_000), r.IntN(100_000_000), r.IntN(10_000),
			agents[r.IntN(len(agents))], r.IntN(256), r.IntN(256))
		fn(i, b)
	}
}

// dataBytes is the size of n records.
func dataBytes(n int) int64 {
	var total int64
	records(n, func(_ int, rec []byte) { total += int64(len(rec)) })
	return total
}

// goFunctionZip builds the pass-through function as a provided.al2023
// package: GOOS=linux CGO_ENABLED=0 go build -o bootstrap.
func goFunctionZip(tb testing.TB) []byte {
	tb.Helper()
	out := filepath.Join(tb.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", out, "github.com/hydrant-io/hydrant/internal/lambdabench/passthrough/bootstrap")
	cmd.Env = append(os.Environ(), "GOOS=linux", "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build the Go function: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return zipOf(tb, "bootstrap", bin, 0o755)
}

// recipeFile is the recipe's function, as the e2e tests run it.
const recipeFile = "../../examples/recipe/lambda_function.py"

func pythonFunctionZip(tb testing.TB) []byte {
	tb.Helper()
	src, err := os.ReadFile(recipeFile)
	if err != nil {
		tb.Fatal(err)
	}
	return zipOf(tb, "lambda_function.py", src, 0o644)
}

func zipOf(tb testing.TB, name string, body []byte, mode fs.FileMode) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	h := &zip.FileHeader{Name: name, Method: zip.Deflate}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(body)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// rig is hydrant's Lambda path in one process: hosted functions
// (lambda.Service, created through the Lambda API with the Go SDK), the
// processors' factory, and a stream whose Lambda processor runs the
// function. Each run delivers a pre-filled log through it.
type rig struct {
	tb     testing.TB
	svc    *lambda.Service
	procs  *process.Factory
	stream streamspec.Stream
	// profiles counts the CPU profiles written (BENCH_CPUPROFILE).
	profiles int
	timed    timedInvoker
}

// timedInvoker notes when the first invocation of a run started and the
// last one ended.
type timedInvoker struct {
	process.Invoker
	mu          sync.Mutex
	first, last time.Time
}

func (t *timedInvoker) Invoke(ctx context.Context, arn string, payload []byte) ([]byte, string, error) {
	start := time.Now()
	t.mu.Lock()
	if t.first.IsZero() {
		t.first = start
	}
	t.mu.Unlock()
	res, fnErr, err := t.Invoker.Invoke(ctx, arn, payload)
	t.mu.Lock()
	t.last = time.Now()
	t.mu.Unlock()
	return res, fnErr, err
}

// rigOptions choose the function and how hydrant runs it.
type rigOptions struct {
	runtime, handler string
	zip              []byte
	// bufferMB is the processor's BufferSizeInMBs; concurrency is
	// --lambda-concurrency (instances, and invocations outstanding).
	bufferMB    string
	concurrency int
	// env is the function's Environment.
	env map[string]string
	// functionLogs sends the function's output to a CloudWatch Logs store
	// (BENCH_FUNCTION_LOGS=1), as hydrant serve does.
	functionLogs bool
}

func newRig(tb testing.TB, o rigOptions) *rig {
	tb.Helper()
	var sink lambda.LogSink
	if o.functionLogs {
		// What the function prints goes to CloudWatch Logs, as in serve.
		st, err := logs.Open(logs.Options{Dir: filepath.Join(tb.TempDir(), "logs")})
		if err != nil {
			tb.Fatal(err)
		}
		fl := logs.NewFunctionLogs(st, nil)
		tb.Cleanup(func() { fl.Close(); _ = st.Close() })
		sink = fl
	}
	svc, err := lambda.Open(lambda.Options{Dir: filepath.Join(tb.TempDir(), "functions"), Concurrency: o.concurrency,
		Logger: slog.New(slog.DiscardHandler), LogSink: sink})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = svc.Close() })
	api := httptest.NewServer(svc.Handler())
	tb.Cleanup(api.Close)
	c := lambdasdk.New(lambdasdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(api.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	fn, err := c.CreateFunction(context.Background(), &lambdasdk.CreateFunctionInput{
		FunctionName: aws.String("bench"), Runtime: types.Runtime(o.runtime), Handler: aws.String(o.handler),
		Role: aws.String("arn:aws:iam::000000000000:role/r"), Code: &types.FunctionCode{ZipFile: o.zip},
		Timeout: aws.Int32(60), MemorySize: aws.Int32(1024), Environment: &types.Environment{Variables: o.env},
	})
	if err != nil {
		tb.Fatal(err)
	}
	ptr := func(v int) *int { return &v }
	format := "UNCOMPRESSED"
	st := firehose.StreamInfo{
		StreamConfig: firehose.StreamConfig{Name: "bench", Type: "DirectPut", Destination: firehose.ExtendedS3Destination{
			S3Destination: firehose.S3Destination{
				RoleARN: aws.String("arn:aws:iam::000000000000:role/r"), BucketARN: aws.String("arn:aws:s3:::bench"),
				BufferingHints:    &firehose.BufferingHints{SizeInMBs: ptr(128), IntervalInSeconds: ptr(0)},
				CompressionFormat: &format,
			},
			ProcessingConfiguration: &firehose.ProcessingConfiguration{Enabled: aws.Bool(true), Processors: []firehose.Processor{{
				Type: firehose.ProcessorLambda, Parameters: []firehose.ProcessorParameter{
					{ParameterName: "LambdaArn", ParameterValue: aws.ToString(fn.FunctionArn)},
					{ParameterName: "BufferSizeInMBs", ParameterValue: o.bufferMB},
				},
			}}},
		}},
		ARN: "arn:aws:firehose:us-east-1:000000000000:deliverystream/bench", Status: firehose.StatusActive, VersionID: 1,
		Created: time.Now(),
	}
	spec, err := firehose.Spec(st)
	if err != nil {
		tb.Fatal(err)
	}
	r := &rig{tb: tb, svc: svc, stream: spec}
	r.timed.Invoker = svc
	r.procs = process.NewFactory(&r.timed, process.Options{Region: "us-east-1", Invocations: o.concurrency})
	return r
}

// run is one measured delivery.
type run struct {
	took time.Duration
	// cpuHydrant is hydrant's CPU time (this process); cpuFunction that of
	// the function's instances.
	cpuHydrant, cpuFunction time.Duration
	// machineBusy and machineIdle are the whole machine's CPU time
	// meanwhile (all processes; /proc/stat).
	machineBusy, machineIdle time.Duration
	// beforeFirst is the time until the first invocation started,
	// afterLast from the last one's end to the end of the run.
	beforeFirst, afterLast time.Duration
}

// deliver appends n records to a fresh log, then times one delivery loop
// from its start until it has nothing left: every record read from the
// log, sent through the Lambda processor to the function (over the Runtime
// API), and written to an object. check reads each object.
func (r *rig) deliver(n int, check func(obj []byte)) run {
	tb := r.tb
	tb.Helper()
	dir := tb.TempDir()
	lg, err := buffer.Open(filepath.Join(dir, "log"), buffer.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	defer lg.Close()
	store, err := objstore.NewLocal(filepath.Join(dir, "buckets"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	var b buffer.Batch
	records(n, func(i int, rec []byte) {
		b.Add(rec)
		if b.Len() == 500 || i == n-1 {
			if _, err := lg.Append(context.Background(), &b); err != nil {
				tb.Fatal(err)
			}
			b.Reset()
		}
	})
	stages := func(ctx context.Context, st *streamspec.Stream) (deliver.Pipeline, deliver.Format, error) {
		p, err := r.procs.Pipeline(ctx, st)
		return p, nil, err
	}
	runtime.GC()
	if path := os.Getenv("BENCH_CPUPROFILE"); path != "" {
		// hydrant's side only, of every run.
		r.profiles++
		f, err := os.Create(fmt.Sprintf("%s.%d", path, r.profiles))
		if err != nil {
			tb.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			tb.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	busy0, idle0 := machineCPU()
	cpu0, fn0 := selfCPU(), childrenCPU()
	r.timed.mu.Lock()
	r.timed.first, r.timed.last = time.Time{}, time.Time{}
	r.timed.mu.Unlock()
	start := time.Now()
	d := deliver.Start(deliver.Config{Stream: r.stream, Log: lg, Store: store, Stages: stages})
	<-d.Idle()
	took := time.Since(start)
	busy1, idle1 := machineCPU()
	res := run{took: took, cpuHydrant: selfCPU() - cpu0, cpuFunction: childrenCPU() - fn0, machineBusy: busy1 - busy0, machineIdle: idle1 - idle0}
	r.timed.mu.Lock()
	res.beforeFirst, res.afterLast = r.timed.first.Sub(start), start.Add(took).Sub(r.timed.last)
	r.timed.mu.Unlock()
	d.Stop()
	infos, err := store.List(context.Background(), "bench", "")
	if err != nil {
		tb.Fatal(err)
	}
	for _, oi := range infos {
		if !strings.HasPrefix(oi.Key, "20") {
			tb.Fatalf("unexpected object %s (error output?)", oi.Key)
		}
		b, err := os.ReadFile(filepath.Join(dir, "buckets", "bench", oi.Key))
		if err != nil {
			tb.Fatal(err)
		}
		check(b)
	}
	return res
}

// warm delivers a few invocations' worth of records, so that the runs
// find every instance started.
func (r *rig) warm() {
	r.deliver(20_000, func([]byte) {})
}

// capture is an invoker that writes every event hydrant sends to a file,
// one a line, and passes it on: the baselines run the handler on exactly
// those events.
type capture struct {
	process.Invoker
	mu  sync.Mutex
	w   *bufio.Writer
	err error
}

func (c *capture) Invoke(ctx context.Context, arn string, payload []byte) ([]byte, string, error) {
	c.mu.Lock()
	if _, err := c.w.Write(payload); err != nil && c.err == nil {
		c.err = err
	}
	_ = c.w.WriteByte('\n')
	c.mu.Unlock()
	return c.Invoker.Invoke(ctx, arn, payload)
}

// events runs n records through the stream's Lambda processor once, one
// invocation at a time and cut as delivery cuts them, and returns the file
// of the events hydrant sent.
func (r *rig) events(n int) string {
	tb := r.tb
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "events.ndjson")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	c := &capture{Invoker: r.svc, w: bufio.NewWriterSize(f, 1<<20)}
	p, err := process.NewFactory(c, process.Options{Region: "us-east-1"}).Pipeline(context.Background(), &r.stream)
	if err != nil {
		tb.Fatal(err)
	}
	var chunk []deliver.Rec
	var size int64
	flush := func() {
		out, failed, err := p.Process(context.Background(), chunk)
		if err != nil || len(failed) != 0 || len(out) != len(chunk) {
			tb.Fatalf("capture: %d out, %d failed, %v", len(out), len(failed), err)
		}
		chunk, size = chunk[:0], 0
	}
	records(n, func(i int, rec []byte) {
		if size > 0 && size+int64(len(rec)) > p.ChunkBytes() {
			flush()
		}
		chunk = append(chunk, deliver.Rec{Data: bytes.Clone(rec), Seq: uint64(i + 1), Arrival: time.Now()})
		size += int64(len(rec))
	})
	flush()
	if err := c.w.Flush(); err != nil || c.err != nil {
		tb.Fatal(err, c.err)
	}
	return path
}
