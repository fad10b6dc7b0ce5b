package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkathena "github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"
	"golang.org/x/term"
)

// runQuery serves `hydrant query`: one SQL statement through the Athena
// API of a running hydrant, its result printed.
func runQuery(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprint(stderr, "usage: hydrant query [flags] 'SQL'   (or the SQL on stdin)\n\n"+
			"Runs the statement with Athena's StartQueryExecution and prints the result.\n\n")
		fs.PrintDefaults()
	}
	database := fs.String("database", "default", "database of unqualified table names")
	format := fs.String("format", "", "output: table, csv or json (JSON lines); default table on a terminal, else csv")
	endpoint := fs.String("endpoint-url", "", "Athena endpoint; default AWS_ENDPOINT_URL[_ATHENA] or the profile's endpoint_url, else "+defaultEndpoint)
	region := fs.String("region", "", "AWS region; default from the AWS configuration, else us-east-1")
	output := fs.String("output-location", "", "s3:// location for the result files (default: the primary workgroup's)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	sql := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(sql) == "" || sql == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 256<<10+1))
		if err != nil {
			return fmt.Errorf("query: read stdin: %w", err)
		}
		sql = string(b)
	}
	if strings.TrimSpace(sql) == "" {
		return errors.New("query: give the SQL as an argument or on stdin")
	}
	outTerm := isTerminal(stdout)
	if *format == "" {
		*format = "csv"
		if outTerm {
			*format = "table"
		}
	}
	if *format != "table" && *format != "csv" && *format != "json" {
		return fmt.Errorf("query: --format must be table, csv or json, got %q", *format)
	}
	cfg, ep, err := clientConfig(ctx, "query", *endpoint, *region)
	if err != nil {
		return err
	}
	client := sdkathena.NewFromConfig(cfg, func(o *sdkathena.Options) { o.BaseEndpoint = baseEndpoint(ep, o.BaseEndpoint) })
	in := &sdkathena.StartQueryExecutionInput{QueryString: aws.String(sql),
		QueryExecutionContext: &types.QueryExecutionContext{Database: aws.String(*database)}}
	if *output != "" {
		in.ResultConfiguration = &types.ResultConfiguration{OutputLocation: output}
	}
	started := time.Now()
	res, err := client.StartQueryExecution(ctx, in)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	id := res.QueryExecutionId
	qe, err := waitQuery(ctx, client, id, stderr, isTerminal(stderr), started)
	if err != nil {
		// Interrupted: stop the query rather than leave it running.
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = client.StopQueryExecution(sctx, &sdkathena.StopQueryExecutionInput{QueryExecutionId: id})
		return fmt.Errorf("query: %w", err)
	}
	if qe.Status.State != types.QueryExecutionStateSucceeded {
		reason := aws.ToString(qe.Status.StateChangeReason)
		return fmt.Errorf("query %s %s: %s", aws.ToString(id), qe.Status.State, reason)
	}
	header := qe.StatementType == types.StatementTypeDml
	w := newResultPrinter(*format, stdout)
	// DDL results (SHOW, DESCRIBE, MSCK) are lines of text: in CSV they are
	// printed without a header, as Athena's .txt result files hold them.
	w.noHeader = !header && *format == "csv"
	var rows int64
	var token *string
	first := true
	for {
		page, err := client.GetQueryResults(ctx, &sdkathena.GetQueryResultsInput{QueryExecutionId: id, NextToken: token, MaxResults: aws.Int32(1000)})
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		data := page.ResultSet.Rows
		if first {
			if err := w.columns(page.ResultSet.ResultSetMetadata.ColumnInfo); err != nil {
				return err
			}
			if header && len(data) > 0 {
				data = data[1:]
			}
			first = false
		}
		for _, r := range data {
			vals := make([]*string, len(r.Data))
			for i, d := range r.Data {
				vals[i] = d.VarCharValue
			}
			if err := w.row(vals); err != nil {
				return err
			}
			rows++
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if err := w.flush(); err != nil {
		return err
	}
	if isTerminal(stderr) {
		scanned := int64(0)
		if qe.Statistics != nil && qe.Statistics.DataScannedInBytes != nil {
			scanned = *qe.Statistics.DataScannedInBytes
		}
		_, _ = fmt.Fprintf(stderr, "(%d rows, %s scanned, %.2fs, query %s)\n", rows, humanBytes(scanned), time.Since(started).Seconds(), aws.ToString(id))
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// waitQuery polls until the query is done, drawing a spinner with the
// elapsed time on a terminal once it has run for a second.
func waitQuery(ctx context.Context, c *sdkathena.Client, id *string, stderr io.Writer, spin bool, started time.Time) (*types.QueryExecution, error) {
	frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
	delay := 20 * time.Millisecond
	drawn := false
	defer func() {
		if drawn {
			_, _ = fmt.Fprint(stderr, "\r\033[K")
		}
	}()
	for i := 0; ; i++ {
		out, err := c.GetQueryExecution(ctx, &sdkathena.GetQueryExecutionInput{QueryExecutionId: id})
		if err != nil {
			return nil, err
		}
		switch out.QueryExecution.Status.State {
		case types.QueryExecutionStateSucceeded, types.QueryExecutionStateFailed, types.QueryExecutionStateCancelled:
			return out.QueryExecution, nil
		}
		if spin && time.Since(started) > time.Second {
			drawn = true
			_, _ = fmt.Fprintf(stderr, "\r%c %s %.1fs", frames[i%len(frames)], strings.ToLower(string(out.QueryExecution.Status.State)), time.Since(started).Seconds())
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 250*time.Millisecond)
	}
}

// resultPrinter writes rows as a table, CSV or JSON lines.
type resultPrinter struct {
	format string
	w      io.Writer
	cols   []types.ColumnInfo
	csv    *csv.Writer
	table  [][]string // the table format aligns columns, so it keeps rows
	// noHeader leaves the column names out of CSV output.
	noHeader bool
}

func newResultPrinter(format string, w io.Writer) *resultPrinter {
	p := &resultPrinter{format: format, w: w}
	if format == "csv" {
		p.csv = csv.NewWriter(w)
	}
	return p
}

func (p *resultPrinter) columns(cols []types.ColumnInfo) error {
	p.cols = cols
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = aws.ToString(c.Name)
	}
	switch p.format {
	case "csv":
		if p.noHeader {
			return nil
		}
		return p.csv.Write(names)
	case "table":
		p.table = append(p.table, names)
	}
	return nil
}

func (p *resultPrinter) row(vals []*string) error {
	switch p.format {
	case "csv":
		rec := make([]string, len(vals))
		for i, v := range vals {
			rec[i] = aws.ToString(v)
		}
		return p.csv.Write(rec)
	case "json":
		var b strings.Builder
		b.WriteByte('{')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			name := fmt.Sprintf("_col%d", i)
			typ := ""
			if i < len(p.cols) {
				name, typ = aws.ToString(p.cols[i].Name), aws.ToString(p.cols[i].Type)
			}
			k, _ := json.Marshal(name)
			b.Write(k)
			b.WriteByte(':')
			b.WriteString(jsonValue(v, typ))
		}
		b.WriteString("}\n")
		_, err := io.WriteString(p.w, b.String())
		return err
	}
	rec := make([]string, len(vals))
	for i, v := range vals {
		if v == nil {
			rec[i] = "NULL"
		} else {
			rec[i] = strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(*v)
		}
	}
	p.table = append(p.table, rec)
	return nil
}

// jsonValue renders a value with its JSON type: numbers and booleans
// bare, everything else as a string.
func jsonValue(v *string, typ string) string {
	if v == nil {
		return "null"
	}
	switch typ {
	case "tinyint", "smallint", "integer", "bigint", "decimal":
		if _, err := strconv.ParseFloat(*v, 64); err == nil {
			return *v
		}
	case "double", "real":
		if f, err := strconv.ParseFloat(*v, 64); err == nil {
			b, err := json.Marshal(f)
			if err == nil {
				return string(b)
			}
		}
	case "boolean":
		if *v == "true" || *v == "false" {
			return *v
		}
	}
	b, _ := json.Marshal(*v)
	return string(b)
}

func (p *resultPrinter) flush() error {
	switch p.format {
	case "csv":
		p.csv.Flush()
		return p.csv.Error()
	case "json":
		return nil
	}
	if len(p.table) == 0 {
		return nil
	}
	widths := make([]int, len(p.table[0]))
	for _, r := range p.table {
		for i, v := range r {
			if i < len(widths) {
				widths[i] = max(widths[i], utf8.RuneCountInString(v))
			}
		}
	}
	var b strings.Builder
	line := func(r []string) {
		for i, v := range r {
			if i > 0 {
				b.WriteString(" | ")
			}
			b.WriteString(v)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v)))
			}
		}
		b.WriteByte('\n')
	}
	line(p.table[0])
	for i, w := range widths {
		if i > 0 {
			b.WriteString("-+-")
		}
		b.WriteString(strings.Repeat("-", w))
	}
	b.WriteByte('\n')
	for _, r := range p.table[1:] {
		line(r)
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}
