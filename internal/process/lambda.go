package process

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/deliver"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// MaxLambdaPayload is Lambda's limit on a synchronous invocation's request
// (and response): 6 MB, i.e. 6,291,456 bytes.
const MaxLambdaPayload = 6 << 20

// ProcessingFailed is the error-output type of Lambda failures.
const ProcessingFailed = "processing-failed"

// Error codes and messages written to the error output for Lambda failures
// (reference §6.6). Messages marked "AWS" are AWS's own text; the others are
// hydrant's wording where AWS's is not documented.
const (
	CodeFunctionError = "Lambda.FunctionError"
	MsgFunctionError  = "The Lambda function was successfully invoked but it returned an error result." // AWS
	CodeTimedOut      = "Lambda.FunctionTimedOut"
	MsgTimedOut       = "The Lambda function invocation timed out. Increase the Timeout setting in the Lambda function." // AWS
	CodeLimitExceeded = "Lambda.InvokeLimitExceeded"
	MsgLimitExceeded  = "The Lambda concurrent execution limit is exceeded. Increase the concurrent execution limit."
	CodeNotFound      = "Lambda.ResourceNotFound"
	MsgNotFound       = "The Lambda function does not exist. Ensure that the function exists and that LambdaArn names it."
	CodeAccessDenied  = "Lambda.InvokeAccessDenied"
	MsgAccessDenied   = "Access was denied. Ensure that the access policy allows access to the Lambda function." // AWS
	CodeMissingID     = "Lambda.MissingRecordId"
	MsgMissingID      = "One or more record Ids were not returned. Ensure that the Lambda function returns all received record Ids." // AWS
	CodeDuplicatedID  = "Lambda.DuplicatedRecordId"
	MsgDuplicatedID   = "Multiple records were returned with the same record Id. Ensure that the Lambda function returns a unique record Id for each record." // AWS (captured)
	CodeFailedStatus  = "Lambda.ProcessingFailedStatus"
	MsgFailedStatus   = "ProcessingFailed status set for record" // AWS (captured)
	CodeJSON          = "Lambda.JsonProcessingException"
	MsgJSON           = "There was an error parsing returned records from the Lambda function. Ensure that the returned records follow the status model required by Firehose."
	// MsgNullData is AWS's text for an Ok record without data; its code is
	// not documented and hydrant files it under CodeJSON.
	MsgNullData = "The data field cannot be null when the SourceType is DirectPut or KinesisStreamAsSource and processing result is Ok. The value field cannot be null when the SourceType is MSKAsSource and processing result is Ok." // AWS (captured)
	// CodeTooLarge is for a record whose event alone exceeds the payload
	// limit: hydrant's code, after Lambda's RequestTooLargeException.
	CodeTooLarge = "Lambda.RequestTooLarge"
	// CodeUnknown is for invocations that failed without a Lambda error
	// type (the endpoint could not be reached): hydrant's code. Other Lambda
	// error types become "Lambda." + the type without "Exception", as
	// internal/lambda names them.
	CodeUnknown = "Lambda.Unknown"
)

// lambdaStage is the Lambda processor of one stream configuration.
type lambdaStage struct {
	invoker   Invoker
	opts      Options
	stream    string
	streamARN string
	region    string
	cfg       streamspec.Lambda
	// slots holds a token for each invocation outstanding, from every
	// chunk being processed: at most Options.Invocations.
	slots chan struct{}
}

func (f *Factory) newLambda(st *streamspec.Stream, cfg streamspec.Lambda) *lambdaStage {
	return &lambdaStage{
		invoker:   f.invoker,
		opts:      f.opts,
		stream:    st.Name,
		streamARN: st.ARN,
		region:    cmp.Or(st.Region, f.opts.Region),
		cfg:       cfg,
		slots:     make(chan struct{}, max(f.opts.Invocations, 1)),
	}
}

// invocation is one event's worth of records. A record's recordId is
// derived from its sequence number and position (appendRecordID).
type invocation struct {
	recs    []deliver.Rec
	payload []byte
}

// run sends the records to the function in invocations that each hold at
// most BufferSizeInMBs of record data and whose event stays within the
// payload limit. Invocations of all the chunks being processed share
// Options.Invocations slots (Firehose keeps several invocations outstanding
// too). Records and failures come out in the order of recs whatever the
// order the invocations finish in.
func (l *lambdaStage) run(ctx context.Context, recs []deliver.Rec, fail func(deliver.Failure)) ([]deliver.Rec, error) {
	invs := l.split(recs, fail)
	outs := make([][]deliver.Rec, len(invs))
	fails := make([][]deliver.Failure, len(invs))
	errs := make([]error, len(invs))
	one := func(i int) {
		defer func() { <-l.slots }()
		outs[i], errs[i] = l.invoke(ctx, invs[i].recs, invs[i].payload, func(f deliver.Failure) {
			fails[i] = append(fails[i], f)
		})
	}
	// Slots are taken in order, so invocations start in the records' order.
	var wg sync.WaitGroup
	for i := range invs {
		select {
		case l.slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return nil, ctx.Err()
		}
		if len(invs) == 1 {
			one(i)
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			one(i)
		}()
	}
	wg.Wait()
	var out []deliver.Rec
	for i := range invs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		for _, f := range fails[i] {
			fail(f)
		}
		if len(invs) == 1 {
			return outs[0], nil
		}
		out = append(out, outs[i]...)
	}
	return out, nil
}

