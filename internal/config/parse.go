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

// maxDepth bounds nesting, aliases included.
const maxDepth = 64

// fileParser walks a file's decoded YAML (see tree) along the model's
// shapes, building each stream's JSON request and noting where every member
// is.
type fileParser struct {
	file     string
	model    *awsproto.Model
	tree     tree
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
	return &fileParser{file: file, model: m}
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
	bodyLine := line(f.Docs[0].Body)
	doc, err := p.tree.decode(f.Docs[0].Body)
	if err != nil {
		var ye yaml.Error
		if errors.As(err, &ye) && ye.GetToken() != nil {
			p.add(ye.GetToken().Position.Line, "", ye.GetMessage())
		} else {
			p.add(bodyLine, "", err.Error())
		}
		return nil
	}
	entries, ok := p.tree.entries(doc)
	if !ok {
		p.add(bodyLine, "", "the top level must be a mapping with a streams: list")
		return nil
	}
	var streams []parsedStream
	for _, e := range entries {
		switch {
		case e.name == "streams":
			streams = p.streams(e.value)
		case reserved[e.name] != "":
			if !p.tree.empty(e.value) {
				p.add(e.line, e.name, fmt.Sprintf("not supported yet (%s come in a later release); leave it out or empty", reserved[e.name]))
			}
		default:
			p.add(e.line, "", fmt.Sprintf("unknown field %q (expected streams, functions or tables)", e.name))
		}
	}
	return streams
}

// streams reads the streams: list.
func (p *fileParser) streams(v any) []parsedStream {
	if v == nil {
		return nil
	}
	seq, ok := p.tree.items(v)
	if !ok {
		p.add(p.tree.line(v), "streams", "expected a list of CreateDeliveryStream requests, got "+p.tree.kind(v))
		return nil
	}
	shape := p.model.Operations[createOp].Input.Shape
	out := make([]parsedStream, 0, len(seq))
	for i, item := range seq {
		s := parsedStream{Stream: Stream{Index: i, Line: p.tree.line(item), locs: map[string]loc{}}}
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

// walker converts one stream's decoded YAML to its JSON document.
type walker struct {
	p *fileParser
	s *Stream
}

// value converts the decoded value v, checked against the model shape
// shapeName. path is the file notation of v, coral the path Model.Validate
// uses for it.
func (w walker) value(v any, shapeName, path, coral string, depth int) any {
	t := &w.p.tree
	if depth > maxDepth {
		w.p.add(t.line(v), path, "nested too deeply")
		return nil
	}
	if v == nil {
		return nil
	}
	shape := w.p.model.Shapes[shapeName]
	if shape == nil {
		w.p.add(t.line(v), path, "no shape "+shapeName+" in the model")
		return nil
	}
	switch shape.Type {
	case "structure":
		return w.structure(v, shape, path, coral, depth)
	case "list":
		seq, ok := t.items(v)
		if !ok {
			w.p.add(t.line(v), path, "expected a list, got "+t.kind(v))
			return nil
		}
		out := make([]any, 0, len(seq))
		for i, e := range seq {
			ep, ec := fmt.Sprintf("%s[%d]", path, i), fmt.Sprintf("%s.%d.member", coral, i+1)
			w.s.locs[ec] = loc{line: t.line(e), path: ep}
			out = append(out, w.value(e, shape.Member.Shape, ep, ec, depth+1))
		}
		return out
	case "map":
		entries, ok := t.entries(v)
		if !ok {
			w.p.add(t.line(v), path, "expected a mapping, got "+t.kind(v))
			return nil
		}
		out := map[string]any{}
		for _, e := range entries {
			k := e.name
			ep, ec := path+"."+k, coral+"."+k+".member"
			w.s.locs[ec] = loc{line: e.line, path: ep}
			out[k] = w.value(e.value, shape.Value.Shape, ep, ec, depth+1)
		}
		return out
	}
	n, ok := t.scalar(v)
	if !ok {
		w.p.add(t.line(v), path, "expected "+scalarWords(shape.Type)+", got "+t.kind(v))
		return nil
	}
	return w.scalar(n, shape.Type, path)
}

// structure converts a mapping, refusing members the shape does not have.
func (w walker) structure(v any, shape *awsproto.Shape, path, coral string, depth int) any {
	t := &w.p.tree
	entries, ok := t.entries(v)
	if !ok {
		w.p.add(t.line(v), path, "expected a mapping, got "+t.kind(v))
		return nil
	}
	out := map[string]any{}
	for _, e := range entries {
		k := e.name
		var ref *awsproto.ShapeRef
		for i := range shape.Members {
			if shape.Members[i].Name == k {
				ref = &shape.Members[i].Ref
				break
			}
		}
		if ref == nil {
			w.p.add(e.line, path, unknownField(k, shape))
			continue
		}
		ep, ec := path+"."+k, memberPath(coral, k)
		w.s.locs[ec] = loc{line: e.line, path: ep}
		out[k] = w.value(e.value, ref.Shape, ep, ec, depth+1)
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
		w.p.add(line(n), path, "expected "+scalarWords(typ)+", got "+kind(n))
	case "integer", "long":
		if x, ok := n.(*ast.IntegerNode); ok {
			return json.Number(fmt.Sprint(x.Value))
		}
		w.p.add(line(n), path, "expected "+scalarWords(typ)+", got "+kind(n))
	case "double", "float":
		switch x := n.(type) {
		case *ast.IntegerNode:
			return json.Number(fmt.Sprint(x.Value))
		case *ast.FloatNode:
			return json.Number(strconv.FormatFloat(x.Value, 'g', -1, 64))
		}
		w.p.add(line(n), path, "expected "+scalarWords(typ)+", got "+kind(n))
	case "boolean":
		if x, ok := n.(*ast.BoolNode); ok {
			return x.Value
		}
		w.p.add(line(n), path, "expected "+scalarWords(typ)+", got "+kind(n))
	case "timestamp":
		switch x := n.(type) {
		case *ast.IntegerNode:
			return json.Number(fmt.Sprint(x.Value))
		case *ast.FloatNode:
			return json.Number(strconv.FormatFloat(x.Value, 'g', -1, 64))
		case *ast.StringNode:
			return x.Value
		}
		w.p.add(line(n), path, "expected "+scalarWords(typ)+", got "+kind(n))
	default:
		w.p.add(line(n), path, "unsupported model type "+typ)
	}
	return nil
}

// scalarWords names what a model scalar type wants, for messages.
func scalarWords(typ string) string {
	switch typ {
	case "string", "blob":
		return "a string"
	case "integer", "long":
		return "an integer"
	case "double", "float":
		return "a number"
	case "boolean":
		return "true or false"
	case "timestamp":
		return "a timestamp"
	}
	return "a " + typ
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
