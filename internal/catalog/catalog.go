// Package catalog is a Glue-compatible data catalog: databases and versioned
// tables with Glue's shapes, names and error types, persisted in the data
// dir. Record format conversion reads its table schemas from here, and the
// Glue API subset people use to define tables (CreateTable, GetTable, ...)
// is served over awsJson1_1 with X-Amz-Target: AWSGlue.<Operation>.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	hstate "github.com/hydrant-io/hydrant/internal/state"
)

// DefaultDatabase exists in every catalog, as in Glue.
const DefaultDatabase = "default"

// ErrNotFound is wrapped by every "not found" error (database or table).
var ErrNotFound = errors.New("entity not found")

// ErrExists is wrapped when a database or table already exists.
var ErrExists = errors.New("already exists")

// ErrConcurrent is wrapped when UpdateTable's VersionId is not the latest.
var ErrConcurrent = errors.New("concurrent modification")

// Error is a catalog error with Glue's message ("Database x not found.",
// "Table already exists.", ...); it wraps ErrNotFound, ErrExists or
// ErrConcurrent.
type Error struct {
	Kind    error
	Message string
}

// Error is Glue's message.
func (e *Error) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrNotFound) and friends hold.
func (e *Error) Unwrap() error { return e.Kind }

// Catalog is the store: every catalog ID's databases and tables, kept in
// memory and written to <dir>/<catalogId>.json atomically on each change.
type Catalog struct {
	store     hstate.Store
	prefix    string // keys: <prefix><catalogId>.json
	shared    bool   // other nodes change the store too
	accountID string
	log       *slog.Logger
	now       func() time.Time

	mu       sync.Mutex
	catalogs map[string]*state
	revs     map[string]uint64 // store revision of each catalog's state
}

// Open loads the catalog kept in dir (<data-dir>/catalog), creating it when
// missing. accountID is the default catalog ID.
func Open(dir, accountID string, log *slog.Logger) (*Catalog, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	base := filepath.Base(dir)
	st, err := hstate.OpenLocal(filepath.Dir(dir), base+"/*.json")
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	return OpenStore(context.Background(), st, base+"/", false, accountID, log)
}

// OpenStore loads the catalog kept in a state store under prefix (each
// catalog ID's databases and tables in one key, "<prefix><id>.json"). With
// shared, other nodes change the store too: every call reads the latest
// version first, and changes are compare-and-set, retried on conflict.
func OpenStore(ctx context.Context, store hstate.Store, prefix string, shared bool, accountID string, log *slog.Logger) (*Catalog, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Catalog{store: store, prefix: prefix, shared: shared, accountID: accountID, log: log, now: time.Now,
		catalogs: map[string]*state{}, revs: map[string]uint64{}}
	entries, err := store.List(ctx, prefix)
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(strings.TrimPrefix(e.Key, prefix), ".json")
		if !ok || strings.Contains(name, "/") {
			continue
		}
		st, err := decodeState(e.Value)
		if err != nil {
			return nil, fmt.Errorf("open catalog %s: %w", e.Key, err)
		}
		c.catalogs[name], c.revs[name] = st, e.Revision
	}
	return c, nil
}

func decodeState(b []byte) (*state, error) {
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Databases == nil {
		st.Databases = map[string]*storedDatabase{}
	}
	return &st, nil
}

// AccountID is the default catalog ID.
func (c *Catalog) AccountID() string { return c.accountID }

// catalog returns (creating in memory) the state of a catalog ID, with its
// default database. Callers hold c.mu.
func (c *Catalog) catalog(id string) (string, *state) {
	if id == "" {
		id = c.accountID
	}
	st := c.catalogs[id]
	if st == nil {
		st = &state{Version: 1, Databases: map[string]*storedDatabase{}}
		c.catalogs[id] = st
	}
	if st.Databases[DefaultDatabase] == nil {
		created := Timestamp(c.now())
		st.Databases[DefaultDatabase] = &storedDatabase{
			Database: Database{
				DatabaseInput: DatabaseInput{Name: DefaultDatabase, Description: ptr("Default Hive database")},
				CreateTime:    &created, CatalogId: id,
			},
			Tables: map[string]*storedTable{},
		}
	}
	return id, st
}

