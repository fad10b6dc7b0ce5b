package query

import (
	"errors"
	"fmt"
	"strings"
)

// fn rewrites one call of a Trino function into DuckDB SQL. args are the
// rewritten arguments; raw is the whole argument list as DuckDB text
// (DISTINCT, ORDER BY and all), for functions that pass it through.
type fn func(r *rewriter, name token, args []arg, raw string) (string, error)

// same calls the DuckDB function of the same name.
func same(_ *rewriter, name token, _ []arg, raw string) (string, error) {
	return strings.ToLower(name.text) + "(" + raw + ")", nil
}

// rename calls a DuckDB function of another name with the same arguments.
func rename(to string) fn {
	return func(_ *rewriter, _ token, _ []arg, raw string) (string, error) { return to + "(" + raw + ")", nil }
}

// tmpl fills a template with $1, $2, ... for exactly len(arity) arguments
// (one template per accepted argument count).
func tmpl(byArity map[int]string) fn {
	return func(_ *rewriter, name token, args []arg, _ string) (string, error) {
		t, ok := byArity[len(args)]
		if !ok {
			return "", wrongArgs(name, args)
		}
		for k := len(args); k >= 1; k-- {
			t = strings.ReplaceAll(t, fmt.Sprintf("$%d", k), "("+args[k-1].sql+")")
		}
		return t, nil
	}
}

func t1(s string) fn { return tmpl(map[int]string{1: s}) }
func t2(s string) fn { return tmpl(map[int]string{2: s}) }

func wrongArgs(name token, args []arg) error {
	return &UnsupportedError{Code: "FUNCTION_NOT_FOUND", Line: name.line, Col: name.col,
		Msg: fmt.Sprintf("Unexpected parameters (%d arguments) for function %s", len(args), strings.ToLower(name.text))}
}

