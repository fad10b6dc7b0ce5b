package keys

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zone names in tests do not depend on the machine
)

// ref is a Thursday, day 362 of 2023, ISO week 52, with a full fraction.
var ref = time.Date(2023, 12, 28, 17, 28, 4, 123456789, time.UTC)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func TestLayoutFormat(t *testing.T) {
	kolkata := mustLoc(t, "Asia/Kolkata")
	newYork := mustLoc(t, "America/New_York")
	early := time.Date(2024, 1, 5, 0, 7, 9, 0, time.UTC)   // Friday, ISO 2024-W01
	isoPrev := time.Date(2021, 1, 1, 9, 0, 0, 0, time.UTC) // Friday, ISO 2020-W53

	tests := []struct {
		name    string
		pattern string
		at      time.Time
		want    string
	}{
		{"default time path", "yyyy/MM/dd/HH/", ref, "2023/12/28/17/"},
		{"year two letters", "yy", ref, "23"},
		{"year one letter", "y", ref, "2023"},
		{"year three letters", "yyy", ref, "2023"},
		{"year five letters pads", "yyyyy", ref, "02023"},
		{"proleptic year", "uuuu", ref, "2023"},
		{"proleptic year two letters", "uu", ref, "23"},
		{"month number", "M", early, "1"},
		{"month two digits", "MM", early, "01"},
		{"month short", "MMM", ref, "Dec"},
		{"month full", "MMMM", ref, "December"},
		{"month narrow", "MMMMM", ref, "D"},
		{"standalone month", "LLLL", ref, "December"},
		{"day of month", "d", early, "5"},
		{"day of month padded", "dd", early, "05"},
		{"day of year", "D", early, "5"},
		{"day of year two", "DD", early, "05"},
		{"day of year three", "DDD", early, "005"},
		{"day of year late", "D", ref, "362"},
		{"hour of day", "H", early, "0"},
		{"hour of day padded", "HH", ref, "17"},
		{"clock hour am/pm", "h", ref, "5"},
		{"clock hour am/pm padded", "hh", ref, "05"},
		{"clock hour am/pm midnight", "hh", early, "12"},
		{"clock hour of day midnight", "k", early, "24"},
		{"clock hour of day", "kk", ref, "17"},
		{"hour of am/pm", "K", ref, "5"},
		{"hour of am/pm midnight", "KK", early, "00"},
		{"am pm", "a", ref, "PM"},
		{"am", "a", early, "AM"},
		{"minute", "m", early, "7"},
		{"minute padded", "mm", early, "07"},
		{"second", "s", early, "9"},
		{"second padded", "ss", ref, "04"},
		{"fraction one", "S", ref, "1"},
		{"fraction millis", "SSS", ref, "123"},
		{"fraction nanos", "SSSSSSSSS", ref, "123456789"},
		{"fraction zero", "SSS", early, "000"},
		{"weekday short", "E", ref, "Thu"},
		{"weekday short 3", "EEE", ref, "Thu"},
		{"weekday full", "EEEE", ref, "Thursday"},
		{"weekday narrow", "EEEEE", ref, "T"},
		{"localized weekday number US", "e", ref, "5"},
		{"localized weekday padded", "ee", ref, "05"},
		{"localized weekday text", "eeee", ref, "Thursday"},
		{"standalone weekday number", "c", ref, "5"},
		{"ISO week", "w", ref, "52"},
		{"ISO week padded", "ww", early, "01"},
		{"ISO week-based year", "YYYY-'W'ww", isoPrev, "2020-W53"},
		{"quarter", "Q", ref, "4"},
		{"quarter padded", "QQ", ref, "04"},
		{"quarter short", "QQQ", ref, "Q4"},
		{"quarter full", "QQQQ", ref, "4th quarter"},
		{"era", "G", ref, "AD"},
		{"era full", "GGGG", ref, "Anno Domini"},
		{"offset Z utc", "Z", ref, "+0000"},
		{"offset ZZZZ utc", "ZZZZ", ref, "GMT"},
		{"offset ZZZZZ utc", "ZZZZZ", ref, "Z"},
		{"offset X utc", "X", ref, "Z"},
		{"offset XXX utc", "XXX", ref, "Z"},
		{"offset x utc", "x", ref, "+00"},
		{"offset xx utc", "xx", ref, "+0000"},
		{"offset xxx utc", "xxx", ref, "+00:00"},
		{"offset O utc", "O", ref, "GMT"},
		{"zone name utc", "z", ref, "UTC"},
		{"zone id utc", "VV", ref, "UTC"},
		{"offset Z half hour", "Z", ref.In(kolkata), "+0530"},
		{"offset X half hour", "X", ref.In(kolkata), "+0530"},
		{"offset XXX half hour", "XXX", ref.In(kolkata), "+05:30"},
		{"offset ZZZZ half hour", "ZZZZ", ref.In(kolkata), "GMT+05:30"},
		{"offset ZZZZZ half hour", "ZZZZZ", ref.In(kolkata), "+05:30"},
		{"offset O half hour", "O", ref.In(kolkata), "GMT+5:30"},
		{"offset OOOO half hour", "OOOO", ref.In(kolkata), "GMT+05:30"},
		{"zone name kolkata", "z", ref.In(kolkata), "IST"},
		{"zone id kolkata", "VV", ref.In(kolkata), "Asia/Kolkata"},
		{"offset X whole hour", "X", ref.In(newYork), "-05"},
		{"offset XX whole hour", "XX", ref.In(newYork), "-0500"},
		{"offset x whole hour", "x", ref.In(newYork), "-05"},
		{"offset O whole hour", "O", ref.In(newYork), "GMT-5"},
		{"zone name new york", "z", ref.In(newYork), "EST"},
		{"quoted separators", "yyyy'-'MM'-'dd", ref, "2023-12-28"},
		{"quoted letters", "'year='yyyy", ref, "year=2023"},
		{"doubled quote outside literal", "''yyyy''", ref, "'2023'"},
		{"doubled quote inside literal", "'it''s' yyyy", ref, "it's 2023"},
		{"optional section printed", "yyyy[/MM]", ref, "2023/12"},
		{"non-letters pass through", "yyyy_MM=dd HH:mm.ss", ref, "2023_12=28 17:28.04"},
		{"non-ASCII passes through", "yyyy年MM月", ref, "2023年12月"},
		{"hive style", "'year='yyyy'/month='MM", ref, "year=2023/month=12"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := compileLayout(tc.pattern)
			if err != nil {
				t.Fatalf("compile %q: %v", tc.pattern, err)
			}
			if got := string(l.appendFormat(nil, tc.at)); got != tc.want {
				t.Errorf("format %q = %q, want %q", tc.pattern, got, tc.want)
			}
		})
	}
}

