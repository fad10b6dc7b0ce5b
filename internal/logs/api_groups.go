package logs

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// maxTags is how many tags a log group may carry.
const maxTags = 50

func (s *Service) createLogGroup(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName              string            `json:"logGroupName"`
		KmsKeyID                  string            `json:"kmsKeyId"`
		Tags                      map[string]string `json:"tags"`
		LogGroupClass             string            `json:"logGroupClass"`
		DeletionProtectionEnabled bool              `json:"deletionProtectionEnabled"`
	}
	if err := s.decode("CreateLogGroup", body, &in); err != nil {
		return nil, err
	}
	if in.KmsKeyID != "" {
		return nil, invalid("hydrant does not encrypt log groups with KMS keys: kmsKeyId is not supported")
	}
	if in.LogGroupClass != "" && in.LogGroupClass != "STANDARD" {
		return nil, invalid("hydrant supports only the STANDARD log group class, not %s", in.LogGroupClass)
	}
	if in.DeletionProtectionEnabled {
		return nil, invalid("hydrant does not support deletionProtectionEnabled")
	}
	return nil, apiErr(s.store.CreateGroup(GroupConfig{Name: in.LogGroupName, Class: in.LogGroupClass, Tags: in.Tags}))
}

func (s *Service) deleteLogGroup(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName string `json:"logGroupName"`
	}
	if err := s.decode("DeleteLogGroup", body, &in); err != nil {
		return nil, err
	}
	return nil, apiErr(s.store.DeleteGroup(in.LogGroupName))
}

func (s *Service) putRetentionPolicy(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName    string `json:"logGroupName"`
		RetentionInDays int    `json:"retentionInDays"`
	}
	if err := s.decode("PutRetentionPolicy", body, &in); err != nil {
		return nil, err
	}
	ok := false
	for _, d := range retentionDays {
		ok = ok || d == in.RetentionInDays
	}
	if !ok {
		vals := make([]string, len(retentionDays))
		for i, d := range retentionDays {
			vals[i] = strconv.Itoa(d)
		}
		return nil, invalid("1 validation error detected: Value '%d' at 'retentionInDays' failed to satisfy constraint: "+
			"Member must satisfy enum value set: [%s]", in.RetentionInDays, strings.Join(vals, ", "))
	}
	return nil, apiErr(s.store.SetRetention(in.LogGroupName, in.RetentionInDays))
}

func (s *Service) deleteRetentionPolicy(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName string `json:"logGroupName"`
	}
	if err := s.decode("DeleteRetentionPolicy", body, &in); err != nil {
		return nil, err
	}
	return nil, apiErr(s.store.SetRetention(in.LogGroupName, 0))
}

// logGroupOut is the LogGroup shape.
type logGroupOut struct {
	LogGroupName      string `json:"logGroupName"`
	CreationTime      int64  `json:"creationTime"`
	RetentionInDays   *int   `json:"retentionInDays,omitempty"`
	MetricFilterCount int    `json:"metricFilterCount"`
	ARN               string `json:"arn"`
	StoredBytes       int64  `json:"storedBytes"`
	LogGroupClass     string `json:"logGroupClass"`
	LogGroupARN       string `json:"logGroupArn"`
}

