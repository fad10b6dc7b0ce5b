package console

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// catalogPage is GET /api/catalog: the Glue databases and their tables'
// columns (GetDatabases, GetTables), listed beside the SQL editor.
type catalogPage struct {
	Databases []catalogDatabase `json:"databases"`
}

type catalogDatabase struct {
	Name   string         `json:"name"`
	Tables []catalogTable `json:"tables"`
}

type catalogTable struct {
	Name          string   `json:"name"`
	Columns       []column `json:"columns"`
	PartitionKeys []column `json:"partitionKeys"`
	Location      string   `json:"location,omitempty"`
}

// maxCatalogPages bounds the pages of databases or tables read for one
// catalog listing.
const maxCatalogPages = 20

func (c *Console) handleCatalog(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	out := catalogPage{Databases: []catalogDatabase{}}
	token := ""
	for range maxCatalogPages {
		in := map[string]any{}
		if token != "" {
			in["NextToken"] = token
		}
		var res struct {
			DatabaseList []struct{ Name string }
			NextToken    string
		}
		if err := c.call(ctx, glueAPI, "GetDatabases", in, &res); err != nil {
			return err
		}
		for _, d := range res.DatabaseList {
			out.Databases = append(out.Databases, catalogDatabase{Name: d.Name, Tables: []catalogTable{}})
		}
		if token = res.NextToken; token == "" {
			break
		}
	}
	for i := range out.Databases {
		db := &out.Databases[i]
		token := ""
		for range maxCatalogPages {
			in := map[string]any{"DatabaseName": db.Name}
			if token != "" {
				in["NextToken"] = token
			}
			var res struct {
				TableList []struct {
					Name              string
					StorageDescriptor struct {
						Columns  []struct{ Name, Type string }
						Location string
					}
					PartitionKeys []struct{ Name, Type string }
				}
				NextToken string
			}
			if err := c.call(ctx, glueAPI, "GetTables", in, &res); err != nil {
				return err
			}
			for _, t := range res.TableList {
				ct := catalogTable{Name: t.Name, Columns: []column{}, PartitionKeys: []column{}, Location: t.StorageDescriptor.Location}
				for _, col := range t.StorageDescriptor.Columns {
					ct.Columns = append(ct.Columns, column{Name: col.Name, Type: col.Type})
				}
				for _, col := range t.PartitionKeys {
					ct.PartitionKeys = append(ct.PartitionKeys, column{Name: col.Name, Type: col.Type})
				}
				db.Tables = append(db.Tables, ct)
			}
			if token = res.NextToken; token == "" {
				break
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// queryResult is a query's state and one page of its rows, as the query
// page and dashboards use it. A NULL cell is null.
type queryResult struct {
	ID      string      `json:"id"`
	State   string      `json:"state"`
	Reason  string      `json:"reason,omitempty"`
	Columns []column    `json:"columns"`
	Rows    [][]*string `json:"rows"`
	Next    string      `json:"next,omitempty"`
	// EngineMillis and ScannedBytes are the query's statistics.
	EngineMillis int64 `json:"engineMillis"`
	ScannedBytes int64 `json:"scannedBytes"`
}

// maxSQL bounds a query's text: Athena's own limit (262,144 bytes).
const maxSQL = 262144

// queryWait is how long POST /api/queries waits for a query to finish
// before answering with its state; the page then polls.
const queryWait = 20 * time.Second

// pageRows is how many rows one results page holds (Athena's
// GetQueryResults maximum).
const pageRows = 1000

// handleStartQuery runs SQL through the query engine (Athena's
// StartQueryExecution), waits a while for it, and answers with its first
// page of rows or its state.
func (c *Console) handleStartQuery(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		SQL      string `json:"sql"`
		Database string `json:"database"`
	}
	if err := readJSON(r, &in); err != nil {
		return err
	}
	res, err := c.runQuery(r.Context(), in.SQL, in.Database, queryWait)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// handleQueryResults is a query's state, and once it has succeeded the page
// of rows after ?next= (the first without).
func (c *Console) handleQueryResults(w http.ResponseWriter, r *http.Request) error {
	res, err := c.queryState(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if res.State == "SUCCEEDED" {
		if err := c.queryPage(r.Context(), res, r.URL.Query().Get("next")); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// runQuery starts a query and waits up to wait for it; once it has
// succeeded the first page of rows is read.
func (c *Console) runQuery(ctx context.Context, sql, database string, wait time.Duration) (*queryResult, error) {
	sql = strings.TrimSpace(sql)
	if sql == "" {
		return nil, errorf(http.StatusBadRequest, "the query is empty")
	}
	if len(sql) > maxSQL {
		return nil, errorf(http.StatusBadRequest, "the query is %d bytes; the most is %d", len(sql), maxSQL)
	}
	in := map[string]any{"QueryString": sql}
	if database != "" {
		in["QueryExecutionContext"] = map[string]string{"Database": database}
	}
	var started struct {
		QueryExecutionID string `json:"QueryExecutionId"`
	}
	if err := c.call(ctx, athenaAPI, "StartQueryExecution", in, &started); err != nil {
		return nil, err
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	pause := 10 * time.Millisecond
	for {
		res, err := c.queryState(ctx, started.QueryExecutionID)
		if err != nil {
			return nil, err
		}
		switch res.State {
		case "SUCCEEDED":
			return res, c.queryPage(ctx, res, "")
		case "FAILED", "CANCELLED":
			return res, nil
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-deadline.C:
			t.Stop()
			return res, nil
		case <-t.C:
		}
		pause = min(pause*2, 500*time.Millisecond)
	}
}

// queryState is GetQueryExecution: the query's state and statistics.
func (c *Console) queryState(ctx context.Context, id string) (*queryResult, error) {
	var res struct {
		QueryExecution struct {
			Status struct {
				State             string `json:"State"`
				StateChangeReason string `json:"StateChangeReason"`
			} `json:"Status"`
			Statistics struct {
				EngineExecutionTimeInMillis int64 `json:"EngineExecutionTimeInMillis"`
				DataScannedInBytes          int64 `json:"DataScannedInBytes"`
			} `json:"Statistics"`
		} `json:"QueryExecution"`
	}
	if err := c.call(ctx, athenaAPI, "GetQueryExecution", map[string]string{"QueryExecutionId": id}, &res); err != nil {
		return nil, err
	}
	qe := res.QueryExecution
	return &queryResult{ID: id, State: qe.Status.State, Reason: qe.Status.StateChangeReason, Columns: []column{}, Rows: [][]*string{},
		EngineMillis: qe.Statistics.EngineExecutionTimeInMillis, ScannedBytes: qe.Statistics.DataScannedInBytes}, nil
}

// queryPage reads one page of a succeeded query's rows (GetQueryResults).
// The first page of a SELECT starts with the column names, as Athena
// sends them; it is dropped.
func (c *Console) queryPage(ctx context.Context, res *queryResult, next string) error {
	in := map[string]any{"QueryExecutionId": res.ID, "MaxResults": pageRows}
	if next != "" {
		in["NextToken"] = next
	}
	var out struct {
		ResultSet struct {
			Rows []struct {
				Data []struct {
					VarCharValue *string `json:"VarCharValue"`
				} `json:"Data"`
			} `json:"Rows"`
			ResultSetMetadata struct {
				ColumnInfo []struct {
					Name string `json:"Name"`
					Type string `json:"Type"`
				} `json:"ColumnInfo"`
			} `json:"ResultSetMetadata"`
		} `json:"ResultSet"`
		NextToken string `json:"NextToken"`
	}
	if err := c.call(ctx, athenaAPI, "GetQueryResults", in, &out); err != nil {
		return err
	}
	for _, ci := range out.ResultSet.ResultSetMetadata.ColumnInfo {
		res.Columns = append(res.Columns, column{Name: ci.Name, Type: ci.Type})
	}
	for i, row := range out.ResultSet.Rows {
		cells := make([]*string, len(row.Data))
		for j, d := range row.Data {
			cells[j] = d.VarCharValue
		}
		if i == 0 && next == "" && isHeader(cells, res.Columns) {
			continue
		}
		res.Rows = append(res.Rows, cells)
	}
	res.Next = out.NextToken
	return nil
}

// isHeader reports whether a row holds the column names.
func isHeader(cells []*string, cols []column) bool {
	if len(cells) != len(cols) || len(cols) == 0 {
		return false
	}
	for i, c := range cells {
		if c == nil || *c != cols[i].Name {
			return false
		}
	}
	return true
}