// refresh reads a catalog ID's latest state from a shared store, so that
// a change made on another node shows at once. Callers hold c.mu.
func (c *Catalog) refresh(ctx context.Context, catalogID string) {
	if !c.shared {
		return
	}
	id := catalogID
	if id == "" {
		id = c.accountID
	}
	name := fileName(id)
	e, err := c.store.Get(ctx, c.prefix+name+".json")
	if err != nil {
		if !errors.Is(err, hstate.ErrNotFound) {
			c.log.Warn("catalog: read the shared state", "catalog", id, "err", err)
		}
		return
	}
	if e.Revision <= c.revs[name] {
		return
	}
	st, err := decodeState(e.Value)
	if err != nil {
		c.log.Error("catalog: unreadable shared state", "catalog", id, "err", err)
		return
	}
	c.catalogs[id], c.revs[name] = st, e.Revision
}

// mutate applies fn to a catalog ID's state and stores the result; when
// another node changed the state in between, it applies fn again to the
// newer state. fn checks before it changes anything: when it returns an
// error, nothing has changed.
func (c *Catalog) mutate(ctx context.Context, catalogID string, fn func(id string, st *state) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		c.refresh(ctx, catalogID)
		id, st := c.catalog(catalogID)
		if err := fn(id, st); err != nil {
			return err
		}
		err := c.commit(ctx, id)
		if !errors.Is(err, hstate.ErrConflict) {
			return err
		}
	}
}

// commit persists a change; when it cannot be persisted the change is
// undone in memory too (the stored state is read again), so that what is
// served is what is stored. Callers hold c.mu.
func (c *Catalog) commit(ctx context.Context, id string) error {
	name := fileName(id)
	b, err := json.MarshalIndent(c.catalogs[id], "", " ")
	if err != nil {
		return err
	}
	rev, err := c.store.Put(ctx, c.prefix+name+".json", b, c.revs[name])
	if err == nil {
		c.revs[name] = rev
		return nil
	}
	delete(c.catalogs, id)
	delete(c.revs, name)
	if e, gerr := c.store.Get(ctx, c.prefix+name+".json"); gerr == nil {
		if st, derr := decodeState(e.Value); derr == nil {
			c.catalogs[id], c.revs[name] = st, e.Revision
		}
	}
	if errors.Is(err, hstate.ErrConflict) {
		return err
	}
	return fmt.Errorf("save catalog: %w", err)
}

// fileName is the key (file) name of a catalog ID's state. The ID is used
// as a file name, so it is kept to what account IDs look like: no ID can
// name a path outside the catalog.
func fileName(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
}

func dbNotFound(name string) error {
	return &Error{Kind: ErrNotFound, Message: "Database " + name + " not found."}
}

func tableNotFound(name string) error {
	return &Error{Kind: ErrNotFound, Message: "Table " + name + " not found."}
}

// CreateDatabase adds a database; names are stored lower-case, as Glue does.
func (c *Catalog) CreateDatabase(ctx context.Context, catalogID string, in DatabaseInput) error {
	in.Name = strings.ToLower(in.Name)
	return c.mutate(ctx, catalogID, func(id string, st *state) error {
		if st.Databases[in.Name] != nil {
			return &Error{Kind: ErrExists, Message: "Database already exists."}
		}
		created := Timestamp(c.now())
		st.Databases[in.Name] = &storedDatabase{
			Database: Database{DatabaseInput: in, CreateTime: &created, CatalogId: id},
			Tables:   map[string]*storedTable{},
		}
		return nil
	})
}

// GetDatabase returns a database.
func (c *Catalog) GetDatabase(ctx context.Context, catalogID, name string) (*Database, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(ctx, catalogID)
	_, st := c.catalog(catalogID)
	db := st.Databases[strings.ToLower(name)]
	if db == nil {
		return nil, dbNotFound(name)
	}
	d := db.Database
	return &d, nil
}

