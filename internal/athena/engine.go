package athena

import (
	"context"
	"fmt"
	"time"
)

// Engine runs the SQL of one query execution. The service calls Run from
// the execution's own goroutine once it is RUNNING; ctx ends when the query
// is stopped or times out, and Run must then return promptly. Rows go to
// out as they are produced, so results larger than memory are never held.
// An error that is a *QueryError is reported as the query's failure as
// is; any other error fails the query as an internal error.
//
// internal/query implements it with DuckDB; the service itself never
// links the engine, so this package and its users (the console) build
// without it.
type Engine interface {
	Run(ctx context.Context, q Query, out Results) (Outcome, error)
}

// Query is what an Engine runs.
type Query struct {
	// ID is the QueryExecutionId.
	ID string
	// SQL is the QueryString as sent.
	SQL string
	// Catalog and Database are the QueryExecutionContext (defaults
	// "AwsDataCatalog" and "default").
	Catalog  string
	Database string
	// Parameters are the ExecutionParameters, in order, as SQL literals.
	Parameters []string
}

// Column is one result column, with Athena's type name (varchar, bigint,
// double, timestamp, array, map, row, decimal, ...).
type Column struct {
	Name      string
	Type      string
	Precision int
	Scale     int
}

// Results receives a query's result: Begin once with the columns, then
// each row, values rendered as Athena renders them in VarCharValue (nil
// for NULL). header says the result is a SELECT's, whose first row in
// GetQueryResults is the column names; DDL and utility statements' are
// not.
type Results interface {
	Begin(cols []Column, header bool) error
	Row(vals []*string) error
}

// Outcome is what Run reports about a query that succeeded.
type Outcome struct {
	// StatementType is DDL, DML or UTILITY; SubstatementType names the
	// statement (SELECT, CREATE_TABLE, SHOW_TABLES, ...).
	StatementType    string
	SubstatementType string
	// DataScannedBytes counts the bytes of the objects the query read.
	DataScannedBytes int64
	// Planning is the time spent before the engine started executing.
	Planning time.Duration
}

// Athena's error categories (AthenaError.ErrorCategory).
const (
	CategorySystem = 1
	CategoryUser   = 2
	CategoryOther  = 3
)

// QueryError is a query's failure as Athena reports it: the
// StateChangeReason and its AthenaError.
type QueryError struct {
	Category  int
	Type      int
	Retryable bool
	Message   string
}

func (e *QueryError) Error() string { return e.Message }

// UserError is a failure caused by the query (ErrorCategory 2) with an
// Athena ErrorType code.
func UserError(typ int, format string, args ...any) *QueryError {
	return &QueryError{Category: CategoryUser, Type: typ, Message: fmt.Sprintf(format, args...)}
}

// Athena's error type codes that hydrant reports (AthenaError.ErrorType).
const (
	ErrResourcesExhausted = 1    // query exhausted resources at this scale factor
	ErrInternal           = 100  // internal service error
	ErrTimeout            = 206  // query timeout
	ErrResultsWrite       = 401  // failed to write query results to S3
	ErrUser               = 1000 // user error
	ErrData               = 1001 // data error
	ErrDDL                = 1003 // DDL task failed
	ErrSyntax             = 1006 // syntax error (hydrant's choice of the user-error codes)
	ErrStopped            = 1011 // query stopped by the user
)
