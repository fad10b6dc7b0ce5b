package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// protocolServer serves small fakes of IAM, STS (awsQuery) and CloudWatch
// (RPC v2 CBOR, awsJson 1.0 and awsQuery) written once against awsJson, so
// the real SDK clients exercise each protocol's conversion and routing.
func protocolServer(t *testing.T) (*httptest.Server, *[]string) {
	t.Helper()
	var seen []string
	load := func(name string) *awsproto.Model {
		m, err := awsproto.LoadModel(name)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	created := time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC)
	s := New(nil)
	s.AddService(&awsproto.Service{SigningName: "sts", Model: load("sts-2011-06-15"), MaxBody: 1 << 20,
		Ops: map[string]awsproto.JSONHandler{
			"GetCallerIdentity": func(ctx context.Context, body []byte) (any, error) {
				if c := awsproto.Caller(ctx); c != nil {
					seen = append(seen, "sts:"+c.AccessKeyID)
				}
				return map[string]string{"Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root", "UserId": "000000000000"}, nil
			},
		}})
	s.AddService(&awsproto.Service{SigningName: "iam", Model: load("iam-2010-05-08"), MaxBody: 1 << 20,
		Ops: map[string]awsproto.JSONHandler{
			"GetRole": func(ctx context.Context, body []byte) (any, error) {
				var in struct{ RoleName string }
				_ = json.Unmarshal(body, &in)
				return nil, &awsproto.Error{Type: "NoSuchEntityException", Status: 404, Message: "The role with name " + in.RoleName + " cannot be found."}
			},
			"CreateRole": func(ctx context.Context, body []byte) (any, error) {
				var in struct {
					RoleName string
					Tags     []struct{ Key, Value string }
				}
				if err := json.Unmarshal(body, &in); err != nil {
					return nil, err
				}
				seen = append(seen, "iam:CreateRole:"+in.RoleName+":"+in.Tags[1].Key+"="+in.Tags[1].Value)
				return map[string]any{"Role": map[string]any{"RoleName": in.RoleName, "RoleId": "AROA1", "Path": "/",
					"Arn": "arn:aws:iam::000000000000:role/" + in.RoleName, "CreateDate": awsproto.EpochSeconds(created),
					"Tags": in.Tags}}, nil
			},
		}})
	s.AddService(&awsproto.Service{TargetPrefix: "GraniteServiceVersion20100801", SigningName: "monitoring", JSONVersion: "1.0",
		Model: load("cloudwatch-2010-08-01"), MaxBody: 1 << 20,
		Ops: map[string]awsproto.JSONHandler{
			"GetMetricStatistics": func(ctx context.Context, body []byte) (any, error) {
				var in struct {
					Namespace, MetricName string
					StartTime             float64
					Period                int
					Statistics            []string
					Dimensions            []struct{ Name, Value string }
				}
				if err := json.Unmarshal(body, &in); err != nil {
					return nil, err
				}
				seen = append(seen, "cw:"+in.Namespace+"/"+in.MetricName+":"+in.Dimensions[0].Value+":"+in.Statistics[0])
				return map[string]any{"Label": in.MetricName, "Datapoints": []any{
					map[string]any{"Timestamp": in.StartTime + 60, "Sum": 42.5, "SampleCount": 3, "Unit": "Count"}}}, nil
			},
			"DeleteAlarms": func(ctx context.Context, body []byte) (any, error) {
				return nil, &awsproto.Error{Type: "ResourceNotFound", Status: 404, Message: "no such alarm"}
			},
		}})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs, &seen
}

