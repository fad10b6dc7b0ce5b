package query

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hydrant-io/hydrant/internal/athena"
	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/format"
)

// ddlStatements are the first words of the Athena DDL statements served
// from the catalog.
var ddlStatements = map[string]bool{
	"create": true, "drop": true, "show": true, "describe": true, "desc": true, "msck": true, "alter": true,
}

// ddl is a cursor over a DDL statement's tokens.
type ddl struct {
	toks []token
	i    int
}

func (d *ddl) peek(w string) bool { return d.i < len(d.toks) && d.toks[d.i].is(w) }

func (d *ddl) accept(words ...string) bool {
	for k, w := range words {
		if d.i+k >= len(d.toks) || !d.toks[d.i+k].is(w) {
			return false
		}
	}
	d.i += len(words)
	return true
}

func (d *ddl) at() token {
	if d.i < len(d.toks) {
		return d.toks[d.i]
	}
	if len(d.toks) == 0 {
		return token{line: 1, col: 1}
	}
	last := d.toks[len(d.toks)-1]
	return token{line: last.line, col: last.col + len(last.text), text: "<EOF>"}
}

func (d *ddl) expect(w string) error {
	if !d.accept(w) {
		t := d.at()
		return syntaxErr(t, "mismatched input '%s'. Expecting: '%s'", t.text, strings.ToUpper(w))
	}
	return nil
}

func (d *ddl) ident() (string, error) {
	t := d.at()
	if d.i >= len(d.toks) || t.kind != tIdent && t.kind != tQIdent && t.kind != tBIdent {
		return "", syntaxErr(t, "mismatched input '%s'. Expecting: an identifier", t.text)
	}
	d.i++
	return strings.ToLower(t.text), nil
}

func (d *ddl) str() (string, error) {
	t := d.at()
	if d.i >= len(d.toks) || t.kind != tString {
		return "", syntaxErr(t, "mismatched input '%s'. Expecting: a string", t.text)
	}
	d.i++
	return t.text, nil
}

// name reads [db.]name.
func (d *ddl) name(defDB string) (string, string, error) {
	a, err := d.ident()
	if err != nil {
		return "", "", err
	}
	if d.accept(".") {
		b, err := d.ident()
		return a, b, err
	}
	return defDB, a, nil
}

func (d *ddl) end() error {
	if d.i < len(d.toks) {
		t := d.at()
		return syntaxErr(t, "extraneous input '%s'", t.text)
	}
	return nil
}

// props reads ('k'='v', ...).
func (d *ddl) props() (map[string]string, error) {
	if err := d.expect("("); err != nil {
		return nil, err
	}
	m := map[string]string{}
	for !d.accept(")") {
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if err := d.expect("="); err != nil {
			return nil, err
		}
		v, err := d.str()
		if err != nil {
			return nil, err
		}
		m[k] = v
		if !d.accept(",") && !d.peek(")") {
			return nil, syntaxErr(d.at(), "mismatched input '%s'. Expecting: ',' or ')'", d.at().text)
		}
	}
	return m, nil
}

// hiveType reads a Hive type written in tokens (array<struct<a:int>>,
// decimal(10,2)) up to a top-level , or ) or COMMENT.
func (d *ddl) hiveType() (string, error) {
	start := d.at()
	var b strings.Builder
	depth := 0
	for d.i < len(d.toks) {
		t := d.toks[d.i]
		if depth == 0 && (t.is(",") || t.is(")") || t.is("comment")) {
			break
		}
		switch {
		case t.is("<") || t.is("("):
			depth++
		case t.is(">") || t.is(")"):
			depth--
		case t.is(">>"):
			depth -= 2
		}
		if t.kind == tBIdent || t.kind == tQIdent {
			b.WriteString("`" + t.text + "`")
		} else {
			b.WriteString(t.text)
		}
		if t.kind == tIdent && d.i+1 < len(d.toks) && d.toks[d.i+1].kind == tIdent {
			b.WriteByte(' ')
		}
		d.i++
	}
	ty, err := format.ParseType(b.String())
	if err != nil {
		return "", &UnsupportedError{Code: "TYPE_NOT_FOUND", Line: start.line, Col: start.col, Msg: err.Error()}
	}
	return ty.String(), nil
}

