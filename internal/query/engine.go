package query

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/hydrant-io/hydrant/internal/athena"
	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// Lister lists objects of a bucket; the local store implements it.
type Lister interface {
	List(ctx context.Context, bucket, prefix string) ([]objstore.ObjectInfo, error)
}

// Options configure an Engine.
type Options struct {
	// Catalog holds the tables.
	Catalog *catalog.Catalog
	// Store lists the objects of local buckets, and Root is the directory
	// the local store keeps them in (<data-dir>/buckets): DuckDB reads the
	// files there and nowhere else.
	Store Lister
	Root  string
	// IsLocal reports whether a bucket is kept by the local store (nil:
	// all are); the others are delivered to S3, which the engine does not
	// read.
	IsLocal func(bucket string) bool
	// TempDir holds DuckDB's spill files and decoded objects
	// (<data-dir>/tmp/query); it is emptied at start.
	TempDir string
	// MaxMemory bounds DuckDB's memory (0: 80% of what DuckDB sees);
	// Threads its worker threads (0: the CPUs).
	MaxMemory int64
	Threads   int
	Logger    *slog.Logger
}

// Engine runs Athena's SQL on an embedded DuckDB. It implements
// athena.Engine. One DuckDB database serves every query: its file access
// is confined to the bucket store and the temp dir, its configuration
// locked, and each query's tables are subqueries over their files, on a
// connection of its own.
type Engine struct {
	opts Options
	log  *slog.Logger

	mu  sync.Mutex
	db  *sql.DB
	con *duckdb.Connector

	listings listingCache
}

var _ athena.Engine = (*Engine)(nil)

// New builds an engine; DuckDB is started by the first query.
func New(o Options) (*Engine, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Catalog == nil || o.Store == nil || o.Root == "" || o.TempDir == "" {
		return nil, errors.New("query: Catalog, Store, Root and TempDir are required")
	}
	root, err := filepath.Abs(o.Root)
	if err != nil {
		return nil, err
	}
	o.Root = root
	if o.TempDir, err = filepath.Abs(o.TempDir); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(o.TempDir); err != nil {
		return nil, fmt.Errorf("query: clean %s: %w", o.TempDir, err)
	}
	if err := os.MkdirAll(filepath.Join(o.TempDir, "spill"), 0o755); err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return &Engine{opts: o, log: o.Logger}, nil
}

// Close stops DuckDB.
func (en *Engine) Close() error {
	en.mu.Lock()
	defer en.mu.Unlock()
	if en.db == nil {
		return nil
	}
	err := en.db.Close()
	if cerr := en.con.Close(); err == nil {
		err = cerr
	}
	en.db = nil
	return err
}

// macros are the Trino functions whose DuckDB form depends on argument
// types (DuckDB picks the overload) or needs several steps.
var macros = []string{
	`CREATE MACRO trino_cardinality(x MAP(VARCHAR, VARCHAR)) AS cardinality(x), (x) AS len(x)`,
	`CREATE MACRO trino_date_trunc(u, x DATE) AS CAST(date_trunc(u, x) AS DATE), (u, x) AS date_trunc(u, x)`,
	`CREATE MACRO trino_interval(u) AS CASE lower(u) WHEN 'millisecond' THEN INTERVAL 1 MILLISECOND WHEN 'second' THEN INTERVAL 1 SECOND
		WHEN 'minute' THEN INTERVAL 1 MINUTE WHEN 'hour' THEN INTERVAL 1 HOUR WHEN 'day' THEN INTERVAL 1 DAY
		WHEN 'week' THEN INTERVAL 7 DAY WHEN 'month' THEN INTERVAL 1 MONTH WHEN 'quarter' THEN INTERVAL 3 MONTH
		WHEN 'year' THEN INTERVAL 1 YEAR ELSE error('Invalid unit: ' || u) END`,
	`CREATE MACRO trino_date_add(u, n, x DATE) AS CAST(x + n * trino_interval(u) AS DATE),
		(u, n, x TIMESTAMP) AS x + n * trino_interval(u), (u, n, x TIMESTAMPTZ) AS x + n * trino_interval(u)`,
	`CREATE MACRO trino_json_extract_scalar(j, p) AS CASE WHEN json_valid(j) THEN
		(CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END) END`,
	`CREATE MACRO trino_json_extract(j, p) AS CASE WHEN json_valid(j) THEN json_extract(j, p) END`,
	`CREATE MACRO trino_json_array_length(j) AS CASE WHEN json_valid(j) AND json_type(j) = 'ARRAY' THEN json_array_length(j) END`,
	`CREATE MACRO trino_json_size(j, p) AS CASE WHEN json_valid(j) THEN (CASE json_type(j, p) WHEN 'ARRAY' THEN json_array_length(j, p)
		WHEN 'OBJECT' THEN len(json_keys(j, p)) WHEN NULL THEN NULL ELSE 0 END) END`,
	`CREATE MACRO trino_to_iso8601(x DATE) AS strftime(x, '%Y-%m-%d'), (x TIMESTAMP) AS strftime(x, '%Y-%m-%dT%H:%M:%S.%g'),
		(x TIMESTAMPTZ) AS strftime(x, '%Y-%m-%dT%H:%M:%S.%gZ')`,
}

