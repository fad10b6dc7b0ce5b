package keys

// FixedPrefix is the part of every key the template evaluates to that does
// not change from object to object: its text up to the first expression
// whose value varies (a timestamp, a random string, a partition key), with
// !{firehose:error-output-type} replaced by errorOutputType (or ending the
// fixed part when errorOutputType is empty). Browsing a stream's objects
// starts there: "logs/!{timestamp:yyyy}/" gives "logs/", the default error
// prefix "!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/" gives
// "processing-failed/" for that type.
func (t *Template) FixedPrefix(errorOutputType string) string {
	var b []byte
	for _, p := range t.parts {
		switch {
		case p.ns == "":
			b = append(b, p.lit...)
		case p.ns == NSFirehose && p.value == FirehoseErrorOutputType && errorOutputType != "":
			b = append(b, errorOutputType...)
		default:
			return string(b)
		}
	}
	return string(b)
}
