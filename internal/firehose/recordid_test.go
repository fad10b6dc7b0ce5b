package firehose

import "testing"

func TestParseRecordID(t *testing.T) {
	for _, c := range []struct{ salt, seq uint64 }{
		{0, 0}, {0x1234, 1}, {^uint64(0), ^uint64(0)}, {0xdeadbeefcafef00d, 1 << 40},
	} {
		id := string(appendRecordID(nil, c.salt, c.seq))
		salt, seq, ok := ParseRecordID(id)
		if !ok || salt != c.salt || seq != c.seq {
			t.Errorf("ParseRecordID(%q) = %x, %x, %v; want %x, %x, true", id, salt, seq, ok, c.salt, c.seq)
		}
	}
	good := string(appendRecordID(nil, 7, 9))
	for name, id := range map[string]string{
		"empty":     "",
		"short":     good[:47],
		"long":      good + "0",
		"upper":     "A" + good[1:],
		"not hex":   "g" + good[1:],
		"wrong mix": good[:47] + string("0123456789abcdef"[(int(good[47]-'0')+1)%10]),
	} {
		if _, _, ok := ParseRecordID(id); ok {
			t.Errorf("%s: ParseRecordID(%q) ok, want not ok", name, id)
		}
	}
}