// open starts DuckDB once: external access off except for the bucket
// store and the temp dir, no extension installs or loads, UTC, integer
// division as Trino's, then the configuration locked.
func (en *Engine) open() (*sql.DB, error) {
	en.mu.Lock()
	defer en.mu.Unlock()
	if en.db != nil {
		return en.db, nil
	}
	threads := en.opts.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	dsn := fmt.Sprintf("?threads=%d&autoinstall_known_extensions=false&autoload_known_extensions=false&integer_division=true", threads)
	con, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("start DuckDB: %w", err)
	}
	db := sql.OpenDB(con)
	setup := []string{
		"SET GLOBAL TimeZone = 'UTC'",
		"SET GLOBAL temp_directory = " + quoteString(filepath.Join(en.opts.TempDir, "spill")),
		"SET GLOBAL allowed_directories = [" + quoteString(en.opts.Root+string(filepath.Separator)) + ", " + quoteString(en.opts.TempDir+string(filepath.Separator)) + "]",
		"SET GLOBAL enable_external_access = false",
		// Delivered objects never change in place (a redo replaces the
		// file), so their Parquet footers can be cached between queries.
		"SET GLOBAL parquet_metadata_cache = true",
	}
	if en.opts.MaxMemory > 0 {
		setup = append(setup, fmt.Sprintf("SET GLOBAL memory_limit = '%dB'", en.opts.MaxMemory))
	}
	setup = append(setup, macros...)
	setup = append(setup, "SET GLOBAL lock_configuration = true")
	for _, s := range setup {
		if _, err := db.Exec(s); err != nil {
			db.Close()
			con.Close()
			return nil, fmt.Errorf("start DuckDB: %s: %w", s, err)
		}
	}
	en.db, en.con = db, con
	en.log.Info("query engine started", "threads", threads, "max_memory", en.opts.MaxMemory)
	return db, nil
}

// Run runs one statement: Athena DDL against the catalog, a query on
// DuckDB.
func (en *Engine) Run(ctx context.Context, q athena.Query, out athena.Results) (athena.Outcome, error) {
	start := time.Now()
	toks, err := lex(q.SQL)
	if err != nil {
		return athena.Outcome{}, queryError(err)
	}
	if n := len(toks); n > 0 && toks[n-1].is(";") {
		toks = toks[:n-1]
	}
	for _, t := range toks {
		if t.is(";") {
			return athena.Outcome{}, athena.UserError(athena.ErrSyntax, "Only one sql statement is allowed. Got: %s", q.SQL)
		}
	}
	if len(toks) == 0 {
		return athena.Outcome{}, athena.UserError(athena.ErrSyntax, "line 1:1: mismatched input '<EOF>'. Expecting: a statement")
	}
	if q.Database == "" {
		q.Database = catalog.DefaultDatabase
	}
	first := toks[0].lower()
	switch {
	case startsQuery(toks, 0, len(toks)):
		return en.query(ctx, q, toks, out, start)
	case ddlStatements[first]:
		sub, err := en.ddl(ctx, q, toks, out)
		if err != nil {
			return athena.Outcome{}, queryError(err)
		}
		return athena.Outcome{StatementType: "DDL", SubstatementType: sub, Planning: time.Since(start)}, nil
	case toks[0].kind == tIdent && refusedStatements[first] != "":
		return athena.Outcome{}, queryError(unsupported(toks[0], "%s", refusedStatements[first]))
	}
	return athena.Outcome{}, queryError(syntaxErr(toks[0], "mismatched input '%s'. Expecting: a statement", toks[0].text))
}

