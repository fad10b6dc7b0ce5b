package crawler

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/catalog"
)

// Ops are the crawler operations of the Glue API, for
// catalog.Service.AddOps.
func (s *Service) Ops() map[string]awsproto.JSONHandler {
	return map[string]awsproto.JSONHandler{
		"CreateCrawler":     s.createCrawler,
		"UpdateCrawler":     s.updateCrawler,
		"GetCrawler":        s.getCrawler,
		"GetCrawlers":       s.getCrawlers,
		"ListCrawlers":      s.listCrawlers,
		"DeleteCrawler":     s.deleteCrawler,
		"StartCrawler":      s.startCrawler,
		"StopCrawler":       s.stopCrawler,
		"GetCrawlerMetrics": s.getCrawlerMetrics,
	}
}

// crawlerInput is what CreateCrawler and UpdateCrawler take.
type crawlerInput struct {
	Name         string
	Role         *string
	DatabaseName *string
	Description  *string
	Targets      *struct {
		S3Targets       []S3Target
		JdbcTargets     json.RawMessage
		MongoDBTargets  json.RawMessage
		DynamoDBTargets json.RawMessage
		CatalogTargets  json.RawMessage
		DeltaTargets    json.RawMessage
		IcebergTargets  json.RawMessage
		HudiTargets     json.RawMessage
	}
	Schedule                     *string
	Classifiers                  []string
	TablePrefix                  *string
	SchemaChangePolicy           *SchemaChangePolicy
	RecrawlPolicy                json.RawMessage
	LineageConfiguration         json.RawMessage
	LakeFormationConfiguration   json.RawMessage
	Configuration                *string
	CrawlerSecurityConfiguration *string
	Tags                         map[string]string
}

// apply checks an input and applies it to c.
func (in *crawlerInput) apply(c *Crawler) error {
	if t := in.Targets; t != nil {
		for what, v := range map[string]json.RawMessage{"JdbcTargets": t.JdbcTargets, "MongoDBTargets": t.MongoDBTargets,
			"DynamoDBTargets": t.DynamoDBTargets, "CatalogTargets": t.CatalogTargets, "DeltaTargets": t.DeltaTargets,
			"IcebergTargets": t.IcebergTargets, "HudiTargets": t.HudiTargets} {
			if len(v) > 0 && string(v) != "[]" && string(v) != "null" {
				return awsproto.Errorf(invalidInput, "%s are not supported by hydrant: crawlers read S3Targets in hydrant's bucket store", what)
			}
		}
		for _, st := range t.S3Targets {
			if _, _, err := splitPath(st.Path); err != nil {
				return awsproto.Errorf(invalidInput, "%v", err)
			}
		}
		c.Targets = Targets{S3Targets: t.S3Targets}
	}
	if len(in.Classifiers) > 0 {
		return awsproto.Errorf(invalidInput, "custom Classifiers are not supported by hydrant")
	}
	if in.CrawlerSecurityConfiguration != nil && *in.CrawlerSecurityConfiguration != "" {
		return awsproto.Errorf(invalidInput, "CrawlerSecurityConfiguration is not supported by hydrant")
	}
	if in.Role != nil {
		c.Role = *in.Role
	}
	if in.DatabaseName != nil {
		c.DatabaseName = *in.DatabaseName
	}
	if in.Description != nil {
		c.Description = *in.Description
	}
	if in.TablePrefix != nil {
		c.TablePrefix = *in.TablePrefix
	}
	if in.Configuration != nil {
		c.Configuration = *in.Configuration
	}
	if in.RecrawlPolicy != nil {
		c.RecrawlPolicy = in.RecrawlPolicy
	}
	if in.LineageConfiguration != nil {
		c.LineageConfig = in.LineageConfiguration
	}
	if p := in.SchemaChangePolicy; p != nil {
		if p.UpdateBehavior != "" {
			c.SchemaChangePolicy.UpdateBehavior = p.UpdateBehavior
		}
		if p.DeleteBehavior != "" {
			c.SchemaChangePolicy.DeleteBehavior = p.DeleteBehavior
		}
	}
	if in.Schedule != nil {
		if *in.Schedule == "" {
			c.Schedule = nil
		} else {
			if _, err := parseSchedule(*in.Schedule); err != nil {
				return awsproto.Errorf(invalidInput, "%v", err)
			}
			c.Schedule = &Schedule{ScheduleExpression: *in.Schedule, State: "SCHEDULED"}
		}
	}
	return nil
}

