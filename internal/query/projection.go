package query

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/keys"
)

// maxProjected bounds the partitions a projection may generate before
// pruning.
const maxProjected = 200000

// projected generates a table's partitions from its partition projection
// properties (projection.COL.type enum, integer or date, with .values,
// .range, .interval, .interval.unit, .digits and .format) and places
// them with storage.location.template (default: Hive-style paths under
// the location), as Athena does.
func projected(t *catalog.Table, bucket, prefix string) ([]partition, error) {
	p := t.Parameters
	lists := make([][]string, len(t.PartitionKeys))
	total := 1
	for i, k := range t.PartitionKeys {
		col := strings.ToLower(k.Name)
		get := func(s string) string { return strings.TrimSpace(p["projection."+col+"."+s]) }
		var vals []string
		var err error
		switch typ := strings.ToLower(get("type")); typ {
		case "enum":
			for v := range strings.SplitSeq(get("values"), ",") {
				vals = append(vals, strings.TrimSpace(v))
			}
		case "integer":
			vals, err = integerRange(get("range"), get("interval"), get("digits"))
		case "date":
			vals, err = dateRange(get("range"), get("format"), get("interval"), get("interval.unit"))
		case "":
			return nil, fmt.Errorf("table %s.%s enables partition projection but has no projection.%s.type", t.DatabaseName, t.Name, col)
		default:
			return nil, fmt.Errorf("partition projection type %q (projection.%s.type) is not supported: enum, integer and date are", typ, col)
		}
		if err != nil {
			return nil, fmt.Errorf("projection.%s: %w", col, err)
		}
		lists[i] = vals
		total *= max(len(vals), 1)
		if total > maxProjected {
			return nil, fmt.Errorf("partition projection of %s.%s yields more than %d partitions", t.DatabaseName, t.Name, maxProjected)
		}
	}
	template := p["storage.location.template"]
	var out []partition
	var rec func(i int, vals []string) error
	rec = func(i int, vals []string) error {
		if i == len(lists) {
			v := append([]string(nil), vals...)
			pb, pp := bucket, prefix+hivePath(t.PartitionKeys, v)
			if template != "" {
				loc := template
				for j, k := range t.PartitionKeys {
					loc = strings.ReplaceAll(loc, "${"+strings.ToLower(k.Name)+"}", v[j])
				}
				var err error
				if pb, pp, err = location(loc); err != nil {
					return fmt.Errorf("storage.location.template: %w", err)
				}
			}
			out = append(out, partition{values: v, bucket: pb, prefix: pp})
			return nil
		}
		for _, x := range lists[i] {
			if err := rec(i+1, append(vals, x)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := rec(0, nil); err != nil {
		return nil, err
	}
	return out, nil
}

func integerRange(rng, interval, digits string) ([]string, error) {
	lo, hi, ok := strings.Cut(rng, ",")
	a, err1 := strconv.ParseInt(strings.TrimSpace(lo), 10, 64)
	b, err2 := strconv.ParseInt(strings.TrimSpace(hi), 10, 64)
	if !ok || err1 != nil || err2 != nil || b < a {
		return nil, fmt.Errorf("range %q is not two integers", rng)
	}
	step := int64(1)
	if interval != "" {
		s, err := strconv.ParseInt(interval, 10, 64)
		if err != nil || s <= 0 {
			return nil, fmt.Errorf("interval %q is not a positive integer", interval)
		}
		step = s
	}
	width := 0
	if digits != "" {
		width, _ = strconv.Atoi(digits)
	}
	if (b-a)/step > maxProjected {
		return nil, fmt.Errorf("range %q has more than %d values", rng, maxProjected)
	}
	var out []string
	for v := a; v <= b; v += step {
		out = append(out, fmt.Sprintf("%0*d", width, v))
	}
	return out, nil
}

// dateRange expands a date projection. Bounds are dates in the format or
// NOW with an optional offset (NOW-3YEARS, NOW+1DAY).
func dateRange(rng, format, interval, unit string) ([]string, error) {
	if format == "" {
		return nil, fmt.Errorf("a date projection needs a format")
	}
	lo, hi, ok := strings.Cut(rng, ",")
	if !ok {
		return nil, fmt.Errorf("range %q is not two dates", rng)
	}
	now := time.Now().UTC()
	a, err := projectionDate(strings.TrimSpace(lo), format, now)
	if err != nil {
		return nil, err
	}
	b, err := projectionDate(strings.TrimSpace(hi), format, now)
	if err != nil {
		return nil, err
	}
	step := 1
	if interval != "" {
		if step, err = strconv.Atoi(interval); err != nil || step <= 0 {
			return nil, fmt.Errorf("interval %q is not a positive integer", interval)
		}
	}
	if unit == "" {
		unit = defaultUnit(format)
	}
	next, err := adder(unit)
	if err != nil {
		return nil, err
	}
	var out []string
	for t := a; !t.After(b); t = next(t, step) {
		s, err := keys.FormatJava(format, t)
		if err != nil {
			return nil, fmt.Errorf("format %q: %w", format, err)
		}
		out = append(out, s)
		if len(out) > maxProjected {
			return nil, fmt.Errorf("range %q has more than %d values", rng, maxProjected)
		}
	}
	return out, nil
}

// defaultUnit is the finest unit a Java date pattern shows.
func defaultUnit(format string) string {
	switch {
	case strings.Contains(format, "s"):
		return "SECONDS"
	case strings.Contains(format, "m"):
		return "MINUTES"
	case strings.Contains(format, "H") || strings.Contains(format, "h"):
		return "HOURS"
	case strings.Contains(format, "d"):
		return "DAYS"
	case strings.Contains(format, "M"):
		return "MONTHS"
	}
	return "YEARS"
}

func adder(unit string) (func(time.Time, int) time.Time, error) {
	switch strings.ToUpper(strings.TrimSuffix(strings.ToUpper(unit), "S")) {
	case "YEAR":
		return func(t time.Time, n int) time.Time { return t.AddDate(n, 0, 0) }, nil
	case "MONTH":
		return func(t time.Time, n int) time.Time { return t.AddDate(0, n, 0) }, nil
	case "WEEK":
		return func(t time.Time, n int) time.Time { return t.AddDate(0, 0, 7*n) }, nil
	case "DAY":
		return func(t time.Time, n int) time.Time { return t.AddDate(0, 0, n) }, nil
	case "HOUR":
		return func(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Hour) }, nil
	case "MINUTE":
		return func(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Minute) }, nil
	case "SECOND":
		return func(t time.Time, n int) time.Time { return t.Add(time.Duration(n) * time.Second) }, nil
	}
	return nil, fmt.Errorf("interval.unit %q is not one of YEARS, MONTHS, WEEKS, DAYS, HOURS, MINUTES, SECONDS", unit)
}

// projectionDate reads a range bound: NOW[+-N UNIT] or a date written in
// the projection's format (parsed by matching the formatted candidates of
// the common patterns).
func projectionDate(s, format string, now time.Time) (time.Time, error) {
	if rest, ok := strings.CutPrefix(strings.ToUpper(s), "NOW"); ok {
		if rest == "" {
			return now, nil
		}
		sign := 1
		switch rest[0] {
		case '-':
			sign = -1
		case '+':
		default:
			return time.Time{}, fmt.Errorf("bad date %q", s)
		}
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		n, err := strconv.Atoi(rest[1:i])
		if err != nil {
			return time.Time{}, fmt.Errorf("bad date %q", s)
		}
		add, err := adder(rest[i:])
		if err != nil {
			return time.Time{}, err
		}
		return add(now, sign*n), nil
	}
	layout := javaToGo(format)
	t, err := time.Parse(layout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q does not match format %q", s, format)
	}
	return t, nil
}

// javaToGo converts the date letters projections use to a Go layout.
func javaToGo(f string) string {
	r := strings.NewReplacer("yyyy", "2006", "MM", "01", "dd", "02", "HH", "15", "mm", "04", "ss", "05", "yy", "06")
	return r.Replace(f)
}
