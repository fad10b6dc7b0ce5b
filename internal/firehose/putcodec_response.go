package firehose

// The Put codec's response encoder: the PutRecord and PutRecordBatch
// answers written by hand, in the exact shape AWS sends.

import (
	"slices"
	"strconv"
)

// appendPutRecordBatchResponse appends the JSON response for n records whose
// ids are derived from (salt, first+i), with failed[i] (may be nil or shorter
// than n) marking entries that get {"ErrorCode":code,"ErrorMessage":msg}
// instead of a RecordId.
func appendPutRecordBatchResponse(dst []byte, salt, first uint64, n int, failed []bool, code, msg string) []byte {
	failedCount := 0
	for _, f := range failed[:min(n, len(failed))] {
		if f {
			failedCount++
		}
	}
	// `{"RecordId":"<48>"},` is 64 bytes.
	size := 64 + 64*(n-failedCount)
	if failedCount > 0 {
		size += failedCount * (len(`{"ErrorCode":"","ErrorMessage":""},`) + 2*(len(code)+len(msg)))
	}
	dst = slices.Grow(dst, size)
	dst = append(dst, `{"Encrypted":false,"FailedPutCount":`...)
	dst = strconv.AppendInt(dst, int64(failedCount), 10)
	dst = append(dst, `,"RequestResponses":[`...)
	for i := range n {
		if i > 0 {
			dst = append(dst, ',')
		}
		if i < len(failed) && failed[i] {
			dst = append(dst, `{"ErrorCode":`...)
			dst = pcAppendJSONString(dst, code)
			dst = append(dst, `,"ErrorMessage":`...)
			dst = pcAppendJSONString(dst, msg)
			dst = append(dst, '}')
			continue
		}
		dst = append(dst, `{"RecordId":"`...)
		dst = appendRecordID(dst, salt, first+uint64(i))
		dst = append(dst, `"}`...)
	}
	return append(dst, "]}"...)
}

// appendPutRecordResponse appends the JSON response to a PutRecord.
func appendPutRecordResponse(dst []byte, salt, seq uint64) []byte {
	dst = append(dst, `{"Encrypted":false,"RecordId":"`...)
	dst = appendRecordID(dst, salt, seq)
	return append(dst, `"}`...)
}

// appendRecordID appends the opaque RecordId for a record: 48 lower-case hex
// characters (salt as 16 hex, seq as 16 hex, then 16 hex of a cheap mix of
// both so ids do not look sequential). Distinct (salt, seq) pairs give
// distinct ids.
func appendRecordID(dst []byte, salt, seq uint64) []byte {
	n := len(dst)
	dst = slices.Grow(dst, 48)[:n+48]
	pcPutHex(dst[n:n+16], salt)
	pcPutHex(dst[n+16:n+32], seq)
	pcPutHex(dst[n+32:n+48], pcMix(salt, seq))
	return dst
}

// pcMix is the splitmix64 finalizer over salt and seq.
func pcMix(salt, seq uint64) uint64 {
	z := salt ^ (seq+1)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// pcPutHex writes v as 16 lower-case hex digits into p.
func pcPutHex(p []byte, v uint64) {
	const digits = "0123456789abcdef"
	_ = p[15]
	for i := 15; i >= 0; i-- {
		p[i] = digits[v&15]
		v >>= 4
	}
}

// pcAppendJSONString appends s as a JSON string, escaping quotes, backslashes
// and control characters. s is expected to be valid UTF-8.
func pcAppendJSONString(dst []byte, s string) []byte {
	const digits = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, '\\', 'u', '0', '0', digits[c>>4], digits[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
