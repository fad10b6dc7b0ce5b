package firehose

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/buffer"
)

// TargetPrefix is the X-Amz-Target prefix of the Firehose API.
const TargetPrefix = "Firehose_20150804"

// SigningName is the service name in the SigV4 credential scope of
// Firehose requests.
const SigningName = "firehose"

// maxRequestBody bounds every Firehose request body before it is read: a
// PutRecordBatch of 4 MiB of data is about 5.6 MB of base64 plus its
// envelope, so 16 MiB leaves room to answer oversized batches with AWS's own
// "Records size exceeds 4 MB limit" rather than a transport error.
const maxRequestBody = 16 << 20

// Options configure the Firehose API.
type Options struct {
	Region    string
	AccountID string
	Logger    *slog.Logger
	// Features turns on options whose implementation is wired in (format
	// conversion, processors, ...). Anything not listed here is refused at
	// Create and UpdateDestination with an error that names it.
	Features Features
	// Metrics is told about every Put to an existing stream; nil means
	// none.
	Metrics PutObserver
	// Roles, when set, must hold every role ARN a Create or
	// UpdateDestination names (--require-roles); nil accepts any
	// well-formed role ARN.
	Roles RoleChecker
}

// Features lists optional capabilities the running hydrant provides.
type Features struct {
	// Processors lists the processor types that are implemented.
	Processors map[string]bool
	// FormatConversion, DynamicPartitioning and S3Backup say whether those
	// ExtendedS3 options are implemented.
	FormatConversion, DynamicPartitioning, S3Backup bool
	// Validate, when set, is called for every stream configuration after
	// hydrant's own checks, so that later subsystems (processors, format
	// conversion, other stores) can accept or refuse what they own.
	Validate func(cfg *StreamConfig) error
}

// Service serves the Firehose API against a Backend.
type Service struct {
	opts    Options
	backend Backend
	model   *awsproto.Model
	log     *slog.Logger
	batches sync.Pool
}

// NewService builds the API. The Firehose model is embedded in the binary.
func NewService(b Backend, opts Options) (*Service, error) {
	m, err := awsproto.LoadModel("firehose-2015-08-04")
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{opts: opts, backend: b, model: m, log: log}, nil
}

// API returns the awsJson dispatcher for the Firehose operations.
func (s *Service) API() *awsproto.Service {
	return &awsproto.Service{
		TargetPrefix: TargetPrefix,
		SigningName:  SigningName,
		Model:        s.model,
		MaxBody:      maxRequestBody,
		// Records are decoded into a batch about as large as the body.
		HoldPerByte: 1,
		Logger:      s.log,
		Ops: map[string]awsproto.JSONHandler{
			"CreateDeliveryStream":          s.createDeliveryStream,
			"DescribeDeliveryStream":        s.describeDeliveryStream,
			"ListDeliveryStreams":           s.listDeliveryStreams,
			"DeleteDeliveryStream":          s.deleteDeliveryStream,
			"UpdateDestination":             s.updateDestination,
			"PutRecord":                     s.putRecord,
			"PutRecordBatch":                s.putRecordBatch,
			"TagDeliveryStream":             s.tagDeliveryStream,
			"UntagDeliveryStream":           s.untagDeliveryStream,
			"ListTagsForDeliveryStream":     s.listTagsForDeliveryStream,
			"StartDeliveryStreamEncryption": s.startEncryption,
			"StopDeliveryStreamEncryption":  s.stopEncryption,
		},
	}
}

// ARN returns a stream's ARN.
func (s *Service) ARN(name string) string {
	return fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", s.opts.Region, s.opts.AccountID, name)
}

// decode validates body against op's input shape, then decodes it into v.
func (s *Service) decode(op string, body []byte, v any) error { return s.model.Decode(op, body, v) }

func invalidArg(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(InvalidArgumentException, format, args...)
}

// backendErr maps Backend errors to AWS errors.
func (s *Service) backendErr(name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrStreamNotFound), errors.Is(err, buffer.ErrClosed):
		// A closed log is a stream deleted while the request was in flight.
		return awsproto.Errorf(ResourceNotFoundException, "Firehose %s under account %s not found.", name, s.opts.AccountID)
	case errors.Is(err, ErrStreamExists):
		return awsproto.Errorf(ResourceInUseException, "Firehose %s under accountId %s already exists", name, s.opts.AccountID)
	case errors.Is(err, ErrStreamNotActive):
		return awsproto.Errorf(ResourceInUseException, "Firehose %s under account %s is not in ACTIVE state.", name, s.opts.AccountID)
	case errors.Is(err, buffer.ErrFull):
		return awsproto.Unavailable("Slow down.")
	}
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae
	}
	return err
}

