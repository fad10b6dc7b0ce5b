// Package lambda runs functions for hydrant: the subset of the AWS Lambda
// API that the aws CLI and SDKs use to create, update and invoke functions
// (REST-JSON under /2015-03-31/functions), local execution of those
// functions as processes that speak the Lambda Runtime API, and invocation
// of functions hydrant does not host through a Lambda endpoint.
//
// A function's configuration and package live in <data-dir>/functions and
// survive restarts. Instances are started on demand (python3.* with the
// machine's python3 and a bootstrap shipped in hydrant, nodejs* with node,
// provided.* with the package's own bootstrap), kept warm, run several at
// once, and are killed and replaced on timeout or crash. What a function
// prints is its log, framed by START, END and REPORT lines.
package lambda

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	hstate "github.com/hydrant-io/hydrant/internal/state"
)

// Options configure the Lambda service.
type Options struct {
	// Dir is where functions are kept (<data-dir>/functions).
	Dir       string
	Region    string
	AccountID string
	Logger    *slog.Logger
	// Python and Node are the interpreters for python3.* and nodejs*
	// functions; "" means python3 and node from PATH.
	Python, Node string
	// Concurrency is how many instances of one function may run at once
	// (default 4).
	Concurrency int
	// EndpointURL, when set, is given to functions as AWS_ENDPOINT_URL so
	// that their SDK calls reach hydrant.
	EndpointURL string
	// InitTimeout bounds a runtime's initialization before it starts
	// counting against the function's Timeout (default 10s, as Lambda).
	InitTimeout time.Duration
	// IdleTimeout is how long a warm instance waits for an event before it
	// is stopped (default 10 minutes).
	IdleTimeout time.Duration
	// QueueWait is how long an invocation waits for a free instance when
	// all Concurrency instances are busy before it is throttled with
	// TooManyRequestsException (default 30s).
	QueueWait time.Duration
	// LogBytes bounds each function's kept log (default 1 MiB).
	LogBytes int
	// State, when set, is the state store a cluster shares: functions and
	// their packages are kept there instead of in Dir (which then holds
	// this node's copies of the packages), and functions created, changed
	// or deleted on other nodes are followed.
	State hstate.Store
	// LogSink, when set, receives every line functions log, as Lambda
	// sends them to CloudWatch Logs (hydrant's Logs service).
	LogSink LogSink
	// Roles, when set, must hold every function's Role (--require-roles).
	Roles RoleChecker
	// Credentials, when set, issues each instance's temporary credentials
	// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) for the
	// function's role, valid for d; hydrant's STS issues keys its verifier
	// accepts, so functions can call hydrant's APIs under --credentials.
	Credentials func(ctx context.Context, roleARN, sessionName string, d time.Duration) (Credentials, error)
	// RevokeCredentials, when set, is told an instance's access key when
	// the instance stops.
	RevokeCredentials func(accessKeyID string)
	// Observer receives the AWS/Lambda metrics of every invocation; nil
	// means none.
	Observer Observer
}

// Observer is told about invocations of hosted functions (the AWS/Lambda
// CloudWatch metrics). It is called on the invoking goroutine and must
// not block.
type Observer interface {
	// FunctionInvoked reports an invocation that ran: how long it took,
	// whether the function failed (an error, a timeout, a crash), how
	// many invocations of the function were running when it started
	// (itself included) and how many of every function.
	FunctionInvoked(function string, took time.Duration, failed bool, concurrent, total int)
	// FunctionThrottled reports an invocation refused with
	// TooManyRequestsException.
	FunctionThrottled(function string)
}

// LogSink receives every line hosted functions log, as Lambda sends them
// to CloudWatch Logs: to the function's log group (LoggingConfig.LogGroup,
// /aws/lambda/NAME by default) and its instance's stream
// (YYYY/MM/DD/[$LATEST]<instance id>). It is called from the goroutine
// that reads the instance's output and must not block.
type LogSink interface {
	FunctionLog(group, stream string, timestamp int64, line string)
}

// logGroupOf is where a function's logs go.
func logGroupOf(c FunctionConfiguration) string {
	if g := c.LoggingConfig.LogGroup; g != "" {
		return g
	}
	return "/aws/lambda/" + c.FunctionName
}

