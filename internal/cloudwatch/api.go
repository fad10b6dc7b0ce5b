// Package cloudwatch serves the Amazon CloudWatch API subset hydrant
// implements: PutMetricData, ListMetrics, GetMetricStatistics and
// GetMetricData (with metric math) over the cwmetrics store, and metric
// alarms (PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric,
// DescribeAlarmHistory, DeleteAlarms, SetAlarmState,
// Enable/DisableAlarmActions, TagResource, UntagResource,
// ListTagsForResource), evaluated every minute as CloudWatch evaluates
// them, with actions published to SNS topics.
//
// The operations are written once against awsJson 1.0; internal/awsproto
// serves them over awsJson, awsQuery and Smithy RPC v2 CBOR.
package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/cwmetrics"
)

// TargetPrefix is CloudWatch's awsJson target prefix (and CBOR service
// name).
const TargetPrefix = "GraniteServiceVersion20100801"

// MaxRequestBody bounds a request: PutMetricData takes up to 1 MB.
const MaxRequestBody = 1 << 20

// Notifier publishes alarm notifications: internal/sns implements it.
type Notifier interface {
	// Publish sends message with subject to the topic; an error means the
	// topic does not exist or could not take it.
	Publish(ctx context.Context, topicARN, subject, message string) error
}

// Options configure the service.
type Options struct {
	// Store holds the datapoints; required.
	Store *cwmetrics.Store
	// Dir is where alarms are kept (<data-dir>/cloudwatch); "" keeps them
	// in memory.
	Dir       string
	Region    string
	AccountID string
	// Notifier receives alarm actions; nil fails every action.
	Notifier Notifier
	Logger   *slog.Logger
	// Now is the clock; nil means the store's.
	Now func() time.Time
}

// Service is the CloudWatch API.
type Service struct {
	opts   Options
	log    *slog.Logger
	model  *awsproto.Model
	store  *cwmetrics.Store
	alarms *alarmSet
}

// New opens the service and loads its alarms.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, fmt.Errorf("cloudwatch: no metric store")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.AccountID == "" {
		opts.AccountID = "000000000000"
	}
	if opts.Now == nil {
		opts.Now = opts.Store.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := awsproto.LoadModel("cloudwatch-2010-08-01")
	if err != nil {
		return nil, err
	}
	s := &Service{opts: opts, log: log, model: m, store: opts.Store}
	if s.alarms, err = openAlarms(opts.Dir); err != nil {
		return nil, err
	}
	return s, nil
}

// API is the service for the server.
func (s *Service) API() *awsproto.Service {
	return &awsproto.Service{
		TargetPrefix: TargetPrefix,
		SigningName:  "monitoring",
		JSONVersion:  "1.0",
		Model:        s.model,
		MaxBody:      MaxRequestBody,
		Logger:       s.log,
		Ops: map[string]awsproto.JSONHandler{
			"PutMetricData":           s.putMetricData,
			"ListMetrics":             s.listMetrics,
			"GetMetricStatistics":     s.getMetricStatistics,
			"GetMetricData":           s.getMetricData,
			"PutMetricAlarm":          s.putMetricAlarm,
			"DescribeAlarms":          s.describeAlarms,
			"DescribeAlarmsForMetric": s.describeAlarmsForMetric,
			"DescribeAlarmHistory":    s.describeAlarmHistory,
			"DeleteAlarms":            s.deleteAlarms,
			"SetAlarmState":           s.setAlarmState,
			"EnableAlarmActions":      s.enableAlarmActions,
			"DisableAlarmActions":     s.disableAlarmActions,
			"TagResource":             s.tagResource,
			"UntagResource":           s.untagResource,
			"ListTagsForResource":     s.listTagsForResource,
		},
	}
}

func (s *Service) decode(op string, body []byte, v any) error { return s.model.Decode(op, body, v) }

// apiError is an *awsproto.Error with a status setter.
type apiError struct{ *awsproto.Error }

func errorf(typ, format string, args ...any) apiError {
	return apiError{awsproto.Errorf(typ, format, args...)}
}

func (e apiError) withStatus(st int) error {
	e.Status = st
	return e.Error
}

// CloudWatch's error shapes (their awsQuery codes in comments).
func invalidValue(format string, args ...any) error { // InvalidParameterValue
	return awsproto.Errorf("InvalidParameterValueException", format, args...)
}

func invalidCombination(format string, args ...any) error { // InvalidParameterCombination
	return awsproto.Errorf("InvalidParameterCombinationException", format, args...)
}

func missingParameter(format string, args ...any) error { // MissingParameter
	return awsproto.Errorf("MissingRequiredParameterException", format, args...)
}

func invalidNextToken() error { // InvalidNextToken
	return awsproto.Errorf("InvalidNextToken", "The service cannot complete the request: NextToken is invalid.")
}

func alarmNotFound(format string, args ...any) error { // ResourceNotFound
	e := awsproto.Errorf("ResourceNotFound", format, args...)
	e.Status = http.StatusNotFound
	return e
}

// awsTime is a timestamp as awsJson sends it: epoch seconds (or, from
// some clients, an ISO 8601 string).
type awsTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *awsTime) UnmarshalJSON(b []byte) error {
	var v any
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return err
	}
	tm, ok := awsproto.JSONTime(v)
	if !ok {
		return fmt.Errorf("invalid timestamp %s", b)
	}
	t.Time = tm
	return nil
}

// metricJSON is the Metric shape.
type metricJSON struct {
	Namespace  string                `json:"Namespace,omitempty"`
	MetricName string                `json:"MetricName,omitempty"`
	Dimensions []cwmetrics.Dimension `json:"Dimensions"`
}

func (m metricJSON) metric() cwmetrics.Metric {
	return cwmetrics.NewMetric(m.Namespace, m.MetricName, m.Dimensions...)
}

func toMetricJSON(m cwmetrics.Metric) metricJSON {
	d := m.Dims
	if d == nil {
		d = []cwmetrics.Dimension{}
	}
	return metricJSON{Namespace: m.Namespace, MetricName: m.Name, Dimensions: d}
}

// checkDimensions refuses duplicate dimension names.
func checkDimensions(dims []cwmetrics.Dimension, param string) error {
	seen := map[string]bool{}
	for _, d := range dims {
		if seen[d.Name] {
			return invalidCombination("No metric may have duplicate dimension names (%s has %s twice).", param, d.Name)
		}
		seen[d.Name] = true
	}
	return nil
}

// checkPeriod applies CloudWatch's rule: 1, 5, 10, 30 or a multiple of 60.
func checkPeriod(p int, param string) error {
	switch {
	case p <= 0:
		return invalidValue("The parameter %s must be greater than 0.", param)
	case p == 1 || p == 5 || p == 10 || p == 30 || p%60 == 0:
		return nil
	}
	return invalidValue("The parameter %s must be 1, 5, 10, 30, or a multiple of 60.", param)
}

// jnum is a float64 that encodes as awsJson writes doubles.
type jnum float64

// MarshalJSON implements json.Marshaler: NaN and infinities, which JSON
// cannot hold, become null.
func (f jnum) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', -1, 64), nil
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }
