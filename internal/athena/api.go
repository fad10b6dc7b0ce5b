package athena

import (
	"context"
	"encoding/json"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/catalog"
)

// API returns the awsJson dispatcher of the Athena operations.
func (s *Service) API() *awsproto.Service {
	return &awsproto.Service{
		TargetPrefix: TargetPrefix,
		SigningName:  "athena",
		Model:        s.model,
		MaxBody:      1 << 20,
		Logger:       s.log,
		Ops: map[string]awsproto.JSONHandler{
			"StartQueryExecution":    s.startQueryExecution,
			"GetQueryExecution":      s.getQueryExecution,
			"GetQueryResults":        s.getQueryResults,
			"StopQueryExecution":     s.stopQueryExecution,
			"ListQueryExecutions":    s.listQueryExecutions,
			"BatchGetQueryExecution": s.batchGetQueryExecution,
			"GetWorkGroup":           s.getWorkGroup,
			"ListWorkGroups":         s.listWorkGroups,
			"ListDataCatalogs":       s.listDataCatalogs,
			"GetDataCatalog":         s.getDataCatalog,
			"ListDatabases":          s.listDatabases,
			"GetDatabase":            s.getDatabase,
			"ListTableMetadata":      s.listTableMetadata,
			"GetTableMetadata":       s.getTableMetadata,
		},
	}
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }

func (s *Service) startQueryExecution(ctx context.Context, body []byte) (any, error) {
	var in struct {
		QueryString           string
		ClientRequestToken    string
		QueryExecutionContext struct{ Database, Catalog string }
		ResultConfiguration   *struct {
			OutputLocation          string
			EncryptionConfiguration json.RawMessage
			ExpectedBucketOwner     string
			AclConfiguration        json.RawMessage
		}
		WorkGroup                string
		ExecutionParameters      []string
		ResultReuseConfiguration json.RawMessage
		EngineConfiguration      json.RawMessage
	}
	if err := s.model.Decode("StartQueryExecution", body, &in); err != nil {
		return nil, err
	}
	if in.EngineConfiguration != nil {
		return nil, awsproto.Errorf(InvalidRequestException, "EngineConfiguration (Spark workgroups) is not supported by hydrant")
	}
	out := ""
	if rc := in.ResultConfiguration; rc != nil {
		if rc.EncryptionConfiguration != nil {
			return nil, awsproto.Errorf(InvalidRequestException, "ResultConfiguration.EncryptionConfiguration is not supported by hydrant")
		}
		out = rc.OutputLocation
	}
	id, err := s.Start(ctx, StartInput{Query: in.QueryString, Catalog: in.QueryExecutionContext.Catalog,
		Database: in.QueryExecutionContext.Database, OutputLocation: out, WorkGroup: in.WorkGroup,
		ClientRequestToken: in.ClientRequestToken, Parameters: in.ExecutionParameters})
	if err != nil {
		return nil, err
	}
	return map[string]any{"QueryExecutionId": id}, nil
}

