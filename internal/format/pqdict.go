package format

import (
	"bytes"
	"hash/maphash"
)

// dictionary maps the distinct byte-array values of a column chunk to
// their index: an open-addressing hash table over the values, which are
// kept back to back in data (the dictionary page's content, without the
// length prefixes).
type dictionary struct {
	seed  maphash.Seed
	data  []byte
	ends  []int32 // ends[i] is where value i ends in data
	slots []int32 // index+1 of the value in each slot, 0 when empty
	mask  uint64
}

func newDictionary() *dictionary {
	d := &dictionary{seed: maphash.MakeSeed()}
	d.reset()
	return d
}

// reset empties the dictionary for the next column chunk, keeping its
// memory (chunks of a column have alike dictionaries).
func (d *dictionary) reset() {
	d.data, d.ends = d.data[:0], d.ends[:0]
	if d.slots == nil {
		d.slots = make([]int32, 1024)
	} else {
		clear(d.slots)
	}
	d.mask = uint64(len(d.slots) - 1)
}

func (d *dictionary) len() int { return len(d.ends) }

// bytes is the size of the dictionary page's values.
func (d *dictionary) bytes() int { return len(d.data) + 4*len(d.ends) }

func (d *dictionary) value(i int) []byte {
	start := int32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	return d.data[start:d.ends[i]]
}

// index returns v's index, adding it when new; added says it was new.
func (d *dictionary) index(v []byte) (idx int32, added bool) {
	h := maphash.Bytes(d.seed, v)
	for s := h & d.mask; ; s = (s + 1) & d.mask {
		e := d.slots[s]
		if e == 0 {
			d.data = append(d.data, v...)
			d.ends = append(d.ends, int32(len(d.data)))
			idx = int32(len(d.ends) - 1)
			d.slots[s] = idx + 1
			if len(d.ends)*2 > len(d.slots) {
				d.grow()
			}
			return idx, true
		}
		if bytes.Equal(d.value(int(e-1)), v) {
			return e - 1, false
		}
	}
}

func (d *dictionary) grow() {
	d.slots = make([]int32, len(d.slots)*2)
	d.mask = uint64(len(d.slots) - 1)
	for i := range d.ends {
		h := maphash.Bytes(d.seed, d.value(i))
		s := h & d.mask
		for d.slots[s] != 0 {
			s = (s + 1) & d.mask
		}
		d.slots[s] = int32(i + 1)
	}
}
