// Package athena serves the Amazon Athena API subset Athena users script
// against (awsJson 1.1, X-Amz-Target AmazonAthena.*): query executions
// with Athena's states, statistics, errors and paged results, written
// where Athena writes them (OUTPUT_LOCATION/<id>.csv and .metadata) in
// hydrant's bucket store; the primary workgroup; and the data catalog
// calls over internal/catalog. The SQL itself runs in an Engine
// (internal/query, embedded DuckDB), which this package does not link.
package athena

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// TargetPrefix is the X-Amz-Target prefix of the Athena API.
const TargetPrefix = "AmazonAthena"

// PrimaryWorkGroup is the one workgroup hydrant has.
const PrimaryWorkGroup = "primary"

// DataCatalog is the name of the Glue data catalog in Athena.
const DataCatalog = "AwsDataCatalog"

// Athena's error types.
const (
	InvalidRequestException = "InvalidRequestException"
	MetadataException       = "MetadataException"
)

// retention is how long Athena keeps query history.
const retention = 45 * 24 * time.Hour

// Options configure the service.
type Options struct {
	Engine  Engine
	Catalog *catalog.Catalog
	// Store is where results are written and read back (hydrant's bucket
	// store, the same one delivery writes to).
	Store objstore.Store
	// History keeps executions across restarts (nil: memory only).
	History History
	// TempDir holds result spools while queries run.
	TempDir string
	// OutputLocation is the primary workgroup's result location (default
	// s3://aws-athena-query-results-ACCOUNT-REGION/).
	OutputLocation string
	Region         string
	AccountID      string
	// Timeout cancels a query that runs longer (default 30 minutes);
	// Concurrency bounds the queries running at once (default 2), the
	// others wait QUEUED; MaxResultBytes bounds a result's size (0: none).
	Timeout        time.Duration
	Concurrency    int
	MaxResultBytes int64
	Logger         *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Service is the Athena API and the query executions behind it.
type Service struct {
	o     Options
	model *awsproto.Model
	log   *slog.Logger
	slots chan struct{}

	mu      sync.Mutex
	execs   map[string]*Execution
	tokens  map[string]string // ClientRequestToken -> ID
	cancels map[string]context.CancelCauseFunc
	done    map[string]chan struct{}
	saving  map[string]*initialSave // first records being written
	created time.Time
	wg      sync.WaitGroup
	closed  bool
}

// errStopped is the cause of a query's cancellation by StopQueryExecution.
var errStopped = errors.New("stopped")

// New builds the service and loads the history; executions that were
// queued or running when hydrant stopped are marked FAILED.
func New(o Options) (*Service, error) {
	if o.Engine == nil || o.Catalog == nil || o.Store == nil || o.TempDir == "" {
		return nil, errors.New("athena: Engine, Catalog, Store and TempDir are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 2
	}
	if o.OutputLocation == "" {
		o.OutputLocation = fmt.Sprintf("s3://aws-athena-query-results-%s-%s/", o.AccountID, o.Region)
	}
	if _, _, err := splitS3(o.OutputLocation); err != nil {
		return nil, fmt.Errorf("athena output location: %w", err)
	}
	if err := os.MkdirAll(o.TempDir, 0o755); err != nil {
		return nil, err
	}
	m, err := awsproto.LoadModel("athena-2017-05-18")
	if err != nil {
		return nil, err
	}
	s := &Service{o: o, model: m, log: o.Logger, slots: make(chan struct{}, o.Concurrency),
		execs: map[string]*Execution{}, tokens: map[string]string{}, cancels: map[string]context.CancelCauseFunc{},
		done: map[string]chan struct{}{}, saving: map[string]*initialSave{}, created: o.Now()}
	if o.History != nil {
		ctx := context.Background()
		list, err := o.History.Load(ctx)
		if err != nil {
			s.log.Warn("athena: some query history could not be read", "err", err)
		}
		now := o.Now()
		for _, e := range list {
			if now.Sub(e.Submitted) > retention {
				_ = o.History.Delete(ctx, e.ID)
				continue
			}
			if !e.Done() {
				e.State, e.Completed = StateFailed, now
				e.Error = &QueryError{Category: CategorySystem, Type: ErrInternal, Retryable: true,
					Message: "Query was interrupted: hydrant stopped while it was " + strings.ToLower(e.State)}
				e.StateChangeReason = e.Error.Message
				if err := o.History.Save(ctx, e); err != nil {
					return nil, fmt.Errorf("athena history: %w", err)
				}
			}
			s.execs[e.ID] = e
			if e.ClientRequestToken != "" {
				s.tokens[e.ClientRequestToken] = e.ID
			}
		}
	}
	return s, nil
}

// Close cancels running queries and waits for them.
func (s *Service) Close() {
	s.mu.Lock()
	s.closed = true
	for _, c := range s.cancels {
		c(errors.New("hydrant is stopping"))
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// splitS3 splits s3://bucket/prefix.
func splitS3(loc string) (string, string, error) {
	rest, ok := strings.CutPrefix(loc, "s3://")
	if !ok {
		return "", "", fmt.Errorf("%q is not an s3:// location", loc)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if err := objstore.ValidBucketName(bucket); err != nil {
		return "", "", err
	}
	return bucket, prefix, nil
}

// StartInput is what StartQueryExecution takes.
type StartInput struct {
	Query              string
	Catalog            string
	Database           string
	OutputLocation     string
	WorkGroup          string
	ClientRequestToken string
	Parameters         []string
}

// Start submits a query and returns its ID once its record is durable;
// the query runs in the background from the start (QUEUED until a slot is
// free, then RUNNING), while that record is written. A query whose record
// cannot be written is stopped and forgotten, and Start fails. The console
// calls it in-process; StartQueryExecution is this over the API.
func (s *Service) Start(ctx context.Context, in StartInput) (string, error) {
	if in.WorkGroup == "" {
		in.WorkGroup = PrimaryWorkGroup
	}
	if in.WorkGroup != PrimaryWorkGroup {
		return "", awsproto.Errorf(InvalidRequestException, "WorkGroup %s is not found.", in.WorkGroup)
	}
	if in.Catalog == "" {
		in.Catalog = DataCatalog
	}
	if !strings.EqualFold(in.Catalog, DataCatalog) {
		return "", awsproto.Errorf(InvalidRequestException, "Catalog %s is not found; hydrant has the Glue data catalog %s.", in.Catalog, DataCatalog)
	}
	if in.Database == "" {
		in.Database = catalog.DefaultDatabase
	}
	out := in.OutputLocation
	if out == "" {
		out = s.o.OutputLocation
	}
	if _, _, err := splitS3(out); err != nil {
		return "", awsproto.Errorf(InvalidRequestException, "outputLocation is not a valid S3 path: %v", err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return "", awsproto.Unavailable("hydrant is stopping")
	}
	if in.ClientRequestToken != "" {
		if id, ok := s.tokens[in.ClientRequestToken]; ok {
			same := s.execs[id].Query == in.Query
			is := s.saving[id]
			s.mu.Unlock()
			if !same {
				return "", awsproto.Errorf(InvalidRequestException, "Idempotent parameters do not match")
			}
			if is != nil {
				<-is.done
				if is.err != nil {
					return "", is.err
				}
			}
			return id, nil
		}
	}
	e := &Execution{ID: uuid.NewString(), Query: in.Query, Catalog: in.Catalog, Database: in.Database, WorkGroup: in.WorkGroup,
		Parameters: in.Parameters, ClientRequestToken: in.ClientRequestToken, State: StateQueued, Submitted: s.o.Now()}
	if !strings.HasSuffix(out, "/") {
		out += "/"
	}
	e.OutputLocation = out + e.ID + ".csv"
	s.execs[e.ID] = e
	if in.ClientRequestToken != "" {
		s.tokens[in.ClientRequestToken] = e.ID
	}
	// The query starts at once; its record is written meanwhile, and
	// Start returns once it is durable. The query's own saves wait for
	// this one (update), so none is overwritten by an older state.
	is := &initialSave{done: make(chan struct{})}
	s.saving[e.ID] = is
	rctx, cancel := context.WithCancelCause(context.Background())
	s.cancels[e.ID] = cancel
	done := make(chan struct{})
	s.done[e.ID] = done
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		s.run(rctx, e.ID)
	}()
	cp := *e
	s.mu.Unlock()
	is.err = s.save(context.WithoutCancel(ctx), &cp)
	close(is.done)
	if is.err != nil {
		// Not recorded, so not started: the query is stopped and
		// forgotten, and the caller told.
		cancel(errNotSaved)
		<-done
		s.mu.Lock()
		delete(s.execs, e.ID)
		if in.ClientRequestToken != "" && s.tokens[in.ClientRequestToken] == e.ID {
			delete(s.tokens, in.ClientRequestToken)
		}
		delete(s.saving, e.ID)
		s.mu.Unlock()
		return "", is.err
	}
	s.mu.Lock()
	delete(s.saving, e.ID)
	s.mu.Unlock()
	return e.ID, nil
}

// initialSave is the first write of an execution's record, which Start
// waits for while the query runs.
type initialSave struct {
	done chan struct{}
	err  error // set before done is closed
}

// errNotSaved cancels a query whose record could not be written.
var errNotSaved = errors.New("the query's record could not be written")

// save persists an execution; callers hold s.mu or own e.
func (s *Service) save(ctx context.Context, e *Execution) error {
	if s.o.History == nil {
		return nil
	}
	if err := s.o.History.Save(ctx, e); err != nil {
		s.log.Error("athena: save query history", "id", e.ID, "err", err)
		return awsproto.Internal()
	}
	return nil
}

// update changes an execution under the lock, then saves a copy of it
// outside the lock, so that readers see the change without waiting for
// the write. Only the execution's own goroutine updates it, after Start's
// first write, so its saves cannot overtake each other.
func (s *Service) update(id string, f func(e *Execution)) {
	s.mu.Lock()
	e := s.execs[id]
	f(e)
	cp := *e
	is := s.saving[id]
	s.mu.Unlock()
	if is != nil {
		// The first record is still being written: this one follows
		// it, or is dropped with the execution if that failed.
		<-is.done
		if is.err != nil {
			return
		}
	}
	_ = s.save(context.Background(), &cp)
}

// run takes a query through its states.
func (s *Service) run(ctx context.Context, id string) {
	defer func() {
		s.mu.Lock()
		if c := s.cancels[id]; c != nil {
			c(nil)
		}
		delete(s.cancels, id)
		delete(s.done, id)
		s.mu.Unlock()
	}()
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		s.finish(id, ctx, nil, Outcome{})
		return
	}
	release := func() { <-s.slots }
	// RUNNING is not saved: after a crash a QUEUED record is marked FAILED
	// as a RUNNING one would be, and the query is spared a write.
	var q Query
	s.mu.Lock()
	e := s.execs[id]
	e.State, e.Started = StateRunning, s.o.Now()
	q = Query{ID: e.ID, SQL: e.Query, Catalog: e.Catalog, Database: e.Database, Parameters: e.Parameters}
	s.mu.Unlock()
	tctx, cancel := context.WithTimeoutCause(ctx, s.o.Timeout, errTimeout)
	defer cancel()
	sp, err := newSpool(filepath.Join(s.o.TempDir, id+".result"), s.o.MaxResultBytes)
	if err != nil {
		release()
		s.finish(id, tctx, err, Outcome{})
		return
	}
	type result struct {
		out Outcome
		err error
	}
	done := make(chan result, 1)
	go func() {
		out, err := s.o.Engine.Run(tctx, q, sp)
		done <- result{out, err}
	}()
	// Cleanup waits for the engine, which may take a while to notice a
	// cancellation; the query's state does not.
	cleanup := func(r result) (Outcome, error) {
		defer release()
		defer os.Remove(sp.f.Name())
		err := r.err
		if cerr := sp.close(); err == nil {
			err = cerr
		}
		if err == nil && !sp.begun {
			err = sp.Begin(nil, false)
		}
		if err == nil && tctx.Err() == nil {
			err = s.storeResult(tctx, id, sp, r.out)
		}
		return r.out, err
	}
	select {
	case r := <-done:
		out, err := cleanup(r)
		s.finish(id, tctx, err, out)
	case <-tctx.Done():
		s.finish(id, tctx, nil, Outcome{})
		go func() { _, _ = cleanup(<-done) }()
	}
}

var errTimeout = errors.New("query timeout")

// storeResult writes the result file and its metadata.
func (s *Service) storeResult(ctx context.Context, id string, sp *spool, out Outcome) error {
	s.mu.Lock()
	e := s.execs[id]
	loc := e.OutputLocation
	if !sp.header {
		loc = strings.TrimSuffix(loc, ".csv") + ".txt"
		e.OutputLocation = loc
	}
	s.mu.Unlock()
	bucket, key, _ := splitS3(loc)
	if err := sp.store(ctx, s.o.Store, bucket, key); err != nil {
		s.log.Error("athena: write query results", "id", id, "location", loc, "err", err)
		return &QueryError{Category: CategorySystem, Type: ErrResultsWrite, Retryable: true,
			Message: "Unable to write the query results to " + loc + ": " + err.Error()}
	}
	return nil
}

// finish records a query's final state.
func (s *Service) finish(id string, ctx context.Context, err error, out Outcome) {
	now := s.o.Now()
	var qe *QueryError
	state := StateSucceeded
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, errStopped):
		state = StateCancelled
		qe = &QueryError{Category: CategoryUser, Type: ErrStopped, Message: "Query cancelled by user"}
	case errors.Is(cause, errTimeout):
		state = StateFailed
		qe = &QueryError{Category: CategoryUser, Type: ErrTimeout,
			Message: fmt.Sprintf("Query timeout: the query ran longer than %s (--query-timeout)", s.o.Timeout)}
	case ctx.Err() != nil:
		state = StateFailed
		qe = &QueryError{Category: CategorySystem, Type: ErrInternal, Retryable: true, Message: "Query was interrupted: " + context.Cause(ctx).Error()}
	case err != nil:
		state = StateFailed
		if !errors.As(err, &qe) {
			s.log.Error("athena: query failed", "id", id, "err", err)
			qe = &QueryError{Category: CategorySystem, Type: ErrInternal, Retryable: true, Message: "Internal error: " + err.Error()}
		}
	}
	s.update(id, func(e *Execution) {
		e.State, e.Completed = state, now
		if e.Started.IsZero() && state != StateCancelled {
			e.Started = now
		}
		e.StatementType, e.SubstatementType = out.StatementType, out.SubstatementType
		e.DataScanned, e.PlanningMillis = out.DataScannedBytes, out.Planning.Milliseconds()
		if qe != nil {
			e.Error, e.StateChangeReason = qe, qe.Message
		}
	})
}

// Stop cancels a queued or running query; a finished one is left alone.
func (s *Service) Stop(ctx context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.execs[id] == nil {
		return notFound(id)
	}
	if c := s.cancels[id]; c != nil {
		c(errStopped)
	}
	return nil
}

func notFound(id string) error {
	return awsproto.Errorf(InvalidRequestException, "QueryExecution %s was not found", id)
}

// Execution returns a copy of an execution.
func (s *Service) Execution(ctx context.Context, id string) (Execution, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.execs[id]
	if e == nil {
		return Execution{}, notFound(id)
	}
	return *e, nil
}

// Wait blocks until a query is done (or ctx ends) and returns it.
func (s *Service) Wait(ctx context.Context, id string) (Execution, error) {
	s.mu.Lock()
	done := s.done[id]
	s.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return Execution{}, ctx.Err()
		}
	}
	return s.Execution(ctx, id)
}

