package crawler

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// schedule is a parsed Glue cron expression: cron(Minutes Hours
// Day-of-month Month Day-of-week Year), as AWS writes them.
type schedule struct {
	spec  cron.Schedule
	years func(int) bool
}

// parseSchedule parses cron(...) with robfig/cron for the first five
// fields. AWS numbers days of the week 1-7 from Sunday (cron 0-6) and
// adds a year field; "?" means any. L, W and # are refused by name.
func parseSchedule(expr string) (*schedule, error) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(expr), "cron(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return nil, fmt.Errorf("invalid schedule expression %q: want cron(Minutes Hours Day-of-month Month Day-of-week Year)", expr)
	}
	fields := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(fields) != 6 {
		return nil, fmt.Errorf("invalid schedule expression %q: want 6 fields, got %d", expr, len(fields))
	}
	for _, f := range fields {
		if strings.ContainsAny(f, "LW#") {
			return nil, fmt.Errorf("invalid schedule expression %q: L, W and # are not supported by hydrant", expr)
		}
	}
	if fields[2] != "?" && fields[4] != "?" {
		return nil, fmt.Errorf("invalid schedule expression %q: one of day-of-month and day-of-week must be ?", expr)
	}
	dow, err := awsDays(fields[4])
	if err != nil {
		return nil, fmt.Errorf("invalid schedule expression %q: %v", expr, err)
	}
	std := strings.Join([]string{fields[0], fields[1], strings.ReplaceAll(fields[2], "?", "*"), fields[3], dow}, " ")
	spec, err := cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow).Parse(std)
	if err != nil {
		return nil, fmt.Errorf("invalid schedule expression %q: %v", expr, err)
	}
	years, err := yearMatcher(fields[5])
	if err != nil {
		return nil, fmt.Errorf("invalid schedule expression %q: %v", expr, err)
	}
	return &schedule{spec: spec, years: years}, nil
}

// awsDays turns AWS's day-of-week numbers (1 = SUN) into cron's (0 = SUN);
// names pass through.
func awsDays(f string) (string, error) {
	if f == "?" || f == "*" {
		return "*", nil
	}
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		if c >= '0' && c <= '9' {
			j := i
			for j < len(f) && f[j] >= '0' && f[j] <= '9' {
				j++
			}
			n, _ := strconv.Atoi(f[i:j])
			// After "/" the number is a step, not a day.
			if i > 0 && f[i-1] == '/' {
				b.WriteString(f[i:j])
			} else {
				if n < 1 || n > 7 {
					return "", fmt.Errorf("day of week %d is not 1-7", n)
				}
				b.WriteString(strconv.Itoa(n - 1))
			}
			i = j
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), nil
}

// yearMatcher reads the year field: *, a year, a range, a list, a step.
func yearMatcher(f string) (func(int) bool, error) {
	if f == "*" || f == "?" {
		return func(int) bool { return true }, nil
	}
	var checks []func(int) bool
	for part := range strings.SplitSeq(f, ",") {
		rng, step := part, 1
		if r, s, ok := strings.Cut(part, "/"); ok {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad year step %q", part)
			}
			rng, step = r, n
		}
		lo, hi := 1970, 2199
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = strconv.Atoi(a); err != nil {
				return nil, fmt.Errorf("bad year %q", part)
			}
			hi = lo
			if isRange {
				if hi, err = strconv.Atoi(b); err != nil {
					return nil, fmt.Errorf("bad year %q", part)
				}
			} else if step > 1 {
				hi = 2199
			}
		}
		l, h, s := lo, hi, step
		checks = append(checks, func(y int) bool { return y >= l && y <= h && (y-l)%s == 0 })
	}
	return func(y int) bool {
		for _, c := range checks {
			if c(y) {
				return true
			}
		}
		return false
	}, nil
}

// next is the first run time after t, in UTC (Glue schedules are UTC);
// zero when the years allow none within a century.
func (s *schedule) next(t time.Time) time.Time {
	t = t.UTC()
	for i := 0; i < 100000; i++ {
		t = s.spec.Next(t)
		if t.IsZero() || t.Year() > 2199 {
			return time.Time{}
		}
		if s.years(t.Year()) {
			return t
		}
		if !s.years(t.Year()) {
			t = time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Minute)
		}
	}
	return time.Time{}
}