func TestQueryAndCBORWithSDKClients(t *testing.T) {
	hs, seen := protocolServer(t)
	ctx := context.Background()
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIATEST", "secret", ""),
		BaseEndpoint: aws.String(hs.URL), RetryMaxAttempts: 1}

	// STS over awsQuery.
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != "000000000000" || aws.ToString(id.Arn) != "arn:aws:iam::000000000000:root" {
		t.Fatalf("GetCallerIdentity: %+v %v", id, err)
	}

	// IAM over awsQuery: lists of structures both ways, timestamps, and an
	// error with its awsQuery code and status.
	ic := iam.NewFromConfig(cfg)
	role, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r1"), AssumeRolePolicyDocument: aws.String("{}"),
		Tags: []iamtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("team"), Value: aws.String("data")}}})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	if aws.ToString(role.Role.RoleName) != "r1" || !role.Role.CreateDate.Equal(time.Date(2026, 11, 1, 12, 30, 0, 0, time.UTC)) ||
		len(role.Role.Tags) != 2 || aws.ToString(role.Role.Tags[1].Value) != "data" {
		t.Errorf("CreateRole answer: %+v", role.Role)
	}
	_, err = ic.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("nope")})
	var nse *iamtypes.NoSuchEntityException
	if !errors.As(err, &nse) || nse.ErrorMessage() != "The role with name nope cannot be found." {
		t.Errorf("GetRole error: %v", err)
	}
	// A validation error reads as Coral's, with the query code.
	_, err = ic.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("bad name!")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationError" {
		t.Errorf("invalid role name: %v", err)
	}

	// CloudWatch over RPC v2 CBOR (what this SDK version sends).
	cw := cloudwatch.NewFromConfig(cfg)
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	st, err := cw.GetMetricStatistics(ctx, &cloudwatch.GetMetricStatisticsInput{Namespace: aws.String("AWS/Firehose"),
		MetricName: aws.String("IncomingRecords"), StartTime: aws.Time(start), EndTime: aws.Time(start.Add(time.Hour)),
		Period: aws.Int32(60), Statistics: []cwtypes.Statistic{cwtypes.StatisticSum},
		Dimensions: []cwtypes.Dimension{{Name: aws.String("DeliveryStreamName"), Value: aws.String("s1")}}})
	if err != nil {
		t.Fatalf("GetMetricStatistics: %v", err)
	}
	if len(st.Datapoints) != 1 || aws.ToFloat64(st.Datapoints[0].Sum) != 42.5 || !st.Datapoints[0].Timestamp.Equal(start.Add(time.Minute)) {
		t.Errorf("datapoints: %+v", st.Datapoints)
	}
	_, err = cw.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{"x"}})
	var rnf *cwtypes.ResourceNotFound
	if !errors.As(err, &rnf) {
		t.Errorf("DeleteAlarms error: %T %v", err, err)
	}
	want := []string{"sts:AKIATEST", "iam:CreateRole:r1:team=data", "cw:AWS/Firehose/IncomingRecords:s1:Sum"}
	if len(*seen) != len(want) {
		t.Fatalf("handlers saw %v, want %v", *seen, want)
	}
	for i := range want {
		if (*seen)[i] != want[i] {
			t.Errorf("handler call %d: %s, want %s", i, (*seen)[i], want[i])
		}
	}
}

// TestQueryUnsignedByAction: without a signature (curl on loopback), an
// awsQuery request goes to the service that has its Action.
func TestQueryUnsignedByAction(t *testing.T) {
	hs, _ := protocolServer(t)
	resp, err := http.Post(hs.URL+"/", "application/x-www-form-urlencoded; charset=utf-8",
		stringsReader("Action=GetCallerIdentity&Version=2011-06-15"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/xml" {
		t.Errorf("unsigned GetCallerIdentity: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestQueryUnsignedByVersion: two awsQuery services with the same Action
// (CloudWatch's and SNS's TagResource) are told apart by the Version an
// unsigned request carries.
func TestQueryUnsignedByVersion(t *testing.T) {
	s := New(nil)
	var got []string
	for _, name := range []string{"cloudwatch-2010-08-01", "sns-2010-03-31"} {
		m, err := awsproto.LoadModel(name)
		if err != nil {
			t.Fatal(err)
		}
		signing := map[string]string{"cloudwatch-2010-08-01": "monitoring", "sns-2010-03-31": "sns"}[name]
		s.AddService(&awsproto.Service{SigningName: signing, Model: m, MaxBody: 1 << 20, Ops: map[string]awsproto.JSONHandler{
			"ListTagsForResource": func(ctx context.Context, body []byte) (any, error) {
				got = append(got, signing)
				return map[string]any{"Tags": []any{}}, nil
			}}})
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	for _, body := range []string{
		"Action=ListTagsForResource&Version=2010-03-31&ResourceArn=arn%3Aaws%3Asns%3Aus-east-1%3A000000000000%3At",
		"Action=ListTagsForResource&Version=2010-08-01&ResourceARN=arn%3Aaws%3Acloudwatch%3Aus-east-1%3A000000000000%3Aalarm%3Aa",
	} {
		resp, err := http.Post(hs.URL+"/", "application/x-www-form-urlencoded", stringsReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s", body, resp.Status)
		}
	}
	if len(got) != 2 || got[0] != "sns" || got[1] != "monitoring" {
		t.Errorf("routed to %v, want [sns monitoring]", got)
	}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
