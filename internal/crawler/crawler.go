// Package crawler is Glue's crawlers over hydrant's bucket store: a crawl
// lists an S3 target's objects, tells their format (Parquet, JSON, CSV,
// compressed with GZIP, ZIP or Snappy), infers the columns, recognises
// Hive partitions (year=2026/...) and Firehose's plain 2026/11/25/10/
// layout (partition_0, partition_1, ... as Glue names them), and creates
// or updates the table and its partitions in the catalog. Crawlers run on
// StartCrawler and on their cron Schedule; their operations join the Glue
// API (catalog.Service.AddOps).
package crawler

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/catalog"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// Crawler is Glue's Crawler shape, as GetCrawler returns it (timestamps
// as awsJson epoch seconds).
type Crawler struct {
	Name               string             `json:"Name"`
	Role               string             `json:"Role"`
	Targets            Targets            `json:"Targets"`
	DatabaseName       string             `json:"DatabaseName,omitempty"`
	Description        string             `json:"Description,omitempty"`
	Classifiers        []string           `json:"Classifiers"`
	RecrawlPolicy      json.RawMessage    `json:"RecrawlPolicy,omitempty"`
	SchemaChangePolicy SchemaChangePolicy `json:"SchemaChangePolicy"`
	LineageConfig      json.RawMessage    `json:"LineageConfiguration,omitempty"`
	State              string             `json:"State"`
	TablePrefix        string             `json:"TablePrefix,omitempty"`
	Schedule           *Schedule          `json:"Schedule,omitempty"`
	CrawlElapsedTime   int64              `json:"CrawlElapsedTime"`
	CreationTime       catalog.Timestamp  `json:"CreationTime"`
	LastUpdated        catalog.Timestamp  `json:"LastUpdated"`
	LastCrawl          *LastCrawl         `json:"LastCrawl,omitempty"`
	Version            int64              `json:"Version"`
	Configuration      string             `json:"Configuration,omitempty"`
	Runs               []float64          `json:"hydrant:runs,omitempty"` // seconds of recent runs, for the median
	LastMetrics        *Metrics           `json:"hydrant:metrics,omitempty"`
	Tags               map[string]string  `json:"hydrant:tags,omitempty"`
}

// Targets are a crawler's data stores; hydrant crawls S3 targets.
type Targets struct {
	S3Targets []S3Target `json:"S3Targets"`
}

// S3Target is an S3 path and the glob patterns to exclude under it.
type S3Target struct {
	Path       string   `json:"Path"`
	Exclusions []string `json:"Exclusions,omitempty"`
	SampleSize *int     `json:"SampleSize,omitempty"`
}

// SchemaChangePolicy says what a crawl does with changed and vanished
// tables.
type SchemaChangePolicy struct {
	UpdateBehavior string `json:"UpdateBehavior"`
	DeleteBehavior string `json:"DeleteBehavior"`
}

// Schedule is a crawler's cron schedule.
type Schedule struct {
	ScheduleExpression string `json:"ScheduleExpression"`
	State              string `json:"State"`
}

// LastCrawl is the outcome of the most recent run.
type LastCrawl struct {
	Status        string            `json:"Status"`
	ErrorMessage  string            `json:"ErrorMessage,omitempty"`
	LogGroup      string            `json:"LogGroup"`
	LogStream     string            `json:"LogStream"`
	MessagePrefix string            `json:"MessagePrefix"`
	StartTime     catalog.Timestamp `json:"StartTime"`
}

// Metrics are what GetCrawlerMetrics reports of the last run.
type Metrics struct {
	TablesCreated int `json:"TablesCreated"`
	TablesUpdated int `json:"TablesUpdated"`
	TablesDeleted int `json:"TablesDeleted"`
}

// Glue's crawler errors.
const (
	crawlerRunning    = "CrawlerRunningException"
	crawlerNotRunning = "CrawlerNotRunningException"
	entityNotFound    = "EntityNotFoundException"
	alreadyExists     = "AlreadyExistsException"
	invalidInput      = "InvalidInputException"
)

// Options configure the crawlers.
type Options struct {
	Catalog *catalog.Catalog
	// Store lists and reads the objects of the local buckets.
	Objects objstore.Store
	// Describe reads the columns of Parquet files (the query engine's
	// DuckDB does it), as Hive types; paths are local store keys.
	Describe func(ctx context.Context, bucket string, keys []string) ([]catalog.Column, error)
	State    Store
	Model    *awsproto.Model
	Logger   *slog.Logger
	// Now is the clock; tests set it, nil is time.Now.
	Now func() time.Time
}

// Service serves the crawler operations and runs crawls.
type Service struct {
	o   Options
	log *slog.Logger

	mu       sync.Mutex
	crawlers map[string]*Crawler
	cancels  map[string]context.CancelFunc
	done     map[string]chan struct{}
	wg       sync.WaitGroup
	lastTick time.Time
	stop     chan struct{}
	stopOnce sync.Once
}

// New loads the crawlers; runs interrupted by a stop are recorded as
// FAILED.
func New(o Options) (*Service, error) {
	if o.Catalog == nil || o.Objects == nil || o.Model == nil {
		return nil, errors.New("crawler: Catalog, Objects and Model are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Service{o: o, log: o.Logger, crawlers: map[string]*Crawler{}, cancels: map[string]context.CancelFunc{},
		done: map[string]chan struct{}{}, stop: make(chan struct{})}
	s.lastTick = o.Now()
	if o.State != nil {
		list, err := o.State.Load(context.Background())
		if err != nil {
			s.log.Warn("crawler: some crawlers could not be read", "err", err)
		}
		for _, c := range list {
			if c.State != "READY" {
				c.State = "READY"
				c.LastCrawl = &LastCrawl{Status: "FAILED", ErrorMessage: "the crawl was interrupted: hydrant stopped",
					StartTime: c.LastUpdated, LogGroup: "/aws-glue/crawlers", LogStream: c.Name, MessagePrefix: c.Name}
				_ = o.State.Save(context.Background(), c)
			}
			s.crawlers[c.Name] = c
		}
	}
	return s, nil
}

// Run starts crawlers on their schedules until Close; it checks every
// interval (a minute is the schedules' resolution).
func (s *Service) Run(interval time.Duration) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.Tick(s.o.Now())
			}
		}
	}()
}

