package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	yamlparser "github.com/goccy/go-yaml/parser"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// createOp is the operation whose input shape every streams: item is
// checked against.
const createOp = "CreateDeliveryStream"

// reserved are the top-level keys later releases fill; until then they
// must be absent or empty.
var reserved = map[string]string{
	"functions": "Lambda functions for processors",
	"tables":    "Glue tables for format conversion",
}

// maxDepth bounds nesting, aliases included, so that a file of aliases
// that refer to each other cannot recurse without end.
const maxDepth = 64

// fileParser walks a file's YAML syntax tree along the model's shapes, building
// each stream's JSON request and noting where every member is.
type fileParser struct {
	file     string
	model    *awsproto.Model
	anchors  map[string]ast.Node
	problems Problems
}

// parsedStream is a Stream with whether its structure had problems (then it
// is not checked further, so that a misspelt key gives one problem, not
// two).
type parsedStream struct {
	Stream
	bad bool
}

func newParser(file string, m *awsproto.Model) *fileParser {
	return &fileParser{file: file, model: m, anchors: map[string]ast.Node{}}
}

func (p *fileParser) add(line int, path, msg string) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Path: path, Message: msg})
}

// sort orders problems by line, keeping the order of those on one line.
func (p *fileParser) sort() {
	sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].Line < p.problems[j].Line })
}

// parse reads the top level: streams:, the reserved keys, nothing else.
func (p *fileParser) parse(data []byte) []parsedStream {
	f, err := yamlparser.ParseBytes(data, 0)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			p.add(ye.GetToken().Position.Line, "", ye.GetMessage())
		} else {
			p.add(0, "", err.Error())
		}
		return nil
	}
	if len(f.Docs) > 1 {
		p.add(line(f.Docs[1]), "", "a configuration file holds one document; found a second one")
		return nil
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil // an empty file configures nothing
	}
	ast.Walk(anchorCollector(p.anchors), f.Docs[0].Body)
	entries, ok := p.entries(f.Docs[0].Body, 0)
	if !ok {
		p.add(line(f.Docs[0].Body), "", "the top level must be a mapping with a streams: list")
		return nil
	}
	var streams []parsedStream
	for _, e := range entries {
		key := keyName(e.Key)
		switch {
		case key == "streams":
			streams = p.streams(e.Value)
		case reserved[key] != "":
			if !empty(p.resolve(e.Value)) {
				p.add(line(e.Key), key, fmt.Sprintf("not supported yet (%s come in a later release); leave it out or empty", reserved[key]))
			}
		default:
			p.add(line(e.Key), "", fmt.Sprintf("unknown field %q (expected streams, functions or tables)", key))
		}
	}
	return streams
}

// streams reads the streams: list.
func (p *fileParser) streams(n ast.Node) []parsedStream {
	n = p.resolve(n)
	if _, null := n.(*ast.NullNode); n == nil || null {
		return nil
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		p.add(line(n), "streams", "expected a list of CreateDeliveryStream requests, got "+kind(n))
		return nil
	}
	shape := p.model.Operations[createOp].Input.Shape
	out := make([]parsedStream, 0, len(seq.Values))
	for i, item := range seq.Values {
		s := parsedStream{Stream: Stream{Index: i, Line: line(item), locs: map[string]loc{}}}
		before := len(p.problems)
		w := walker{p: p, s: &s.Stream}
		doc := w.value(item, shape, fmt.Sprintf("streams[%d]", i), "", 0)
		s.bad = len(p.problems) > before
		if m, ok := doc.(map[string]any); ok {
			s.Name, _ = m["DeliveryStreamName"].(string)
			s.locs[""] = loc{line: s.Line, path: s.path()}
		}
		if !s.bad {
			b, err := json.Marshal(doc)
			if err != nil {
				p.add(s.Line, s.path(), "encode as JSON: "+err.Error())
				s.bad = true
			}
			s.Doc = b
		}
		out = append(out, s)
	}
	return out
}

// walker converts one stream's syntax tree to its JSON document.
type walker struct {
	p *fileParser
	s *Stream
}

// value converts n, checked against the model shape shapeName. path is the
// file notation of n, coral the path Model.Validate uses for it.
func (w walker) value(n ast.Node, shapeName, path, coral string, depth int) any {
	if depth > maxDepth {
		w.p.add(line(n), path, "nested too deeply")
		return nil
	}
	n = w.p.resolve(n)
	if _, null := n.(*ast.NullNode); n == nil || null {
		return nil
	}
	shape := w.p.model.Shapes[shapeName]
	if shape == nil {
		w.p.add(line(n), path, "no shape "+shapeName+" in the model")
		return nil
	}
	switch shape.Type {
	case "structure":
		return w.structure(n, shape, path, coral, depth)
	case "list":
		seq, ok := n.(*ast.SequenceNode)
		if !ok {
			w.p.add(line(n), path, "expected a list, got "+kind(n))
			return nil
		}
		out := make([]any, 0, len(seq.Values))
		for i, e := range seq.Values {
			ep, ec := fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("%s.%d.member", coral, i+1)
			w.s.locs[ec] = loc{line: line(e), path: ep}
			out = append(out, w.value(e, shape.Member.Shape, ep, ec, depth+1))
		}
		return out
	case "map":
		entries, ok := w.p.entries(n, depth)
		if !ok {
			w.p.add(line(n), path, "expected a mapping, got "+kind(n))
			return nil
		}
		out := map[string]any{}
		for _, e := range entries {
			k := keyName(e.Key)
			ep, ec := path+"."+k, coral+"."+k+".member"
			w.s.locs[ec] = loc{line: line(e.Key), path: ep}
			out[k] = w.value(e.Value, shape.Value.Shape, ep, ec, depth+1)
		}
		return out
	}
	return w.scalar(n, shape.Type, path)
}

// structure converts a mapping, refusing members the shape does not have.
func (w walker) structure(n ast.Node, shape *awsproto.Shape, path, coral string, depth int) any {
	entries, ok := w.p.entries(n, depth)
	if !ok {
		w.p.add(line(n), path, "expected a mapping, got "+kind(n))
		return nil
	}
	out := map[string]any{}
	for _, e := range entries {
		k := keyName(e.Key)
		var ref *awsproto.ShapeRef
		for i := range shape.Members {
			if shape.Members[i].Name == k {
				ref = &shape.Members[i].Ref
				break
			}
		}
		if ref == nil {
			w.p.add(line(e.Key), path, unknownField(k, shape))
			continue
		}
		ep, ec := path+"."+k, memberPath(coral, k)
		w.s.locs[ec] = loc{line: line(e.Key), path: ep}
		out[k] = w.value(e.Value, ref.Shape, ep, ec, depth+1)
	}
	return out
}

// scalar converts a scalar to the JSON type of a model scalar shape. Where
// the model wants a string any scalar is taken as the text written (so that
// CatalogId: 000000000000 keeps its zeros); numbers and booleans must be
// written as such.
func (w walker) scalar(n ast.Node, typ, path string) any {
	switch typ {
	case "string", "blob":
		switch x := n.(type) {
		case *ast.StringNode:
			return x.Value
		case *ast.LiteralNode:
			return x.Value.Value
		case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
			return n.GetToken().Value
		}
		w.p.add(line(n), path, "expected a string, got "+kind(n))
	case "integer", "long":
		if x, ok := n.(*ast.IntegerNode); ok {
			return json.Number(fmt.Sprint(x.Value))
		}
		w.p.add(line(n), path, "expected an integer, got "+kind(n))
	case "double", "float":
		switch x := n.(type) {
		case *ast.IntegerNode:
			return json.Number(fmt.Sprint(x.Value))
		case *ast.FloatNode:
			return json.Number(strconv.FormatFloat(x.Value, 'g', -1, 64))
		}
		w.p.add(line(n), path, "expected a number, got "+kind(n))
	case "boolean":
		if x, ok := n.(*ast.BoolNode); ok {
			return x.Value
		}
		w.p.add(line(n), path, "expected true or false, got "+kind(n))
	case "timestamp":
		switch x := n.(type) {
		case *ast.IntegerNode:
			return json.Number(fmt.Sprint(x.Value))
		case *ast.FloatNode:
			return json.Number(strconv.FormatFloat(x.Value, 'g', -1, 64))
		case *ast.StringNode:
			return x.Value
		}
		w.p.add(line(n), path, "expected a timestamp, got "+kind(n))
	default:
		w.p.add(line(n), path, "unsupported model type "+typ)
	}
	return nil
}

