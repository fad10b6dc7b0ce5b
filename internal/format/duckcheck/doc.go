// Package duckcheck holds tests that read hydrant's Parquet output back with
// DuckDB (through cgo) and check it value by value, and the benchmark that
// compares hydrant's converter with DuckDB's own JSON-to-Parquet path. It
// has no non-test code: DuckDB stays out of the hydrant binary.
package duckcheck