// invoke calls the function with one event, retrying invocation failures
// NumberOfRetries times, and sorts the records by the function's answer. It
// returns an error only when ctx ends, so that delivery redoes the batch.
func (l *lambdaStage) invoke(ctx context.Context, group []deliver.Rec, payload []byte, fail func(deliver.Failure)) ([]deliver.Rec, error) {
	delay := l.opts.RetryDelay
	var code, msg string
	attempts := l.cfg.Retries + 1
	for attempt := 1; attempt <= attempts; attempt++ {
		res, fnErr, took, err := l.call(ctx, payload)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		ok := err == nil && fnErr == ""
		if o := l.opts.Observer; o != nil {
			o.LambdaInvoked(l.stream, took, ok)
		}
		if ok {
			return l.sort(group, res, attempt, fail), nil
		}
		code, msg = l.classify(res, fnErr, err)
		l.opts.Logger.Warn("Lambda invocation failed", "stream", l.stream, "function", l.cfg.ARN,
			"attempt", attempt, "of", attempts, "error_code", code, "err", err, "function_error", fnErr)
		if attempt == attempts {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, 10*time.Second)
	}
	for _, r := range group {
		fail(l.failure(r, code, msg, attempts))
	}
	return nil, nil
}

// errDeadline marks an invocation that ran past InvokeTimeout.
var errDeadline = errors.New("invocation exceeded the time Firehose allows")

// call makes one invocation, bounded by InvokeTimeout.
func (l *lambdaStage) call(ctx context.Context, payload []byte) (res []byte, fnErr string, took time.Duration, err error) {
	if l.invoker == nil {
		return nil, "", 0, errNoInvoker
	}
	ictx, cancel := context.WithTimeout(ctx, l.opts.InvokeTimeout)
	defer cancel()
	start := time.Now()
	res, fnErr, err = l.invoker.Invoke(ictx, l.cfg.ARN, payload)
	took = time.Since(start)
	if err != nil && ctx.Err() == nil && errors.Is(ictx.Err(), context.DeadlineExceeded) {
		err = errDeadline
	}
	return res, fnErr, took, err
}

var errNoInvoker = &awsproto.Error{Type: "ResourceNotFoundException", Message: "hydrant was started without Lambda support"}

// classify maps a failed invocation to Firehose's error code and message.
func (l *lambdaStage) classify(res []byte, fnErr string, err error) (string, string) {
	switch {
	case err == errDeadline:
		return CodeTimedOut, MsgTimedOut
	case err != nil:
		return l.opts.ClassifyError(err)
	}
	// The function failed. Lambda reports a run past the function's
	// Timeout as an Unhandled error whose document says so.
	var doc struct {
		ErrorType    string `json:"errorType"`
		ErrorMessage string `json:"errorMessage"`
	}
	_ = json.Unmarshal(res, &doc)
	if doc.ErrorType == "Sandbox.Timedout" || strings.Contains(doc.ErrorMessage, "Task timed out after") {
		return CodeTimedOut, MsgTimedOut
	}
	return CodeFunctionError, MsgFunctionError
}

// DefaultClassifyError maps an Invoke error to a Firehose error code: by
// the Lambda API error type it carries (an *awsproto.Error, or an error with
// an ErrorType or ErrorCode method; types without a Firehose code become
// "Lambda." + the type without "Exception"), else a deadline to
// Lambda.FunctionTimedOut, else Lambda.Unknown.
func DefaultClassifyError(err error) (code, message string) {
	var fc interface{ FirehoseErrorCode() string }
	if errors.As(err, &fc) {
		if code := fc.FirehoseErrorCode(); code != "" {
			return code, messageFor(code, err)
		}
	}
	typ := ""
	var ae *awsproto.Error
	var typed interface{ ErrorType() string }
	var coded interface{ ErrorCode() string }
	switch {
	case errors.As(err, &ae):
		typ = ae.Type
	case errors.As(err, &typed):
		typ = typed.ErrorType()
	case errors.As(err, &coded):
		typ = coded.ErrorCode()
	}
	switch typ {
	case "ResourceNotFoundException":
		return CodeNotFound, MsgNotFound
	case "TooManyRequestsException", "EC2ThrottledException", "ResourceConflictException":
		return CodeLimitExceeded, MsgLimitExceeded
	case "AccessDeniedException", "AccessDenied":
		return CodeAccessDenied, MsgAccessDenied
	case "":
		if errors.Is(err, context.DeadlineExceeded) {
			return CodeTimedOut, MsgTimedOut
		}
		return CodeUnknown, "The Lambda function could not be invoked: " + err.Error()
	}
	return "Lambda." + strings.TrimSuffix(typ, "Exception"), "The Lambda function could not be invoked: " + err.Error()
}

