package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go/logging"
)

// clientConfig loads an AWS SDK configuration the way the AWS tools do
// (credentials, region and endpoint from the environment and the shared
// files), with hydrant's fallbacks for the client commands: us-east-1, and
// dummy credentials when none are configured (hydrant on loopback does not
// check them). endpoint, when set, wins; otherwise the SDK's own endpoint
// settings apply, and failing those the local hydrant. what names the
// command in errors.
func clientConfig(ctx context.Context, what, endpoint, region string) (aws.Config, string, error) {
	// The SDK's own warnings (IMDS fallbacks on a laptop) are noise here.
	opts := []func(*awsconfig.LoadOptions) error{awsconfig.WithLogger(logging.Nop{})}
	if region != "" {
		opts = append(opts, awsconfig.WithRegion(region))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, "", fmt.Errorf("%s: load AWS configuration: %w", what, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	// Resolving credentials can mean asking the instance metadata service,
	// which on a laptop only times out; bound it.
	credErr := errors.New("no credentials provider")
	if cfg.Credentials != nil {
		rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		_, credErr = cfg.Credentials.Retrieve(rctx)
		cancel()
	}
	if credErr != nil {
		cfg.Credentials = credentials.NewStaticCredentialsProvider("hydrant", "hydrant", "")
	}
	return cfg, endpoint, nil
}

// baseEndpoint applies clientConfig's endpoint rule to a client's options.
func baseEndpoint(endpoint string, current *string) *string {
	switch {
	case endpoint != "":
		return aws.String(endpoint)
	case current == nil:
		return aws.String(defaultEndpoint)
	}
	return current
}
