// Package logs is hydrant's CloudWatch Logs: log groups and streams kept
// in the data dir, the awsJson 1.1 API that the aws CLI (including `aws
// logs tail --follow`) and the SDKs use (Logs_20140328: groups, streams,
// retention, tags, PutLogEvents with AWS's batch rules, GetLogEvents,
// FilterLogEvents with the filter pattern syntax), and the sinks through
// which hosted Lambda functions and delivery streams with
// CloudWatchLoggingOptions write their logs.
package logs

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// TargetPrefix is the X-Amz-Target prefix of the CloudWatch Logs API.
const TargetPrefix = "Logs_20140328"

// CloudWatch Logs' error types (the model's exception shapes).
const (
	InvalidParameterException      = "InvalidParameterException"
	ResourceNotFoundException      = "ResourceNotFoundException"
	ResourceAlreadyExistsException = "ResourceAlreadyExistsException"
	TooManyTagsException           = "TooManyTagsException"
)

// maxRequestBody bounds a request: a PutLogEvents batch is at most 1 MiB
// of events, which JSON escaping can at most sextuple.
const maxRequestBody = 8 << 20

// ServiceOptions configure the API.
type ServiceOptions struct {
	Region    string
	AccountID string
	Logger    *slog.Logger
}

// Service serves the CloudWatch Logs API over a Store.
type Service struct {
	store  *Store
	model  *awsproto.Model
	region string
	acct   string
	log    *slog.Logger
}

// NewService builds the API. The Logs model is embedded in the binary and
// validates every request.
func NewService(st *Store, o ServiceOptions) (*Service, error) {
	m, err := awsproto.LoadModel("logs-2014-03-28")
	if err != nil {
		return nil, err
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.AccountID == "" {
		o.AccountID = "000000000000"
	}
	return &Service{store: st, model: m, region: o.Region, acct: o.AccountID, log: o.Logger}, nil
}

// API returns the dispatcher of the implemented operations. Others are
// answered UnknownOperationException naming them.
func (s *Service) API() *awsproto.Service {
	return &awsproto.Service{
		TargetPrefix: TargetPrefix,
		SigningName:  "logs",
		Model:        s.model,
		MaxBody:      maxRequestBody,
		Logger:       s.log,
		Ops: map[string]awsproto.JSONHandler{
			"CreateLogGroup":        s.createLogGroup,
			"DeleteLogGroup":        s.deleteLogGroup,
			"DescribeLogGroups":     s.describeLogGroups,
			"PutRetentionPolicy":    s.putRetentionPolicy,
			"DeleteRetentionPolicy": s.deleteRetentionPolicy,
			"CreateLogStream":       s.createLogStream,
			"DescribeLogStreams":    s.describeLogStreams,
			"DeleteLogStream":       s.deleteLogStream,
			"PutLogEvents":          s.putLogEvents,
			"GetLogEvents":          s.getLogEvents,
			"FilterLogEvents":       s.filterLogEvents,
			"TagResource":           s.tagResource,
			"UntagResource":         s.untagResource,
			"ListTagsForResource":   s.listTagsForResource,
			"TagLogGroup":           s.tagLogGroup,
			"UntagLogGroup":         s.untagLogGroup,
			"ListTagsLogGroup":      s.listTagsLogGroup,
		},
	}
}

// decode validates body against op's input shape and decodes it into v.
// CloudWatch Logs reports constraint violations as
// InvalidParameterException (with Coral's message), not
// ValidationException.
func (s *Service) decode(op string, body []byte, v any) error {
	err := s.model.Decode(op, body, v)
	var ae *awsproto.Error
	if errors.As(err, &ae) && ae.Type == awsproto.ValidationException {
		return &awsproto.Error{Type: InvalidParameterException, Message: ae.Message, Status: http.StatusBadRequest}
	}
	return err
}

func invalid(format string, args ...any) error {
	return awsproto.Errorf(InvalidParameterException, format, args...)
}

// apiErr maps store errors to CloudWatch Logs' errors.
func apiErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrGroupNotFound):
		return awsproto.Errorf(ResourceNotFoundException, "The specified log group does not exist.")
	case errors.Is(err, ErrStreamNotFound):
		return awsproto.Errorf(ResourceNotFoundException, "The specified log stream does not exist.")
	case errors.Is(err, ErrGroupExists):
		return awsproto.Errorf(ResourceAlreadyExistsException, "The specified log group already exists")
	case errors.Is(err, ErrStreamExists):
		return awsproto.Errorf(ResourceAlreadyExistsException, "The specified log stream already exists")
	case errors.Is(err, ErrBadToken):
		return invalid("The specified nextToken is invalid.")
	}
	return err
}

// groupARN is a log group's ARN without the trailing ":*" (logGroupArn).
func (s *Service) groupARN(name string) string {
	return "arn:aws:logs:" + s.region + ":" + s.acct + ":log-group:" + name
}

// groupName resolves a logGroupName or logGroupIdentifier (a name or a
// log group ARN, with or without ":*"): exactly one must be given.
func (s *Service) groupName(name, identifier string) (string, error) {
	switch {
	case name != "" && identifier != "":
		return "", invalid("LogGroup name and LogGroup ARN are mutually exclusive parameters.")
	case name != "":
		return name, nil
	case identifier == "":
		return "", invalid("Should provide either name or ARN for the LogGroup.")
	}
	return s.resolveIdentifier(identifier)
}

// resolveIdentifier turns a log group ARN into its name; anything else is
// taken as a name.
func (s *Service) resolveIdentifier(id string) (string, error) {
	if !strings.HasPrefix(id, "arn:") {
		return id, nil
	}
	prefix := "arn:aws:logs:" + s.region + ":" + s.acct + ":log-group:"
	name, ok := strings.CutPrefix(id, prefix)
	if !ok || name == "" {
		return "", awsproto.Errorf(ResourceNotFoundException, "The specified log group does not exist.")
	}
	return strings.TrimSuffix(name, ":*"), nil
}

// pageToken and parsePageToken are the opaque nextTokens of the Describe
// operations: the last key returned, base64.
func pageToken(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

func parsePageToken(kind, tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", invalid("The specified nextToken is invalid.")
	}
	key, ok := strings.CutPrefix(string(b), kind+":")
	if !ok {
		return "", invalid("The specified nextToken is invalid.")
	}
	return key, nil
}