// refusedStatements are statements hydrant does not run, with why.
var refusedStatements = map[string]string{
	"insert":     "INSERT INTO is not supported: hydrant's tables are written by delivery streams",
	"update":     "UPDATE is not supported",
	"delete":     "DELETE is not supported",
	"merge":      "MERGE is not supported",
	"explain":    "EXPLAIN is not supported",
	"prepare":    "PREPARE is not supported; use ExecutionParameters",
	"execute":    "EXECUTE is not supported; use ExecutionParameters",
	"unload":     "UNLOAD is not supported",
	"copy":       "COPY is not allowed: queries read only the catalog's tables",
	"attach":     "ATTACH is not allowed: queries read only the catalog's tables",
	"detach":     "DETACH is not allowed",
	"install":    "INSTALL is not allowed: the engine loads no extensions",
	"load":       "LOAD is not allowed: the engine loads no extensions",
	"pragma":     "PRAGMA is not allowed",
	"set":        "SET is not allowed",
	"reset":      "RESET is not allowed",
	"call":       "CALL is not allowed",
	"export":     "EXPORT is not allowed",
	"import":     "IMPORT is not allowed",
	"use":        "USE is not supported; set QueryExecutionContext.Database",
	"vacuum":     "VACUUM is not supported",
	"optimize":   "OPTIMIZE is not supported",
	"checkpoint": "CHECKPOINT is not allowed",
	"begin":      "transactions are not supported", "commit": "transactions are not supported",
	"rollback": "transactions are not supported", "start": "transactions are not supported",
	"grant": "GRANT is not supported", "revoke": "REVOKE is not supported",
	"summarize": "SUMMARIZE is not supported", "pivot": "PIVOT is not supported", "unpivot": "UNPIVOT is not supported",
	"from": "FROM-first queries are not supported: write SELECT ... FROM",
}

// resolverFor finds tables in the catalog for a query.
func (en *Engine) resolverFor(ctx context.Context, q athena.Query) resolver {
	return func(t token, catName, db, name string) (*catalog.Table, error) {
		if catName != "" && !strings.EqualFold(catName, "awsdatacatalog") && !strings.EqualFold(catName, q.Catalog) {
			return nil, &NotFoundError{Code: "CATALOG_NOT_FOUND", Line: t.line, Col: t.col, Msg: fmt.Sprintf("Catalog '%s' does not exist", catName)}
		}
		if db == "" {
			db = strings.ToLower(q.Database)
		}
		tbl, err := en.opts.Catalog.Table(ctx, "", db, name, "")
		if err != nil {
			if _, derr := en.opts.Catalog.GetDatabase(ctx, "", db); derr != nil {
				return nil, &NotFoundError{Code: "SCHEMA_NOT_FOUND", Line: t.line, Col: t.col, Msg: fmt.Sprintf("Schema '%s' does not exist", db)}
			}
			return nil, &NotFoundError{Code: "TABLE_NOT_FOUND", Line: t.line, Col: t.col, Msg: fmt.Sprintf("Table 'awsdatacatalog.%s.%s' does not exist", db, name)}
		}
		if tbl.TableType != nil && strings.EqualFold(*tbl.TableType, "VIRTUAL_VIEW") {
			return nil, unsupported(t, "views are not supported ('%s.%s' is a view)", db, name)
		}
		return tbl, nil
	}
}

