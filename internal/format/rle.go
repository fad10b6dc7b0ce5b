package format

import "encoding/binary"

// appendHybrid appends vals in Parquet's RLE/bit-packing hybrid encoding
// (used for repetition and definition levels and dictionary indices) with
// the given bit width. Runs of 8 or more equal values become RLE runs; the
// rest is bit-packed in groups of 8, the last group padded with zeros
// (readers know the value count from the page header).
func appendHybrid(dst []byte, vals []uint32, width int) []byte {
	n := len(vals)
	lit := 0 // start of the pending literal (bit-packed) values
	i := 0
	for i < n {
		v := vals[i]
		j := i + 1
		for j < n && vals[j] == v {
			j++
		}
		run := j - i
		// Literals go out in groups of 8: take values from the run to
		// complete the pending group, and use RLE for the rest if it is
		// still long enough to pay.
		pad := (8 - (i-lit)%8) % 8
		if run-pad >= 8 {
			i += pad
			if i > lit {
				dst = appendBitPacked(dst, vals[lit:i], width)
			}
			dst = appendRun(dst, v, j-i, width)
			i, lit = j, j
			continue
		}
		i = j
	}
	if lit < n {
		dst = appendBitPacked(dst, vals[lit:n], width)
	}
	return dst
}

// appendRun appends an RLE run: header (count<<1), then the value in
// ceil(width/8) little-endian bytes.
func appendRun(dst []byte, v uint32, count, width int) []byte {
	dst = binary.AppendUvarint(dst, uint64(count)<<1)
	for b := 0; b < (width+7)/8; b++ {
		dst = append(dst, byte(v>>(8*b)))
	}
	return dst
}

// appendBitPacked appends vals bit-packed (LSB first) in groups of 8, with
// the header ((groups<<1)|1); a last partial group is padded with zeros.
func appendBitPacked(dst []byte, vals []uint32, width int) []byte {
	groups := (len(vals) + 7) / 8
	dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
	if width == 0 {
		return dst
	}
	var acc uint64
	bits := 0
	for g := 0; g < groups*8; g++ {
		var v uint32
		if g < len(vals) {
			v = vals[g]
		}
		acc |= uint64(v) << bits
		bits += width
		for bits >= 8 {
			dst = append(dst, byte(acc))
			acc >>= 8
			bits -= 8
		}
	}
	// groups*8*width is a multiple of 8, so nothing is left in acc.
	return dst
}

// appendLevels appends levels (one byte each) in the hybrid encoding with
// the bit width of maxLevel. scratch is reused between calls.
func appendLevels(dst []byte, levels []byte, maxLevel int, scratch *[]uint32) []byte {
	s := (*scratch)[:0]
	for _, l := range levels {
		s = append(s, uint32(l))
	}
	*scratch = s
	return appendHybrid(dst, s, bitWidth(maxLevel))
}

// bitWidth is the number of bits needed for values up to max.
func bitWidth(max int) int {
	w := 0
	for max > 0 {
		w++
		max >>= 1
	}
	return w
}