type nameInput struct {
	DeliveryStreamName string `json:"DeliveryStreamName"`
}

func (s *Service) describeDeliveryStream(ctx context.Context, body []byte) (any, error) {
	var in struct {
		DeliveryStreamName          string  `json:"DeliveryStreamName"`
		Limit                       *int    `json:"Limit"`
		ExclusiveStartDestinationId *string `json:"ExclusiveStartDestinationId"`
	}
	if err := s.decode("DescribeDeliveryStream", body, &in); err != nil {
		return nil, err
	}
	info, err := s.backend.Get(ctx, in.DeliveryStreamName)
	if err != nil {
		return nil, s.backendErr(in.DeliveryStreamName, err)
	}
	d := Describe(info)
	if in.ExclusiveStartDestinationId != nil && *in.ExclusiveStartDestinationId == info.DestinationID {
		// The only destination is before the start: nothing left to list.
		d.Destinations = []DestinationDescription{}
	}
	return map[string]any{"DeliveryStreamDescription": d}, nil
}

func (s *Service) listDeliveryStreams(ctx context.Context, body []byte) (any, error) {
	var in struct {
		Limit                            *int    `json:"Limit"`
		DeliveryStreamType               *string `json:"DeliveryStreamType"`
		ExclusiveStartDeliveryStreamName *string `json:"ExclusiveStartDeliveryStreamName"`
	}
	if err := s.decode("ListDeliveryStreams", body, &in); err != nil {
		return nil, err
	}
	limit := 10
	if in.Limit != nil {
		limit = *in.Limit
	}
	all, err := s.backend.List(ctx)
	if err != nil {
		return nil, err
	}
	names := []string{}
	more := false
	for _, st := range all {
		if in.DeliveryStreamType != nil && st.Type != *in.DeliveryStreamType {
			continue
		}
		if in.ExclusiveStartDeliveryStreamName != nil && st.Name <= *in.ExclusiveStartDeliveryStreamName {
			continue
		}
		if len(names) == limit {
			more = true
			break
		}
		names = append(names, st.Name)
	}
	sort.Strings(names)
	return map[string]any{"DeliveryStreamNames": names, "HasMoreDeliveryStreams": more}, nil
}

func (s *Service) deleteDeliveryStream(ctx context.Context, body []byte) (any, error) {
	var in struct {
		DeliveryStreamName string `json:"DeliveryStreamName"`
		AllowForceDelete   *bool  `json:"AllowForceDelete"`
	}
	if err := s.decode("DeleteDeliveryStream", body, &in); err != nil {
		return nil, err
	}
	info, err := s.backend.Get(ctx, in.DeliveryStreamName)
	if err != nil {
		return nil, s.backendErr(in.DeliveryStreamName, err)
	}
	if info.Status == StatusCreating {
		return nil, awsproto.Errorf(ResourceInUseException, "Firehose %s under account %s is in CREATING state and cannot be deleted.", info.Name, s.opts.AccountID)
	}
	if err := s.backend.Delete(ctx, in.DeliveryStreamName); err != nil {
		return nil, s.backendErr(in.DeliveryStreamName, err)
	}
	return nil, nil
}

func (s *Service) startEncryption(ctx context.Context, body []byte) (any, error) {
	var in nameInput
	if err := s.decode("StartDeliveryStreamEncryption", body, &in); err != nil {
		return nil, err
	}
	if _, err := s.backend.Get(ctx, in.DeliveryStreamName); err != nil {
		return nil, s.backendErr(in.DeliveryStreamName, err)
	}
	return nil, invalidArg("hydrant does not support server-side encryption of the buffer with KMS (StartDeliveryStreamEncryption) yet.")
}

func (s *Service) stopEncryption(ctx context.Context, body []byte) (any, error) {
	var in nameInput
	if err := s.decode("StopDeliveryStreamEncryption", body, &in); err != nil {
		return nil, err
	}
	if _, err := s.backend.Get(ctx, in.DeliveryStreamName); err != nil {
		return nil, s.backendErr(in.DeliveryStreamName, err)
	}
	return nil, invalidArg("hydrant does not support server-side encryption of the buffer with KMS (StopDeliveryStreamEncryption) yet.")
}
