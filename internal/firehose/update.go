package firehose

import (
	"context"
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

var unsupportedUpdateMembers = []string{
	"RedshiftDestinationUpdate",
	"ElasticsearchDestinationUpdate",
	"AmazonopensearchserviceDestinationUpdate",
	"SplunkDestinationUpdate",
	"HttpEndpointDestinationUpdate",
	"AmazonOpenSearchServerlessDestinationUpdate",
	"SnowflakeDestinationUpdate",
	"IcebergDestinationUpdate",
}

func (s *Service) updateDestination(ctx context.Context, body []byte) (any, error) {
	doc, aerr := s.model.Validate("UpdateDestination", body)
	if aerr != nil {
		return nil, aerr
	}
	var in UpdateDestinationInput
	if err := s.decode("UpdateDestination", body, &in); err != nil {
		return nil, err
	}
	for _, m := range unsupportedUpdateMembers {
		if doc[m] != nil {
			return nil, invalidArg("%s is not supported by hydrant yet; only S3 destinations are.", m)
		}
	}
	if in.S3DestinationUpdate != nil && in.ExtendedS3DestinationUpdate != nil {
		return nil, invalidArg("Exactly one destination update is supported for a Firehose")
	}
	err := s.backend.Update(ctx, in.DeliveryStreamName, func(info *StreamInfo) error {
		if err := s.checkActive(info); err != nil {
			return err
		}
		if in.CurrentDeliveryStreamVersionId != strconv.Itoa(info.VersionID) {
			return awsproto.Errorf(ConcurrentModificationException,
				"Cannot update firehose: %s since the current version id: %d and specified version id: %s do not match",
				info.Name, info.VersionID, in.CurrentDeliveryStreamVersionId)
		}
		if in.DestinationId != info.DestinationID {
			return invalidArg("Destination Id %s not found for Firehose %s.", in.DestinationId, info.Name)
		}
		next := info.Destination
		switch {
		case in.ExtendedS3DestinationUpdate != nil:
			u := *in.ExtendedS3DestinationUpdate
			if u.S3BackupUpdate != nil {
				if next.S3BackupConfiguration == nil {
					next.S3BackupConfiguration = &S3Destination{}
				} else {
					cp := *next.S3BackupConfiguration
					next.S3BackupConfiguration = &cp
				}
				mergeInto(next.S3BackupConfiguration, u.S3BackupUpdate)
				u.S3BackupUpdate = nil
			}
			mergeInto(&next, &u)
		case in.S3DestinationUpdate != nil:
			mergeInto(&next.S3Destination, in.S3DestinationUpdate)
		}
		if err := s.checkRoles(ctx, &next); err != nil {
			return err
		}
		return s.replaceDestination(info, next)
	})
	if err != nil {
		return nil, s.backendErr(in.DeliveryStreamName, err)
	}
	return nil, nil
}

// checkActive refuses changes to a stream that is not ACTIVE.
func (s *Service) checkActive(info *StreamInfo) error {
	if info.Status != StatusActive {
		return awsproto.Errorf(ResourceInUseException, "Firehose %s under account %s is not in ACTIVE state.", info.Name, s.opts.AccountID)
	}
	return nil
}

// replaceDestination makes next the destination of info, as an
// UpdateDestination does once the update is merged: the update rules are
// checked against the current destination, defaults are filled in, and the
// VersionId moves on. On error info is left as it was.
func (s *Service) replaceDestination(info *StreamInfo, next ExtendedS3Destination) error {
	prev := info.Destination
	cfg := info.StreamConfig
	cfg.Destination = next
	if err := s.checkDestination(&cfg, &prev); err != nil {
		return err
	}
	info.StreamConfig = cfg
	info.VersionID++
	info.Updated = time.Now()
	return nil
}

// mergeInto copies every non-nil member of src over dst, recursing into the
// embedded S3Destination: UpdateDestination merges field by field and keeps
// what the update leaves out.
func mergeInto[T any](dst, src *T) {
	mergeValue(reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem())
}

func mergeValue(dst, src reflect.Value) {
	for i := 0; i < src.NumField(); i++ {
		sf := src.Type().Field(i)
		sv, dv := src.Field(i), dst.Field(i)
		if sf.Anonymous && sv.Kind() == reflect.Struct {
			mergeValue(dv, sv)
			continue
		}
		switch sv.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			if !sv.IsNil() {
				dv.Set(sv)
			}
		default:
			if !sv.IsZero() {
				dv.Set(sv)
			}
		}
	}
}

func (s *Service) tagDeliveryStream(ctx context.Context, body []byte) (any, error) {
	var in struct {
		DeliveryStreamName string `json:"DeliveryStreamName"`
		Tags               []Tag  `json:"Tags"`
	}
	if err := s.decode("TagDeliveryStream", body, &in); err != nil {
		return nil, err
	}
	if err := s.checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.backend.Update(ctx, in.DeliveryStreamName, func(info *StreamInfo) error {
		tags := dedupeTags(info.Tags, in.Tags)
		if len(tags) > 50 {
			return awsproto.Errorf(LimitExceededException, "A Firehose stream cannot have more than 50 tags; this request would leave %d.", len(tags))
		}
		info.Tags = tags
		return nil
	})
	return nil, s.backendErr(in.DeliveryStreamName, err)
}

func (s *Service) untagDeliveryStream(ctx context.Context, body []byte) (any, error) {
	var in struct {
		DeliveryStreamName string   `json:"DeliveryStreamName"`
		TagKeys            []string `json:"TagKeys"`
	}
	if err := s.decode("UntagDeliveryStream", body, &in); err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	err := s.backend.Update(ctx, in.DeliveryStreamName, func(info *StreamInfo) error {
		kept := info.Tags[:0:0]
		for _, t := range info.Tags {
			if !drop[t.Key] {
				kept = append(kept, t)
			}
		}
		info.Tags = kept
		return nil
	})
	return nil, s.backendErr(in.DeliveryStreamName, err)
}

func (s *Service) listTagsForDeliveryStream(ctx context.Context, body []byte) (any, error) {
	var in struct {
		DeliveryStreamName   string  `json:"DeliveryStreamName"`
		ExclusiveStartTagKey *string `json:"ExclusiveStartTagKey"`
		Limit                *int    `json:"Limit"`
	}
	if err := s.decode("ListTagsForDeliveryStream", body, &in); err != nil {
		return nil, err
	}
	info, err := s.backend.Get(ctx, in.DeliveryStreamName)
	if err != nil {
		return nil, s.backendErr(in.DeliveryStreamName, err)
	}
	tags := append([]Tag(nil), info.Tags...)
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	limit := 50
	if in.Limit != nil {
		limit = *in.Limit
	}
	out := []Tag{}
	more := false
	for _, t := range tags {
		if in.ExclusiveStartTagKey != nil && t.Key <= *in.ExclusiveStartTagKey {
			continue
		}
		if len(out) == limit {
			more = true
			break
		}
		out = append(out, t)
	}
	return map[string]any{"Tags": out, "HasMoreTags": more}, nil
}
