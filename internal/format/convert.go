package format

import (
	"strings"
	"unicode/utf8"
)

// Deserializer says how JSON records are read: Firehose's OpenXJsonSerDe
// (the default) or HiveJsonSerDe, with their options.
type Deserializer struct {
	// Hive selects HiveJsonSerDe's rules: numbers and booleans must be JSON
	// numbers and booleans, nested values are not turned into strings, and
	// timestamps follow TimestampFormats.
	Hive bool
	// CaseInsensitive lower-cases JSON keys (struct keys and map keys)
	// before matching, OpenX's default. Hive always matches field names
	// case-insensitively and leaves map keys alone.
	CaseInsensitive bool
	// ConvertDots replaces dots in JSON keys with underscores before
	// matching (OpenX ConvertDotsInJsonKeysToUnderscores).
	ConvertDots bool
	// ColumnToJSONKey maps a column (or struct field) name to the JSON key
	// that holds it (OpenX ColumnToJsonKeyMappings).
	ColumnToJSONKey map[string]string
	// TimestampFormats are HiveJsonSerDe's Joda-Time patterns; "millis"
	// means epoch milliseconds.
	TimestampFormats []string
}

// malformedError means the record is JSON but a value does not fit its
// column (DataFormatConversion.MalformedData).
type malformedError struct{ msg string }

func (e *malformedError) Error() string { return e.msg }

func malformed(n *node, what string) error {
	return &malformedError{what + " for column type " + n.typ.String()}
}

// converter turns JSON records into Parquet column values: each value (and
// its definition and repetition levels) is appended to its leaf column's
// current page, which the encoder hands to the Parquet writer when it is
// full.
type converter struct {
	s  *Schema
	d  Deserializer
	ts *timestampParser
	sc scanner
	// pages are the page being filled of each leaf column.
	pages []*rawPage
	marks []pageMark
	// rows counts the rows converted.
	rows int
	key  []byte
	num  []byte
	// Per struct (by node id): members seen in the current object, the
	// lookup of normalized keys, the member found at each key position of
	// the last object, and the members' names as normalized JSON keys.
	seen   [][]uint64
	gen    uint64 // objects read: seen[id][i] == gen when member i was seen (never wraps)
	lookup []map[string]int
	order  [][]int
	keys   [][]string
}

func newConverter(s *Schema, d Deserializer) (*converter, error) {
	ts, err := newTimestampParser(d)
	if err != nil {
		return nil, err
	}
	c := &converter{s: s, d: d, ts: ts, pages: make([]*rawPage, len(s.leaves)), marks: make([]pageMark, len(s.leaves)),
		seen: make([][]uint64, s.structs), lookup: make([]map[string]int, s.structs), order: make([][]int, s.structs),
		keys: make([][]string, s.structs)}
	for i := range c.pages {
		c.pages[i] = &rawPage{}
	}
	c.prepare(s.root)
	return c, nil
}

// prepare builds each struct's key lookup for the deserializer's options.
func (c *converter) prepare(n *node) {
	switch {
	case n.fields != nil:
		// A member with a mapped key is read from that key only, as OpenX
		// does: its own name is not a key of it (so {"the-int":1,"c_int":2}
		// with c_int mapped to the-int gives 1, and {"c_int":8} null).
		// A mapped key wins over another member's own name.
		m := make(map[string]int, len(n.fields))
		for i, name := range n.names {
			if _, ok := c.mappedKey(name); !ok {
				m[c.normalize(name)] = i
			}
		}
		for i, name := range n.names {
			if key, ok := c.mappedKey(name); ok {
				m[c.normalize(key)] = i
			}
		}
		c.lookup[n.id] = m
		// The fast path compares against the member's own name; a member
		// with a mapped key is always found through the map.
		keys := make([]string, len(n.names))
		for i, name := range n.names {
			keys[i] = c.normalize(name)
			if strings.ContainsAny(keys[i], "\"\\") {
				keys[i] = "\x00" // matched through the lookup only
			}
			if _, ok := c.mappedKey(name); ok {
				keys[i] = "\x00"
			}
		}
		c.keys[n.id] = keys
		c.seen[n.id] = make([]uint64, len(n.fields))
		for _, f := range n.fields {
			c.prepare(f)
		}
	case n.elem != nil:
		c.prepare(n.elem)
	case n.key != nil:
		c.prepare(n.key)
		c.prepare(n.value)
	}
}

// mappedKey is the JSON key ColumnToJSONKey gives a column or struct field
// (its name compared case-insensitively), if any.
func (c *converter) mappedKey(name string) (string, bool) {
	for col, key := range c.d.ColumnToJSONKey {
		if strings.EqualFold(col, name) {
			return key, true
		}
	}
	return "", false
}

