package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/hydrant-io/hydrant/internal/producer"
)

// defaultEndpoint is where `hydrant put` sends when neither --endpoint-url
// nor the AWS configuration (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_FIREHOSE,
// endpoint_url in the profile) names an endpoint: a hydrant serving with
// its default --listen.
const defaultEndpoint = "http://127.0.0.1:4566"

// putConfig is everything `hydrant put` is told by its flags.
type putConfig struct {
	stream      string
	endpoint    string
	region      string
	concurrency int
	maxRetries  int
	keepNewline bool
	files       []string
}

func parsePut(args []string, stderr io.Writer) (putConfig, error) {
	var c putConfig
	fs := flag.NewFlagSet("put", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprint(stderr, "usage: hydrant put --stream NAME [flags] [FILE...]\n\n"+
			"Sends each line of the files (or of stdin, also named -) as one record with PutRecordBatch.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&c.stream, "stream", "", "delivery stream to send to (required)")
	fs.StringVar(&c.endpoint, "endpoint-url", "", "Firehose endpoint; default AWS_ENDPOINT_URL[_FIREHOSE] or the profile's endpoint_url, else "+defaultEndpoint)
	fs.StringVar(&c.region, "region", "", "AWS region; default from the AWS configuration, else us-east-1")
	fs.IntVar(&c.concurrency, "concurrency", 4, "requests in flight")
	fs.IntVar(&c.maxRetries, "max-retries", 10, "retries of a batch's failed entries or failed request before its records count as failed")
	fs.BoolVar(&c.keepNewline, "keep-newline", true, "keep each line's newline in its record (Firehose concatenates records as they are)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.stream == "" {
		return c, errors.New("put: --stream is required")
	}
	if c.concurrency < 1 {
		return c, fmt.Errorf("put: --concurrency must be at least 1, got %d", c.concurrency)
	}
	if c.maxRetries < 0 {
		return c, fmt.Errorf("put: --max-retries must not be negative, got %d", c.maxRetries)
	}
	c.files = fs.Args()
	if len(c.files) == 0 {
		c.files = []string{"-"}
	}
	return c, nil
}

// runPut is `hydrant put`: it sends newline-delimited records to a stream,
// draws a progress bar when stderr is a terminal, and prints a summary. Any
// record not delivered makes it fail.
func runPut(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c, err := parsePut(args, stderr)
	if err != nil {
		return err
	}
	inputs, total, err := putInputs(c.files, stdin)
	if err != nil {
		return err
	}
	client, err := newFirehoseClient(ctx, c.endpoint, c.region)
	if err != nil {
		return err
	}
	opts := producer.Options{
		Client:      client,
		Stream:      c.stream,
		Concurrency: c.concurrency,
		MaxRetries:  c.maxRetries,
		KeepNewline: c.keepNewline,
		Logger:      slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if c.maxRetries == 0 {
		opts.MaxRetries = -1 // producer's zero means its default
	}
	var bar *progressbar.ProgressBar
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("put "+c.stream),
			progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionFullWidth(),
		)
		opts.OnProgress = func(n int64) { _ = bar.Add64(n) }
	}
	st, runErr := producer.Run(ctx, opts, inputs...)
	if bar != nil {
		_ = bar.Finish()
	}
	_, _ = fmt.Fprintln(stderr, summary(c.stream, st))
	if runErr != nil {
		return runErr
	}
	if st.Failed > 0 {
		return fmt.Errorf("put: %d records not delivered", st.Failed)
	}
	return nil
}

// summary is the line printed at the end of a put.
func summary(stream string, st producer.Stats) string {
	s := fmt.Sprintf("put %s: %d records, %s in %s (%.0f records/s); %d failed",
		stream, st.Records, humanBytes(st.Bytes), st.Elapsed.Round(time.Millisecond), st.RecordsPerSecond(), st.Failed)
	if st.Oversized > 0 {
		s += fmt.Sprintf(" (%d over %d bytes)", st.Oversized, producer.MaxRecordBytes)
	}
	return s + fmt.Sprintf(", %d retries (%d records) in %d requests", st.Retries, st.RetriedRecords, st.Requests)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// putInputs checks that every file can be read and returns one input per
// file ("-" is stdin) with their total size, or -1 when any has no size.
func putInputs(files []string, stdin io.Reader) ([]producer.Input, int64, error) {
	var total int64
	inputs := make([]producer.Input, 0, len(files))
	for _, name := range files {
		if name == "-" {
			inputs = append(inputs, producer.Input{Name: "stdin", Reader: stdin})
			total = -1
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			return nil, 0, fmt.Errorf("put: %w", err)
		}
		if total >= 0 && fi.Mode().IsRegular() {
			total += fi.Size()
		} else {
			total = -1
		}
		inputs = append(inputs, producer.Input{Name: name, Reader: &lazyFile{name: name}})
	}
	return inputs, total, nil
}

// lazyFile opens a file on its first read and closes it at its end, so that
// `hydrant put *.json` holds one descriptor at a time.
type lazyFile struct {
	name string
	f    *os.File
	done bool
}

func (l *lazyFile) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.f == nil {
		f, err := os.Open(l.name)
		if err != nil {
			return 0, err
		}
		l.f = f
	}
	n, err := l.f.Read(p)
	if err != nil {
		_ = l.f.Close()
		l.done = true
	}
	return n, err
}

// newFirehoseClient builds a Firehose client the way the AWS tools do
// (credentials, region and endpoint from the environment and the shared
// files), with hydrant's fallbacks: the local endpoint, us-east-1, and dummy
// credentials when none are configured (hydrant does not check them). The
// client does not retry by itself: the producer retries only what failed.
func newFirehoseClient(ctx context.Context, endpoint, region string) (*firehose.Client, error) {
	cfg, endpoint, err := clientConfig(ctx, "put", endpoint, region)
	if err != nil {
		return nil, err
	}
	return firehose.NewFromConfig(cfg, func(o *firehose.Options) {
		o.Retryer = aws.NopRetryer{}
		o.BaseEndpoint = baseEndpoint(endpoint, o.BaseEndpoint)
	}), nil
}