// functions maps every Trino function hydrant runs to its DuckDB form;
// docs/QUERY.md lists them and query_test.go runs each. A function not
// here fails the query with FUNCTION_NOT_FOUND.
var functions = map[string]fn{
	// Aggregates.
	"count": same, "sum": same, "avg": same, "min": same, "max": same,
	"count_if": same, "bool_and": same, "bool_or": same, "every": rename("bool_and"),
	"arbitrary": rename("any_value"), "any_value": same, "array_agg": same,
	"max_by": rename("arg_max"), "min_by": rename("arg_min"),
	"stddev": rename("stddev_samp"), "stddev_samp": same, "stddev_pop": same,
	"variance": rename("var_samp"), "var_samp": same, "var_pop": same,
	"corr": same, "covar_samp": same, "covar_pop": same, "geometric_mean": rename("geomean"),
	"approx_distinct":   t1("approx_count_distinct($1)"),
	"approx_percentile": t2("approx_quantile($1, $2)"),
	"histogram":         rename("histogram"), "checksum": nil, "grouping": same,
	// Window functions.
	"row_number": same, "rank": same, "dense_rank": same, "percent_rank": same, "cume_dist": same,
	"ntile": same, "lag": same, "lead": same, "first_value": same, "last_value": same, "nth_value": same,
	// Conditionals.
	"coalesce": same, "nullif": same,
	"if":  tmpl(map[int]string{2: "CASE WHEN $1 THEN $2 END", 3: "CASE WHEN $1 THEN $2 ELSE $3 END"}),
	"try": t1("try($1)"),
	// greatest and least are NULL if any argument is (DuckDB skips NULLs).
	"greatest": nullIfAny("greatest"), "least": nullIfAny("least"),
	// Strings.
	"length": same, "lower": same, "upper": same, "trim": same, "ltrim": same, "rtrim": same,
	"reverse": same, "lpad": same, "rpad": same, "starts_with": same, "strpos": same,
	"substr": rename("substring"), "substring": same, "replace": tmpl(map[int]string{2: "replace($1, $2, '')", 3: "replace($1, $2, $3)"}),
	"concat":     concat,
	"split":      t2("string_split($1, $2)"),
	"split_part": t3("CASE WHEN ($3) BETWEEN 1 AND len(string_split($1, $2)) THEN split_part($1, $2, $3) END"),
	"chr":        same, "codepoint": rename("unicode"), "position": same,
	"to_utf8": t1("encode($1)"), "from_utf8": t1("decode($1)"),
	"url_extract_host":     nil,
	"levenshtein_distance": rename("levenshtein"), "hamming_distance": rename("hamming"),
	"format": nil,
	// Regular expressions (RE2 in DuckDB; Trino's Java patterns agree on the common syntax).
	"regexp_like":        t2("regexp_matches($1, $2)"),
	"regexp_extract":     regexpExtract,
	"regexp_extract_all": tmpl(map[int]string{2: "regexp_extract_all($1, $2)", 3: "regexp_extract_all($1, $2, $3)"}),
	"regexp_replace":     regexpReplace,
	"regexp_split":       t2("regexp_split_to_array($1, $2)"),
	// Math.
	"abs": same, "ceil": same, "ceiling": same, "floor": same, "round": same, "sqrt": same, "cbrt": same,
	"exp": same, "ln": same, "log2": same, "log10": same, "pow": same, "power": same, "mod": same,
	"sign": same, "truncate": rename("trunc"), "rand": rename("random"), "random": same, "pi": same,
	"degrees": same, "radians": same, "sin": same, "cos": same, "tan": same, "asin": same, "acos": same,
	"atan": same, "atan2": same, "is_nan": rename("isnan"), "is_finite": rename("isfinite"),
	"is_infinite": rename("isinf"), "nan": t0("'NaN'::DOUBLE"), "infinity": t0("'Infinity'::DOUBLE"),
	// Dates and times (the session time zone is UTC, as in Athena).
	"now": t0("current_timestamp"), "date_trunc": rename("trino_date_trunc"),
	"date_add":               t3("trino_date_add($1, $2, $3)"),
	"date_diff":              t3("date_sub($1, $2, $3)"),
	"from_unixtime":          t1("to_timestamp($1)"),
	"to_unixtime":            t1("epoch($1)"),
	"from_iso8601_timestamp": t1("CAST($1 AS TIMESTAMPTZ)"),
	"from_iso8601_date":      t1("CAST($1 AS DATE)"),
	"date":                   t1("CAST($1 AS DATE)"),
	"to_iso8601":             t1("trino_to_iso8601($1)"),
	"date_parse":             dateParse,
	"date_format":            dateFormat,
	"year":                   same, "quarter": same, "month": same, "week": same, "week_of_year": rename("week"),
	"day": same, "day_of_month": rename("day"), "day_of_week": rename("isodow"), "dow": rename("isodow"),
	"day_of_year": rename("dayofyear"), "doy": rename("dayofyear"), "year_of_week": rename("isoyear"),
	"yow": rename("isoyear"), "hour": same, "minute": same, "second": same, "millisecond": t1("millisecond($1) % 1000"),
	"last_day_of_month": rename("last_day"),
	"current_timezone":  t0("'UTC'"),
	// JSON.
	"json_extract_scalar": jsonFn("trino_json_extract_scalar"),
	"json_extract":        jsonFn("trino_json_extract"),
	"json_parse":          t1("json($1)"),
	"json_format":         t1("CAST($1 AS VARCHAR)"),
	"json_array_length":   t1("trino_json_array_length($1)"),
	"json_size":           jsonFn("trino_json_size"),
	// Arrays and maps.
	"cardinality": t1("trino_cardinality($1)"),
	"element_at":  t2("($1)[$2]"),
	"contains":    t2("list_contains($1, $2)"),
	"array_join":  tmpl(map[int]string{2: "array_to_string($1, $2)"}),
	"array_max":   rename("list_max"), "array_min": rename("list_min"),
	"array_sort":     t1("list_sort($1)"),
	"array_position": t2("coalesce(list_position($1, $2), 0)"),
	"array_remove":   t2("list_filter($1, x -> x IS DISTINCT FROM $2)"),
	"slice":          tmpl(map[int]string{3: "list_slice($1, $2, $2 + $3 - 1)"}),
	"sequence":       tmpl(map[int]string{2: "generate_series($1, $2)", 3: "generate_series($1, $2, $3)"}),
	"flatten":        same,
	"transform":      rename("list_transform"), "filter": rename("list_filter"),
	"reduce":    nil,
	"any_match": t2("list_bool_or(list_transform($1, $2))"),
	"all_match": t2("list_bool_and(list_transform($1, $2))"),
	"map":       tmpl(map[int]string{0: "map()", 2: "map($1, $2)"}),
	"map_keys":  same, "map_values": same,
	"map_from_entries": same,
	"row":              same,
}

// t0 is a function of no arguments.
func t0(s string) fn { return tmpl(map[int]string{0: s}) }

// t3 is a function of three arguments.
func t3(s string) fn { return tmpl(map[int]string{3: s}) }

func nullIfAny(duck string) fn {
	return func(_ *rewriter, name token, args []arg, _ string) (string, error) {
		if len(args) < 1 {
			return "", wrongArgs(name, args)
		}
		var nulls, list []string
		for _, a := range args {
			nulls = append(nulls, "("+a.sql+") IS NULL")
			list = append(list, a.sql)
		}
		return "CASE WHEN " + strings.Join(nulls, " OR ") + " THEN NULL ELSE " + duck + "(" + strings.Join(list, ", ") + ") END", nil
	}
}

// concat joins strings (or arrays) and is NULL if any argument is, as
// Trino's is; DuckDB's concat skips NULLs, its || does not.
func concat(_ *rewriter, name token, args []arg, _ string) (string, error) {
	if len(args) < 1 {
		return "", wrongArgs(name, args)
	}
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = "(" + a.sql + ")"
	}
	return "(" + strings.Join(parts, " || ") + ")", nil
}

// regexpExtract is NULL when nothing matches (DuckDB gives ”).
func regexpExtract(_ *rewriter, name token, args []arg, _ string) (string, error) {
	switch len(args) {
	case 2:
		return fmt.Sprintf("CASE WHEN regexp_matches(%s, %s) THEN regexp_extract(%s, %s) END", args[0].sql, args[1].sql, args[0].sql, args[1].sql), nil
	case 3:
		return fmt.Sprintf("CASE WHEN regexp_matches(%s, %s) THEN regexp_extract(%s, %s, %s) END", args[0].sql, args[1].sql, args[0].sql, args[1].sql, args[2].sql), nil
	}
	return "", wrongArgs(name, args)
}

