package keys

import "time"

// FormatJava formats t with a Java DateTimeFormatter pattern (the subset
// !{timestamp:...} accepts), as Athena's date partition projection
// (projection.COL.format) does.
func FormatJava(pattern string, t time.Time) (string, error) {
	l, err := compileLayout(pattern)
	if err != nil {
		return "", err
	}
	return string(l.appendFormat(nil, t)), nil
}
