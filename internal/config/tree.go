package config

import (
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// The document is read in two steps. goccy/go-yaml parses it into a syntax
// tree (positions, the text of every scalar), then its decoder resolves the
// aliases and merge keys: what an alias stands for, including an anchor
// defined twice (an alias means the latest definition before it), is the
// library's decision, not ours. To keep positions and scalar texts through
// the decoding, every scalar and mapping key of the tree is first replaced
// by a marker string, and every mapping and sequence gets a marker entry
// first; the decoded document is then made of yaml.MapSlice, []any, nil
// and markers, each marker standing for the node it replaced.

// markPrefix starts every marker; decoded documents hold no other strings.
const markPrefix = "\x00hydrant-mark:"

// mark is what a marker stands for.
type mark struct {
	kind  markKind
	node  ast.Node // a scalar: the node (tags and anchors looked through)
	name  string   // a key: its name
	owner int      // a key: the mark of its mapping
	line  int
}

type markKind int

const (
	markScalar markKind = iota + 1
	markKey
	markMapping  // a mapping's own first entry (a key with a null value)
	markSequence // a sequence's first item
)

// tree is a decoded document and the marks its markers refer to.
type tree struct {
	marks []mark
}

// decode marks the document body and decodes it with the library.
func (t *tree) decode(body ast.Node) (any, error) {
	body = t.prepare(body, 0)
	var v any
	if err := yaml.NodeToValue(body, &v, yaml.UseOrderedMap()); err != nil {
		return nil, err
	}
	return v, nil
}

// newMark records m and returns its marker node, placed at tk.
func (t *tree) newMark(m mark, at ast.Node) *ast.StringNode {
	s := ast.String(at.GetToken())
	s.Value = markPrefix + strconv.Itoa(len(t.marks))
	t.marks = append(t.marks, m)
	return s
}

// prepare replaces the scalars and keys under n by markers and gives each
// mapping and sequence its marker entry, returning what stands for n.
// Aliases are left for the decoder to resolve.
func (t *tree) prepare(n ast.Node, depth int) ast.Node {
	if n == nil || depth > maxDepth {
		return n
	}
	switch x := n.(type) {
	case *ast.MappingNode:
		self := len(t.marks)
		key := t.newMark(mark{kind: markMapping, line: line(x)}, x)
		for _, e := range x.Values {
			if !e.Key.IsMergeKey() {
				e.Key = t.newMark(mark{kind: markKey, name: keyName(e.Key), owner: self, line: line(e.Key)}, e.Key)
			}
			e.Value = t.prepare(e.Value, depth+1)
		}
		own := ast.MappingValue(x.GetToken(), key, ast.Null(x.GetToken()))
		x.Values = append([]*ast.MappingValueNode{own}, x.Values...)
		return x
	case *ast.SequenceNode:
		for i, e := range x.Values {
			x.Values[i] = t.prepare(e, depth+1)
		}
		x.Values = append([]ast.Node{t.newMark(mark{kind: markSequence, line: line(x)}, x)}, x.Values...)
		return x
	case *ast.AnchorNode:
		x.Value = t.prepare(x.Value, depth+1)
		return x
	case *ast.TagNode:
		// A tag on a scalar changes nothing: the model says what type a
		// member is. A tagged collection keeps its tag.
		v := t.prepare(x.Value, depth+1)
		if isMarker(v) {
			return v
		}
		if a, ok := v.(*ast.AnchorNode); ok && isMarker(a.Value) {
			return a
		}
		x.Value = v
		return x
	case *ast.AliasNode, *ast.NullNode:
		return x
	case *ast.StringNode, *ast.LiteralNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		return t.newMark(mark{kind: markScalar, node: x, line: line(x)}, x)
	}
	return n
}

func isMarker(n ast.Node) bool {
	s, ok := n.(*ast.StringNode)
	return ok && strings.HasPrefix(s.Value, markPrefix)
}

// markOf returns the mark a decoded value stands for, if it is a marker.
func (t *tree) markOf(v any) (mark, bool) {
	s, ok := v.(string)
	if !ok {
		return mark{}, false
	}
	i, err := strconv.Atoi(strings.TrimPrefix(s, markPrefix))
	if err != nil || !strings.HasPrefix(s, markPrefix) || i < 0 || i >= len(t.marks) {
		return mark{}, false
	}
	return t.marks[i], true
}

// entry is one key of a decoded mapping.
type entry struct {
	name  string
	line  int
	value any
}

// entries returns a mapping's keys: its own, in order, then the ones merge
// keys (<<) bring that it does not have, the first source winning, as YAML
// merge keys mean. ok is false when v is not a mapping.
func (t *tree) entries(v any) ([]entry, bool) {
	ms, ok := v.(yaml.MapSlice)
	if !ok || len(ms) == 0 {
		return nil, false
	}
	self, ok := t.markOf(ms[0].Key)
	if !ok || self.kind != markMapping {
		return nil, false
	}
	selfIdx := t.index(ms[0].Key)
	var out, merged []entry
	for _, it := range ms[1:] {
		m, ok := t.markOf(it.Key)
		if !ok || m.kind != markKey {
			continue // a merged mapping's own first entry
		}
		e := entry{name: m.name, line: m.line, value: it.Value}
		if m.owner == selfIdx {
			out = append(out, e)
		} else {
			merged = append(merged, e)
		}
	}
	have := make(map[string]bool, len(out)+len(merged))
	for _, e := range out {
		have[e.name] = true
	}
	for _, e := range merged {
		if !have[e.name] {
			have[e.name] = true
			out = append(out, e)
		}
	}
	return out, true
}

// index is the number of the mark a marker refers to.
func (t *tree) index(v any) int {
	s, _ := v.(string)
	i, _ := strconv.Atoi(strings.TrimPrefix(s, markPrefix))
	return i
}

// items returns a sequence's items; ok is false when v is not a sequence.
func (t *tree) items(v any) ([]any, bool) {
	s, ok := v.([]any)
	if !ok || len(s) == 0 {
		return nil, false
	}
	if m, ok := t.markOf(s[0]); !ok || m.kind != markSequence {
		return nil, false
	}
	return s[1:], true
}

// scalar returns the scalar node a decoded value stands for.
func (t *tree) scalar(v any) (ast.Node, bool) {
	m, ok := t.markOf(v)
	if !ok || m.kind != markScalar {
		return nil, false
	}
	return m.node, true
}

// line is where a decoded value is written (0 for null).
func (t *tree) line(v any) int {
	switch x := v.(type) {
	case yaml.MapSlice:
		if len(x) > 0 {
			if m, ok := t.markOf(x[0].Key); ok {
				return m.line
			}
		}
	case []any:
		if len(x) > 0 {
			if m, ok := t.markOf(x[0]); ok {
				return m.line
			}
		}
	default:
		if m, ok := t.markOf(v); ok {
			return m.line
		}
	}
	return 0
}

// kind names a decoded value's type for messages.
func (t *tree) kind(v any) string {
	if v == nil {
		return "null"
	}
	if _, ok := t.entries(v); ok {
		return "a mapping"
	}
	if _, ok := t.items(v); ok {
		return "a list"
	}
	if n, ok := t.scalar(v); ok {
		return kind(n)
	}
	return "an unsupported YAML value"
}

// empty says whether a reserved section has nothing in it.
func (t *tree) empty(v any) bool {
	if v == nil {
		return true
	}
	if es, ok := t.entries(v); ok {
		return len(es) == 0
	}
	if is, ok := t.items(v); ok {
		return len(is) == 0
	}
	return false
}