// normalize applies the key rules to a column name or mapped key.
func (c *converter) normalize(k string) string {
	if c.d.ConvertDots {
		k = strings.ReplaceAll(k, ".", "_")
	}
	if c.d.CaseInsensitive || c.d.Hive {
		k = strings.ToLower(k)
	}
	return k
}

// convert adds the rows of one record: one or more concatenated JSON
// objects. On error nothing of the record is kept and the error is a
// *parseError or a *malformedError.
func (c *converter) convert(rec []byte) (rows int, err error) {
	for i, p := range c.pages {
		c.marks[i] = p.mark()
	}
	before := c.rows
	c.sc = scanner{b: rec}
	err = c.objects()
	if err != nil {
		if _, ok := err.(*malformedError); ok {
			// A record that is not JSON at all is a ParseError even when a
			// value near its start did not fit.
			chk := scanner{b: rec}
			for chk.next() != 0 {
				if perr := chk.skip(0); perr != nil {
					err = perr
					break
				}
			}
		}
		for i, p := range c.pages {
			p.rollback(c.marks[i])
		}
		c.rows = before
		return 0, err
	}
	return c.rows - before, nil
}

func (c *converter) objects() error {
	n := 0
	for {
		switch c.sc.next() {
		case 0:
			if n == 0 {
				return &parseError{"the record holds no JSON object"}
			}
			return nil
		case '{':
		case '[':
			return &parseError{"a JSON array is not a valid record; send JSON objects"}
		default:
			if err := c.sc.skip(0); err != nil {
				return err
			}
			return &parseError{"the record is not a JSON object"}
		}
		if err := c.object(c.s.root, 0); err != nil {
			return err
		}
		c.rows++
		n++
	}
}

// value reads the next JSON value into node n; rep is the repetition level
// of the first Parquet value it produces.
func (c *converter) value(n *node, rep int) error {
	ch := c.sc.next()
	if ch == 'n' {
		if err := c.sc.literal("null"); err != nil {
			return err
		}
		c.null(n, rep, n.def-1)
		return nil
	}
	switch n.typ.Kind {
	case Struct:
		if ch != '{' {
			return c.mismatch(n, "expected a JSON object")
		}
		return c.object(n, rep)
	case Array:
		if ch != '[' {
			return c.mismatch(n, "expected a JSON array")
		}
		return c.array(n, rep)
	case Map:
		if ch != '{' {
			return c.mismatch(n, "expected a JSON object")
		}
		return c.mapValue(n, rep)
	}
	return c.scalar(n, rep, ch)
}

// mismatch reports a value of the wrong JSON kind, after checking it is JSON.
func (c *converter) mismatch(n *node, what string) error {
	if err := c.sc.skip(0); err != nil {
		return err
	}
	return malformed(n, what)
}

// null writes a null (or an absent subtree) at definition level def for
// every leaf under n.
func (c *converter) null(n *node, rep, def int) {
	for _, l := range n.leaves {
		p := c.pages[l]
		p.defs = append(p.defs, byte(def))
		if c.s.leaves[l].maxRep > 0 {
			p.reps = append(p.reps, byte(rep))
		}
		p.n++
		p.nulls++
		if rep == 0 {
			p.rows++
		}
	}
}

func (c *converter) object(n *node, rep int) error {
	c.sc.i++ // '{'
	// A new generation marks every member unseen without clearing.
	c.gen++
	gen, seen := c.gen, c.seen[n.id]
	lookup := c.lookup[n.id]
	pos := 0
	if c.sc.next() == '}' {
		c.sc.i++
	} else {
		for {
			c.sc.ws()
			idx, ok := c.quickKey(n, pos)
			if !ok {
				raw, esc, err := c.sc.str()
				if err != nil {
					return err
				}
				idx, ok = c.field(n, lookup, pos, raw, esc)
			}
			if c.sc.next() != ':' {
				return syntaxErr(&c.sc, "after object key")
			}
			c.sc.i++
			pos++
			switch {
			case !ok:
				if err := c.sc.skip(0); err != nil {
					return err
				}
			case seen[idx] == gen:
				if err := c.sc.skip(0); err != nil {
					return err
				}
				return &malformedError{"duplicate key " + n.names[idx]}
			default:
				seen[idx] = gen
				if err := c.value(n.fields[idx], rep); err != nil {
					return err
				}
			}
			switch c.sc.next() {
			case ',':
				c.sc.i++
				continue
			case '}':
				c.sc.i++
			default:
				return syntaxErr(&c.sc, "after object key:value pair")
			}
			break
		}
	}
	// Missing members are nulls.
	for i, f := range n.fields {
		if seen[i] != gen {
			c.null(f, rep, f.def-1)
		}
	}
	return nil
}