func TestLayoutErrors(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		want    string
	}{
		{"unknown letter", "yyyy-bb", "unknown pattern letter: b"},
		{"unknown upper letter", "T", "unknown pattern letter: T"},
		{"too many day letters", "ddd", "too many pattern letters: d"},
		{"too many hour letters", "HHH", "too many pattern letters: H"},
		{"too many am/pm letters", "aa", "too many pattern letters: a"},
		{"too many fraction letters", "SSSSSSSSSS", "too many pattern letters: S"},
		{"too many month letters", "MMMMMM", "too many pattern letters: M"},
		{"unterminated quote", "yyyy'", "incomplete string literal"},
		{"unterminated quoted text", "'abc", "incomplete string literal"},
		{"close without open", "yyyy]", "] without previous ["},
		{"reserved hash", "yyyy#", "reserved character: '#'"},
		{"reserved brace", "yyyy{", "reserved character: '{'"},
		{"zone id one letter", "V", "count must be 2: V"},
		{"localized offset two letters", "OO", "count must be 1 or 4: O"},
		{"cc", "cc", `invalid pattern "cc"`},
		{"full zone name", "zzzz", "not supported"},
		{"java-only letter", "n", "pattern letter 'n' is not supported"},
		{"week of month", "W", "pattern letter 'W' is not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileLayout(tc.pattern)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("compile %q: err = %v, want it to contain %q", tc.pattern, err, tc.want)
			}
		})
	}
}