// entries returns a mapping's key/value pairs with YAML merge keys (<<:
// *anchor) expanded: merged pairs come after the mapping's own and never
// override them. ok is false when n is not a mapping.
func (p *fileParser) entries(n ast.Node, depth int) ([]*ast.MappingValueNode, bool) {
	if depth > maxDepth {
		return nil, false
	}
	var own []*ast.MappingValueNode
	switch x := p.resolve(n).(type) {
	case *ast.MappingNode:
		own = x.Values
	case *ast.MappingValueNode:
		own = []*ast.MappingValueNode{x}
	default:
		return nil, false
	}
	var out, merged []*ast.MappingValueNode
	have := map[string]bool{}
	for _, e := range own {
		if e.Key.IsMergeKey() {
			srcs := []ast.Node{e.Value}
			if seq, ok := p.resolve(e.Value).(*ast.SequenceNode); ok {
				srcs = seq.Values
			}
			for _, src := range srcs {
				m, ok := p.entries(src, depth+1)
				if !ok {
					p.add(line(e.Key), "", "<< must merge a mapping, got "+kind(p.resolve(src)))
				}
				merged = append(merged, m...)
			}
			continue
		}
		have[keyName(e.Key)] = true
		out = append(out, e)
	}
	for _, e := range merged {
		if k := keyName(e.Key); !have[k] {
			have[k] = true
			out = append(out, e)
		}
	}
	return out, true
}

// resolve looks through anchors, aliases and tags to the node they stand
// for.
func (p *fileParser) resolve(n ast.Node) ast.Node {
	for i := 0; i < maxDepth; i++ {
		switch x := n.(type) {
		case *ast.AnchorNode:
			n = x.Value
		case *ast.TagNode:
			n = x.Value
		case *ast.AliasNode:
			t, ok := p.anchors[x.Value.GetToken().Value]
			if !ok {
				return nil
			}
			n = t
		default:
			return n
		}
	}
	return nil
}

// anchorCollector records every anchor of a document by name.
type anchorCollector map[string]ast.Node

func (a anchorCollector) Visit(n ast.Node) ast.Visitor {
	if x, ok := n.(*ast.AnchorNode); ok && x.Name != nil {
		a[x.Name.GetToken().Value] = x.Value
	}
	return a
}

// unknownField words the problem of a member the shape lacks, suggesting
// the member the author probably meant.
func unknownField(k string, shape *awsproto.Shape) string {
	msg := fmt.Sprintf("unknown field %q", k)
	// Suggest a member within a few edits, more for longer names.
	best, bestD := "", 3+len(k)/8
	for _, m := range shape.Members {
		if strings.EqualFold(m.Name, k) {
			best = m.Name
			break
		}
		if d := editDistance(strings.ToLower(k), strings.ToLower(m.Name)); d < bestD {
			best, bestD = m.Name, d
		}
	}
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", best)
	}
	return msg
}

// editDistance is the Levenshtein distance of two short strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// memberPath appends a member to a Coral path, lower-casing its first
// letter as awsproto's validator does.
func memberPath(parent, name string) string {
	r, size := utf8.DecodeRuneInString(name)
	n := strings.ToLower(string(r)) + name[size:]
	if parent == "" {
		return n
	}
	return parent + "." + n
}

func keyName(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return k.String()
}

func line(n ast.Node) int {
	if n == nil || n.GetToken() == nil {
		return 0
	}
	return n.GetToken().Position.Line
}

// empty says whether a reserved section has nothing in it.
func empty(n ast.Node) bool {
	switch x := n.(type) {
	case nil, *ast.NullNode:
		return true
	case *ast.SequenceNode:
		return len(x.Values) == 0
	case *ast.MappingNode:
		return len(x.Values) == 0
	}
	return false
}

// kind names a node's type for messages.
func kind(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "null"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode:
		return "an integer"
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return n.Type().String()
}
