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

// table finds a table for a change or a read. Callers hold c.mu.
func (c *Catalog) table(catalogID, dbName, name string) (string, *storedTable, error) {
	id, st := c.catalog(catalogID)
	db := st.Databases[strings.ToLower(dbName)]
	if db == nil {
		return "", nil, dbNotFound(dbName)
	}
	tbl := db.Tables[strings.ToLower(name)]
	if tbl == nil {
		return "", nil, tableNotFound(name)
	}
	return id, tbl, nil
}

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
	c.mu.Lock()
	defer c.mu.Unlock()
	id, tbl, err := c.table(catalogID, dbName, tableName)
	if err != nil {
		return nil, err
	}
	t := tbl.latest()
	if tbl.Partitions == nil {
		tbl.Partitions = map[string]*Partition{}
	}
	var errs []PartitionError
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
		return errs, nil
	}
	return errs, c.commit(id)
}

// UpdatePartition replaces the partition with values by in (whose values
// may differ: the partition moves).
func (c *Catalog) UpdatePartition(ctx context.Context, catalogID, dbName, tableName string, values []string, in PartitionInput) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, tbl, err := c.table(catalogID, dbName, tableName)
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
	return c.commit(id)
}

// Partition returns one partition of a table.
func (c *Catalog) Partition(ctx context.Context, catalogID, dbName, tableName string, values []string) (*Partition, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, tbl, err := c.table(catalogID, dbName, tableName)
	if err != nil {
		return nil, err
	}
	p := tbl.Partitions[partitionKey(values)]
	if p == nil {
		return nil, partitionNotFound()
	}
	cp := *p
	return &cp, nil
}

// Partitions returns every partition of a table, ordered by values.
func (c *Catalog) Partitions(ctx context.Context, catalogID, dbName, tableName string) ([]Partition, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, tbl, err := c.table(catalogID, dbName, tableName)
	if err != nil {
		return nil, err
	}
	out := make([]Partition, 0, len(tbl.Partitions))
	for _, p := range tbl.Partitions {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b Partition) int { return slices.Compare(a.Values, b.Values) })
	return out, nil
}

// DeletePartitions removes partitions; those that do not exist are
// reported in the returned errors, as BatchDeletePartition does.
func (c *Catalog) DeletePartitions(ctx context.Context, catalogID, dbName, tableName string, values [][]string) ([]PartitionError, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, tbl, err := c.table(catalogID, dbName, tableName)
	if err != nil {
		return nil, err
	}
	var errs []PartitionError
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
		return errs, nil
	}
	return errs, c.commit(id)
}

func partitionError(values []string, code, msg string) PartitionError {
	return PartitionError{PartitionValues: values, ErrorDetail: ErrorDetail{ErrorCode: code, ErrorMessage: msg}}
}
