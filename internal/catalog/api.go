package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// TargetPrefix is the X-Amz-Target prefix of the Glue API.
const TargetPrefix = "AWSGlue"

// Glue's error types (the model's exception shapes).
const (
	EntityNotFoundException          = "EntityNotFoundException"
	AlreadyExistsException           = "AlreadyExistsException"
	InvalidInputException            = "InvalidInputException"
	ConcurrentModificationException  = "ConcurrentModificationException"
	InternalServiceException         = "InternalServiceException"
	ResourceNumberLimitExceededError = "ResourceNumberLimitExceededException"
)

// Service serves the Glue API subset over a Catalog.
type Service struct {
	cat   *Catalog
	model *awsproto.Model
	log   *slog.Logger
	extra map[string]awsproto.JSONHandler
}

// NewService builds the Glue API. The Glue model is embedded in the binary
// and validates every request before it reaches the catalog.
func NewService(c *Catalog, log *slog.Logger) (*Service, error) {
	m, err := awsproto.LoadModel("glue-2017-03-31")
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{cat: c, model: m, log: log}, nil
}

// API returns the awsJson dispatcher for the Glue operations.
func (s *Service) API() *awsproto.Service {
	api := &awsproto.Service{
		TargetPrefix: TargetPrefix,
		SigningName:  "glue",
		Model:        s.model,
		MaxBody:      8 << 20,
		Logger:       s.log,
		Ops: map[string]awsproto.JSONHandler{
			"CreateDatabase":   s.createDatabase,
			"GetDatabase":      s.getDatabase,
			"GetDatabases":     s.getDatabases,
			"DeleteDatabase":   s.deleteDatabase,
			"CreateTable":      s.createTable,
			"GetTable":         s.getTable,
			"GetTables":        s.getTables,
			"UpdateTable":      s.updateTable,
			"GetTableVersions": s.getTableVersions,
			"DeleteTable":      s.deleteTable,

			"CreatePartition":      s.createPartition,
			"BatchCreatePartition": s.batchCreatePartition,
			"UpdatePartition":      s.updatePartition,
			"GetPartition":         s.getPartition,
			"GetPartitions":        s.getPartitions,
			"BatchGetPartition":    s.batchGetPartition,
			"DeletePartition":      s.deletePartition,
			"BatchDeletePartition": s.batchDeletePartition,
		},
	}
	for op, h := range s.extra {
		api.Ops[op] = h
	}
	return api
}

// AddOps adds operations served by other packages under the Glue API's
// target (the crawlers). Call it before API.
func (s *Service) AddOps(ops map[string]awsproto.JSONHandler) {
	if s.extra == nil {
		s.extra = map[string]awsproto.JSONHandler{}
	}
	for op, h := range ops {
		s.extra[op] = h
	}
}

// Model is the Glue model the service validates requests with, for the
// packages whose operations AddOps adds.
func (s *Service) Model() *awsproto.Model { return s.model }

// decode validates body against op's input shape, then decodes it into v.
func (s *Service) decode(op string, body []byte, v any) error { return s.model.Decode(op, body, v) }

// apiErr maps catalog errors to Glue's error types.
func apiErr(err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		switch {
		case errors.Is(ce.Kind, ErrNotFound):
			return awsproto.Errorf(EntityNotFoundException, "%s", ce.Message)
		case errors.Is(ce.Kind, ErrExists):
			return awsproto.Errorf(AlreadyExistsException, "%s", ce.Message)
		case errors.Is(ce.Kind, ErrConcurrent):
			return awsproto.Errorf(ConcurrentModificationException, "%s", ce.Message)
		case errors.Is(ce.Kind, ErrInvalid):
			return awsproto.Errorf(InvalidInputException, "%s", ce.Message)
		}
	}
	return err
}

func invalidInput(format string, args ...any) error {
	return awsproto.Errorf(InvalidInputException, format, args...)
}

func (s *Service) createDatabase(ctx context.Context, body []byte) (any, error) {
	var in struct {
		CatalogId     string
		DatabaseInput DatabaseInput
	}
	if err := s.decode("CreateDatabase", body, &in); err != nil {
		return nil, err
	}
	return nil, apiErr(s.cat.CreateDatabase(ctx, in.CatalogId, in.DatabaseInput))
}

func (s *Service) getDatabase(ctx context.Context, body []byte) (any, error) {
	var in struct{ CatalogId, Name string }
	if err := s.decode("GetDatabase", body, &in); err != nil {
		return nil, err
	}
	db, err := s.cat.GetDatabase(ctx, in.CatalogId, in.Name)
	if err != nil {
		return nil, apiErr(err)
	}
	return map[string]any{"Database": db}, nil
}

