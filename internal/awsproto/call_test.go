package awsproto

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func TestCall(t *testing.T) {
	svc := &Service{Ops: map[string]JSONHandler{
		"Echo": func(ctx context.Context, body []byte) (any, error) {
			var in struct{ Name string }
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, err
			}
			return map[string]string{"Hello": in.Name, "Caller": Caller(ctx).AccessKeyID}, nil
		},
		"Raw": func(context.Context, []byte) (any, error) { return RawJSON(`{"N":7}`), nil },
		"Fail": func(context.Context, []byte) (any, error) {
			return nil, &Error{Type: "ResourceNotFoundException", Message: "no"}
		},
		"Bug":   func(context.Context, []byte) (any, error) { return nil, errors.New("disk on fire") },
		"Panic": func(context.Context, []byte) (any, error) { panic("boom") },
	}}
	ctx := WithCaller(context.Background(), &Identity{AccessKeyID: "AKID"})
	var echo map[string]string
	if err := svc.Call(ctx, "Echo", map[string]string{"Name": "x"}, &echo); err != nil || echo["Hello"] != "x" || echo["Caller"] != "AKID" {
		t.Fatalf("echo %v %v", echo, err)
	}
	var raw struct{ N int }
	if err := svc.Call(ctx, "Raw", nil, &raw); err != nil || raw.N != 7 {
		t.Fatalf("raw %v %v", raw, err)
	}
	for op, want := range map[string]string{"Fail": "ResourceNotFoundException", "Bug": "InternalFailure", "Panic": "InternalFailure", "Nope": UnknownOperationException} {
		var ae *Error
		if err := svc.Call(ctx, op, struct{}{}, nil); !errors.As(err, &ae) || ae.Type != want {
			t.Errorf("%s: got %v, want %s", op, err, want)
		}
	}
}
