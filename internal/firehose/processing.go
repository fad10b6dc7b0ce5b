package firehose

import (
	"encoding/base64"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/itchyny/gojq"

	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/streamspec"
)

// The processor types and parameter names of the Firehose model
// (ProcessorType, ProcessorParameterName).
const (
	ProcessorLambda                  = "Lambda"
	ProcessorMetadataExtraction      = "MetadataExtraction"
	ProcessorAppendDelimiterToRecord = "AppendDelimiterToRecord"
	ProcessorRecordDeAggregation     = "RecordDeAggregation"
	ProcessorDecompression           = "Decompression"
	ProcessorCloudWatchLogProcessing = "CloudWatchLogProcessing"
)

// Limits and defaults of the processors (reference §3, §6, §7).
const (
	// DefaultLambdaRetries is NumberOfRetries when it is not given.
	DefaultLambdaRetries = 3
	// MaxLambdaRetries caps NumberOfRetries. AWS does not range-check the
	// parameter (it was seen honouring 9); hydrant refuses values above
	// this so that one batch cannot retry a failing function for hours.
	MaxLambdaRetries = 100
	// DefaultLambdaBufferBytes is BufferSizeInMBs when it is not given (1 MB).
	DefaultLambdaBufferBytes = 1 << 20
	// DefaultLambdaBufferInterval is BufferIntervalInSeconds when it is not
	// given.
	DefaultLambdaBufferInterval = 60 * time.Second
	// MaxPartitionKeys is the most keys a MetadataExtractionQuery may
	// produce.
	MaxPartitionKeys = streamspec.MaxPartitionKeys
	// JQ16 is the only JsonParsingEngine Firehose accepts.
	JQ16 = "JQ-1.6"
)

// allowedParams lists the parameters each processor type takes and which
// of them are required.
var allowedParams = map[string]map[string]bool{
	ProcessorLambda: {
		"LambdaArn": true, "NumberOfRetries": false, "RoleArn": false,
		"BufferSizeInMBs": false, "BufferIntervalInSeconds": false,
	},
	ProcessorMetadataExtraction:      {"MetadataExtractionQuery": true, "JsonParsingEngine": false},
	ProcessorAppendDelimiterToRecord: {},
	ProcessorRecordDeAggregation:     {"SubRecordType": true, "Delimiter": false},
	ProcessorDecompression:           {"CompressionFormat": true},
	ProcessorCloudWatchLogProcessing: {"DataMessageExtraction": true},
}

// lambdaParamOrder is the order in which DescribeDeliveryStream lists a
// Lambda processor's parameters (as AWS returns them).
var lambdaParamOrder = []string{"LambdaArn", "NumberOfRetries", "RoleArn", "BufferSizeInMBs", "BufferIntervalInSeconds"}

// fillProcessorDefaults gives each Lambda processor of d the parameters AWS
// fills in and DescribeDeliveryStream shows when they are not given:
// NumberOfRetries 3, RoleArn the destination's role, BufferSizeInMBs 1 and
// BufferIntervalInSeconds 60, listed in AWS's order. Given values are kept
// as given; d's ProcessingConfiguration is replaced, never modified.
func fillProcessorDefaults(d *ExtendedS3Destination) {
	pc := d.ProcessingConfiguration
	if pc == nil {
		return
	}
	defaults := map[string]string{
		"NumberOfRetries":         strconv.Itoa(DefaultLambdaRetries),
		"BufferSizeInMBs":         strconv.Itoa(DefaultLambdaBufferBytes >> 20),
		"BufferIntervalInSeconds": strconv.Itoa(int(DefaultLambdaBufferInterval / time.Second)),
	}
	if role := deref(d.RoleARN); role != "" {
		defaults["RoleArn"] = role
	}
	out := *pc
	out.Processors = make([]Processor, len(pc.Processors))
	for i, pr := range pc.Processors {
		if pr.Type == ProcessorLambda {
			given := map[string]string{}
			for _, prm := range pr.Parameters {
				given[prm.ParameterName] = prm.ParameterValue
			}
			params := make([]ProcessorParameter, 0, len(lambdaParamOrder))
			for _, name := range lambdaParamOrder {
				if v, ok := given[name]; ok {
					params = append(params, ProcessorParameter{ParameterName: name, ParameterValue: v})
				} else if v, ok := defaults[name]; ok {
					params = append(params, ProcessorParameter{ParameterName: name, ParameterValue: v})
				}
			}
			pr.Parameters = params
		}
		out.Processors[i] = pr
	}
	d.ProcessingConfiguration = &out
}