// field finds the struct member a JSON key names. Records of a stream
// usually list their keys in the same order, so the member that was at the
// same position in the previous object is tried first, without building
// the lookup key.
func (c *converter) field(n *node, lookup map[string]int, pos int, raw []byte, esc bool) (int, bool) {
	order := c.order[n.id]
	if !esc && pos < len(order) {
		if i := order[pos]; i >= 0 && c.keyMatches(c.keys[n.id][i], raw) {
			return i, true
		}
	}
	idx, ok := lookup[string(c.keyBytes(raw, esc, true))]
	if pos < maxOrder {
		for len(order) <= pos {
			order = append(order, -1)
		}
		order[pos] = -1
		if ok {
			order[pos] = idx
		}
		c.order[n.id] = order
	}
	return idx, ok
}

// quickKey matches the key at the scanner against the member found at the
// same position of the previous object, byte for byte (a key already in
// its normalized form, the usual case), without scanning it as a string.
func (c *converter) quickKey(n *node, pos int) (int, bool) {
	order := c.order[n.id]
	if pos >= len(order) || order[pos] < 0 {
		return 0, false
	}
	i := order[pos]
	k := c.keys[n.id][i]
	b := c.sc.b[c.sc.i:]
	if len(b) < len(k)+2 || b[0] != '"' || b[len(k)+1] != '"' || string(b[1:len(k)+1]) != k {
		return 0, false
	}
	c.sc.i += len(k) + 2
	return i, true
}

// maxOrder bounds the remembered key order of a struct.
const maxOrder = 256

// keyMatches reports whether raw (without escapes) is key once the
// deserializer's key rules are applied.
func (c *converter) keyMatches(key string, raw []byte) bool {
	if len(key) != len(raw) {
		return false
	}
	lower := c.d.CaseInsensitive || c.d.Hive
	for i := range len(raw) {
		b := raw[i]
		switch {
		case b >= 'A' && b <= 'Z' && lower:
			b += 'a' - 'A'
		case b == '.' && c.d.ConvertDots:
			b = '_'
		case b >= utf8.RuneSelf:
			return false
		}
		if b != key[i] {
			return false
		}
	}
	return true
}

// keyBytes returns the lookup form of a JSON key: unescaped, and for
// struct keys with the dot and case rules applied. The result is only valid
// until the next call.
func (c *converter) keyBytes(raw []byte, esc, field bool) []byte {
	k := raw
	if esc {
		c.key, _ = appendString(c.key[:0], raw)
		k = c.key
	}
	lower := c.d.CaseInsensitive || (field && c.d.Hive)
	dots := field && c.d.ConvertDots
	if !lower && !dots {
		return k
	}
	if !esc {
		c.key = append(c.key[:0], k...)
		k = c.key
	}
	ascii := true
	for i, b := range k {
		switch {
		case b >= 'A' && b <= 'Z' && lower:
			k[i] = b + 'a' - 'A'
		case b == '.' && dots:
			k[i] = '_'
		case b >= utf8.RuneSelf:
			ascii = false
		}
	}
	if !ascii && lower {
		c.key = append(c.key[:0], strings.ToLower(string(k))...)
		return c.key
	}
	return k
}

func (c *converter) array(n *node, rep int) error {
	c.sc.i++ // '['
	if c.sc.next() == ']' {
		c.sc.i++
		c.null(n.elem, rep, n.def) // an empty, not a null, list
		return nil
	}
	for r := rep; ; r = n.rep {
		if err := c.value(n.elem, r); err != nil {
			return err
		}
		switch c.sc.next() {
		case ',':
			c.sc.i++
		case ']':
			c.sc.i++
			return nil
		default:
			return syntaxErr(&c.sc, "after array element")
		}
	}
}

func (c *converter) mapValue(n *node, rep int) error {
	c.sc.i++ // '{'
	if c.sc.next() == '}' {
		c.sc.i++
		c.null(n.key, rep, n.def)
		c.null(n.value, rep, n.def)
		return nil
	}
	for r := rep; ; r = n.rep {
		c.sc.ws()
		raw, esc, err := c.sc.str()
		if err != nil {
			return err
		}
		if c.sc.next() != ':' {
			return syntaxErr(&c.sc, "after object key")
		}
		c.sc.i++
		if err := c.scalarText(n.key, r, c.keyBytes(raw, esc, false), true); err != nil {
			return err
		}
		if err := c.value(n.value, r); err != nil {
			return err
		}
		switch c.sc.next() {
		case ',':
			c.sc.i++
		case '}':
			c.sc.i++
			return nil
		default:
			return syntaxErr(&c.sc, "after object key:value pair")
		}
	}
}