// messageFor is the message Firehose writes for an invocation that got no
// answer, where one is known.
func messageFor(code string, err error) string {
	switch code {
	case CodeNotFound:
		return MsgNotFound
	case CodeLimitExceeded:
		return MsgLimitExceeded
	case CodeAccessDenied:
		return MsgAccessDenied
	case CodeTimedOut:
		return MsgTimedOut
	}
	return "The Lambda function could not be invoked: " + err.Error()
}

// failure is a processing-failed record: the record as the function
// received it, with the function's ARN and the attempts made.
func (l *lambdaStage) failure(r deliver.Rec, code, msg string, attempts int) deliver.Failure {
	return deliver.Failure{
		Type: ProcessingFailed, Raw: r.Data, Arrival: r.Arrival, Seq: r.Seq,
		Code: code, Message: msg, Attempts: attempts, EndedAt: time.Now(), LambdaARN: l.cfg.ARN,
	}
}

// sort applies the function's answer to the invocation's records. A
// malformed answer is not retried: its records fail with attemptsMade equal
// to the attempt that got it.
func (l *lambdaStage) sort(group []deliver.Rec, res []byte, attempt int, fail func(deliver.Failure)) []deliver.Rec {
	failAll := func(code, msg string) []deliver.Rec {
		for _, r := range group {
			fail(l.failure(r, code, msg, attempt))
		}
		return nil
	}
	entries, code, msg := decodeResponse(res, len(group))
	if code != "" {
		return failAll(code, msg)
	}
	match := matchEntries(entries, group)
	data := newSlab(entries)
	out := group[:0:0]
	succeeded := 0
	var outBytes int64
	for i, r := range group {
		j := match[i]
		switch j {
		case matchDuplicated:
			fail(l.failure(r, CodeDuplicatedID, MsgDuplicatedID, attempt))
			continue
		case matchMissing:
			fail(l.failure(r, CodeMissingID, MsgMissingID, attempt))
			continue
		}
		e := &entries[j]
		switch string(e.result) {
		case "Ok":
			if !e.hasData {
				fail(l.failure(r, CodeJSON, MsgNullData, attempt))
				continue
			}
			d, err := data.decode(e.data)
			if err != nil {
				fail(l.failure(r, CodeJSON, "The data field of the record is not valid base64: "+err.Error(), attempt))
				continue
			}
			out = append(out, deliver.Rec{Data: d, Arrival: r.Arrival, Seq: r.Seq, QueryKeys: r.QueryKeys, LambdaKeys: e.keys})
			succeeded++
			outBytes += int64(len(d))
		case "Dropped":
			succeeded++
		case "ProcessingFailed":
			fail(l.failure(r, CodeFailedStatus, MsgFailedStatus, attempt))
		default:
			fail(l.failure(r, CodeJSON, "The result field must be Ok, Dropped or ProcessingFailed, not "+strconv.Quote(string(e.result))+".", attempt))
		}
	}
	if o := l.opts.Observer; o != nil && succeeded > 0 {
		o.Processed(l.stream, succeeded, outBytes)
	}
	return out
}

// What matchEntries reports for a record without a usable entry.
const (
	matchMissing    = -1
	matchDuplicated = -2
)

// matchEntries finds each record's entry by recordId: its index in
// entries, matchMissing, or matchDuplicated when the ID came back more than
// once. Entries with unknown IDs are ignored. Functions usually answer in
// order, which is checked first without building a map.
func matchEntries(entries []respEntry, group []deliver.Rec) []int {
	match := make([]int, len(group))
	var id []byte
	if len(entries) == len(group) {
		inOrder := true
		for i, e := range entries {
			id = appendRecordID(id[:0], group[i].Seq, i)
			if !e.hasID || !bytes.Equal(e.id, id) {
				inOrder = false
				break
			}
			match[i] = i
		}
		if inOrder {
			return match
		}
	}
	byID := make(map[string]int, len(entries))
	for i, e := range entries {
		if !e.hasID {
			continue
		}
		if j, seen := byID[string(e.id)]; seen {
			if j != matchDuplicated {
				byID[string(e.id)] = matchDuplicated
			}
			continue
		}
		byID[string(e.id)] = i
	}
	for i, r := range group {
		id = appendRecordID(id[:0], r.Seq, i)
		j, ok := byID[string(id)]
		if !ok {
			j = matchMissing
		}
		match[i] = j
	}
	return match
}
