package lambda

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/server"
)

// TestSignedThroughServer: behind the server's REST route with credentials
// configured, SDK-signed requests pass (a function ARN in the path
// included: its colons are percent-encoded and signed that way) and
// requests signed with the wrong secret are refused.
func TestSignedThroughServer(t *testing.T) {
	s := openService(t, Options{})
	createFake(t, s, "signed", 10, nil)
	creds, err := awsproto.NewCredentials(awsproto.Credential{AccessKeyID: "AKIDHYDRANT", SecretAccessKey: "right-secret"})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(nil)
	srv.SetVerifier(&awsproto.Verifier{Credentials: creds})
	srv.AddRESTService("lambda", APIPrefix, maxCodeRequest, s.Handler())
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	client := func(secret string) *lambdasdk.Client {
		return lambdasdk.New(lambdasdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("AKIDHYDRANT", secret, "")})
	}
	ctx := context.Background()
	out, err := client("right-secret").Invoke(ctx, &lambdasdk.InvokeInput{
		FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:signed"), Payload: []byte(`{"op":"echo"}`)})
	if err != nil || out.FunctionError != nil {
		t.Fatalf("signed invoke: %v", err)
	}
	if _, err := client("right-secret").GetFunction(ctx, &lambdasdk.GetFunctionInput{FunctionName: aws.String("signed")}); err != nil {
		t.Fatalf("signed get: %v", err)
	}
	_, err = client("wrong-secret").GetFunction(ctx, &lambdasdk.GetFunctionInput{FunctionName: aws.String("signed")})
	if code, _, st := apiErr(t, err); code != awsproto.InvalidSignatureException || st != 403 {
		t.Errorf("wrong secret: %s %d", code, st)
	}
}