// query runs a SELECT (or WITH, VALUES) on DuckDB. Each table becomes a
// subquery over the files its references may read, written in place of
// the table in the rewritten SQL, so that DuckDB binds the files once per
// query (a temporary view would be bound twice: when created and when
// used).
func (en *Engine) query(ctx context.Context, q athena.Query, toks []token, out athena.Results, start time.Time) (athena.Outcome, error) {
	marker, err := viewMarker()
	if err != nil {
		return athena.Outcome{}, err
	}
	r := &rewriter{toks: toks, resolve: en.resolverFor(ctx, q), params: q.Parameters, views: map[string]string{}, viewPrefix: marker}
	var e emitter
	if err := r.query(&e, 0, len(toks), true); err != nil {
		return athena.Outcome{}, queryError(err)
	}
	if r.nparam != len(q.Parameters) {
		return athena.Outcome{}, athena.UserError(athena.ErrSyntax, "Incorrect number of parameters: expected %d but found %d", r.nparam, len(q.Parameters))
	}
	db, err := en.open()
	if err != nil {
		return athena.Outcome{}, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return athena.Outcome{}, err
	}
	defer conn.Close()
	tmp := filepath.Join(en.opts.TempDir, "q-"+safeName(q.ID))
	defer os.RemoveAll(tmp)
	rewritten := e.b.String()
	// Whether the result may have JSON columns is told by the query
	// alone: the tables' bodies name read_json.
	mayJSON := strings.Contains(strings.ToLower(rewritten), "json")
	var scanned int64
	type tableView struct {
		name, key string
		build     func(probe bool) (string, error)
	}
	var views []tableView
	for key, view := range r.views {
		var refs []*tableRef
		for _, ref := range r.refs {
			if ref.table.DatabaseName+"."+ref.table.Name == key {
				refs = append(refs, ref)
			}
		}
		build, n, err := en.view(ctx, conn, refs, tmp)
		if err != nil {
			return athena.Outcome{}, queryError(err)
		}
		scanned += n
		views = append(views, tableView{name: quoteIdent(view), key: key, build: build})
	}
	// inline writes each table's body in place of its name. Most tables
	// bind as the catalog says; one whose files lack a column, or hold
	// another type, is probed (probe) and built again.
	inline := func(probe bool) (string, error) {
		pairs := make([]string, 0, 2*len(views))
		for _, v := range views {
			body, err := v.build(probe)
			if err != nil {
				return "", err
			}
			pairs = append(pairs, v.name, "("+body+")")
		}
		return strings.NewReplacer(pairs...).Replace(rewritten), nil
	}
	names := map[string]string{} // the marked names -> db.table, for messages
	for _, v := range views {
		names[strings.Trim(v.name, `"`)] = v.key
	}
	sqlText, err := inline(false)
	if err != nil {
		return athena.Outcome{}, queryError(err)
	}
	planning := time.Since(start)
	prepare := func(sqlText string) (*sql.Rows, error) {
		if mayJSON {
			var err error
			if sqlText, err = en.jsonAsText(ctx, conn, sqlText); err != nil {
				return nil, err
			}
		}
		return conn.QueryContext(ctx, sqlText)
	}
	rows, err := prepare(sqlText)
	if err != nil && len(views) > 0 && bindError(err) && ctx.Err() == nil {
		// Nothing has run yet: bind again with the files' own columns.
		if sqlText, err = inline(true); err != nil {
			return athena.Outcome{}, queryError(err)
		}
		rows, err = prepare(sqlText)
	}
	if err != nil {
		return athena.Outcome{}, en.duckError(ctx, err, names)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return athena.Outcome{}, err
	}
	cols := make([]athena.Column, len(types))
	dts := make([]*duckType, len(types))
	for i, ct := range types {
		dts[i] = parseDuckType(ct.DatabaseTypeName())
		cols[i] = athenaColumn(ct.Name(), dts[i])
	}
	if err := out.Begin(cols, true); err != nil {
		return athena.Outcome{}, err
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	row := make([]*string, len(cols))
	var b strings.Builder
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return athena.Outcome{}, en.duckError(ctx, err, names)
		}
		for i, v := range vals {
			if v == nil {
				row[i] = nil
				continue
			}
			b.Reset()
			render(&b, v, dts[i])
			s := b.String()
			row[i] = &s
		}
		if err := out.Row(row); err != nil {
			return athena.Outcome{}, err
		}
	}
	if err := rows.Err(); err != nil {
		return athena.Outcome{}, en.duckError(ctx, err, names)
	}
	return athena.Outcome{StatementType: "DML", SubstatementType: "SELECT", DataScannedBytes: scanned, Planning: planning}, nil
}