// queryExecution is Athena's QueryExecution shape of an execution.
func (s *Service) queryExecution(e *Execution) map[string]any {
	status := map[string]any{"State": e.State, "SubmissionDateTime": awsproto.EpochSeconds(e.Submitted)}
	if !e.Completed.IsZero() {
		status["CompletionDateTime"] = awsproto.EpochSeconds(e.Completed)
	}
	if e.StateChangeReason != "" {
		status["StateChangeReason"] = e.StateChangeReason
	}
	if e.Error != nil {
		status["AthenaError"] = map[string]any{"ErrorCategory": e.Error.Category, "ErrorType": e.Error.Type,
			"Retryable": e.Error.Retryable, "ErrorMessage": e.Error.Message}
	}
	qe := map[string]any{
		"QueryExecutionId":      e.ID,
		"Query":                 e.Query,
		"ResultConfiguration":   map[string]any{"OutputLocation": e.OutputLocation},
		"QueryExecutionContext": map[string]any{"Database": e.Database, "Catalog": e.Catalog},
		"Status":                status,
		"Statistics":            e.statistics(s.o.Now()),
		"WorkGroup":             e.WorkGroup,
		"EngineVersion":         map[string]any{"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
		"SubstatementType":      e.SubstatementType,
		"ResultReuseConfiguration": map[string]any{
			"ResultReuseByAgeConfiguration": map[string]any{"Enabled": false}},
	}
	if e.StatementType != "" {
		qe["StatementType"] = e.StatementType
	}
	if e.SubstatementType == "" {
		delete(qe, "SubstatementType")
	}
	if len(e.Parameters) > 0 {
		qe["ExecutionParameters"] = e.Parameters
	}
	return qe
}

func (s *Service) getQueryExecution(ctx context.Context, body []byte) (any, error) {
	var in struct{ QueryExecutionId string }
	if err := s.model.Decode("GetQueryExecution", body, &in); err != nil {
		return nil, err
	}
	e, err := s.Execution(ctx, in.QueryExecutionId)
	if err != nil {
		return nil, err
	}
	return map[string]any{"QueryExecution": s.queryExecution(&e)}, nil
}

func (s *Service) getQueryResults(ctx context.Context, body []byte) (any, error) {
	var in struct {
		QueryExecutionId string
		NextToken        string
		MaxResults       int
		QueryResultType  string
	}
	if err := s.model.Decode("GetQueryResults", body, &in); err != nil {
		return nil, err
	}
	if in.QueryResultType != "" && in.QueryResultType != "DATA_ROWS" {
		return nil, awsproto.Errorf(InvalidRequestException, "QueryResultType %s is not supported by hydrant", in.QueryResultType)
	}
	page, err := s.Results(ctx, in.QueryExecutionId, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	rows := make([]map[string]any, len(page.Rows))
	for i, r := range page.Rows {
		data := make([]map[string]any, len(r))
		for j, v := range r {
			if v == nil {
				data[j] = map[string]any{}
			} else {
				data[j] = map[string]any{"VarCharValue": *v}
			}
		}
		rows[i] = map[string]any{"Data": data}
	}
	cols := make([]map[string]any, len(page.Columns))
	for i, c := range page.Columns {
		cols[i] = map[string]any{"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": c.Name, "Label": c.Name,
			"Type": c.Type, "Precision": c.Precision, "Scale": c.Scale, "Nullable": "UNKNOWN",
			"CaseSensitive": c.Type == "varchar" || c.Type == "string" || c.Type == "char"}
	}
	out := map[string]any{
		"UpdateCount": 0,
		"ResultSet":   map[string]any{"Rows": rows, "ResultSetMetadata": map[string]any{"ColumnInfo": cols}},
	}
	if page.NextToken != "" {
		out["NextToken"] = page.NextToken
	}
	return out, nil
}

func (s *Service) stopQueryExecution(ctx context.Context, body []byte) (any, error) {
	var in struct{ QueryExecutionId string }
	if err := s.model.Decode("StopQueryExecution", body, &in); err != nil {
		return nil, err
	}
	return nil, s.Stop(ctx, in.QueryExecutionId)
}

func (s *Service) listQueryExecutions(ctx context.Context, body []byte) (any, error) {
	var in struct {
		NextToken  string
		MaxResults int
		WorkGroup  string
	}
	if err := s.model.Decode("ListQueryExecutions", body, &in); err != nil {
		return nil, err
	}
	if in.WorkGroup != "" && in.WorkGroup != PrimaryWorkGroup {
		return nil, awsproto.Errorf(InvalidRequestException, "WorkGroup %s is not found.", in.WorkGroup)
	}
	page, next, err := paginate(s.List(ctx), in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"QueryExecutionIds": page}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Service) batchGetQueryExecution(ctx context.Context, body []byte) (any, error) {
	var in struct{ QueryExecutionIds []string }
	if err := s.model.Decode("BatchGetQueryExecution", body, &in); err != nil {
		return nil, err
	}
	found := []map[string]any{}
	missing := []map[string]any{}
	for _, id := range in.QueryExecutionIds {
		e, err := s.Execution(ctx, id)
		if err != nil {
			missing = append(missing, map[string]any{"QueryExecutionId": id, "ErrorCode": "INVALID_INPUT",
				"ErrorMessage": "QueryExecution " + id + " was not found"})
			continue
		}
		found = append(found, s.queryExecution(&e))
	}
	return map[string]any{"QueryExecutions": found, "UnprocessedQueryExecutionIds": missing}, nil
}

// workGroup is the primary workgroup.
func (s *Service) workGroup() map[string]any {
	return map[string]any{
		"Name": PrimaryWorkGroup, "State": "ENABLED", "Description": "hydrant's workgroup",
		"CreationTime": awsproto.EpochSeconds(s.created),
		"Configuration": map[string]any{
			"ResultConfiguration":             map[string]any{"OutputLocation": s.o.OutputLocation},
			"EnforceWorkGroupConfiguration":   false,
			"PublishCloudWatchMetricsEnabled": false,
			"RequesterPaysEnabled":            false,
			"EngineVersion":                   map[string]any{"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"},
		},
	}
}

func (s *Service) getWorkGroup(ctx context.Context, body []byte) (any, error) {
	var in struct{ WorkGroup string }
	if err := s.model.Decode("GetWorkGroup", body, &in); err != nil {
		return nil, err
	}
	if in.WorkGroup != PrimaryWorkGroup {
		return nil, awsproto.Errorf(InvalidRequestException, "WorkGroup %s is not found.", in.WorkGroup)
	}
	return map[string]any{"WorkGroup": s.workGroup()}, nil
}

func (s *Service) listWorkGroups(ctx context.Context, body []byte) (any, error) {
	if err := s.model.Decode("ListWorkGroups", body, &struct{}{}); err != nil {
		return nil, err
	}
	wg := s.workGroup()
	return map[string]any{"WorkGroups": []map[string]any{{"Name": wg["Name"], "State": wg["State"],
		"Description": wg["Description"], "CreationTime": wg["CreationTime"],
		"EngineVersion": map[string]any{"SelectedEngineVersion": "AUTO", "EffectiveEngineVersion": "Athena engine version 3"}}}}, nil
}

func (s *Service) listDataCatalogs(ctx context.Context, body []byte) (any, error) {
	if err := s.model.Decode("ListDataCatalogs", body, &struct{}{}); err != nil {
		return nil, err
	}
	return map[string]any{"DataCatalogsSummary": []map[string]any{{"CatalogName": DataCatalog, "Type": "GLUE"}}}, nil
}

// checkCatalog refuses data catalogs other than the Glue one.
func checkCatalog(name string) error {
	if !strings.EqualFold(name, DataCatalog) {
		return awsproto.Errorf(InvalidRequestException, "Catalog %s is not found.", name)
	}
	return nil
}

func (s *Service) getDataCatalog(ctx context.Context, body []byte) (any, error) {
	var in struct{ Name string }
	if err := s.model.Decode("GetDataCatalog", body, &in); err != nil {
		return nil, err
	}
	if err := checkCatalog(in.Name); err != nil {
		return nil, err
	}
	return map[string]any{"DataCatalog": map[string]any{"Name": DataCatalog, "Type": "GLUE",
		"Description": "hydrant's Glue data catalog", "Parameters": map[string]string{"catalog-id": s.o.AccountID}}}, nil
}

func database(d catalog.Database) map[string]any {
	out := map[string]any{"Name": d.Name}
	if d.Description != nil {
		out["Description"] = *d.Description
	}
	if len(d.Parameters) > 0 {
		out["Parameters"] = d.Parameters
	}
	return out
}

func (s *Service) listDatabases(ctx context.Context, body []byte) (any, error) {
	var in struct {
		CatalogName string
		NextToken   string
		MaxResults  int
	}
	if err := s.model.Decode("ListDatabases", body, &in); err != nil {
		return nil, err
	}
	if err := checkCatalog(in.CatalogName); err != nil {
		return nil, err
	}
	var all []map[string]any
	for _, d := range s.o.Catalog.Databases(ctx, "") {
		all = append(all, database(d))
	}
	page, next, err := paginate(all, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"DatabaseList": page}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Service) getDatabase(ctx context.Context, body []byte) (any, error) {
	var in struct{ CatalogName, DatabaseName string }
	if err := s.model.Decode("GetDatabase", body, &in); err != nil {
		return nil, err
	}
	if err := checkCatalog(in.CatalogName); err != nil {
		return nil, err
	}
	d, err := s.o.Catalog.GetDatabase(ctx, "", in.DatabaseName)
	if err != nil {
		return nil, awsproto.Errorf(MetadataException, "%s", err.Error())
	}
	return map[string]any{"Database": database(*d)}, nil
}

func tableMetadata(t catalog.Table) map[string]any {
	cols := func(cs []catalog.Column) []map[string]any {
		out := make([]map[string]any, len(cs))
		for i, c := range cs {
			out[i] = map[string]any{"Name": c.Name, "Type": c.Type}
			if c.Comment != nil {
				out[i]["Comment"] = *c.Comment
			}
		}
		return out
	}
	out := map[string]any{"Name": t.Name, "Columns": cols(t.Columns()), "PartitionKeys": cols(t.PartitionKeys)}
	if t.CreateTime != nil {
		out["CreateTime"] = t.CreateTime
	}
	if t.LastAccessTime != nil {
		out["LastAccessTime"] = t.LastAccessTime
	}
	if t.TableType != nil {
		out["TableType"] = *t.TableType
	}
	params := map[string]string{}
	for k, v := range t.Parameters {
		params[k] = v
	}
	if sd := t.StorageDescriptor; sd != nil {
		if sd.Location != nil {
			params["location"] = *sd.Location
		}
		if sd.InputFormat != nil {
			params["inputformat"] = *sd.InputFormat
		}
		if sd.OutputFormat != nil {
			params["outputformat"] = *sd.OutputFormat
		}
		if sd.SerdeInfo != nil && sd.SerdeInfo.SerializationLibrary != nil {
			params["serde.serialization.lib"] = *sd.SerdeInfo.SerializationLibrary
		}
	}
	out["Parameters"] = params
	return out
}

func (s *Service) listTableMetadata(ctx context.Context, body []byte) (any, error) {
	var in struct {
		CatalogName, DatabaseName, Expression, NextToken, WorkGroup string
		MaxResults                                                  int
	}
	if err := s.model.Decode("ListTableMetadata", body, &in); err != nil {
		return nil, err
	}
	if err := checkCatalog(in.CatalogName); err != nil {
		return nil, err
	}
	tables, err := s.o.Catalog.Tables(ctx, "", in.DatabaseName)
	if err != nil {
		return nil, awsproto.Errorf(MetadataException, "%s", err.Error())
	}
	var re *regexp.Regexp
	if in.Expression != "" {
		if re, err = regexp.Compile("^(?:" + strings.ReplaceAll(in.Expression, "*", ".*") + ")$"); err != nil {
			return nil, awsproto.Errorf(InvalidRequestException, "Expression %q is not a valid pattern", in.Expression)
		}
	}
	var all []map[string]any
	for _, t := range tables {
		if re == nil || re.MatchString(t.Name) {
			all = append(all, tableMetadata(t))
		}
	}
	page, next, err := paginate(all, in.NextToken, in.MaxResults, 50)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"TableMetadataList": page}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Service) getTableMetadata(ctx context.Context, body []byte) (any, error) {
	var in struct{ CatalogName, DatabaseName, TableName, WorkGroup string }
	if err := s.model.Decode("GetTableMetadata", body, &in); err != nil {
		return nil, err
	}
	if err := checkCatalog(in.CatalogName); err != nil {
		return nil, err
	}
	t, err := s.o.Catalog.Table(ctx, "", in.DatabaseName, in.TableName, "")
	if err != nil {
		return nil, awsproto.Errorf(MetadataException, "%s", err.Error())
	}
	return map[string]any{"TableMetadata": tableMetadata(*t)}, nil
}

// paginate pages a list by offset tokens.
func paginate[T any](items []T, token string, max, limit int) ([]T, string, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", awsproto.Errorf(InvalidRequestException, "Invalid NextToken")
		}
		start = n
	}
	if max <= 0 || max > limit {
		max = limit
	}
	end := min(start+max, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	page := items[start:end]
	if page == nil {
		page = []T{}
	}
	return page, next, nil
}