// columns reads (name type [COMMENT 'c'], ...).
func (d *ddl) columns() ([]catalog.Column, error) {
	if err := d.expect("("); err != nil {
		return nil, err
	}
	var cols []catalog.Column
	for {
		name, err := d.ident()
		if err != nil {
			return nil, err
		}
		typ, err := d.hiveType()
		if err != nil {
			return nil, err
		}
		c := catalog.Column{Name: name, Type: typ}
		if d.accept("comment") {
			s, err := d.str()
			if err != nil {
				return nil, err
			}
			c.Comment = &s
		}
		cols = append(cols, c)
		if d.accept(")") {
			return cols, nil
		}
		if err := d.expect(","); err != nil {
			return nil, err
		}
	}
}

// Hive's storage classes for STORED AS.
const (
	parquetSerDe  = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
	parquetInput  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	parquetOutput = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	textInput     = "org.apache.hadoop.mapred.TextInputFormat"
	textOutput    = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
	lazySimple    = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
	orcSerDe      = "org.apache.hadoop.hive.ql.io.orc.OrcSerde"
	orcInput      = "org.apache.hadoop.hive.ql.io.orc.OrcInputFormat"
	orcOutput     = "org.apache.hadoop.hive.ql.io.orc.OrcOutputFormat"
)

