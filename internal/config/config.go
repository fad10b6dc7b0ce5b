// Package config reads hydrant's declarative configuration: a YAML or JSON
// file whose streams: list holds CreateDeliveryStream request documents,
// exactly as the API takes them. Every key is checked against the Firehose
// service model, so a misspelt member is refused with its line; every stream
// then passes the API's own rules (firehose.Service.CheckConfig). hydrant
// serve --config applies the streams at start-up (firehose.Service.ApplyConfig)
// and hydrant validate only checks them.
//
// A file looks like this (JSON with the same structure works too):
//
//	streams:
//	  - DeliveryStreamName: clicks
//	    ExtendedS3DestinationConfiguration:
//	      RoleARN: arn:aws:iam::000000000000:role/firehose
//	      BucketARN: arn:aws:s3:::analytics
//	      BufferingHints: {SizeInMBs: 64, IntervalInSeconds: 60}
//
// functions: and tables: are reserved for later releases: they may be present
// but must be empty. Anything else at the top level is an error.
package config

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/firehose"
)

// File is a configuration file that passed every check.
type File struct {
	// Path is the file's name as given, used in messages.
	Path    string
	Streams []Stream
}

// Stream is one item of the streams: list.
type Stream struct {
	// Index is the item's position in streams: (from 0); Line is where it
	// starts.
	Index int
	Line  int
	// Name is its DeliveryStreamName ("" when missing).
	Name string
	// Doc is the item as a CreateDeliveryStream JSON request body.
	Doc []byte

	// locs maps Coral member paths (the paths ValidationException names)
	// to where each member is in the file.
	locs map[string]loc
}

// loc is a place in the file: a line and the member's path in the file's
// notation (streams[0].ExtendedS3DestinationConfiguration.Prefix).
type loc struct {
	line int
	path string
}

// Problem is one thing wrong with a configuration file.
type Problem struct {
	File string
	Line int // 0 when the problem has no line (an unreadable file)
	// Path is where in the document, e.g.
	// streams[0].ExtendedS3DestinationConfiguration; "" for the top level.
	Path    string
	Message string
}

// String formats the problem as file:line: path: message.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is every problem found in a file, in file order; it is the error
// Load, Parse and Apply return.
type Problems []Problem

// Error lists the problems one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads the file at path and checks it (see Parse).
func Load(path string, svc *firehose.Service) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, svc)
}

// Parse checks a configuration file: its structure and every key against
// the Firehose model, then each stream with svc.CheckConfig (the rules of
// CreateDeliveryStream) and names used twice. svc may have a nil Backend. On
// any problem the error is Problems, listing them all.
func Parse(path string, data []byte, svc *firehose.Service) (*File, error) {
	p := newParser(path, svc.Model())
	streams := p.parse(data)
	seen := map[string]int{}
	for _, s := range streams {
		if s.bad {
			continue
		}
		if first, ok := seen[s.Name]; ok && s.Name != "" {
			p.add(s.Line, s.path(), fmt.Sprintf("stream %q is already defined at line %d", s.Name, first))
			continue
		}
		seen[s.Name] = s.Line
		if _, err := svc.CheckConfig(s.Doc); err != nil {
			p.problems = append(p.problems, s.locate(path, err)...)
		}
	}
	if len(p.problems) > 0 {
		p.sort()
		return nil, p.problems
	}
	f := &File{Path: path}
	for _, s := range streams {
		f.Streams = append(f.Streams, s.Stream)
	}
	return f, nil
}

// Apply creates or updates every stream of the file with svc.ApplyConfig,
// in file order, and logs what changed. Streams the file does not name are
// left alone. It stops at the first stream that cannot be applied (an update
// the existing stream does not allow, a failing disk): streams before it are
// applied.
func (f *File) Apply(ctx context.Context, svc *firehose.Service, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	counts := map[firehose.Change]int{}
	for _, s := range f.Streams {
		change, err := svc.ApplyConfig(ctx, s.Doc)
		if err != nil {
			var ae *awsproto.Error
			if !errors.As(err, &ae) {
				return fmt.Errorf("apply stream %s from %s: %w", s.Name, f.Path, err)
			}
			return Problems(s.locate(f.Path, err))
		}
		counts[change]++
		log.Debug("stream from config", "stream", s.Name, "change", string(change))
	}
	log.Info("config applied", "file", f.Path, "streams", len(f.Streams),
		"created", counts[firehose.Created], "updated", counts[firehose.Updated], "unchanged", counts[firehose.Unchanged])
	return nil
}

// path is the stream's place in the document, with its name when known.
func (s *Stream) path() string {
	p := fmt.Sprintf("streams[%d]", s.Index)
	if s.Name != "" {
		p += " (" + s.Name + ")"
	}
	return p
}

// locate turns an error of the Firehose API about this stream into
// problems: one per violation of a ValidationException, at the line of the
// member it names (or of its nearest parent that the file has), otherwise
// one at the stream's line.
func (s *Stream) locate(file string, err error) []Problem {
	var ae *awsproto.Error
	if !errors.As(err, &ae) {
		return []Problem{{File: file, Line: s.Line, Path: s.path(), Message: err.Error()}}
	}
	if len(ae.Violations) == 0 {
		return []Problem{{File: file, Line: s.Line, Path: s.path(), Message: ae.Error()}}
	}
	out := make([]Problem, 0, len(ae.Violations))
	for _, v := range ae.Violations {
		l := s.find(v.Path)
		out = append(out, Problem{File: file, Line: l.line, Path: l.path, Message: ae.Type + ": " + v.Message})
	}
	return out
}

// find returns where a Coral path is in the file, or its nearest ancestor
// that is (a required member that is missing is reported at its parent).
func (s *Stream) find(coral string) loc {
	for {
		if l, ok := s.locs[coral]; ok {
			return l
		}
		i := strings.LastIndexByte(coral, '.')
		if i < 0 {
			return s.locs[""]
		}
		coral = coral[:i]
	}
}