// jsonAsText wraps a query whose result has JSON columns so that they
// come back as their text, which database/sql would otherwise decode.
func (en *Engine) jsonAsText(ctx context.Context, conn *sql.Conn, q string) (string, error) {
	rows, err := conn.QueryContext(ctx, "DESCRIBE "+q)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var replace []string
	seen := map[string]bool{}
	for rows.Next() {
		var name, typ string
		var a, b, c, d any
		if err := rows.Scan(&name, &typ, &a, &b, &c, &d); err != nil {
			return "", err
		}
		if seen[name] {
			return q, nil // duplicate names cannot be replaced by name
		}
		seen[name] = true
		if strings.Contains(typ, "JSON") {
			replace = append(replace, "CAST("+quoteIdent(name)+" AS VARCHAR) AS "+quoteIdent(name))
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(replace) == 0 {
		return q, nil
	}
	return "SELECT * REPLACE (" + strings.Join(replace, ", ") + ") FROM (" + q + ") AS __hydrant_json", nil
}

// viewMarker is the prefix of the names the rewriter gives tables in one
// query, replaced by their bodies afterwards: random, so that no text of
// the query itself (a string, a quoted name) can be taken for one.
func viewMarker() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "__hydrant_" + hex.EncodeToString(b[:]) + "_t", nil
}

// bindError reports whether DuckDB refused a query while binding it
// (before running anything).
func bindError(err error) bool {
	var de *duckdb.Error
	return errors.As(err, &de) && (de.Type == duckdb.ErrorTypeBinder || de.Type == duckdb.ErrorTypeCatalog)
}

// safeName keeps the characters of an ID that are safe in names.
func safeName(id string) string {
	var b strings.Builder
	for _, c := range id {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	if b.Len() == 0 {
		return "q"
	}
	return b.String()
}

// queryError turns the rewriter's errors into Athena's.
func queryError(err error) error {
	var se *SyntaxError
	var ue *UnsupportedError
	var nf *NotFoundError
	var qe *athena.QueryError
	switch {
	case errors.As(err, &qe):
		return qe
	case errors.As(err, &se):
		return athena.UserError(athena.ErrSyntax, "SYNTAX_ERROR: %s", se.Error())
	case errors.As(err, &ue):
		return athena.UserError(athena.ErrUser, "%s", ue.Error())
	case errors.As(err, &nf):
		return athena.UserError(athena.ErrUser, "%s", nf.Error())
	}
	var ce *catalog.Error
	if errors.As(err, &ce) {
		return athena.UserError(athena.ErrDDL, "%s", ce.Message)
	}
	return athena.UserError(athena.ErrUser, "%s", err.Error())
}

// duckError turns a DuckDB error into Athena's, naming tables instead of
// their views.
func (en *Engine) duckError(ctx context.Context, err error, views map[string]string) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	msg := err.Error()
	if i := strings.Index(msg, "\n\nLINE "); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.TrimSpace(msg)
	for v, name := range views {
		msg = strings.ReplaceAll(msg, v, name)
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		switch de.Type {
		case duckdb.ErrorTypeParser:
			return athena.UserError(athena.ErrSyntax, "SYNTAX_ERROR: %s", msg)
		case duckdb.ErrorTypeBinder, duckdb.ErrorTypeCatalog:
			code := "SEMANTIC_ERROR"
			switch {
			case strings.Contains(msg, "column"):
				code = "COLUMN_NOT_FOUND"
			case strings.Contains(msg, "No function matches"):
				code = "FUNCTION_NOT_FOUND"
			}
			return athena.UserError(athena.ErrUser, "%s: %s", code, msg)
		case duckdb.ErrorTypeOutOfMemory:
			return &athena.QueryError{Category: athena.CategoryUser, Type: athena.ErrResourcesExhausted,
				Message: "EXCEEDED_MEMORY_LIMIT: Query exhausted resources at this scale factor: the engine's memory limit (--query-max-memory) was reached: " + msg}
		case duckdb.ErrorTypePermission:
			return athena.UserError(athena.ErrUser, "PERMISSION_DENIED: %s", msg)
		case duckdb.ErrorTypeConversion, duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeOutOfRange, duckdb.ErrorTypeDivideByZero:
			return athena.UserError(athena.ErrData, "INVALID_FUNCTION_ARGUMENT: %s", msg)
		case duckdb.ErrorTypeIO:
			return athena.UserError(athena.ErrData, "HIVE_CURSOR_ERROR: %s", msg)
		}
	}
	return athena.UserError(athena.ErrUser, "%s", msg)
}
