package format

import (
	"math/big"
	"strconv"
)

// putDecimal parses a decimal number, rounds it half-up to the column's
// scale (as Hive's HiveDecimal does) and writes its unscaled value; more
// integer digits than precision-scale allow is MalformedData.
func (c *converter) putDecimal(n *node, rep int, text []byte) error {
	digits, neg, exp, ok := decimalDigits(text, c.num[:0])
	if !ok {
		return malformed(n, "the value "+strconv.Quote(string(text)))
	}
	c.num = digits[:0]
	// unscaled = digits × 10^(exp+scale)
	shift := exp + n.typ.Scale
	switch {
	case shift >= 0:
		if len(digits)+shift > n.typ.Precision {
			return malformed(n, "the out-of-range value "+string(text))
		}
		for ; shift > 0; shift-- {
			digits = append(digits, '0')
		}
	default:
		drop := -shift
		roundUp := false
		if drop <= len(digits) {
			roundUp = digits[len(digits)-drop] >= '5'
			digits = digits[:len(digits)-drop]
		} else {
			digits = digits[:0]
		}
		if roundUp {
			digits = incrementDigits(digits)
		}
	}
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) > n.typ.Precision {
		return malformed(n, "the out-of-range value "+string(text))
	}
	if len(digits) == 0 {
		neg = false
	}
	switch {
	case n.typ.Precision <= 18:
		var v int64
		for _, d := range digits {
			v = v*10 + int64(d-'0')
		}
		if neg {
			v = -v
		}
		if n.typ.Precision <= 9 {
			c.putI(n, rep, int64(int32(v)))
		} else {
			c.putI(n, rep, v)
		}
	default:
		var v big.Int
		v.SetString(string(append(digits, 0)[:len(digits)]), 10)
		if len(digits) == 0 {
			v.SetInt64(0)
		}
		size := decimalBytes(n.typ.Precision)
		if neg {
			// Two's complement in size bytes: 2^(8·size) - |v|.
			var m big.Int
			m.Lsh(big.NewInt(1), uint(8*size))
			v.Sub(&m, &v)
		}
		p := c.present(n, rep)
		p.data = append(p.data, make([]byte, size)...)
		v.FillBytes(p.data[len(p.data)-size:])
		p.ends = append(p.ends, int32(len(p.data)))
	}
	return nil
}

// decimalDigits splits a decimal text into its significant digits, sign
// and power-of-ten exponent: value = (neg ? -1 : 1) × digits × 10^exp.
func decimalDigits(text, buf []byte) (digits []byte, neg bool, exp int, ok bool) {
	i := 0
	if i < len(text) && (text[i] == '-' || text[i] == '+') {
		neg = text[i] == '-'
		i++
	}
	digits = buf
	seen := false
	for ; i < len(text) && text[i] >= '0' && text[i] <= '9'; i++ {
		digits = append(digits, text[i])
		seen = true
	}
	if i < len(text) && text[i] == '.' {
		i++
		for ; i < len(text) && text[i] >= '0' && text[i] <= '9'; i++ {
			digits = append(digits, text[i])
			exp--
			seen = true
		}
	}
	if !seen {
		return nil, false, 0, false
	}
	if i < len(text) && (text[i] == 'e' || text[i] == 'E') {
		e, err := strconv.Atoi(string(text[i+1:]))
		if err != nil || e > 1000 || e < -1000 {
			return nil, false, 0, false
		}
		exp += e
		i = len(text)
	}
	if i != len(text) {
		return nil, false, 0, false
	}
	// Leading zeros carry nothing; dropping them keeps the length check
	// meaningful.
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	return digits, neg, exp, true
}

// incrementDigits adds one to a decimal digit string.
func incrementDigits(d []byte) []byte {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] < '9' {
			d[i]++
			return d
		}
		d[i] = '0'
	}
	return append([]byte{'1'}, d...)
}