// regexpReplace replaces every match, with Trino's $1 group references.
func regexpReplace(_ *rewriter, name token, args []arg, _ string) (string, error) {
	switch len(args) {
	case 2:
		return fmt.Sprintf("regexp_replace(%s, %s, '', 'g')", args[0].sql, args[1].sql), nil
	case 3:
		rep, ok := args[2].literal()
		if !ok {
			return "", unsupported(name, "regexp_replace's replacement must be a string literal")
		}
		var b strings.Builder
		for i := 0; i < len(rep); i++ {
			switch {
			case rep[i] == '\\' && i+1 < len(rep):
				b.WriteString(`\` + string(rep[i+1]))
				i++
			case rep[i] == '$' && i+1 < len(rep) && rep[i+1] >= '0' && rep[i+1] <= '9':
				b.WriteString(`\` + string(rep[i+1]))
				i++
			case rep[i] == '$':
				return "", unsupported(name, "regexp_replace's replacement group reference %q is not supported", rep[i:])
			default:
				b.WriteByte(rep[i])
			}
		}
		return fmt.Sprintf("regexp_replace(%s, %s, %s, 'g')", args[0].sql, args[1].sql, quoteString(b.String())), nil
	}
	return "", wrongArgs(name, args)
}

// jsonFn calls a macro with the JSON path translated from Trino's
// JSONPath ($.a.b, $.a[0], $["a b"]) to DuckDB's ($.a.b, $.a[0], $."a b").
func jsonFn(macro string) fn {
	return func(_ *rewriter, name token, args []arg, _ string) (string, error) {
		if len(args) != 2 {
			return "", wrongArgs(name, args)
		}
		path := args[1].sql
		if lit, ok := args[1].literal(); ok {
			p, err := jsonPath(lit)
			if err != nil {
				return "", unsupported(name, "%s", err)
			}
			path = quoteString(p)
		}
		return macro + "(" + args[0].sql + ", " + path + ")", nil
	}
}

// errJSONPath is Trino's message for a path it cannot read.
func errJSONPath(p string) error { return errors.New("Invalid JSON path: '" + p + "'") }

// jsonPath translates a Trino JSONPath into DuckDB's.
func jsonPath(p string) (string, error) {
	if !strings.HasPrefix(p, "$") {
		return "", errJSONPath(p)
	}
	var b strings.Builder
	b.WriteByte('$')
	for i := 1; i < len(p); {
		switch {
		case strings.HasPrefix(p[i:], `["`):
			end := strings.Index(p[i+2:], `"]`)
			if end < 0 {
				return "", errJSONPath(p)
			}
			b.WriteString(`."` + p[i+2:i+2+end] + `"`)
			i += end + 4
		case p[i] == '[' || p[i] == '.':
			j := i + 1
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			b.WriteString(p[i:j])
			i = j
		default:
			return "", errJSONPath(p)
		}
	}
	return b.String(), nil
}

// mysqlFormats maps the MySQL-style specifiers of Trino's date_format and
// date_parse to strftime's and strptime's.
var mysqlFormats = map[byte][2]string{
	'a': {"%a", "%a"}, 'b': {"%b", "%b"}, 'c': {"%-m", "%m"}, 'd': {"%d", "%d"}, 'e': {"%-d", "%d"},
	'f': {"%f", "%f"}, 'H': {"%H", "%H"}, 'h': {"%I", "%I"}, 'I': {"%I", "%I"}, 'i': {"%M", "%M"},
	'j': {"%j", "%j"}, 'k': {"%-H", "%H"}, 'l': {"%-I", "%I"}, 'M': {"%B", "%B"}, 'm': {"%m", "%m"},
	'p': {"%p", "%p"}, 'r': {"%I:%M:%S %p", "%I:%M:%S %p"}, 'S': {"%S", "%S"}, 's': {"%S", "%S"},
	'T': {"%H:%M:%S", "%H:%M:%S"}, 'W': {"%A", "%A"}, 'Y': {"%Y", "%Y"}, 'y': {"%y", "%y"}, '%': {"%%", "%%"},
}

func mysqlFormat(name token, a arg, parse bool) (string, error) {
	f, ok := a.literal()
	if !ok {
		return "", unsupported(name, "%s's format must be a string literal", strings.ToLower(name.text))
	}
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			if f[i] == '%' {
				b.WriteString("%%")
			}
			b.WriteByte(f[i])
			continue
		}
		if i+1 >= len(f) {
			b.WriteString("%%")
			continue
		}
		m, ok := mysqlFormats[f[i+1]]
		if !ok {
			return "", unsupported(name, "%s specifier %%%c is not supported", strings.ToLower(name.text), f[i+1])
		}
		if parse {
			b.WriteString(m[1])
		} else {
			b.WriteString(m[0])
		}
		i++
	}
	return quoteString(b.String()), nil
}

func dateFormat(_ *rewriter, name token, args []arg, _ string) (string, error) {
	if len(args) != 2 {
		return "", wrongArgs(name, args)
	}
	f, err := mysqlFormat(name, args[1], false)
	if err != nil {
		return "", err
	}
	return "strftime(" + args[0].sql + ", " + f + ")", nil
}

func dateParse(_ *rewriter, name token, args []arg, _ string) (string, error) {
	if len(args) != 2 {
		return "", wrongArgs(name, args)
	}
	f, err := mysqlFormat(name, args[1], true)
	if err != nil {
		return "", err
	}
	return "strptime(" + args[0].sql + ", " + f + ")", nil
}

// deniedFunctions are DuckDB's functions that read files, the network or
// the engine's own state: refused by name, never passed on.
var deniedFunctions = map[string]bool{
	"read_csv": true, "read_csv_auto": true, "read_parquet": true, "parquet_scan": true, "read_json": true,
	"read_json_auto": true, "read_ndjson": true, "read_ndjson_auto": true, "read_json_objects": true,
	"read_text": true, "read_blob": true, "glob": true, "parquet_metadata": true, "parquet_schema": true,
	"parquet_file_metadata": true, "parquet_kv_metadata": true, "sniff_csv": true, "query": true,
	"query_table": true, "iceberg_scan": true, "delta_scan": true, "read_xlsx": true, "getenv": true,
	"current_setting": true, "duckdb_settings": true, "duckdb_extensions": true, "duckdb_tables": true,
	"duckdb_views": true, "duckdb_functions": true, "duckdb_secrets": true, "which_secret": true,
	"httpfs": true, "install": true, "load": true, "pragma": true, "checkpoint": true, "read_csv_rows": true,
	"postgres_scan": true, "sqlite_scan": true, "mysql_scan": true, "arrow_scan": true, "sql_auto_complete": true,
	"export_database": true, "import_database": true, "copy": true, "attach": true, "detach": true,
}

// call rewrites the function call whose name is at i.
func (r *rewriter) call(e *emitter, i, end int) (int, error) {
	toks := r.toks
	name := toks[i]
	lw := name.lower()
	j, err := matching(toks, i+1)
	if err != nil {
		return 0, err
	}
	switch lw {
	case "cast", "try_cast":
		s, err := r.cast(name, i+2, j)
		if err != nil {
			return 0, err
		}
		e.w(s)
		return r.afterCall(e, j+1, end)
	case "extract":
		return r.extract(e, name, i+2, j, end)
	case "array":
		return 0, syntaxErr(name, "mismatched input '('; ARRAY takes [ ]")
	}
	if deniedFunctions[lw] {
		return 0, &UnsupportedError{Code: "PERMISSION_DENIED", Line: name.line, Col: name.col,
			Msg: fmt.Sprintf("Function '%s' is not allowed: queries read only the catalog's tables", lw)}
	}
	f, ok := functions[lw]
	if !ok || f == nil {
		if ok {
			return 0, unsupported(name, "Function '%s' is not supported by hydrant's query engine", lw)
		}
		return 0, &UnsupportedError{Code: "FUNCTION_NOT_FOUND", Line: name.line, Col: name.col,
			Msg: fmt.Sprintf("Function '%s' not registered (hydrant runs the Trino functions listed in docs/QUERY.md)", lw)}
	}
	// The whole argument list as written (DISTINCT, ORDER BY, *, lambdas).
	var raw emitter
	if err := r.walk(&raw, i+2, j, false, true); err != nil {
		return 0, err
	}
	var args []arg
	if !(j > i+2 && (toks[i+2].is("distinct") || toks[i+2].is("*"))) {
		if args, err = r.args(i+2, j); err != nil {
			return 0, err
		}
	}
	s, err := f(r, name, args, raw.b.String())
	if err != nil {
		return 0, err
	}
	e.w(s)
	return r.afterCall(e, j+1, end)
}

// afterCall rewrites FILTER (WHERE ...), WITHIN GROUP and OVER (...) after
// a call.
func (r *rewriter) afterCall(e *emitter, i, end int) (int, error) {
	toks := r.toks
	for i < end {
		t := toks[i]
		switch {
		case (t.is("filter") || t.is("over")) && i+1 < end && toks[i+1].is("("):
			j, err := matching(toks, i+1)
			if err != nil {
				return 0, err
			}
			e.w(strings.ToUpper(t.text) + " (")
			if err := r.walk(e, i+2, j, false, true); err != nil {
				return 0, err
			}
			e.w(")")
			i = j + 1
		case t.is("over") && i+1 < end:
			e.w("OVER " + toks[i+1].sql())
			i += 2
		case t.is("within"):
			return 0, unsupported(t, "WITHIN GROUP is not supported")
		case t.is("ignore") || t.is("respect"):
			return 0, unsupported(t, "%s NULLS is not supported", strings.ToUpper(t.text))
		default:
			return i, nil
		}
	}
	return i, nil
}

// extractFields maps EXTRACT's fields to DuckDB's.
var extractFields = map[string]string{
	"year": "year", "quarter": "quarter", "month": "month", "week": "week", "day": "day",
	"day_of_month": "day", "day_of_week": "isodow", "dow": "isodow", "day_of_year": "doy", "doy": "doy",
	"year_of_week": "isoyear", "yow": "isoyear", "hour": "hour", "minute": "minute", "second": "second",
	"timezone_hour": "timezone_hour", "timezone_minute": "timezone_minute",
}

func (r *rewriter) extract(e *emitter, name token, i, j, end int) (int, error) {
	toks := r.toks
	if j-i < 3 || !toks[i+1].is("from") {
		return 0, syntaxErr(name, "EXTRACT takes (field FROM value)")
	}
	f, ok := extractFields[toks[i].lower()]
	if !ok {
		return 0, syntaxErr(toks[i], "Invalid EXTRACT field: %s", toks[i].text)
	}
	var v emitter
	if err := r.walk(&v, i+2, j, false, true); err != nil {
		return 0, err
	}
	e.w("extract(" + f + " FROM " + v.b.String() + ")")
	return r.afterCall(e, j+1, end)
}

// cast rewrites CAST(x AS type) and TRY_CAST(x AS type).
func (r *rewriter) cast(name token, i, j int) (string, error) {
	toks := r.toks
	// Find the last top-level AS.
	as := -1
	for k := i; k < j; k++ {
		if toks[k].is("(") || toks[k].is("[") {
			m, err := matching(toks, k)
			if err != nil {
				return "", err
			}
			k = m
			continue
		}
		if toks[k].is("as") {
			as = k
		}
	}
	if as < 0 {
		return "", syntaxErr(name, "%s needs AS and a type", strings.ToUpper(name.text))
	}
	var v emitter
	if err := r.walk(&v, i, as, false, true); err != nil {
		return "", err
	}
	typ, n, err := parseTrinoType(toks, as+1, j)
	if err != nil {
		return "", err
	}
	if n != j {
		return "", syntaxErr(toks[n], "mismatched input '%s' in type", toks[n].text)
	}
	return strings.ToUpper(name.text) + "(" + v.b.String() + " AS " + typ + ")", nil
}

// parseTrinoType reads a Trino type at i and returns its DuckDB form and
// where it ends.
func parseTrinoType(toks []token, i, end int) (string, int, error) {
	if i >= end || toks[i].kind != tIdent && toks[i].kind != tQIdent {
		return "", 0, syntaxErr(toks[min(i, len(toks)-1)], "expected a type")
	}
	t := toks[i]
	lw := strings.ToLower(t.text)
	i++
	// Parameters in parentheses.
	var params []token
	close := i
	if i < end && toks[i].is("(") {
		m, err := matching(toks, i)
		if err != nil {
			return "", 0, err
		}
		params = toks[i+1 : m]
		close = m
		i = m + 1
	}
	simple := map[string]string{
		"boolean": "BOOLEAN", "tinyint": "TINYINT", "smallint": "SMALLINT", "integer": "INTEGER", "int": "INTEGER",
		"bigint": "BIGINT", "real": "FLOAT", "double": "DOUBLE", "varchar": "VARCHAR", "char": "VARCHAR",
		"string": "VARCHAR", "varbinary": "BLOB", "json": "JSON", "date": "DATE", "uuid": "UUID",
	}
	switch {
	case simple[lw] != "":
		if lw == "double" && i < end && toks[i].is("precision") {
			i++
		}
		return simple[lw], i, nil
	case lw == "decimal":
		if len(params) == 0 {
			return "DECIMAL(38,0)", i, nil
		}
		var b strings.Builder
		for _, p := range params {
			if p.kind != tNumber && !p.is(",") {
				return "", 0, syntaxErr(p, "bad decimal parameters")
			}
			b.WriteString(p.text)
		}
		return "DECIMAL(" + b.String() + ")", i, nil
	case lw == "timestamp" || lw == "time":
		out := strings.ToUpper(lw)
		if i+2 < end && toks[i].is("with") && toks[i+1].is("time") && toks[i+2].is("zone") {
			if lw == "time" {
				return "", 0, unsupported(t, "type time with time zone is not supported")
			}
			return "TIMESTAMPTZ", i + 3, nil
		}
		if i+2 < end && toks[i].is("without") {
			i += 3
		}
		return out, i, nil
	case lw == "array":
		if len(params) == 0 {
			return "", 0, syntaxErr(t, "array needs an element type")
		}
		el, n, err := parseTrinoType(toks, close-len(params), close)
		if err != nil {
			return "", 0, err
		}
		if n != close {
			return "", 0, syntaxErr(toks[n], "mismatched input '%s' in type", toks[n].text)
		}
		return el + "[]", i, nil
	case lw == "map":
		start := close - len(params)
		k, n, err := parseTrinoType(toks, start, close)
		if err != nil {
			return "", 0, err
		}
		if n >= close || !toks[n].is(",") {
			return "", 0, syntaxErr(t, "map needs a key and a value type")
		}
		v, n, err := parseTrinoType(toks, n+1, close)
		if err != nil {
			return "", 0, err
		}
		if n != close {
			return "", 0, syntaxErr(toks[n], "mismatched input '%s' in type", toks[n].text)
		}
		return "MAP(" + k + ", " + v + ")", i, nil
	case lw == "row":
		start := close - len(params)
		var fields []string
		for k := start; k < close; {
			fname := fmt.Sprintf("field%d", len(fields))
			// "name type" or just "type".
			if k+1 < close && (toks[k].kind == tIdent || toks[k].kind == tQIdent) && !toks[k+1].is(",") && !toks[k+1].is("(") {
				fname = toks[k].text
				k++
			}
			ft, n, err := parseTrinoType(toks, k, close)
			if err != nil {
				return "", 0, err
			}
			fields = append(fields, quoteIdent(strings.ToLower(fname))+" "+ft)
			k = n
			if k < close {
				if !toks[k].is(",") {
					return "", 0, syntaxErr(toks[k], "mismatched input '%s' in row type", toks[k].text)
				}
				k++
			}
		}
		return "STRUCT(" + strings.Join(fields, ", ") + ")", i, nil
	}
	return "", 0, &UnsupportedError{Code: "TYPE_NOT_FOUND", Line: t.line, Col: t.col, Msg: fmt.Sprintf("Unknown type: %s", lw)}
}

// typedLiteral are the types whose literals are written TYPE 'text'.
var typedLiteral = map[string]string{
	"date": "DATE", "timestamp": "TIMESTAMP", "time": "TIME", "decimal": "DECIMAL", "json": "JSON",
	"real": "FLOAT", "double": "DOUBLE", "bigint": "BIGINT", "integer": "INTEGER", "smallint": "SMALLINT",
	"tinyint": "TINYINT", "varchar": "VARCHAR", "char": "VARCHAR", "boolean": "BOOLEAN", "x": "BLOB",
}

func (r *rewriter) literal(typ, val token) (string, error) {
	lw := typ.lower()
	switch lw {
	case "timestamp":
		// A zone suffix makes it a timestamp with time zone.
		s := strings.TrimSpace(val.text)
		if strings.HasSuffix(s, "UTC") || strings.HasSuffix(s, "Z") || len(s) > 19 && strings.ContainsAny(s[19:], "+-") {
			return "CAST(" + quoteString(strings.TrimSuffix(s, " UTC")+"+00") + " AS TIMESTAMPTZ)", nil
		}
	case "decimal":
		return "CAST(" + quoteString(val.text) + " AS DECIMAL(38," + fmt.Sprint(decimalScale(val.text)) + "))", nil
	case "x":
		return "from_hex(" + quoteString(val.text) + ")", nil
	}
	return "CAST(" + quoteString(val.text) + " AS " + typedLiteral[lw] + ")", nil
}

func decimalScale(s string) int {
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return len(strings.TrimSpace(s[i+1:]))
	}
	return 0
}

// interval rewrites INTERVAL '1' DAY (and INTERVAL '-2' HOUR).
func (r *rewriter) interval(e *emitter, i, end int) (int, error) {
	toks := r.toks
	t := toks[i]
	sign := ""
	k := i + 1
	if k < end && (toks[k].is("-") || toks[k].is("+")) {
		sign = toks[k].text
		k++
	}
	if k+1 >= end || toks[k].kind != tString || toks[k+1].kind != tIdent {
		return 0, syntaxErr(t, "INTERVAL takes a string and a unit, e.g. INTERVAL '1' DAY")
	}
	unit := toks[k+1].lower()
	switch unit {
	case "year", "month", "day", "hour", "minute", "second":
	default:
		return 0, syntaxErr(toks[k+1], "Invalid INTERVAL unit: %s", toks[k+1].text)
	}
	if k+2 < end && toks[k+2].is("to") {
		return 0, unsupported(toks[k+2], "INTERVAL ... TO ... is not supported")
	}
	e.w("(" + sign + "INTERVAL " + quoteString(toks[k].text) + " " + strings.ToUpper(unit) + ")")
	return k + 2, nil
}
