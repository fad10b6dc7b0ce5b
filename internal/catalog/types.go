package catalog

import (
	"encoding/json"
	"time"
)

// Timestamp is an awsJson timestamp: epoch seconds as a JSON number.
type Timestamp time.Time

// MarshalJSON writes epoch seconds with millisecond precision.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(float64(time.Time(t).UnixMilli()) / 1000)
}

// UnmarshalJSON reads epoch seconds (integer or fractional).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*t = Timestamp(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

// Column is a table column: Glue's Column shape.
type Column struct {
	Name       string            `json:"Name"`
	Type       string            `json:"Type,omitempty"`
	Comment    *string           `json:"Comment,omitempty"`
	Parameters map[string]string `json:"Parameters,omitempty"`
}

// SerDeInfo names a table's serialization library.
type SerDeInfo struct {
	Name                 *string           `json:"Name,omitempty"`
	SerializationLibrary *string           `json:"SerializationLibrary,omitempty"`
	Parameters           map[string]string `json:"Parameters,omitempty"`
}

// StorageDescriptor is Glue's StorageDescriptor: where and how a table's
// data is stored, and its columns. Members hydrant does not interpret are
// kept as sent so that GetTable returns them.
type StorageDescriptor struct {
	Columns                []Column          `json:"Columns,omitempty"`
	Location               *string           `json:"Location,omitempty"`
	AdditionalLocations    []string          `json:"AdditionalLocations,omitempty"`
	InputFormat            *string           `json:"InputFormat,omitempty"`
	OutputFormat           *string           `json:"OutputFormat,omitempty"`
	Compressed             *bool             `json:"Compressed,omitempty"`
	NumberOfBuckets        *int              `json:"NumberOfBuckets,omitempty"`
	SerdeInfo              *SerDeInfo        `json:"SerdeInfo,omitempty"`
	BucketColumns          []string          `json:"BucketColumns,omitempty"`
	SortColumns            json.RawMessage   `json:"SortColumns,omitempty"`
	Parameters             map[string]string `json:"Parameters,omitempty"`
	SkewedInfo             json.RawMessage   `json:"SkewedInfo,omitempty"`
	StoredAsSubDirectories *bool             `json:"StoredAsSubDirectories,omitempty"`
	SchemaReference        json.RawMessage   `json:"SchemaReference,omitempty"`
}

// TableInput is what CreateTable and UpdateTable take.
type TableInput struct {
	Name              string             `json:"Name"`
	Description       *string            `json:"Description,omitempty"`
	Owner             *string            `json:"Owner,omitempty"`
	LastAccessTime    *Timestamp         `json:"LastAccessTime,omitempty"`
	LastAnalyzedTime  *Timestamp         `json:"LastAnalyzedTime,omitempty"`
	Retention         *int               `json:"Retention,omitempty"`
	StorageDescriptor *StorageDescriptor `json:"StorageDescriptor,omitempty"`
	PartitionKeys     []Column           `json:"PartitionKeys,omitempty"`
	ViewOriginalText  *string            `json:"ViewOriginalText,omitempty"`
	ViewExpandedText  *string            `json:"ViewExpandedText,omitempty"`
	TableType         *string            `json:"TableType,omitempty"`
	Parameters        map[string]string  `json:"Parameters,omitempty"`
	TargetTable       json.RawMessage    `json:"TargetTable,omitempty"`
}

// Table is one version of a table as GetTable returns it.
type Table struct {
	TableInput
	DatabaseName                  string     `json:"DatabaseName"`
	CatalogId                     string     `json:"CatalogId"`
	VersionId                     string     `json:"VersionId"`
	CreateTime                    *Timestamp `json:"CreateTime,omitempty"`
	UpdateTime                    *Timestamp `json:"UpdateTime,omitempty"`
	CreatedBy                     string     `json:"CreatedBy,omitempty"`
	IsRegisteredWithLakeFormation bool       `json:"IsRegisteredWithLakeFormation"`
	IsMultiDialectView            bool       `json:"IsMultiDialectView"`
}

// Columns returns the table's data columns (StorageDescriptor.Columns).
// Partition keys are not stored in the data files, so they are not included.
func (t *Table) Columns() []Column {
	if t.StorageDescriptor == nil {
		return nil
	}
	return t.StorageDescriptor.Columns
}

// DatabaseInput is what CreateDatabase takes.
type DatabaseInput struct {
	Name                          string            `json:"Name"`
	Description                   *string           `json:"Description,omitempty"`
	LocationUri                   *string           `json:"LocationUri,omitempty"`
	Parameters                    map[string]string `json:"Parameters,omitempty"`
	CreateTableDefaultPermissions json.RawMessage   `json:"CreateTableDefaultPermissions,omitempty"`
	TargetDatabase                json.RawMessage   `json:"TargetDatabase,omitempty"`
}

// Database is a database as GetDatabase returns it.
type Database struct {
	DatabaseInput
	CreateTime *Timestamp `json:"CreateTime,omitempty"`
	CatalogId  string     `json:"CatalogId"`
}

// storedTable is a table with every version, newest last.
type storedTable struct {
	Versions []Table `json:"versions"`
	// Partitions are the table's partitions, keyed by their values joined
	// with NUL; they belong to the table, not to a version.
	Partitions map[string]*Partition `json:"partitions,omitempty"`
}

func (s *storedTable) latest() *Table { return &s.Versions[len(s.Versions)-1] }

// storedDatabase is a database and its tables, keyed by lower-case name.
type storedDatabase struct {
	Database Database                `json:"database"`
	Tables   map[string]*storedTable `json:"tables"`
}

// state is everything one catalog (one catalog ID) holds, as persisted.
type state struct {
	Version   int                        `json:"v"`
	Databases map[string]*storedDatabase `json:"databases"`
}
