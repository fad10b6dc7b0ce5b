package lambda

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// EndpointAWS as the remote endpoint means AWS Lambda itself, at the
// regional endpoint the SDK resolves from each function ARN's region.
const EndpointAWS = "aws"

// Remote invokes functions hydrant does not host through the Lambda Invoke
// API: real AWS Lambda, with the standard credential chain (environment,
// shared config and credentials files, SSO, container and instance roles),
// or any Lambda-compatible endpoint. It makes one attempt per call; the
// caller (the Firehose processor) owns retries.
type Remote struct {
	endpoint string
	base     aws.Config

	mu      sync.Mutex
	clients map[string]*lambdasdk.Client // by region
}

var _ Invoker = (*Remote)(nil)

// NewRemote prepares a remote invoker for endpoint (a URL, or EndpointAWS).
// defaultRegion is used for functions named without a region; credentials
// are resolved when first needed.
func NewRemote(ctx context.Context, endpoint, defaultRegion string) (*Remote, error) {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(defaultRegion))
	if err != nil {
		return nil, fmt.Errorf("lambda endpoint %s: load AWS config: %w", endpoint, err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	return &Remote{endpoint: endpoint, base: cfg, clients: map[string]*lambdasdk.Client{}}, nil
}

// Endpoint is the endpoint the invoker calls.
func (rm *Remote) Endpoint() string { return rm.endpoint }

func (rm *Remote) client(region string) *lambdasdk.Client {
	rm.mu.Lock()
	defer rm.mu.Unlock()
	if c := rm.clients[region]; c != nil {
		return c
	}
	cfg := rm.base.Copy()
	cfg.Region = region
	c := lambdasdk.NewFromConfig(cfg, func(o *lambdasdk.Options) {
		if rm.endpoint != EndpointAWS && rm.endpoint != "" {
			o.BaseEndpoint = aws.String(rm.endpoint)
		}
		o.RetryMaxAttempts = 1
	})
	rm.clients[region] = c
	return c
}

// Invoke calls the function synchronously. A function error comes back as
// functionError with the error document as result; Lambda errors as
// *InvokeError.
func (rm *Remote) Invoke(ctx context.Context, functionARN string, payload []byte) ([]byte, string, error) {
	region := rm.base.Region
	if ref, ok := parseFunctionName(functionARN); ok && ref.Region != "" {
		region = ref.Region
	}
	out, err := rm.client(region).Invoke(ctx, &lambdasdk.InvokeInput{
		FunctionName:   aws.String(functionARN),
		InvocationType: types.InvocationTypeRequestResponse,
		Payload:        payload,
	})
	if err != nil {
		return nil, "", remoteError(err)
	}
	return out.Payload, aws.ToString(out.FunctionError), nil
}

// remoteError turns an SDK error into an InvokeError that keeps the
// Lambda error type and HTTP status.
func remoteError(err error) error {
	ie := &InvokeError{Err: err}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		ie.Type, ie.Message = ae.ErrorCode(), ae.ErrorMessage()
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		ie.StatusCode = re.HTTPStatusCode()
		if ie.Type == "" && ie.StatusCode == http.StatusForbidden {
			ie.Type = "AccessDeniedException"
		}
	}
	if ie.Message == "" {
		ie.Message = err.Error()
	}
	return ie
}