func (s *Service) getDatabases(ctx context.Context, body []byte) (any, error) {
	var in struct {
		CatalogId  string
		NextToken  string
		MaxResults int
	}
	if err := s.decode("GetDatabases", body, &in); err != nil {
		return nil, err
	}
	dbs := s.cat.Databases(ctx, in.CatalogId)
	page, next, err := paginate(dbs, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return map[string]any{"DatabaseList": page, "NextToken": next}, nil
}

func (s *Service) deleteDatabase(ctx context.Context, body []byte) (any, error) {
	var in struct{ CatalogId, Name string }
	if err := s.decode("DeleteDatabase", body, &in); err != nil {
		return nil, err
	}
	return nil, apiErr(s.cat.DeleteDatabase(ctx, in.CatalogId, in.Name))
}

func (s *Service) createTable(ctx context.Context, body []byte) (any, error) {
	var in struct {
		CatalogId            string
		DatabaseName         string
		TableInput           *TableInput
		OpenTableFormatInput json.RawMessage
	}
	if err := s.decode("CreateTable", body, &in); err != nil {
		return nil, err
	}
	if in.OpenTableFormatInput != nil {
		return nil, invalidInput("OpenTableFormatInput (Iceberg tables) is not supported by hydrant; give a TableInput.")
	}
	if in.TableInput == nil {
		return nil, invalidInput("TableInput is required.")
	}
	return nil, apiErr(s.cat.CreateTable(ctx, in.CatalogId, in.DatabaseName, *in.TableInput))
}

func (s *Service) updateTable(ctx context.Context, body []byte) (any, error) {
	var in struct {
		CatalogId    string
		DatabaseName string
		TableInput   *TableInput
		VersionId    string
	}
	if err := s.decode("UpdateTable", body, &in); err != nil {
		return nil, err
	}
	if in.TableInput == nil {
		return nil, invalidInput("TableInput is required.")
	}
	return nil, apiErr(s.cat.UpdateTable(ctx, in.CatalogId, in.DatabaseName, *in.TableInput, in.VersionId))
}

func (s *Service) getTable(ctx context.Context, body []byte) (any, error) {
	var in struct{ CatalogId, DatabaseName, Name string }
	if err := s.decode("GetTable", body, &in); err != nil {
		return nil, err
	}
	t, err := s.cat.Table(ctx, in.CatalogId, in.DatabaseName, in.Name, "")
	if err != nil {
		return nil, apiErr(err)
	}
	return map[string]any{"Table": t}, nil
}

func (s *Service) getTables(ctx context.Context, body []byte) (any, error) {
	var in struct {
		CatalogId    string
		DatabaseName string
		Expression   string
		NextToken    string
		MaxResults   int
	}
	if err := s.decode("GetTables", body, &in); err != nil {
		return nil, err
	}
	tables, err := s.cat.Tables(ctx, in.CatalogId, in.DatabaseName)
	if err != nil {
		return nil, apiErr(err)
	}
	if in.Expression != "" {
		re, err := tableExpression(in.Expression)
		if err != nil {
			return nil, invalidInput("Expression %q is not a valid pattern: %v", in.Expression, err)
		}
		kept := tables[:0]
		for _, t := range tables {
			if re.MatchString(t.Name) {
				kept = append(kept, t)
			}
		}
		tables = kept
	}
	page, next, err := paginate(tables, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableList": page, "NextToken": next}, nil
}

// tableExpression compiles GetTables' Expression: a regular expression the
// whole name must match, where Hive's "*" wildcard and "|" alternatives are
// also accepted.
func tableExpression(expr string) (*regexp.Regexp, error) {
	if !strings.ContainsAny(expr, ".[]()+?\\^$") {
		expr = strings.ReplaceAll(expr, "*", ".*")
	}
	return regexp.Compile("^(?:" + expr + ")$")
}

func (s *Service) getTableVersions(ctx context.Context, body []byte) (any, error) {
	var in struct {
		CatalogId    string
		DatabaseName string
		TableName    string
		NextToken    string
		MaxResults   int
	}
	if err := s.decode("GetTableVersions", body, &in); err != nil {
		return nil, err
	}
	versions, err := s.cat.TableVersions(ctx, in.CatalogId, in.DatabaseName, in.TableName)
	if err != nil {
		return nil, apiErr(err)
	}
	type tableVersion struct {
		Table     Table
		VersionId string
	}
	out := make([]tableVersion, len(versions))
	for i, v := range versions {
		out[i] = tableVersion{Table: v, VersionId: v.VersionId}
	}
	page, next, err := paginate(out, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return map[string]any{"TableVersions": page, "NextToken": next}, nil
}

func (s *Service) deleteTable(ctx context.Context, body []byte) (any, error) {
	var in struct{ CatalogId, DatabaseName, Name string }
	if err := s.decode("DeleteTable", body, &in); err != nil {
		return nil, err
	}
	return nil, apiErr(s.cat.DeleteTable(ctx, in.CatalogId, in.DatabaseName, in.Name))
}

// paginate returns one page of items after token (an offset) and the token
// of the next page (nil when there is none). max <= 0 means 100.
func paginate[T any](items []T, token string, max int) ([]T, *string, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(items) {
			return nil, nil, invalidInput("Invalid NextToken.")
		}
		start = n
	}
	if max <= 0 {
		max = 100
	}
	end := min(start+max, len(items))
	var next *string
	if end < len(items) {
		t := strconv.Itoa(end)
		next = &t
	}
	return items[start:end], next, nil
}
