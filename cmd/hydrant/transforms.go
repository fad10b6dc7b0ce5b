package main

import (
	"flag"
	"fmt"
	"log/slog"

	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/process"
)

// transformFlags are serve's flags for processing and dynamic partitioning.
type transformFlags struct {
	maxPartitions int
}

func (t *transformFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&t.maxPartitions, "max-partitions", deliver.DefaultMaxPartitions,
		"active-partition limit of dynamically partitioned streams (Firehose's default is 500, raised to 5000 on request)")
}

func (t *transformFlags) check() error {
	if t.maxPartitions < 1 {
		return fmt.Errorf("serve: --max-partitions must be at least 1, got %d", t.maxPartitions)
	}
	return nil
}

// transformFeatures turns on, in f, what internal/process and
// internal/deliver implement: every processor type, dynamic partitioning
// and S3 backup.
func transformFeatures(f firehose.Features) firehose.Features {
	f.Processors = map[string]bool{
		firehose.ProcessorLambda:                  true,
		firehose.ProcessorMetadataExtraction:      true,
		firehose.ProcessorAppendDelimiterToRecord: true,
		firehose.ProcessorRecordDeAggregation:     true,
		firehose.ProcessorDecompression:           true,
		firehose.ProcessorCloudWatchLogProcessing: true,
	}
	f.DynamicPartitioning = true
	f.S3Backup = true
	return f
}

// newProcessing builds the processors' factory. inv runs Lambda functions
// (hosted ones and, with --lambda-endpoint, remote ones), with up to
// invocations of them outstanding per stream (as many as a hosted function
// has instances); obs receives the processing metrics.
func newProcessing(inv process.Invoker, invocations int, region string, log *slog.Logger, obs process.Observer) *process.Factory {
	return process.NewFactory(inv, process.Options{Region: region, Logger: log, Observer: obs, Invocations: invocations})
}