func (s *Service) createCrawler(ctx context.Context, body []byte) (any, error) {
	var in crawlerInput
	if err := s.o.Model.Decode("CreateCrawler", body, &in); err != nil {
		return nil, err
	}
	now := catalog.Timestamp(s.o.Now())
	c := &Crawler{Name: in.Name, State: "READY", Classifiers: []string{}, CreationTime: now, LastUpdated: now, Version: 1,
		SchemaChangePolicy: SchemaChangePolicy{UpdateBehavior: "UPDATE_IN_DATABASE", DeleteBehavior: "DEPRECATE_IN_DATABASE"},
		Tags:               in.Tags}
	if err := in.apply(c); err != nil {
		return nil, err
	}
	if len(c.Targets.S3Targets) == 0 {
		return nil, awsproto.Errorf(invalidInput, "Crawler %s needs at least one S3 target.", in.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.crawlers[in.Name] != nil {
		return nil, awsproto.Errorf(alreadyExists, "%s already exists", in.Name)
	}
	if err := s.save(c); err != nil {
		return nil, err
	}
	s.crawlers[in.Name] = c
	return nil, nil
}

func (s *Service) updateCrawler(ctx context.Context, body []byte) (any, error) {
	var in crawlerInput
	if err := s.o.Model.Decode("UpdateCrawler", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.crawlers[in.Name]
	if c == nil {
		return nil, notFound(in.Name)
	}
	if c.State != "READY" {
		return nil, awsproto.Errorf(crawlerRunning, "Crawler with name %s has already started", in.Name)
	}
	cp := *c
	if err := in.apply(&cp); err != nil {
		return nil, err
	}
	cp.Version++
	cp.LastUpdated = catalog.Timestamp(s.o.Now())
	if err := s.save(&cp); err != nil {
		return nil, err
	}
	s.crawlers[in.Name] = &cp
	return nil, nil
}

// view is a crawler as the API shows it.
func view(c *Crawler) map[string]any {
	b, _ := json.Marshal(c)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for k := range m {
		if len(k) > 8 && k[:8] == "hydrant:" {
			delete(m, k)
		}
	}
	return m
}

func (s *Service) getCrawler(ctx context.Context, body []byte) (any, error) {
	var in struct{ Name string }
	if err := s.o.Model.Decode("GetCrawler", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.crawlers[in.Name]
	if c == nil {
		return nil, notFound(in.Name)
	}
	return map[string]any{"Crawler": view(c)}, nil
}

// sorted returns the crawlers by name. Callers hold s.mu.
func (s *Service) sorted() []*Crawler {
	out := make([]*Crawler, 0, len(s.crawlers))
	for _, c := range s.crawlers {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func page[T any](items []T, token string, max int) ([]T, string, error) {
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", awsproto.Errorf(invalidInput, "Invalid NextToken.")
		}
		start = n
	}
	if max <= 0 {
		max = 100
	}
	end := min(start+max, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

func (s *Service) getCrawlers(ctx context.Context, body []byte) (any, error) {
	var in struct {
		MaxResults int
		NextToken  string
	}
	if err := s.o.Model.Decode("GetCrawlers", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var all []map[string]any
	for _, c := range s.sorted() {
		all = append(all, view(c))
	}
	s.mu.Unlock()
	p, next, err := page(all, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"Crawlers": nonNil(p)}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func nonNil[T any](p []T) []T {
	if p == nil {
		return []T{}
	}
	return p
}

func (s *Service) listCrawlers(ctx context.Context, body []byte) (any, error) {
	var in struct {
		MaxResults int
		NextToken  string
		Tags       map[string]string
	}
	if err := s.o.Model.Decode("ListCrawlers", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var names []string
	for _, c := range s.sorted() {
		match := true
		for k, v := range in.Tags {
			if c.Tags[k] != v {
				match = false
			}
		}
		if match {
			names = append(names, c.Name)
		}
	}
	s.mu.Unlock()
	p, next, err := page(names, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"CrawlerNames": nonNil(p)}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func (s *Service) deleteCrawler(ctx context.Context, body []byte) (any, error) {
	var in struct{ Name string }
	if err := s.o.Model.Decode("DeleteCrawler", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.crawlers[in.Name]
	if c == nil {
		return nil, notFound(in.Name)
	}
	if c.State != "READY" {
		return nil, awsproto.Errorf(crawlerRunning, "Crawler with name %s is running", in.Name)
	}
	if s.o.State != nil {
		if err := s.o.State.Delete(ctx, in.Name); err != nil {
			return nil, err
		}
	}
	delete(s.crawlers, in.Name)
	return nil, nil
}

func (s *Service) startCrawler(ctx context.Context, body []byte) (any, error) {
	var in struct{ Name string }
	if err := s.o.Model.Decode("StartCrawler", body, &in); err != nil {
		return nil, err
	}
	return nil, s.Start(ctx, in.Name)
}

func (s *Service) stopCrawler(ctx context.Context, body []byte) (any, error) {
	var in struct{ Name string }
	if err := s.o.Model.Decode("StopCrawler", body, &in); err != nil {
		return nil, err
	}
	return nil, s.Stop(ctx, in.Name)
}

func (s *Service) getCrawlerMetrics(ctx context.Context, body []byte) (any, error) {
	var in struct {
		CrawlerNameList []string
		MaxResults      int
		NextToken       string
	}
	if err := s.o.Model.Decode("GetCrawlerMetrics", body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	var all []map[string]any
	for _, c := range s.sorted() {
		if len(in.CrawlerNameList) > 0 && !contains(in.CrawlerNameList, c.Name) {
			continue
		}
		all = append(all, s.metrics(c))
	}
	s.mu.Unlock()
	p, next, err := page(all, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"CrawlerMetricsList": nonNil(p)}
	if next != "" {
		out["NextToken"] = next
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
