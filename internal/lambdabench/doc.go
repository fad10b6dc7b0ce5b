// Package lambdabench measures hydrant's Lambda transform path: records
// delivered from a stream's log through the Firehose Lambda processor to a
// function hydrant hosts (over the Runtime API) and on into objects, next to
// the same handler called in a loop in its own language on the same events.
// The benchmarks are in the package's tests; docs/PERFORMANCE.md has the
// command and the figures. ./passthrough is the Go function.
package lambdabench
