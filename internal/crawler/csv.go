package crawler

import (
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/catalog"
)

// sniffDelimiter picks the delimiter that splits the sample lines into
// the same number (more than one) of fields, as Glue's CSV classifier
// tries comma, pipe, tab and semicolon.
func sniffDelimiter(lines []string) string {
	best, bestFields := ",", 0
	for _, d := range []string{",", "|", "\t", ";"} {
		n := -1
		ok := true
		for _, l := range lines[:min(len(lines), 50)] {
			c := len(splitCSV(l, d))
			if n >= 0 && c != n {
				ok = false
				break
			}
			n = c
		}
		if ok && n > 1 && n > bestFields {
			best, bestFields = d, n
		}
	}
	return best
}

// splitCSV splits a line at delim, honouring double quotes.
func splitCSV(line, delim string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '"' && quoted && i+1 < len(line) && line[i+1] == '"':
			b.WriteByte('"')
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && strings.HasPrefix(line[i:], delim):
			out = append(out, b.String())
			b.Reset()
			i += len(delim) - 1
		default:
			b.WriteByte(c)
		}
	}
	return append(out, b.String())
}

// csvColumns infers columns from sample rows: the first row is a header
// when all its values are strings and some column below it is not;
// types are bigint, double, boolean or string, merged down the column.
// Without a header, columns are col0, col1, ... as Glue names them.
func csvColumns(rows [][]string) ([]catalog.Column, bool) {
	if len(rows) == 0 {
		return nil, false
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r))
	}
	typeOf := func(v string) string {
		v = strings.TrimSpace(v)
		switch {
		case v == "":
			return ""
		case isInt(v):
			return "bigint"
		case isFloat(v):
			return "double"
		case strings.EqualFold(v, "true") || strings.EqualFold(v, "false"):
			return "boolean"
		}
		return "string"
	}
	merge := func(a, b string) string {
		switch {
		case a == "" || a == b:
			return b
		case b == "":
			return a
		case a == "bigint" && b == "double" || a == "double" && b == "bigint":
			return "double"
		}
		return "string"
	}
	colTypes := func(rows [][]string) []string {
		types := make([]string, width)
		for _, r := range rows {
			for i := 0; i < width; i++ {
				v := ""
				if i < len(r) {
					v = r[i]
				}
				types[i] = merge(types[i], typeOf(v))
			}
		}
		for i, t := range types {
			if t == "" {
				types[i] = "string"
			}
		}
		return types
	}
	header := false
	if len(rows) > 1 {
		allStrings := true
		for _, v := range rows[0] {
			if typeOf(v) != "string" {
				allStrings = false
			}
		}
		below := colTypes(rows[1:])
		if allStrings && len(rows[0]) == width && anyTyped(below) {
			header = true
		}
	}
	body := rows
	if header {
		body = rows[1:]
	}
	types := colTypes(body)
	cols := make([]catalog.Column, width)
	for i := range cols {
		name := "col" + strconv.Itoa(i)
		if header {
			name = strings.ToLower(strings.TrimSpace(rows[0][i]))
		}
		cols[i] = catalog.Column{Name: name, Type: types[i]}
	}
	return cols, header
}

// anyTyped reports whether some column type is not a string: then a row of
// strings above it is a header.
func anyTyped(types []string) bool {
	for _, t := range types {
		if t != "string" {
			return true
		}
	}
	return false
}

func isInt(v string) bool {
	_, err := strconv.ParseInt(v, 10, 64)
	return err == nil
}

func isFloat(v string) bool {
	_, err := strconv.ParseFloat(v, 64)
	return err == nil
}