func (o *Options) defaults() {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccountID == "" {
		o.AccountID = "000000000000"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.InitTimeout <= 0 {
		o.InitTimeout = 10 * time.Second
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 10 * time.Minute
	}
	if o.QueueWait <= 0 {
		o.QueueWait = 30 * time.Second
	}
	if o.LogBytes <= 0 {
		o.LogBytes = 1 << 20
	}
}

// Service hosts functions: it serves the Lambda API, runs instances, and
// is the Invoker for the functions it hosts.
type Service struct {
	opts   Options
	log    *slog.Logger
	model  *awsproto.Model
	store  *store
	runDir string
	interp *interpreters

	mu      sync.RWMutex
	fns     map[string]*function
	pending map[string]bool // names being created
	closed  bool

	snapSeq  atomic.Uint64
	running  atomic.Int64    // invocations in progress, every function
	bg       context.Context // background (Event) invocations
	bgCancel context.CancelFunc
	wg       sync.WaitGroup
}

var _ Invoker = (*Service)(nil)

// function is one hosted function. rec is replaced, never changed in
// place, so readers may keep the pointer they got under the lock.
type function struct {
	rec     *record
	pool    *pool
	logs    *logRing
	running atomic.Int64 // invocations in progress
}

// Open loads the functions kept in opts.Dir and prepares the runtimes.
// No instance starts until a function is invoked.
func Open(opts Options) (*Service, error) {
	opts.defaults()
	if opts.Dir == "" {
		return nil, fmt.Errorf("lambda: Options.Dir is required")
	}
	// Instances run in their code directory: every path they are given
	// must be absolute.
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("lambda: %w", err)
	}
	opts.Dir = dir
	m, err := awsproto.LoadModel("lambda-2015-03-31")
	if err != nil {
		return nil, err
	}
	st, err := openStore(opts.Dir, opts.State, opts.Logger)
	if err != nil {
		return nil, err
	}
	s := &Service{
		opts: opts, log: opts.Logger, model: m,
		store:   st,
		runDir:  filepath.Join(opts.Dir, ".run"),
		fns:     map[string]*function{},
		pending: map[string]bool{},
	}
	var watch <-chan hstate.Event
	s.bg, s.bgCancel = context.WithCancel(context.Background())
	if st.shared {
		// Watch first, so nothing changed after the load below is missed.
		if watch, err = st.st.Watch(s.bg, st.prefix); err != nil {
			s.bgCancel()
			return nil, fmt.Errorf("lambda: follow functions: %w", err)
		}
	}
	recs, err := s.store.load(context.Background())
	if err != nil {
		s.bgCancel()
		return nil, err
	}
	// Unpacked code and instance scratch space are rebuilt on demand.
	if err := os.RemoveAll(s.runDir); err != nil {
		return nil, fmt.Errorf("clean %s: %w", s.runDir, err)
	}
	if s.interp, err = setupRuntimes(filepath.Join(s.runDir, "runtime"), opts.Python, opts.Node); err != nil {
		return nil, err
	}
	for name, rec := range recs {
		rec.Config.FunctionArn = functionARN(opts.Region, opts.AccountID, name)
		s.fns[name] = s.newFunction(rec)
	}
	if watch != nil {
		s.wg.Add(1)
		go s.follow(watch)
	}
	s.wg.Add(1)
	go s.janitor()
	s.log.Info("lambda functions loaded", "count", len(recs), "python", s.interp.python, "node", s.interp.node)
	return s, nil
}

func (s *Service) newFunction(rec *record) *function {
	logs := newLogRing(s.opts.LogBytes)
	return &function{rec: rec, logs: logs, pool: newPool(s, s.snapshotOf(rec), s.opts.Concurrency, logs)}
}

// snapshotOf derives what instances of rec's current version need.
func (s *Service) snapshotOf(rec *record) *snapshot {
	c := rec.Config
	kind, _ := runtimeKindOf(c.Runtime)
	env := map[string]string{}
	if c.Environment != nil {
		for k, v := range c.Environment.Variables {
			env[k] = v
		}
	}
	seq := s.snapSeq.Add(1)
	return &snapshot{
		name: c.FunctionName, arn: c.FunctionArn, role: c.Role, runtime: c.Runtime, handler: c.Handler,
		kind: kind, memory: c.MemorySize, timeout: time.Duration(c.Timeout) * time.Second, env: env,
		codePath: s.store.codePath(c.FunctionName, rec.CodeFile),
		taskDir:  filepath.Join(s.runDir, "task", c.FunctionName+"-"+strconv.FormatUint(seq, 10)),
		logGroup: logGroupOf(c),
	}
}

// Close stops every instance and waits for background invocations.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	fns := make([]*function, 0, len(s.fns))
	for _, fn := range s.fns {
		fns = append(fns, fn)
	}
	s.mu.Unlock()
	s.bgCancel()
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Add(1)
		go func() { defer wg.Done(); fn.pool.close() }()
	}
	wg.Wait()
	s.wg.Wait()
	return nil
}

// janitor stops instances that have been idle too long.
func (s *Service) janitor() {
	defer s.wg.Done()
	every := min(s.opts.IdleTimeout/2, 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.bg.Done():
			return
		case <-t.C:
		}
		s.mu.RLock()
		pools := make([]*pool, 0, len(s.fns))
		for _, fn := range s.fns {
			pools = append(pools, fn.pool)
		}
		s.mu.RUnlock()
		for _, p := range pools {
			p.reap(s.opts.IdleTimeout)
		}
	}
}

// lookup finds a hosted function by name. In a cluster a name not known
// here is looked up in the shared store: created on another node a moment
// ago.
func (s *Service) lookup(name string) (*function, *record) {
	s.mu.RLock()
	fn := s.fns[name]
	s.mu.RUnlock()
	if fn == nil && s.store.shared {
		s.learn(name)
		s.mu.RLock()
		fn = s.fns[name]
		s.mu.RUnlock()
	}
	if fn == nil {
		return nil, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn, fn.rec
}

// Has reports whether hydrant hosts a function of this name.
func (s *Service) Has(name string) bool {
	fn, _ := s.lookup(name)
	return fn != nil
}

// Names lists the hosted functions, sorted.
func (s *Service) Names() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.fns))
	for n := range s.fns {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Logs returns a function's kept log lines, oldest first; ok is false if
// there is no such function.
func (s *Service) Logs(name string) (events []LogEvent, ok bool) {
	fn, _ := s.lookup(name)
	if fn == nil {
		return nil, false
	}
	return fn.logs.snapshot(), true
}

// Configuration returns a hosted function's configuration, as
// GetFunctionConfiguration answers it; ok is false if there is no such
// function.
func (s *Service) Configuration(name string) (cfg FunctionConfiguration, ok bool) {
	_, rec := s.lookup(name)
	if rec == nil {
		return FunctionConfiguration{}, false
	}
	return rec.Config, true
}

// Instances counts a function's running and warm instances.
func (s *Service) Instances(name string) (live, idle int) {
	fn, _ := s.lookup(name)
	if fn == nil {
		return 0, 0
	}
	return fn.pool.stats()
}
