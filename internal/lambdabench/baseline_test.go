package lambdabench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awslambda "github.com/aws/aws-lambda-go/lambda"

	"github.com/hydrant-io/hydrant/internal/lambdabench/passthrough"
)

// TestMain doubles as the Go baseline: run with LAMBDABENCH_GO_BASELINE set
// to an events file, the test binary is a process of its own that calls
// the pass-through handler in a loop (goBaselineMain).
func TestMain(m *testing.M) {
	if path := os.Getenv("LAMBDABENCH_GO_BASELINE"); path != "" {
		if err := goBaselineMain(path, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// measure is one timed pass over all the records.
type measure struct {
	took, cpu time.Duration
}

// baseline is what a baseline process reports: the wall and CPU seconds
// of its two passes over the events.
type baseline struct {
	Records int
	// Codec is the handler with its runtime's JSON codec, as the
	// function's process runs it for every invocation: decoding the event,
	// encoding the answer. Handler is the handler alone on events decoded
	// beforehand.
	Codec, Handler struct{ Wall, CPU float64 }
}

// goBaselineMain calls the pass-through handler in a loop on each event of
// the file, as a function's process would receive them one after the
// other (so its heap is as small as the function's), in two passes:
// aws-lambda-go's lambda.NewHandler(Handle).Invoke on the event's bytes,
// which is what aws-lambda-go does in the function's process for every
// invocation besides the Runtime API calls; then Handle alone on the event
// decoded beforehand. Only the calls are timed, not reading the file.
func goBaselineMain(path string, out io.Writer) error {
	var res baseline
	h := awslambda.NewHandler(passthrough.Handle)
	ctx := context.Background()
	err := eachLine(path, func(ev []byte) error {
		res.Records += countRecords(ev)
		wall, cpu := time.Now(), selfCPU()
		_, err := h.Invoke(ctx, ev)
		res.Codec.Wall += time.Since(wall).Seconds()
		res.Codec.CPU += (selfCPU() - cpu).Seconds()
		return err
	})
	if err != nil {
		return err
	}
	err = eachLine(path, func(ev []byte) error {
		var e events.KinesisFirehoseEvent
		if err := json.Unmarshal(ev, &e); err != nil {
			return err
		}
		wall, cpu := time.Now(), selfCPU()
		_, err := passthrough.Handle(ctx, e)
		res.Handler.Wall += time.Since(wall).Seconds()
		res.Handler.CPU += (selfCPU() - cpu).Seconds()
		return err
	})
	if err != nil {
		return err
	}
	return json.NewEncoder(out).Encode(res)
}

// eachLine calls fn with each line of the file, in a buffer reused for the
// next.
func eachLine(path string, fn func(line []byte) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var line []byte
	for {
		part, err := r.ReadSlice('\n')
		line = append(line, part...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(line) > 1 {
			if err := fn(line[:len(line)-1]); err != nil {
				return err
			}
		}
		line = line[:0]
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// countRecords counts an event's records by their recordId members.
func countRecords(ev []byte) int { return bytes.Count(ev, []byte(`"recordId":`)) }

// runBaseline runs a baseline process and returns its two passes.
func runBaseline(tb testing.TB, cmd *exec.Cmd, records int) (codec, handler measure) {
	tb.Helper()
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			tb.Fatalf("baseline %s: %v\n%s", cmd.Path, err, ee.Stderr)
		}
		tb.Fatalf("baseline %s: %v", cmd.Path, err)
	}
	var res baseline
	if err := json.Unmarshal(out, &res); err != nil || res.Records != records {
		tb.Fatalf("baseline said %s (%v), want %d records", out, err, records)
	}
	sec := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	return measure{sec(res.Codec.Wall), sec(res.Codec.CPU)}, measure{sec(res.Handler.Wall), sec(res.Handler.CPU)}
}

// goBaseline runs goBaselineMain in a process of its own: this test binary.
func goBaseline(tb testing.TB, events string, records int) (codec, handler measure) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LAMBDABENCH_GO_BASELINE="+events)
	return runBaseline(tb, cmd, records)
}

// pyBaseline runs testdata/baseline.py: the recipe's lambda_handler in a
// loop in python3 on the events hydrant sent, with the JSON decoding and
// encoding hydrant's Python runtime does per invocation, and alone.
func pyBaseline(tb testing.TB, python, events string, records int) (codec, handler measure) {
	return runBaseline(tb, exec.Command(python, "testdata/baseline.py", recipeFile, events), records)
}
