package lambda

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

// TestRouter: hosted functions run locally, others go to the remote
// endpoint (here another hydrant's Lambda API, spoken to by the SDK), and
// without one they are not found.
func TestRouter(t *testing.T) {
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_CONFIG_FILE": "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": ""} {
		t.Setenv(k, v)
	}
	local := openService(t, Options{})
	createFake(t, local, "here", 10, nil)
	far := openService(t, Options{})
	createFake(t, far, "there", 1, nil)
	ts := serveAPI(t, far)
	remote, err := NewRemote(context.Background(), ts.URL, "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	rt := &Router{Local: local, Remote: remote}
	ctx := context.Background()
	arn := func(region, account, name string) string {
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, account, name)
	}

	res, fnErr, err := rt.Invoke(ctx, arn("us-east-1", "000000000000", "here"), []byte(`{"op":"echo"}`))
	if err != nil || fnErr != "" || decodeReply(t, res).Env["AWS_LAMBDA_FUNCTION_NAME"] != "here" {
		t.Fatalf("local: %v %q %s", err, fnErr, res)
	}
	res, fnErr, err = rt.Invoke(ctx, arn("us-east-1", "000000000000", "there"), []byte(`{"op":"echo"}`))
	if err != nil || fnErr != "" || decodeReply(t, res).Env["AWS_LAMBDA_FUNCTION_NAME"] != "there" {
		t.Fatalf("remote: %v %q %s", err, fnErr, res)
	}
	res, fnErr, err = rt.Invoke(ctx, "there", []byte(`{"op":"error"}`))
	if err != nil || fnErr != "Unhandled" || string(res) != `{"errorMessage":"boom","errorType":"FakeError"}` || ErrorCode(res, fnErr, err) != CodeFunctionError {
		t.Errorf("remote function error: %v %q %s", err, fnErr, res)
	}
	res, fnErr, err = rt.Invoke(ctx, "there", []byte(`{"op":"sleep","ms":5000}`))
	if err != nil || fnErr != "Unhandled" || ErrorCode(res, fnErr, err) != CodeFunctionTimedOut {
		t.Errorf("remote timeout: %v %q %s", err, fnErr, res)
	}
	// Another account's function of the same name is not ours: remote.
	other := arn("eu-west-1", "111111111111", "here")
	_, _, err = rt.Invoke(ctx, other, nil)
	var ie *InvokeError
	if !errors.As(err, &ie) || ie.Type != ResourceNotFound || ie.StatusCode != http.StatusNotFound ||
		ie.Message != "Function not found: "+other || ErrorCode(nil, "", err) != CodeResourceNotFound {
		t.Errorf("remote not found: %#v", err)
	}

	// Without a remote endpoint: hosted names run whatever the ARN's
	// account, others are not found.
	rt = &Router{Local: local}
	if _, fnErr, err := rt.Invoke(ctx, other, []byte(`{"op":"echo"}`)); err != nil || fnErr != "" {
		t.Errorf("hosted name in another account: %v %q", err, fnErr)
	}
	_, _, err = rt.Invoke(ctx, "nowhere", nil)
	if !errors.As(err, &ie) || ie.Type != ResourceNotFound || ie.Message != "Function not found: arn:aws:lambda:us-east-1:000000000000:function:nowhere" {
		t.Errorf("no remote: %v", err)
	}
}

func TestErrorCode(t *testing.T) {
	tests := []struct {
		name   string
		result string
		fnErr  string
		err    error
		want   string
	}{
		{"ok", `{"records":[]}`, "", nil, ""},
		{"function error", `{"errorMessage":"x","errorType":"ValueError"}`, "Unhandled", nil, CodeFunctionError},
		{"timeout", `{"errorMessage":"2026-11-25T21:30:00.000Z 1 Task timed out after 3.00 seconds"}`, "Unhandled", nil, CodeFunctionTimedOut},
		{"sandbox timeout", `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: 1 Error: Task timed out after 3.00 seconds"}`, "Unhandled", nil, CodeFunctionTimedOut},
		{"not found", "", "", &InvokeError{Type: ResourceNotFound}, CodeResourceNotFound},
		{"throttled", "", "", fmt.Errorf("wrapped: %w", &InvokeError{Type: TooManyRequests}), CodeInvokeLimitExceeded},
		{"denied", "", "", &InvokeError{Type: "AccessDeniedException", StatusCode: 403}, CodeInvokeAccessDenied},
		{"forbidden", "", "", &InvokeError{Type: "KMSAccessDenied", StatusCode: 403}, CodeInvokeAccessDenied},
		{"other lambda error", "", "", &InvokeError{Type: "ENILimitReachedException"}, "Lambda.ENILimitReached"},
		{"transport deadline", "", "", &InvokeError{Err: context.DeadlineExceeded}, CodeFunctionTimedOut},
		{"unknown", "", "", errors.New("connection refused"), CodeUnknown},
	}
	for _, tt := range tests {
		if got := ErrorCode([]byte(tt.result), tt.fnErr, tt.err); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