// ResultPage is one page of a query's result: rows of values (nil for
// NULL), the first page of a SELECT starting with the column names.
type ResultPage struct {
	Columns   []Column
	Rows      [][]*string
	NextToken string
}

// Results reads a page of a succeeded query's result from where it was
// stored.
func (s *Service) Results(ctx context.Context, id, token string, max int) (ResultPage, error) {
	e, err := s.Execution(ctx, id)
	if err != nil {
		return ResultPage{}, err
	}
	switch e.State {
	case StateSucceeded:
	case StateFailed, StateCancelled:
		return ResultPage{}, &awsproto.Error{Type: InvalidRequestException, Status: 400,
			Message: "Query did not finish successfully. Final query state: " + e.State + "\n" + e.StateChangeReason,
			Fields:  map[string]any{"AthenaErrorCode": "INVALID_INPUT"}}
	default:
		return ResultPage{}, &awsproto.Error{Type: InvalidRequestException, Status: 400,
			Message: "Query has not yet finished. Current state: " + e.State, Fields: map[string]any{"AthenaErrorCode": "INVALID_INPUT"}}
	}
	if max <= 0 || max > 1000 {
		max = 1000
	}
	tok := pageToken{}
	if token != "" {
		if tok, err = parseToken(token); err != nil {
			return ResultPage{}, awsproto.Errorf(InvalidRequestException, "Invalid NextToken")
		}
	}
	bucket, key, _ := splitS3(e.OutputLocation)
	meta, err := s.metadata(ctx, bucket, key)
	if err != nil {
		return ResultPage{}, err
	}
	rows, next, err := readPage(ctx, s.o.Store, bucket, key, meta.Header, len(meta.ColumnInfo), tok, max)
	if err != nil {
		if errors.Is(err, objstore.ErrNotFound) {
			return ResultPage{}, awsproto.Errorf(InvalidRequestException, "The query results at %s are gone", e.OutputLocation)
		}
		return ResultPage{}, err
	}
	return ResultPage{Columns: meta.ColumnInfo, Rows: rows, NextToken: next}, nil
}

// metadata reads a result's .metadata file.
func (s *Service) metadata(ctx context.Context, bucket, key string) (metadata, error) {
	rc, err := s.o.Store.Get(ctx, bucket, key+".metadata")
	if err != nil {
		if errors.Is(err, objstore.ErrNotFound) {
			return metadata{}, awsproto.Errorf(InvalidRequestException, "The query results at s3://%s/%s are gone", bucket, key)
		}
		return metadata{}, err
	}
	defer rc.Close()
	var m metadata
	if err := decodeJSON(rc, &m); err != nil {
		return metadata{}, err
	}
	return m, nil
}

// List returns the IDs of the executions, newest first.
func (s *Service) List(ctx context.Context) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]*Execution, 0, len(s.execs))
	for _, e := range s.execs {
		all = append(all, e)
	}
	slices.SortFunc(all, func(a, b *Execution) int {
		if c := b.Submitted.Compare(a.Submitted); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	ids := make([]string, len(all))
	for i, e := range all {
		ids[i] = e.ID
	}
	return ids
}
