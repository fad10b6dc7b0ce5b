package catalog

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// PartitionInput is what CreatePartition and BatchCreatePartition take:
// Glue's PartitionInput shape.
type PartitionInput struct {
	Values            []string           `json:"Values"`
	LastAccessTime    *Timestamp         `json:"LastAccessTime,omitempty"`
	StorageDescriptor *StorageDescriptor `json:"StorageDescriptor,omitempty"`
	Parameters        map[string]string  `json:"Parameters,omitempty"`
	LastAnalyzedTime  *Timestamp         `json:"LastAnalyzedTime,omitempty"`
}

// Partition is a partition as GetPartition returns it.
type Partition struct {
	PartitionInput
	DatabaseName string     `json:"DatabaseName"`
	TableName    string     `json:"TableName"`
	CatalogId    string     `json:"CatalogId"`
	CreationTime *Timestamp `json:"CreationTime,omitempty"`
}

// Location is the partition's StorageDescriptor.Location, "" when unset.
func (p *Partition) Location() string {
	if p.StorageDescriptor == nil || p.StorageDescriptor.Location == nil {
		return ""
	}
	return *p.StorageDescriptor.Location
}

// PartitionError is one entry a batch operation could not apply, with
// Glue's error code and message (BatchCreatePartition's Errors).
type PartitionError struct {
	PartitionValues []string    `json:"PartitionValues"`
	ErrorDetail     ErrorDetail `json:"ErrorDetail"`
}

// ErrorDetail is Glue's ErrorDetail shape.
type ErrorDetail struct {
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

// partitionKey is the map key of a partition's values. Values cannot
// contain NUL (Glue's ValueString pattern excludes control characters).
func partitionKey(values []string) string { return strings.Join(values, "\x00") }

// findTable finds a table in a catalog's state.
func findTable(st *state, dbName, name string) (*storedTable, error) {
	db := st.Databases[strings.ToLower(dbName)]
	if db == nil {
		return nil, dbNotFound(dbName)
	}
	tbl := db.Tables[strings.ToLower(name)]
	if tbl == nil {
		return nil, tableNotFound(name)
	}
	return tbl, nil
}

// read runs fn over a table under the lock, after a refresh.
func (c *Catalog) read(ctx context.Context, catalogID, dbName, name string, fn func(tbl *storedTable) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(ctx, catalogID)
	_, st := c.catalog(catalogID)
	tbl, err := findTable(st, dbName, name)
	if err != nil {
		return err
	}
	return fn(tbl)
}

// errNoChange ends a mutation that changed nothing, without a commit.
var errNoChange = errors.New("no change")

func partitionNotFound() error {
	return &Error{Kind: ErrNotFound, Message: "Partition not found."}
}

// ErrInvalid is wrapped when input does not fit the table (values that do
// not match its partition keys).
var ErrInvalid = errors.New("invalid input")

// checkValues reports whether values fit the table's partition keys.
func checkValues(t *Table, values []string) error {
	if len(values) != len(t.PartitionKeys) {
		return &Error{Kind: ErrInvalid, Message: "The number of partition keys do not match the number of partition values"}
	}
	return nil
}

// CreatePartitions adds partitions to a table. Partitions that exist
// already, or whose values do not fit the table, are reported in the
// returned errors and the others are still added, as BatchCreatePartition
// does. A missing database or table fails the whole call.
func (c *Catalog) CreatePartitions(ctx context.Context, catalogID, dbName, tableName string, in []PartitionInput) ([]PartitionError, error) {
	var errs []PartitionError
	err := c.mutate(ctx, catalogID, func(id string, st *state) error {
		errs = nil
		tbl, err := findTable(st, dbName, tableName)
		if err != nil {
			return err
		}
		t := tbl.latest()
		if tbl.Partitions == nil {
			tbl.Partitions = map[string]*Partition{}
		}
		now := Timestamp(c.now())
		added := 0
		for _, p := range in {
			if err := checkValues(t, p.Values); err != nil {
				errs = append(errs, partitionError(p.Values, InvalidInputException, err.Error()))
				continue
			}
			k := partitionKey(p.Values)
			if tbl.Partitions[k] != nil {
				errs = append(errs, partitionError(p.Values, AlreadyExistsException, "Partition already exists."))
				continue
			}
			tbl.Partitions[k] = &Partition{PartitionInput: p, DatabaseName: t.DatabaseName, TableName: t.Name, CatalogId: id, CreationTime: &now}
			added++
		}
		if added == 0 {
			return errNoChange
		}
		return nil
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return errs, err
}

// UpdatePartition replaces the partition with values by in (whose values
// may differ: the partition moves).
func (c *Catalog) UpdatePartition(ctx context.Context, catalogID, dbName, tableName string, values []string, in PartitionInput) error {
	return c.mutate(ctx, catalogID, func(id string, st *state) error {
		tbl, err := findTable(st, dbName, tableName)
		if err != nil {
			return err
		}
		old := tbl.Partitions[partitionKey(values)]
		if old == nil {
			return partitionNotFound()
		}
		if err := checkValues(tbl.latest(), in.Values); err != nil {
			return err
		}
		delete(tbl.Partitions, partitionKey(values))
		p := *old
		p.PartitionInput = in
		tbl.Partitions[partitionKey(in.Values)] = &p
		return nil
	})
}

// Partition returns one partition of a table.
func (c *Catalog) Partition(ctx context.Context, catalogID, dbName, tableName string, values []string) (*Partition, error) {
	var out *Partition
	err := c.read(ctx, catalogID, dbName, tableName, func(tbl *storedTable) error {
		p := tbl.Partitions[partitionKey(values)]
		if p == nil {
			return partitionNotFound()
		}
		cp := *p
		out = &cp
		return nil
	})
	return out, err
}

// Partitions returns every partition of a table, ordered by values.
func (c *Catalog) Partitions(ctx context.Context, catalogID, dbName, tableName string) ([]Partition, error) {
	var out []Partition
	err := c.read(ctx, catalogID, dbName, tableName, func(tbl *storedTable) error {
		out = make([]Partition, 0, len(tbl.Partitions))
		for _, p := range tbl.Partitions {
			out = append(out, *p)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b Partition) int { return slices.Compare(a.Values, b.Values) })
	return out, err
}

// DeletePartitions removes partitions; those that do not exist are
// reported in the returned errors, as BatchDeletePartition does.
func (c *Catalog) DeletePartitions(ctx context.Context, catalogID, dbName, tableName string, values [][]string) ([]PartitionError, error) {
	var errs []PartitionError
	err := c.mutate(ctx, catalogID, func(id string, st *state) error {
		errs = nil
		tbl, err := findTable(st, dbName, tableName)
		if err != nil {
			return err
		}
		removed := 0
		for _, v := range values {
			k := partitionKey(v)
			if tbl.Partitions[k] == nil {
				errs = append(errs, partitionError(v, EntityNotFoundException, "Partition not found."))
				continue
			}
			delete(tbl.Partitions, k)
			removed++
		}
		if removed == 0 {
			return errNoChange
		}
		return nil
	})
	if errors.Is(err, errNoChange) {
		err = nil
	}
	return errs, err
}

func partitionError(values []string, code, msg string) PartitionError {
	return PartitionError{PartitionValues: values, ErrorDetail: ErrorDetail{ErrorCode: code, ErrorMessage: msg}}
}
