package logs

import (
	"context"
	"errors"
	"fmt"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// PutLogEvents' batch rules, as CloudWatch Logs documents them.
const (
	maxBatchBytes = 1_048_576             // messages' UTF-8 bytes + 26 per event
	maxBatchSpan  = 24 * 3600 * 1000      // first to last event, ms
	maxFuture     = 2 * 3600 * 1000       // how far ahead of now an event may be
	maxPast       = 14 * 24 * 3600 * 1000 // how far behind now an event may be
)

func (s *Service) putLogEvents(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
		LogEvents     []struct {
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		} `json:"logEvents"`
		// SequenceToken is accepted and not checked, as CloudWatch Logs
		// has done since January 2023. Entity (the resource that emitted
		// the events, for CloudWatch's explore views) is accepted and not
		// kept.
		SequenceToken string `json:"sequenceToken"`
	}
	if err := s.decode("PutLogEvents", body, &in); err != nil {
		return nil, err
	}
	evs := make([]Event, len(in.LogEvents))
	size := 0
	for i, e := range in.LogEvents {
		evs[i] = Event{Timestamp: e.Timestamp, Message: e.Message}
		size += len(e.Message) + eventOverhead
	}
	if size > maxBatchBytes {
		return nil, invalid("Upload too large: %d bytes exceeds limit of %d", size, maxBatchBytes)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Timestamp < evs[i-1].Timestamp {
			return nil, invalid("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	if evs[len(evs)-1].Timestamp-evs[0].Timestamp > maxBatchSpan {
		return nil, invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
	}
	g, err := s.store.Group(in.LogGroupName)
	if err != nil {
		return nil, apiErr(err)
	}
	// Events too far in the future end the batch; events too old (14
	// days) or past the group's retention start it. They are reported,
	// not stored.
	now := s.store.now()
	var rejected struct {
		TooNewLogEventStartIndex *int `json:"tooNewLogEventStartIndex,omitempty"`
		TooOldLogEventEndIndex   *int `json:"tooOldLogEventEndIndex,omitempty"`
		ExpiredLogEventEndIndex  *int `json:"expiredLogEventEndIndex,omitempty"`
	}
	from, to := 0, len(evs)
	for i, e := range evs {
		if e.Timestamp > now+maxFuture {
			i := i
			rejected.TooNewLogEventStartIndex = &i
			to = i
			break
		}
	}
	for i, e := range evs[:to] {
		if e.Timestamp < now-maxPast {
			i := i
			rejected.TooOldLogEventEndIndex = &i
			from = i + 1
		}
		if g.RetentionDays > 0 && e.Timestamp < now-int64(g.RetentionDays)*86_400_000 {
			i := i
			rejected.ExpiredLogEventEndIndex = &i
			from = max(from, i+1)
		}
	}
	if from < to {
		if err := s.store.Append(in.LogGroupName, in.LogStreamName, evs[from:to]); err != nil {
			if errors.Is(err, ErrGroupNotFound) || errors.Is(err, ErrStreamNotFound) {
				return nil, apiErr(err)
			}
			s.log.Error("PutLogEvents: append failed", "log_group", in.LogGroupName, "log_stream", in.LogStreamName, "err", err)
			return nil, awsproto.Unavailable("The service cannot complete the request.")
		}
	} else if _, _, err := s.store.stream(in.LogGroupName, in.LogStreamName); err != nil {
		return nil, apiErr(err)
	}
	out := map[string]any{"nextSequenceToken": fmt.Sprintf("4963%052d", now)}
	if rejected.TooNewLogEventStartIndex != nil || rejected.TooOldLogEventEndIndex != nil || rejected.ExpiredLogEventEndIndex != nil {
		out["rejectedLogEventsInfo"] = rejected
	}
	return out, nil
}

// outEvent is the OutputLogEvent shape.
type outEvent struct {
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
}

func (s *Service) getLogEvents(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName       string `json:"logGroupName"`
		LogGroupIdentifier string `json:"logGroupIdentifier"`
		LogStreamName      string `json:"logStreamName"`
		StartTime          *int64 `json:"startTime"`
		EndTime            *int64 `json:"endTime"`
		NextToken          string `json:"nextToken"`
		Limit              int    `json:"limit"`
		StartFromHead      bool   `json:"startFromHead"`
		// Unmask shows data masked by data protection policies, which
		// hydrant does not have: nothing is ever masked.
		Unmask bool `json:"unmask"`
	}
	if err := s.decode("GetLogEvents", body, &in); err != nil {
		return nil, err
	}
	group, err := s.groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	p, err := s.store.Get(group, in.LogStreamName, GetOptions{Start: in.StartTime, End: in.EndTime, Token: in.NextToken,
		StartFromHead: in.StartFromHead, Limit: in.Limit})
	if err != nil {
		return nil, apiErr(err)
	}
	out := struct {
		Events            []outEvent `json:"events"`
		NextForwardToken  string     `json:"nextForwardToken"`
		NextBackwardToken string     `json:"nextBackwardToken"`
	}{Events: make([]outEvent, len(p.Events)), NextForwardToken: p.Forward, NextBackwardToken: p.Backward}
	for i, e := range p.Events {
		out.Events[i] = outEvent{Timestamp: e.Timestamp, Message: e.Message, IngestionTime: e.Ingestion}
	}
	return out, nil
}

// filteredEvent is the FilteredLogEvent shape.
type filteredEvent struct {
	LogStreamName string `json:"logStreamName"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId"`
}

func (s *Service) filterLogEvents(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupIdentifier  string   `json:"logGroupIdentifier"`
		LogStreamNames      []string `json:"logStreamNames"`
		LogStreamNamePrefix string   `json:"logStreamNamePrefix"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		FilterPattern       string   `json:"filterPattern"`
		NextToken           string   `json:"nextToken"`
		Limit               int      `json:"limit"`
		// Interleaved is deprecated: CloudWatch Logs always interleaves,
		// and so does hydrant. Unmask: nothing is masked in hydrant.
		Interleaved bool `json:"interleaved"`
		Unmask      bool `json:"unmask"`
	}
	if err := s.decode("FilterLogEvents", body, &in); err != nil {
		return nil, err
	}
	group, err := s.groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != "" {
		return nil, invalid("logStreamNames and logStreamNamePrefix are mutually exclusive parameters.")
	}
	pat, err := ParsePattern(in.FilterPattern)
	if err != nil {
		return nil, invalid("%s", err.Error())
	}
	p, err := s.store.Filter(group, FilterOptions{Streams: in.LogStreamNames, Prefix: in.LogStreamNamePrefix,
		Start: in.StartTime, End: in.EndTime, Match: pat.Match, Token: in.NextToken, Limit: in.Limit})
	if err != nil {
		return nil, apiErr(err)
	}
	out := struct {
		Events []filteredEvent `json:"events"`
		// SearchedLogStreams is deprecated; CloudWatch Logs answers it
		// empty.
		SearchedLogStreams []struct{} `json:"searchedLogStreams"`
		NextToken          string     `json:"nextToken,omitempty"`
	}{Events: make([]filteredEvent, len(p.Events)), SearchedLogStreams: []struct{}{}, NextToken: p.Next}
	for i, e := range p.Events {
		out.Events[i] = filteredEvent{LogStreamName: e.Stream, Timestamp: e.Timestamp, Message: e.Message,
			IngestionTime: e.Ingestion, EventID: e.ID}
	}
	return out, nil
}
