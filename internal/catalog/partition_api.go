package catalog

import (
	"context"
	"errors"
	"strings"
)

// The partition operations of the Glue API.

type partitionRef struct {
	CatalogId, DatabaseName, TableName string
}

func (s *Service) createPartition(ctx context.Context, body []byte) (any, error) {
	var in struct {
		partitionRef
		PartitionInput PartitionInput
	}
	if err := s.decode("CreatePartition", body, &in); err != nil {
		return nil, err
	}
	errs, err := s.cat.CreatePartitions(ctx, in.CatalogId, in.DatabaseName, in.TableName, []PartitionInput{in.PartitionInput})
	if err != nil {
		return nil, apiErr(err)
	}
	if len(errs) > 0 {
		return nil, apiErr(invalidOrExists(errs[0]))
	}
	return nil, nil
}

// invalidOrExists turns a batch entry's error into the single call's.
func invalidOrExists(e PartitionError) error {
	return &Error{Kind: map[string]error{AlreadyExistsException: ErrExists, InvalidInputException: ErrInvalid}[e.ErrorDetail.ErrorCode],
		Message: e.ErrorDetail.ErrorMessage}
}

func (s *Service) batchCreatePartition(ctx context.Context, body []byte) (any, error) {
	var in struct {
		partitionRef
		PartitionInputList []PartitionInput
	}
	if err := s.decode("BatchCreatePartition", body, &in); err != nil {
		return nil, err
	}
	errs, err := s.cat.CreatePartitions(ctx, in.CatalogId, in.DatabaseName, in.TableName, in.PartitionInputList)
	if err != nil {
		return nil, apiErr(err)
	}
	return map[string]any{"Errors": nonNil(errs)}, nil
}

func (s *Service) updatePartition(ctx context.Context, body []byte) (any, error) {
	var in struct {
		partitionRef
		PartitionValueList []string
		PartitionInput     PartitionInput
	}
	if err := s.decode("UpdatePartition", body, &in); err != nil {
		return nil, err
	}
	return nil, apiErr(s.cat.UpdatePartition(ctx, in.CatalogId, in.DatabaseName, in.TableName, in.PartitionValueList, in.PartitionInput))
}

func (s *Service) getPartition(ctx context.Context, body []byte) (any, error) {
	var in struct {
		partitionRef
		PartitionValues []string
	}
	if err := s.decode("GetPartition", body, &in); err != nil {
		return nil, err
	}
	p, err := s.cat.Partition(ctx, in.CatalogId, in.DatabaseName, in.TableName, in.PartitionValues)
	if err != nil {
		return nil, apiErr(err)
	}
	return map[string]any{"Partition": p}, nil
}

func (s *Service) batchGetPartition(ctx context.Context, body []byte) (any, error) {
	var in struct {
		partitionRef
		PartitionsToGet []struct{ Values []string }
	}
	if err := s.decode("BatchGetPartition", body, &in); err != nil {
		return nil, err
	}
	if _, err := s.cat.Table(ctx, in.CatalogId, in.DatabaseName, in.TableName, ""); err != nil {
		return nil, apiErr(err)
	}
	found := []Partition{}
	unprocessed := []map[string]any{}
	for _, v := range in.PartitionsToGet {
		p, err := s.cat.Partition(ctx, in.CatalogId, in.DatabaseName, in.TableName, v.Values)
		switch {
		case err == nil:
			found = append(found, *p)
		case errors.Is(err, ErrNotFound):
			// Glue leaves missing partitions out of both lists.
		default:
			return nil, apiErr(err)
		}
	}
	return map[string]any{"Partitions": found, "UnprocessedKeys": unprocessed}, nil
}

func (s *Service) getPartitions(ctx context.Context, body []byte) (any, error) {
	var in struct {
		partitionRef
		Expression          string
		NextToken           string
		MaxResults          int
		ExcludeColumnSchema bool
		Segment             *struct{ SegmentNumber, TotalSegments int }
	}
	if err := s.decode("GetPartitions", body, &in); err != nil {
		return nil, err
	}
	t, err := s.cat.Table(ctx, in.CatalogId, in.DatabaseName, in.TableName, "")
	if err != nil {
		return nil, apiErr(err)
	}
	parts, err := s.cat.Partitions(ctx, in.CatalogId, in.DatabaseName, in.TableName)
	if err != nil {
		return nil, apiErr(err)
	}
	if strings.TrimSpace(in.Expression) != "" {
		f, err := ParsePartitionFilter(in.Expression, t.PartitionKeys)
		if err != nil {
			return nil, invalidInput("Invalid expression %q: %v", in.Expression, err)
		}
		kept := parts[:0]
		for _, p := range parts {
			if f.Match(t.PartitionKeys, p.Values) {
				kept = append(kept, p)
			}
		}
		parts = kept
	}
	if in.Segment != nil {
		if in.Segment.SegmentNumber >= in.Segment.TotalSegments {
			return nil, invalidInput("SegmentNumber must be less than TotalSegments.")
		}
		kept := []Partition{}
		for i, p := range parts {
			if i%in.Segment.TotalSegments == in.Segment.SegmentNumber {
				kept = append(kept, p)
			}
		}
		parts = kept
	}
	if in.ExcludeColumnSchema {
		for i := range parts {
			if sd := parts[i].StorageDescriptor; sd != nil {
				c := *sd
				c.Columns = nil
				parts[i].StorageDescriptor = &c
			}
		}
	}
	page, next, err := paginate(parts, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Partitions": page, "NextToken": next}, nil
}

func (s *Service) deletePartition(ctx context.Context, body []byte) (any, error) {
	var in struct {
		partitionRef
		PartitionValues []string
	}
	if err := s.decode("DeletePartition", body, &in); err != nil {
		return nil, err
	}
	errs, err := s.cat.DeletePartitions(ctx, in.CatalogId, in.DatabaseName, in.TableName, [][]string{in.PartitionValues})
	if err != nil {
		return nil, apiErr(err)
	}
	if len(errs) > 0 {
		return nil, apiErr(partitionNotFound())
	}
	return nil, nil
}

func (s *Service) batchDeletePartition(ctx context.Context, body []byte) (any, error) {
	var in struct {
		partitionRef
		PartitionsToDelete []struct{ Values []string }
	}
	if err := s.decode("BatchDeletePartition", body, &in); err != nil {
		return nil, err
	}
	values := make([][]string, len(in.PartitionsToDelete))
	for i, p := range in.PartitionsToDelete {
		values[i] = p.Values
	}
	errs, err := s.cat.DeletePartitions(ctx, in.CatalogId, in.DatabaseName, in.TableName, values)
	if err != nil {
		return nil, apiErr(err)
	}
	return map[string]any{"Errors": nonNil(errs)}, nil
}

func nonNil(errs []PartitionError) []PartitionError {
	if errs == nil {
		return []PartitionError{}
	}
	return errs
}