func (en *Engine) ddl(ctx context.Context, q athena.Query, toks []token, out athena.Results) (string, error) {
	d := &ddl{toks: toks}
	cat := en.opts.Catalog
	switch {
	case d.accept("create", "external", "table"), d.accept("create", "table"):
		return "CREATE_TABLE", en.createTable(ctx, q, d, out)
	case d.accept("create", "database"), d.accept("create", "schema"):
		ifNot := d.accept("if", "not", "exists")
		name, err := d.ident()
		if err != nil {
			return "", err
		}
		in := catalog.DatabaseInput{Name: name}
		if d.accept("comment") {
			s, err := d.str()
			if err != nil {
				return "", err
			}
			in.Description = &s
		}
		if d.accept("location") {
			s, err := d.str()
			if err != nil {
				return "", err
			}
			in.LocationUri = &s
		}
		if d.accept("with", "dbproperties") {
			if in.Parameters, err = d.props(); err != nil {
				return "", err
			}
		}
		if err := d.end(); err != nil {
			return "", err
		}
		err = cat.CreateDatabase(ctx, "", in)
		if err != nil && ifNot && errors.Is(err, catalog.ErrExists) {
			err = nil
		}
		return "CREATE_DATABASE", noRows(out, err)
	case d.accept("drop", "table"):
		ifExists := d.accept("if", "exists")
		db, name, err := d.name(q.Database)
		if err != nil {
			return "", err
		}
		if err := d.end(); err != nil {
			return "", err
		}
		err = cat.DeleteTable(ctx, "", db, name)
		if err != nil && ifExists && errors.Is(err, catalog.ErrNotFound) {
			err = nil
		}
		return "DROP_TABLE", noRows(out, err)
	case d.accept("drop", "database"), d.accept("drop", "schema"):
		ifExists := d.accept("if", "exists")
		name, err := d.ident()
		if err != nil {
			return "", err
		}
		cascade := d.accept("cascade")
		d.accept("restrict")
		if err := d.end(); err != nil {
			return "", err
		}
		if tables, terr := cat.Tables(ctx, "", name); terr == nil && len(tables) > 0 && !cascade {
			return "", athena.UserError(athena.ErrDDL, "FAILED: InvalidOperationException(message:Database %s is not empty. One or more tables exist.)", name)
		}
		err = cat.DeleteDatabase(ctx, "", name)
		if err != nil && ifExists && errors.Is(err, catalog.ErrNotFound) {
			err = nil
		}
		return "DROP_DATABASE", noRows(out, err)
	case d.accept("show", "tables"):
		db := q.Database
		if d.accept("in") || d.accept("from") {
			var err error
			if db, err = d.ident(); err != nil {
				return "", err
			}
		}
		pattern := ""
		if d.accept("like") || d.peek("'") || d.i < len(d.toks) && d.toks[d.i].kind == tString {
			var err error
			if pattern, err = d.str(); err != nil {
				return "", err
			}
		}
		if err := d.end(); err != nil {
			return "", err
		}
		tables, err := cat.Tables(ctx, "", db)
		if err != nil {
			return "", err
		}
		var names []string
		re := hivePattern(pattern)
		for _, t := range tables {
			if re.MatchString(t.Name) {
				names = append(names, t.Name)
			}
		}
		return "SHOW_TABLES", textRows(out, "tab_name", names)
	case d.accept("show", "databases"), d.accept("show", "schemas"):
		pattern := ""
		if d.accept("like") || d.i < len(d.toks) && d.toks[d.i].kind == tString {
			var err error
			if pattern, err = d.str(); err != nil {
				return "", err
			}
		}
		if err := d.end(); err != nil {
			return "", err
		}
		var names []string
		re := hivePattern(pattern)
		for _, db := range cat.Databases(ctx, "") {
			if re.MatchString(db.Name) {
				names = append(names, db.Name)
			}
		}
		return "SHOW_DATABASES", textRows(out, "database_name", names)
	case d.accept("show", "partitions"):
		db, name, err := d.name(q.Database)
		if err != nil {
			return "", err
		}
		if err := d.end(); err != nil {
			return "", err
		}
		t, err := cat.Table(ctx, "", db, name, "")
		if err != nil {
			return "", err
		}
		if len(t.PartitionKeys) == 0 {
			return "", athena.UserError(athena.ErrDDL, "FAILED: SemanticException Table %s is not a partitioned table", name)
		}
		parts, err := cat.Partitions(ctx, "", db, name)
		if err != nil {
			return "", err
		}
		var lines []string
		for _, p := range parts {
			lines = append(lines, strings.TrimSuffix(hivePath(t.PartitionKeys, p.Values), "/"))
		}
		return "SHOW_PARTITIONS", textRows(out, "partition", lines)
	case d.accept("show", "columns"):
		if !d.accept("in") && !d.accept("from") {
			return "", syntaxErr(d.at(), "mismatched input '%s'. Expecting: 'FROM', 'IN'", d.at().text)
		}
		db, name, err := d.name(q.Database)
		if err != nil {
			return "", err
		}
		if d.accept("in") || d.accept("from") {
			if db, err = d.ident(); err != nil {
				return "", err
			}
		}
		if err := d.end(); err != nil {
			return "", err
		}
		t, err := cat.Table(ctx, "", db, name, "")
		if err != nil {
			return "", err
		}
		var names []string
		for _, c := range append(t.Columns(), t.PartitionKeys...) {
			names = append(names, c.Name)
		}
		return "SHOW_COLUMNS", textRows(out, "field", names)
	case d.accept("show", "create", "table"):
		db, name, err := d.name(q.Database)
		if err != nil {
			return "", err
		}
		if err := d.end(); err != nil {
			return "", err
		}
		t, err := cat.Table(ctx, "", db, name, "")
		if err != nil {
			return "", err
		}
		return "SHOW_CREATE_TABLE", textRows(out, "createtab_stmt", strings.Split(showCreate(t), "\n"))
	case d.accept("show", "tblproperties"):
		db, name, err := d.name(q.Database)
		if err != nil {
			return "", err
		}
		if err := d.end(); err != nil {
			return "", err
		}
		t, err := cat.Table(ctx, "", db, name, "")
		if err != nil {
			return "", err
		}
		var lines []string
		for _, k := range sortedStringKeys(t.Parameters) {
			lines = append(lines, k+"\t"+t.Parameters[k])
		}
		return "SHOW_TBLPROPERTIES", textRows(out, "prpt_name", lines)
	case d.accept("describe"), d.accept("desc"):
		d.accept("formatted")
		d.accept("extended")
		db, name, err := d.name(q.Database)
		if err != nil {
			return "", err
		}
		if err := d.end(); err != nil {
			return "", err
		}
		t, err := cat.Table(ctx, "", db, name, "")
		if err != nil {
			return "", err
		}
		return "DESCRIBE_TABLE", textRows(out, "col_name", describe(t))
	case d.accept("msck", "repair", "table"):
		db, name, err := d.name(q.Database)
		if err != nil {
			return "", err
		}
		if err := d.end(); err != nil {
			return "", err
		}
		lines, err := en.repair(ctx, db, name)
		if err != nil {
			return "", err
		}
		return "MSCK_REPAIR_TABLE", textRows(out, "_col0", lines)
	case d.accept("alter", "table"):
		return en.alterTable(ctx, q, d, out)
	}
	return "", unsupported(d.at(), "statement %s is not supported", strings.ToUpper(strings.Join(words(toks, 3), " ")))
}

func words(toks []token, n int) []string {
	var out []string
	for _, t := range toks[:min(n, len(toks))] {
		out = append(out, t.text)
	}
	return out
}

func sortedStringKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// hivePattern compiles SHOW TABLES' pattern: * for any characters, | for
// alternatives.
func hivePattern(p string) *regexp.Regexp {
	if p == "" {
		return regexp.MustCompile("")
	}
	var alts []string
	for a := range strings.SplitSeq(p, "|") {
		alts = append(alts, strings.ReplaceAll(regexp.QuoteMeta(strings.ToLower(strings.TrimSpace(a))), `\*`, ".*"))
	}
	return regexp.MustCompile("^(?:" + strings.Join(alts, "|") + ")$")
}

// noRows finishes a DDL statement that has no result rows.
func noRows(out athena.Results, err error) error {
	if err != nil {
		return err
	}
	return out.Begin(nil, false)
}

// textRows answers a DDL statement with one column of lines.
func textRows(out athena.Results, col string, lines []string) error {
	if err := out.Begin([]athena.Column{{Name: col, Type: "string"}}, false); err != nil {
		return err
	}
	for _, l := range lines {
		if err := out.Row([]*string{&l}); err != nil {
			return err
		}
	}
	return nil
}

// describe renders DESCRIBE's lines as Athena does: name, type and
// comment padded and tab-separated, then the partition keys.
func describe(t *catalog.Table) []string {
	line := func(c catalog.Column) string {
		comment := ""
		if c.Comment != nil {
			comment = *c.Comment
		}
		return fmt.Sprintf("%-20s\t%-20s\t%-20s", c.Name, c.Type, comment)
	}
	var out []string
	for _, c := range t.Columns() {
		out = append(out, line(c))
	}
	for _, c := range t.PartitionKeys {
		out = append(out, line(c))
	}
	if len(t.PartitionKeys) > 0 {
		out = append(out, "", "# Partition Information", fmt.Sprintf("%-20s\t%-20s\t%-20s", "# col_name", "data_type", "comment"), "")
		for _, c := range t.PartitionKeys {
			out = append(out, line(c))
		}
	}
	return out
}

// showCreate renders a table as the CREATE EXTERNAL TABLE that makes it.
func showCreate(t *catalog.Table) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE `%s`.`%s`(\n", t.DatabaseName, t.Name)
	cols := t.Columns()
	for i, c := range cols {
		fmt.Fprintf(&b, "  `%s` %s", c.Name, c.Type)
		if c.Comment != nil {
			fmt.Fprintf(&b, " COMMENT '%s'", strings.ReplaceAll(*c.Comment, "'", "\\'"))
		}
		if i < len(cols)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString(")")
	if len(t.PartitionKeys) > 0 {
		b.WriteString("\nPARTITIONED BY ( \n")
		for i, c := range t.PartitionKeys {
			fmt.Fprintf(&b, "  `%s` %s", c.Name, c.Type)
			if i < len(t.PartitionKeys)-1 {
				b.WriteString(",")
			}
			b.WriteString(" \n")
		}
		b.WriteString(")")
	}
	if sd := t.StorageDescriptor; sd != nil {
		if sd.SerdeInfo != nil && sd.SerdeInfo.SerializationLibrary != nil {
			fmt.Fprintf(&b, "\nROW FORMAT SERDE \n  '%s' ", *sd.SerdeInfo.SerializationLibrary)
			if len(sd.SerdeInfo.Parameters) > 0 {
				b.WriteString("\nWITH SERDEPROPERTIES ( \n")
				keys := sortedStringKeys(sd.SerdeInfo.Parameters)
				for i, k := range keys {
					fmt.Fprintf(&b, "  '%s'='%s'", k, sd.SerdeInfo.Parameters[k])
					if i < len(keys)-1 {
						b.WriteString(", ")
					}
					b.WriteString(" \n")
				}
				b.WriteString(") ")
			}
		}
		if sd.InputFormat != nil && sd.OutputFormat != nil {
			fmt.Fprintf(&b, "\nSTORED AS INPUTFORMAT \n  '%s' \nOUTPUTFORMAT \n  '%s'", *sd.InputFormat, *sd.OutputFormat)
		}
		if sd.Location != nil {
			fmt.Fprintf(&b, "\nLOCATION\n  '%s'", *sd.Location)
		}
	}
	if len(t.Parameters) > 0 {
		b.WriteString("\nTBLPROPERTIES (\n")
		keys := sortedStringKeys(t.Parameters)
		for i, k := range keys {
			fmt.Fprintf(&b, "  '%s'='%s'", k, t.Parameters[k])
			if i < len(keys)-1 {
				b.WriteString(", ")
			}
			b.WriteString("\n")
		}
		b.WriteString(")")
	}
	return b.String()
}
