package deliver

import (
	"context"

	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// PipelineFactory builds a stream's processing pipeline; a nil Pipeline
// means the stream has no processing.
type PipelineFactory func(ctx context.Context, st *streamspec.Stream) (Pipeline, error)

// FormatFactory builds a stream's record format; a nil Format means records
// are written as they are.
type FormatFactory func(ctx context.Context, st *streamspec.Stream) (Format, error)

// CombineStages makes the Stages of the delivery loops from the processing
// factory (internal/process) and the format-conversion factory
// (internal/format); either may be nil. Processing is built first: it runs
// first.
func CombineStages(pipeline PipelineFactory, format FormatFactory) Stages {
	if pipeline == nil && format == nil {
		return nil
	}
	return func(ctx context.Context, st *streamspec.Stream) (Pipeline, Format, error) {
		var pl Pipeline
		var fm Format
		var err error
		if pipeline != nil {
			if pl, err = pipeline(ctx, st); err != nil {
				return nil, nil, err
			}
		}
		if format != nil {
			if fm, err = format(ctx, st); err != nil {
				return nil, nil, err
			}
		}
		return pl, fm, nil
	}
}