// Tick starts every scheduled crawler with a run time in (last tick, now]
// that is not already running. The scheduler calls it; tests call it with
// their own clock.
func (s *Service) Tick(now time.Time) {
	s.mu.Lock()
	from := s.lastTick
	s.lastTick = now
	var due []string
	for name, c := range s.crawlers {
		if c.Schedule == nil || c.Schedule.State != "SCHEDULED" || c.State != "READY" {
			continue
		}
		sched, err := parseSchedule(c.Schedule.ScheduleExpression)
		if err != nil {
			continue
		}
		if next := sched.next(from); !next.IsZero() && !next.After(now) {
			due = append(due, name)
		}
	}
	s.mu.Unlock()
	sort.Strings(due)
	for _, name := range due {
		if err := s.Start(context.Background(), name); err != nil {
			s.log.Warn("crawler: scheduled start", "crawler", name, "err", err)
		}
	}
}

// Close stops the scheduler and running crawls.
func (s *Service) Close() {
	s.stopOnce.Do(func() { close(s.stop) })
	s.mu.Lock()
	for _, c := range s.cancels {
		c()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Wait blocks until the named crawler is not running.
func (s *Service) Wait(name string) {
	s.mu.Lock()
	d := s.done[name]
	s.mu.Unlock()
	if d != nil {
		<-d
	}
}

func (s *Service) save(c *Crawler) error {
	if s.o.State == nil {
		return nil
	}
	if err := s.o.State.Save(context.Background(), c); err != nil {
		s.log.Error("crawler: save", "crawler", c.Name, "err", err)
		return awsproto.Internal()
	}
	return nil
}

func notFound(name string) error {
	return awsproto.Errorf(entityNotFound, "Crawler with name %s has not been found.", name)
}

// Start begins a crawl.
func (s *Service) Start(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.crawlers[name]
	if c == nil {
		return notFound(name)
	}
	if c.State != "READY" {
		return awsproto.Errorf(crawlerRunning, "Crawler with name %s has already started", name)
	}
	c.State = "RUNNING"
	start := s.o.Now()
	c.LastUpdated = catalog.Timestamp(start)
	_ = s.save(c)
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.cancels[name], s.done[name] = cancel, done
	cp := *c
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(done)
		m, err := s.crawl(rctx, &cp)
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.cancels, name)
		delete(s.done, name)
		cancel()
		c := s.crawlers[name]
		if c == nil {
			return
		}
		end := s.o.Now()
		lc := &LastCrawl{Status: "SUCCEEDED", StartTime: catalog.Timestamp(start), LogGroup: "/aws-glue/crawlers",
			LogStream: name, MessagePrefix: name}
		switch {
		case rctx.Err() != nil && c.State == "STOPPING":
			lc.Status = "CANCELLED"
		case err != nil:
			lc.Status, lc.ErrorMessage = "FAILED", err.Error()
			s.log.Warn("crawler: crawl failed", "crawler", name, "err", err)
		}
		c.State, c.LastCrawl = "READY", lc
		c.CrawlElapsedTime = 0
		c.LastMetrics = &m
		c.Runs = append(c.Runs, end.Sub(start).Seconds())
		if len(c.Runs) > 20 {
			c.Runs = c.Runs[len(c.Runs)-20:]
		}
		c.LastUpdated = catalog.Timestamp(end)
		_ = s.save(c)
	}()
	return nil
}

// Stop cancels a running crawl.
func (s *Service) Stop(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.crawlers[name]
	if c == nil {
		return notFound(name)
	}
	switch c.State {
	case "STOPPING":
		return awsproto.Errorf("CrawlerStoppingException", "Crawler with name %s is stopping", name)
	case "READY":
		return awsproto.Errorf(crawlerNotRunning, "Crawler with name %s isn't running.", name)
	}
	c.State = "STOPPING"
	_ = s.save(c)
	if cancel := s.cancels[name]; cancel != nil {
		cancel()
	}
	return nil
}

// metrics is GetCrawlerMetrics' entry of a crawler.
func (s *Service) metrics(c *Crawler) map[string]any {
	m := Metrics{}
	if c.LastMetrics != nil {
		m = *c.LastMetrics
	}
	last, median := 0.0, 0.0
	if n := len(c.Runs); n > 0 {
		last = c.Runs[n-1]
		sorted := slices.Clone(c.Runs)
		slices.Sort(sorted)
		median = sorted[n/2]
		if n%2 == 0 {
			median = (sorted[n/2-1] + sorted[n/2]) / 2
		}
	}
	left := 0.0
	if c.State == "RUNNING" {
		left = median
	}
	return map[string]any{"CrawlerName": c.Name, "TimeLeftSeconds": left, "StillEstimating": c.State == "RUNNING" && len(c.Runs) == 0,
		"LastRuntimeSeconds": last, "MedianRuntimeSeconds": median,
		"TablesCreated": m.TablesCreated, "TablesUpdated": m.TablesUpdated, "TablesDeleted": m.TablesDeleted}
}