// lambdaARN matches an unqualified or qualified function ARN in any
// partition: arn:aws:lambda:us-east-1:123456789012:function:name[:qualifier].
var lambdaARN = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,140}(:(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$`)

// roleARN is the IAM role pattern of the newest model.
var roleARN = regexp.MustCompile(`^arn:.*:iam::\d{12}:role/[a-zA-Z_0-9+=,.@\-_/]+$`)

// ParseProcessing checks a ProcessingConfiguration and returns its
// processors, parameters parsed and defaults filled in; the result is zero
// (not Enabled) when pc is nil or not Enabled. Errors are
// InvalidArgumentException *awsproto.Error values naming the processor and
// parameter at fault. The model's own constraints (enum values, lengths) are
// checked earlier by the API layer.
func ParseProcessing(pc *ProcessingConfiguration) (streamspec.Processing, error) {
	if pc == nil {
		return streamspec.Processing{}, nil
	}
	p, err := parseProcessors(pc.Processors)
	if err != nil || !isTrue(pc.Enabled) {
		return streamspec.Processing{}, err
	}
	p.Enabled = true
	return p, nil
}

func parseProcessors(list []Processor) (streamspec.Processing, error) {
	var out streamspec.Processing
	fail := func(err error) (streamspec.Processing, error) { return streamspec.Processing{}, err }
	seen := map[string]bool{}
	for _, pr := range list {
		allowed, ok := allowedParams[pr.Type]
		if !ok {
			return fail(invalidArg("Processor type %s is not supported.", pr.Type))
		}
		if seen[pr.Type] {
			return fail(invalidArg("Only one processor of type %s is allowed in ProcessingConfiguration.", pr.Type))
		}
		seen[pr.Type] = true
		params := map[string]string{}
		for _, prm := range pr.Parameters {
			if _, ok := allowed[prm.ParameterName]; !ok {
				return fail(invalidArg("Processor type %s does not support the parameter %s.", pr.Type, prm.ParameterName))
			}
			if _, dup := params[prm.ParameterName]; dup {
				return fail(invalidArg("Parameter %s is given more than once for processor type %s.", prm.ParameterName, pr.Type))
			}
			params[prm.ParameterName] = prm.ParameterValue
		}
		for name, required := range allowed {
			if _, ok := params[name]; required && !ok {
				return fail(invalidArg("Processor type %s requires the parameter %s.", pr.Type, name))
			}
		}
		if err := add(&out, pr.Type, params); err != nil {
			return fail(err)
		}
	}
	if out.CloudWatchLogs && out.Decompression == "" {
		return fail(invalidArg("Processor type %s requires a %s processor.", ProcessorCloudWatchLogProcessing, ProcessorDecompression))
	}
	return out, nil
}

// add parses one processor's parameters into p.
func add(p *streamspec.Processing, typ string, params map[string]string) error {
	switch typ {
	case ProcessorLambda:
		l, err := parseLambda(params)
		p.Lambda = l
		return err
	case ProcessorMetadataExtraction:
		m, err := parseMetadataExtraction(params)
		p.MetadataExtraction = m
		return err
	case ProcessorAppendDelimiterToRecord:
		p.AppendDelimiter = true
	case ProcessorRecordDeAggregation:
		d := streamspec.DeAggregation{Enabled: true}
		delim, hasDelim := params["Delimiter"]
		switch sub := params["SubRecordType"]; sub {
		case "JSON":
			d.JSON = true
			if hasDelim {
				return invalidArg("Parameter Delimiter is only allowed with SubRecordType DELIMITED.")
			}
		case "DELIMITED":
			if !hasDelim {
				return invalidArg("Parameter Delimiter is required when SubRecordType is DELIMITED.")
			}
			b, err := base64.StdEncoding.DecodeString(delim)
			if err != nil || len(b) == 0 {
				return invalidArg("Delimiter %s is not a valid base64-encoded delimiter.", delim)
			}
			d.Delimiter = b
		default:
			return invalidArg("SubRecordType %s is not valid; it must be JSON or DELIMITED.", sub)
		}
		p.DeAggregation = d
	case ProcessorDecompression:
		if f := params["CompressionFormat"]; f != "GZIP" {
			return invalidArg("CompressionFormat %s is not supported by the Decompression processor; it must be GZIP.", f)
		}
		p.Decompression = "GZIP"
	case ProcessorCloudWatchLogProcessing:
		if v := params["DataMessageExtraction"]; v != "true" {
			return invalidArg("DataMessageExtraction %s is not valid; it must be true.", v)
		}
		p.CloudWatchLogs = true
	}
	return nil
}

func parseLambda(params map[string]string) (streamspec.Lambda, error) {
	l := streamspec.Lambda{
		Enabled:        true,
		ARN:            params["LambdaArn"],
		RoleARN:        params["RoleArn"],
		Retries:        DefaultLambdaRetries,
		BufferBytes:    DefaultLambdaBufferBytes,
		BufferInterval: DefaultLambdaBufferInterval,
	}
	if !lambdaARN.MatchString(l.ARN) {
		return streamspec.Lambda{}, invalidArg("LambdaArn %s is not a valid Lambda function ARN.", l.ARN)
	}
	if l.RoleARN != "" && !roleARN.MatchString(l.RoleARN) {
		return streamspec.Lambda{}, invalidArg("RoleArn %s is not a valid IAM role ARN.", l.RoleARN)
	}
	if v, ok := params["NumberOfRetries"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > MaxLambdaRetries {
			return streamspec.Lambda{}, invalidArg("NumberOfRetries %s is not valid; it must be an integer from 0 to %d.", v, MaxLambdaRetries)
		}
		l.Retries = n
	}
	if v, ok := params["BufferSizeInMBs"]; ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0.2 || f > 3 {
			return streamspec.Lambda{}, invalidArg("BufferSizeInMBs %s is not valid; it must be a number from 0.2 to 3.", v)
		}
		l.BufferBytes = int64(f * (1 << 20))
	}
	if v, ok := params["BufferIntervalInSeconds"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 900 {
			return streamspec.Lambda{}, invalidArg("BufferIntervalInSeconds %s is not valid; it must be an integer from 0 to 900.", v)
		}
		l.BufferInterval = time.Duration(n) * time.Second
	}
	return l, nil
}

func parseMetadataExtraction(params map[string]string) (streamspec.MetadataExtraction, error) {
	if e, ok := params["JsonParsingEngine"]; ok && e != JQ16 {
		return streamspec.MetadataExtraction{}, invalidArg("JsonParsingEngine %s is not supported; the only supported engine is %s.", e, JQ16)
	}
	src := params["MetadataExtractionQuery"]
	q, err := gojq.Parse(src)
	if err != nil {
		return streamspec.MetadataExtraction{}, invalidArg("MetadataExtractionQuery %s is not a valid jq expression: %s", src, err.Error())
	}
	if _, err := gojq.Compile(q); err != nil {
		return streamspec.MetadataExtraction{}, invalidArg("MetadataExtractionQuery %s is not a valid jq expression: %s", src, err.Error())
	}
	m := streamspec.MetadataExtraction{Enabled: true, Query: src, Keys: StaticQueryKeys(q)}
	if len(m.Keys) > MaxPartitionKeys {
		return streamspec.MetadataExtraction{}, invalidArg("MetadataExtractionQuery builds %d partition keys; at most %d are allowed.", len(m.Keys), MaxPartitionKeys)
	}
	return m, nil
}

// StaticQueryKeys returns the keys of a jq query that is an object
// constructor whose keys are all literal ({"a":.x, b:.y, c, $d}), in order,
// or nil when the keys are only known at run time.
func StaticQueryKeys(q *gojq.Query) []string {
	if q == nil || q.Term == nil || q.Term.Object == nil || len(q.Term.SuffixList) > 0 || q.Left != nil {
		return nil
	}
	var out []string
	for _, kv := range q.Term.Object.KeyVals {
		var k string
		switch {
		case kv.KeyString != nil && len(kv.KeyString.Queries) == 0:
			k = kv.KeyString.Str
		case kv.Key != "":
			k = strings.TrimPrefix(kv.Key, "$")
		default:
			return nil
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// checkProcessing applies the processor rules to a destination: parameters
// (names allowed per type, required ones, value ranges, the Lambda ARN, the
// jq query and engine), the processor types hydrant implements (f), and
// that MetadataExtraction is only used with dynamic partitioning.
func checkProcessing(d *ExtendedS3Destination, f Features) error {
	pc := d.ProcessingConfiguration
	if pc == nil {
		return nil
	}
	p, err := parseProcessors(pc.Processors)
	if err != nil {
		return err
	}
	if !isTrue(pc.Enabled) {
		return nil
	}
	for _, pr := range pc.Processors {
		if !f.Processors[pr.Type] {
			return invalidArg("ProcessingConfiguration processor type %s is not supported by hydrant yet.", pr.Type)
		}
	}
	if p.MetadataExtraction.Enabled && !dynamicPartitioningOn(d) {
		return invalidArg("The %s processor can only be used when dynamic partitioning is enabled.", ProcessorMetadataExtraction)
	}
	return nil
}

// checkPartitionKeyUse relates the Prefix's partition keys to the
// processors that provide them, once the prefixes themselves are known to be
// valid: partitionKeyFromQuery needs an enabled MetadataExtraction processor
// and partitionKeyFromLambda a Lambda processor; every key a
// MetadataExtractionQuery builds (when its keys are literal) must be used
// in the Prefix, as the console and CDK require.
func checkPartitionKeyUse(d *ExtendedS3Destination) error {
	if !dynamicPartitioningOn(d) {
		return nil
	}
	prefix, err := keys.Parse(deref(d.Prefix), keys.DataPrefix)
	if err != nil {
		return invalidArg("%s", err.Error())
	}
	p, err := ParseProcessing(d.ProcessingConfiguration)
	if err != nil {
		return err
	}
	if len(prefix.QueryKeys()) > 0 && !p.MetadataExtraction.Enabled {
		return invalidArg("Prefix uses %s expressions but no enabled %s processor provides them.", keys.NSPartitionKeyFromQuery, ProcessorMetadataExtraction)
	}
	if len(prefix.LambdaKeys()) > 0 && !p.Lambda.Enabled {
		return invalidArg("Prefix uses %s expressions but no enabled %s processor provides them.", keys.NSPartitionKeyFromLambda, ProcessorLambda)
	}
	if m := p.MetadataExtraction; m.Enabled {
		used := prefix.QueryKeys()
		for _, k := range m.Keys {
			if !slices.Contains(used, k) {
				return invalidArg("MetadataExtractionQuery key %s is not used in the Prefix; every key must appear as !{%s:%s}.", k, keys.NSPartitionKeyFromQuery, k)
			}
		}
	}
	return nil
}
