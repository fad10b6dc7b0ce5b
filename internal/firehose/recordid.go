package firehose

// ParseRecordID is the inverse of appendRecordID for tools that read
// hydrant's responses (hydrant bench): it returns the stream salt and the
// record's sequence number in the stream's log. ok is false unless id is 48
// lower-case hex characters whose last 16 match the mix of the first 32, so
// ids from another service are not mistaken for hydrant's.
func ParseRecordID(id string) (salt, seq uint64, ok bool) {
	if len(id) != 48 {
		return 0, 0, false
	}
	salt, ok1 := parseHex16(id[0:16])
	seq, ok2 := parseHex16(id[16:32])
	mix, ok3 := parseHex16(id[32:48])
	if !ok1 || !ok2 || !ok3 || mix != pcMix(salt, seq) {
		return 0, 0, false
	}
	return salt, seq, true
}

// parseHex16 parses 16 lower-case hex digits.
func parseHex16(s string) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}