func (s *Service) describeLogGroups(ctx context.Context, body []byte) (any, error) {
	var in struct {
		AccountIdentifiers    []string `json:"accountIdentifiers"`
		LogGroupNamePrefix    string   `json:"logGroupNamePrefix"`
		LogGroupNamePattern   string   `json:"logGroupNamePattern"`
		NextToken             string   `json:"nextToken"`
		Limit                 int      `json:"limit"`
		IncludeLinkedAccounts bool     `json:"includeLinkedAccounts"`
		LogGroupClass         string   `json:"logGroupClass"`
		LogGroupIdentifiers   []string `json:"logGroupIdentifiers"`
	}
	if err := s.decode("DescribeLogGroups", body, &in); err != nil {
		return nil, err
	}
	if len(in.AccountIdentifiers) > 0 || in.IncludeLinkedAccounts {
		return nil, invalid("hydrant has no linked accounts: accountIdentifiers and includeLinkedAccounts are not supported")
	}
	if in.LogGroupNamePrefix != "" && in.LogGroupNamePattern != "" {
		return nil, invalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	if len(in.LogGroupIdentifiers) > 0 && (in.LogGroupNamePrefix != "" || in.LogGroupNamePattern != "") {
		return nil, invalid("logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern.")
	}
	after := ""
	if in.NextToken != "" {
		var err error
		if after, err = parsePageToken("g", in.NextToken); err != nil {
			return nil, err
		}
	}
	var ids map[string]bool
	if len(in.LogGroupIdentifiers) > 0 {
		ids = map[string]bool{}
		for _, id := range in.LogGroupIdentifiers {
			if name, err := s.resolveIdentifier(id); err == nil {
				ids[name] = true
			}
		}
	}
	limit := in.Limit
	if limit == 0 {
		limit = 50
	}
	pattern := strings.ToLower(in.LogGroupNamePattern)
	out := struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken string        `json:"nextToken,omitempty"`
	}{LogGroups: []logGroupOut{}}
	for _, g := range s.store.Groups() {
		switch {
		case g.Name <= after && in.NextToken != "":
		case !strings.HasPrefix(g.Name, in.LogGroupNamePrefix):
		case pattern != "" && !strings.Contains(strings.ToLower(g.Name), pattern):
		case in.LogGroupClass != "" && g.Class != in.LogGroupClass:
		case ids != nil && !ids[g.Name]:
		default:
			if len(out.LogGroups) == limit {
				out.NextToken = pageToken("g", out.LogGroups[limit-1].LogGroupName)
				return out, nil
			}
			lg := logGroupOut{LogGroupName: g.Name, CreationTime: g.CreationTime, ARN: s.groupARN(g.Name) + ":*",
				StoredBytes: g.StoredBytes, LogGroupClass: g.Class, LogGroupARN: s.groupARN(g.Name)}
			if g.RetentionDays > 0 {
				d := g.RetentionDays
				lg.RetentionInDays = &d
			}
			out.LogGroups = append(out.LogGroups, lg)
		}
	}
	return out, nil
}

func (s *Service) createLogStream(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
	}
	if err := s.decode("CreateLogStream", body, &in); err != nil {
		return nil, err
	}
	return nil, apiErr(s.store.CreateStream(in.LogGroupName, in.LogStreamName))
}

func (s *Service) deleteLogStream(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
	}
	if err := s.decode("DeleteLogStream", body, &in); err != nil {
		return nil, err
	}
	return nil, apiErr(s.store.DeleteStream(in.LogGroupName, in.LogStreamName))
}

// logStreamOut is the LogStream shape.
type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken"`
	ARN                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

func (s *Service) describeLogStreams(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName        string `json:"logGroupName"`
		LogGroupIdentifier  string `json:"logGroupIdentifier"`
		LogStreamNamePrefix string `json:"logStreamNamePrefix"`
		OrderBy             string `json:"orderBy"`
		Descending          bool   `json:"descending"`
		NextToken           string `json:"nextToken"`
		Limit               int    `json:"limit"`
	}
	if err := s.decode("DescribeLogStreams", body, &in); err != nil {
		return nil, err
	}
	group, err := s.groupName(in.LogGroupName, in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	byTime := in.OrderBy == "LastEventTime"
	if byTime && in.LogStreamNamePrefix != "" {
		return nil, invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
	}
	streams, err := s.store.Streams(group)
	if err != nil {
		return nil, apiErr(err)
	}
	// key orders streams: by name, or by last event time then name.
	key := func(si StreamInfo) string {
		if byTime {
			return fmt.Sprintf("%020d/%s", uint64(si.LastEventTimestamp), si.Name)
		}
		return si.Name
	}
	sort.Slice(streams, func(i, j int) bool {
		if in.Descending {
			return key(streams[i]) > key(streams[j])
		}
		return key(streams[i]) < key(streams[j])
	})
	after := ""
	if in.NextToken != "" {
		if after, err = parsePageToken("s", in.NextToken); err != nil {
			return nil, err
		}
	}
	limit := in.Limit
	if limit == 0 {
		limit = 50
	}
	out := struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{LogStreams: []logStreamOut{}}
	var lastKey string
	for _, si := range streams {
		k := key(si)
		if in.NextToken != "" && (!in.Descending && k <= after || in.Descending && k >= after) {
			continue
		}
		if !strings.HasPrefix(si.Name, in.LogStreamNamePrefix) {
			continue
		}
		if len(out.LogStreams) == limit {
			out.NextToken = pageToken("s", lastKey)
			break
		}
		lo := logStreamOut{LogStreamName: si.Name, CreationTime: si.CreationTime,
			UploadSequenceToken: sequenceToken(si), ARN: s.groupARN(group) + ":log-stream:" + si.Name}
		if si.Events > 0 {
			first, last, ingest := si.FirstEventTimestamp, si.LastEventTimestamp, si.LastIngestionTime
			lo.FirstEventTimestamp, lo.LastEventTimestamp, lo.LastIngestionTime = &first, &last, &ingest
		}
		out.LogStreams = append(out.LogStreams, lo)
		lastKey = k
	}
	return out, nil
}

