package firehose

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// Change says what ApplyConfig did to a stream.
type Change string

// The outcomes of ApplyConfig.
const (
	Unchanged Change = "unchanged" // the stream exists as described
	Created   Change = "created"   // the stream did not exist
	Updated   Change = "updated"   // its destination or tags were changed
)

// errUnchanged makes Backend.Update keep a stream that already matches
// without rewriting its state.
var errUnchanged = errors.New("stream unchanged")

// ApplyConfig makes the stream described by doc, a CreateDeliveryStream
// request document, exist as described: declarative start-up (hydrant serve
// --config). doc passes the same checks as CreateDeliveryStream (CheckConfig).
// A missing stream is created. An existing stream whose destination differs
// gets the document's destination through UpdateDestination's path (its
// update rules, defaults and a new VersionId); the document replaces the
// destination rather than merging into it, so that what the file leaves out
// is back to its default. Tags are set to the document's without a new
// VersionId, as TagDeliveryStream does. A stream that already matches is left
// alone, so restarts do not move its VersionId. Errors are *awsproto.Error.
func (s *Service) ApplyConfig(ctx context.Context, doc []byte) (Change, error) {
	cfg, err := s.CheckConfig(doc)
	if err != nil {
		return Unchanged, err
	}
	change := Unchanged
	err = s.backend.Update(ctx, cfg.Name, func(info *StreamInfo) error {
		sameDest, err := sameJSON(info.Destination, cfg.Destination)
		if err != nil {
			return err
		}
		sameSource, err := sameJSON(info.DirectPut, cfg.DirectPut)
		if err != nil {
			return err
		}
		sameTags := equalTags(info.Tags, cfg.Tags)
		if sameDest && sameSource && sameTags {
			return errUnchanged
		}
		if err := s.checkActive(info); err != nil {
			return err
		}
		if !sameSource {
			return invalidArg("DirectPutSourceConfiguration of Firehose %s cannot be changed; delete the stream to change it.", info.Name)
		}
		if !sameDest {
			if err := s.replaceDestination(info, cfg.Destination); err != nil {
				return err
			}
		}
		info.Tags = cfg.Tags
		change = Updated
		return nil
	})
	switch {
	case errors.Is(err, errUnchanged):
		return Unchanged, nil
	case errors.Is(err, ErrStreamNotFound):
		info, err := s.backend.Create(ctx, cfg)
		if err != nil {
			return Unchanged, s.backendErr(cfg.Name, err)
		}
		s.log.Info("delivery stream created from config", "stream", info.Name, "bucket", bucketName(deref(cfg.Destination.BucketARN)))
		return Created, nil
	case err != nil:
		return Unchanged, s.backendErr(cfg.Name, err)
	}
	s.log.Info("delivery stream updated from config", "stream", cfg.Name)
	return change, nil
}

// sameJSON compares two configurations as they are stored: the JSON
// encoding drops what omitempty drops, so an empty list in a file equals the
// absent list of a stream read back from disk.
func sameJSON(a, b any) (bool, error) {
	ja, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(ja, jb), nil
}

// equalTags compares tag sets regardless of order.
func equalTags(a, b []Tag) bool {
	if len(a) != len(b) {
		return false
	}
	sorted := func(ts []Tag) []Tag {
		out := append([]Tag(nil), ts...)
		sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
		return out
	}
	sa, sb := sorted(a), sorted(b)
	for i := range sa {
		if sa[i].Key != sb[i].Key || deref(sa[i].Value) != deref(sb[i].Value) {
			return false
		}
	}
	return true
}

// Model returns the Firehose service model the API validates requests with;
// configuration files are checked against the same shapes.
func (s *Service) Model() *awsproto.Model { return s.model }
