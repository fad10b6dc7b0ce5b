package objstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/smithy-go"
)

func TestClassifyS3Errors(t *testing.T) {
	for name, tt := range map[string]struct {
		err      error
		code     string // "" means no DeliveryError
		sentinel error
	}{
		"access denied":       {&smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}, "S3.AccessDenied", nil},
		"no such bucket":      {&smithy.GenericAPIError{Code: "NoSuchBucket"}, "S3.NoSuchBucket", ErrNoSuchBucket},
		"account problem":     {&smithy.GenericAPIError{Code: "AccountProblem"}, "S3.AccountProblem", nil},
		"all access disabled": {&smithy.GenericAPIError{Code: "AllAccessDisabled"}, "S3.AllAccessDisabled", nil},
		"invalid payer":       {&smithy.GenericAPIError{Code: "InvalidPayer"}, "S3.InvalidPayer", nil},
		"not signed up":       {&smithy.GenericAPIError{Code: "NotSignedUp"}, "S3.NotSignedUp", nil},
		"method not allowed":  {&smithy.GenericAPIError{Code: "MethodNotAllowed"}, "S3.MethodNotAllowed", nil},
		"KMS key not found":   {&smithy.GenericAPIError{Code: "KMS.NotFoundException"}, "S3.KMS.NotFoundException", nil},
		"bad access key":      {&smithy.GenericAPIError{Code: "InvalidAccessKeyId"}, "S3.AccessDenied", nil},
		"bad signature":       {&smithy.GenericAPIError{Code: "SignatureDoesNotMatch"}, "S3.AccessDenied", nil},
		"throttled":           {&smithy.GenericAPIError{Code: "SlowDown"}, "InternalError", nil},
		"server error":        {&smithy.GenericAPIError{Code: "InternalError"}, "InternalError", nil},
		"network":             {errors.New("dial tcp 127.0.0.1:9: connect: connection refused"), "InternalError", nil},
		"no such key":         {&smithy.GenericAPIError{Code: "NoSuchKey"}, "", ErrNotFound},
		"404 HEAD":            {&smithy.GenericAPIError{Code: "NotFound"}, "", ErrNotFound},
		"cancelled":           {fmt.Errorf("operation error: %w", context.Canceled), "", context.Canceled},
	} {
		t.Run(name, func(t *testing.T) {
			got := classify(tt.err)
			de, ok := errors.AsType[*DeliveryError](got)
			switch {
			case tt.code == "" && ok:
				t.Errorf("classify = %v; want no delivery code", got)
			case tt.code != "" && (!ok || de.FirehoseErrorCode() != tt.code || de.Message == ""):
				t.Errorf("classify = %#v; want code %s with a message", got, tt.code)
			}
			if tt.sentinel != nil && !errors.Is(got, tt.sentinel) {
				t.Errorf("classify = %v; want it to wrap %v", got, tt.sentinel)
			}
			if !errors.Is(got, tt.err) {
				t.Errorf("classify = %v lost the SDK error", got)
			}
		})
	}
}