// Databases returns every database, sorted by name.
func (c *Catalog) Databases(ctx context.Context, catalogID string) []Database {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(ctx, catalogID)
	_, st := c.catalog(catalogID)
	out := make([]Database, 0, len(st.Databases))
	for _, db := range st.Databases {
		out = append(out, db.Database)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DeleteDatabase removes a database and its tables.
func (c *Catalog) DeleteDatabase(ctx context.Context, catalogID, name string) error {
	name = strings.ToLower(name)
	return c.mutate(ctx, catalogID, func(id string, st *state) error {
		if st.Databases[name] == nil {
			return dbNotFound(name)
		}
		delete(st.Databases, name)
		return nil
	})
}

// CreateTable adds a table at version 0.
func (c *Catalog) CreateTable(ctx context.Context, catalogID, dbName string, in TableInput) error {
	in.Name = strings.ToLower(in.Name)
	return c.mutate(ctx, catalogID, func(id string, st *state) error {
		db := st.Databases[strings.ToLower(dbName)]
		if db == nil {
			return dbNotFound(dbName)
		}
		if db.Tables[in.Name] != nil {
			return &Error{Kind: ErrExists, Message: "Table already exists."}
		}
		now := Timestamp(c.now())
		t := Table{TableInput: in, DatabaseName: db.Database.Name, CatalogId: id, VersionId: "0", CreateTime: &now, UpdateTime: &now}
		db.Tables[in.Name] = &storedTable{Versions: []Table{t}}
		return nil
	})
}

// UpdateTable stores in as a new version of an existing table. When
// versionID is set it must be the latest version (optimistic locking).
func (c *Catalog) UpdateTable(ctx context.Context, catalogID, dbName string, in TableInput, versionID string) error {
	in.Name = strings.ToLower(in.Name)
	return c.mutate(ctx, catalogID, func(id string, st *state) error {
		db := st.Databases[strings.ToLower(dbName)]
		if db == nil {
			return dbNotFound(dbName)
		}
		tbl := db.Tables[in.Name]
		if tbl == nil {
			return tableNotFound(in.Name)
		}
		last := tbl.latest()
		if versionID != "" && versionID != last.VersionId {
			return &Error{Kind: ErrConcurrent, Message: "Update table failed due to concurrent modifications."}
		}
		n, _ := strconv.Atoi(last.VersionId)
		now := Timestamp(c.now())
		t := Table{TableInput: in, DatabaseName: db.Database.Name, CatalogId: id, VersionId: strconv.Itoa(n + 1),
			CreateTime: last.CreateTime, UpdateTime: &now}
		tbl.Versions = append(tbl.Versions, t)
		return nil
	})
}

// DeleteTable removes a table and its versions.
func (c *Catalog) DeleteTable(ctx context.Context, catalogID, dbName, name string) error {
	name = strings.ToLower(name)
	return c.mutate(ctx, catalogID, func(id string, st *state) error {
		db := st.Databases[strings.ToLower(dbName)]
		if db == nil {
			return dbNotFound(dbName)
		}
		if db.Tables[name] == nil {
			return tableNotFound(name)
		}
		delete(db.Tables, name)
		return nil
	})
}

// Table returns one version of a table: versionID "" or "LATEST" means the
// newest. Errors wrap ErrNotFound when the database, table or version does
// not exist. Record format conversion calls it at every delivery, so that a
// new table version is picked up automatically.
func (c *Catalog) Table(ctx context.Context, catalogID, dbName, name, versionID string) (*Table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(ctx, catalogID)
	_, st := c.catalog(catalogID)
	db := st.Databases[strings.ToLower(dbName)]
	if db == nil {
		return nil, dbNotFound(dbName)
	}
	tbl := db.Tables[strings.ToLower(name)]
	if tbl == nil {
		return nil, tableNotFound(name)
	}
	if versionID == "" || strings.EqualFold(versionID, "LATEST") {
		t := *tbl.latest()
		return &t, nil
	}
	for _, v := range tbl.Versions {
		if v.VersionId == versionID {
			t := v
			return &t, nil
		}
	}
	return nil, &Error{Kind: ErrNotFound, Message: "Version " + versionID + " of table " + name + " not found."}
}

// Tables returns the latest version of every table of a database, sorted
// by name.
func (c *Catalog) Tables(ctx context.Context, catalogID, dbName string) ([]Table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(ctx, catalogID)
	_, st := c.catalog(catalogID)
	db := st.Databases[strings.ToLower(dbName)]
	if db == nil {
		return nil, dbNotFound(dbName)
	}
	out := make([]Table, 0, len(db.Tables))
	for _, t := range db.Tables {
		out = append(out, *t.latest())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// TableVersions returns every version of a table, newest first, as Glue
// lists them.
func (c *Catalog) TableVersions(ctx context.Context, catalogID, dbName, name string) ([]Table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refresh(ctx, catalogID)
	_, st := c.catalog(catalogID)
	db := st.Databases[strings.ToLower(dbName)]
	if db == nil {
		return nil, dbNotFound(dbName)
	}
	tbl := db.Tables[strings.ToLower(name)]
	if tbl == nil {
		return nil, tableNotFound(name)
	}
	out := make([]Table, 0, len(tbl.Versions))
	for i := len(tbl.Versions) - 1; i >= 0; i-- {
		out = append(out, tbl.Versions[i])
	}
	return out, nil
}

func ptr[T any](v T) *T { return &v }