// sequenceToken is the stream's upload sequence token. CloudWatch Logs no
// longer checks these tokens; hydrant hands out one that changes with
// each append, as they used to.
func sequenceToken(si StreamInfo) string {
	return fmt.Sprintf("4963%052d", si.Events)
}

func (s *Service) tagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN string            `json:"resourceArn"`
		Tags        map[string]string `json:"tags"`
	}
	if err := s.decode("TagResource", body, &in); err != nil {
		return nil, err
	}
	name, err := s.taggable(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return nil, s.tag(name, in.Tags)
}

// tag adds tags within the 50-tag limit.
func (s *Service) tag(name string, tags map[string]string) error {
	g, err := s.store.Group(name)
	if err != nil {
		return apiErr(err)
	}
	n := len(g.Tags)
	for k := range tags {
		if _, ok := g.Tags[k]; !ok {
			n++
		}
	}
	if n > maxTags {
		return awsproto.Errorf(TooManyTagsException, "A log group can have no more than %d tags.", maxTags)
	}
	return apiErr(s.store.TagGroup(name, tags))
}

func (s *Service) untagResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN string   `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := s.decode("UntagResource", body, &in); err != nil {
		return nil, err
	}
	name, err := s.taggable(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return nil, apiErr(s.store.UntagGroup(name, in.TagKeys))
}

func (s *Service) listTagsForResource(ctx context.Context, body []byte) (any, error) {
	var in struct {
		ResourceARN string `json:"resourceArn"`
	}
	if err := s.decode("ListTagsForResource", body, &in); err != nil {
		return nil, err
	}
	name, err := s.taggable(in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return s.tagsOf(name)
}

func (s *Service) tagsOf(name string) (any, error) {
	g, err := s.store.Group(name)
	if err != nil {
		return nil, apiErr(err)
	}
	tags := g.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	return map[string]any{"tags": tags}, nil
}

// taggable resolves a resource ARN: hydrant tags log groups (destinations
// and delivery resources, the other taggable kinds, are not implemented).
func (s *Service) taggable(arn string) (string, error) {
	prefix := "arn:aws:logs:" + s.region + ":" + s.acct + ":log-group:"
	name, ok := strings.CutPrefix(arn, prefix)
	name = strings.TrimSuffix(name, ":*")
	if !ok || name == "" || strings.Contains(name, ":") {
		return "", awsproto.Errorf(ResourceNotFoundException, "The specified resource does not exist: %s", arn)
	}
	return name, nil
}

func (s *Service) tagLogGroup(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName string            `json:"logGroupName"`
		Tags         map[string]string `json:"tags"`
	}
	if err := s.decode("TagLogGroup", body, &in); err != nil {
		return nil, err
	}
	return nil, s.tag(in.LogGroupName, in.Tags)
}

func (s *Service) untagLogGroup(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName string   `json:"logGroupName"`
		Tags         []string `json:"tags"`
	}
	if err := s.decode("UntagLogGroup", body, &in); err != nil {
		return nil, err
	}
	return nil, apiErr(s.store.UntagGroup(in.LogGroupName, in.Tags))
}

func (s *Service) listTagsLogGroup(ctx context.Context, body []byte) (any, error) {
	var in struct {
		LogGroupName string `json:"logGroupName"`
	}
	if err := s.decode("ListTagsLogGroup", body, &in); err != nil {
		return nil, err
	}
	return s.tagsOf(in.LogGroupName)
}
