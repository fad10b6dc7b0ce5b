package secretsmanager

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/hydrant-io/hydrant/internal/server"
)

func ptr[T any](v T) *T { return &v }

func TestRandomPasswordOptions(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		o       PasswordOptions
		length  int
		allowed string
		need    []string // each must appear
	}{
		"defaults":   {o: PasswordOptions{}, length: 32, allowed: lowercase + uppercase + digits + punctuation, need: []string{lowercase, uppercase, digits, punctuation}},
		"recipe":     {o: PasswordOptions{PasswordLength: ptr(int64(6)), ExcludePunctuation: true, ExcludeUppercase: true, RequireEachIncludedType: ptr(true)}, length: 6, allowed: lowercase + digits, need: []string{lowercase, digits}},
		"exclude":    {o: PasswordOptions{PasswordLength: ptr(int64(200)), ExcludeCharacters: ptr("abcdefghijklmnopqrstuvwxy/@\"'\\")}, length: 200, allowed: "z" + uppercase + digits + strings.NewReplacer("/", "", "@", "", "\"", "", "'", "", "\\", "").Replace(punctuation), need: []string{"z"}},
		"space":      {o: PasswordOptions{PasswordLength: ptr(int64(400)), IncludeSpace: true, ExcludeNumbers: true, ExcludeLowercase: true}, length: 400, allowed: uppercase + punctuation + " ", need: []string{uppercase, punctuation}},
		"no require": {o: PasswordOptions{PasswordLength: ptr(int64(1)), RequireEachIncludedType: ptr(false)}, length: 1, allowed: lowercase + uppercase + digits + punctuation},
		"max":        {o: PasswordOptions{PasswordLength: ptr(int64(4096)), ExcludeUppercase: true, ExcludeLowercase: true, ExcludePunctuation: true}, length: 4096, allowed: digits, need: []string{digits}},
	} {
		for range 20 {
			pw, err := RandomPassword(tc.o)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(pw) != tc.length {
				t.Fatalf("%s: length %d, want %d", name, len(pw), tc.length)
			}
			for _, r := range pw {
				if !strings.ContainsRune(tc.allowed, r) {
					t.Fatalf("%s: %q has %q", name, pw, r)
				}
			}
			for _, set := range tc.need {
				if !strings.ContainsAny(pw, set) {
					t.Fatalf("%s: %q has none of %q", name, pw, set)
				}
			}
		}
	}
	if _, err := RandomPassword(PasswordOptions{PasswordLength: ptr(int64(3))}); err == nil || !strings.Contains(err.Error(), "Password length is too short based on the required types.") {
		t.Errorf("length 3 with four required types: %v", err)
	}
	if _, err := RandomPassword(PasswordOptions{ExcludeNumbers: true, ExcludeLowercase: true, ExcludeUppercase: true, ExcludePunctuation: true}); err == nil {
		t.Error("nothing to choose from: no error")
	}
	if _, err := RandomPassword(PasswordOptions{ExcludeNumbers: true, ExcludeUppercase: true, ExcludePunctuation: true, ExcludeCharacters: ptr(lowercase)}); err == nil {
		t.Error("every lowercase letter excluded: no error")
	}
}

func TestGetRandomPasswordWithSDK(t *testing.T) {
	t.Parallel()
	svc, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(nil)
	srv.AddService(svc.API())
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	c := sm.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIATEST", "s", ""),
		BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1})
	ctx := context.Background()
	out, err := c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(6), ExcludePunctuation: aws.Bool(true),
		ExcludeUppercase: aws.Bool(true), RequireEachIncludedType: aws.Bool(true)})
	if err != nil || len(aws.ToString(out.RandomPassword)) != 6 {
		t.Fatalf("GetRandomPassword: %+v %v", out, err)
	}
	var ae smithy.APIError
	_, err = c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(4097)})
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" ||
		ae.ErrorMessage() != "1 validation error detected: Value '4097' at 'passwordLength' failed to satisfy constraint: Member must have value less than or equal to 4096" {
		t.Errorf("4097: %v", err)
	}
	_, err = c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(2)})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterException" {
		t.Errorf("2: %v", err)
	}
	_, err = c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s")})
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnknownOperationException" || !strings.Contains(ae.ErrorMessage(), "CreateSecret") {
		t.Errorf("CreateSecret: %v", err)
	}
}
