package awsproto

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// readSpy fails the test if the body is read.
type readSpy struct{ read bool }

func (s *readSpy) Read(p []byte) (int, error) { s.read = true; return 0, nil }

func decodeError(t *testing.T, w *httptest.ResponseRecorder) (string, string) {
	t.Helper()
	var e struct{ Type, Message string }
	var raw map[string]string
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatalf("error body %q: %v", w.Body.String(), err)
	}
	e.Type, e.Message = raw["__type"], raw["message"]
	if h := w.Header().Get("X-Amzn-Errortype"); h != e.Type {
		t.Errorf("X-Amzn-Errortype %q, __type %q", h, e.Type)
	}
	return e.Type, e.Message
}

func TestServiceVerifiesSignatures(t *testing.T) {
	calls := 0
	svc := &Service{
		TargetPrefix: "Firehose_20150804", SigningName: "firehose", MaxBody: 1 << 20,
		Verifier: testVerifier(t),
		Ops: map[string]JSONHandler{"ListDeliveryStreams": func(ctx context.Context, body []byte) (any, error) {
			calls++
			return RawJSON(`{"DeliveryStreamNames":[]}`), nil
		}},
	}
	svc.Verifier.Now = nil

	// Unsigned: refused before a byte of the body is read.
	spy := &readSpy{}
	r := httptest.NewRequest("POST", "http://h/", spy)
	r.ContentLength = 10
	w := httptest.NewRecorder()
	svc.ServeOperation(w, r, "ListDeliveryStreams")
	if typ, msg := decodeError(t, w); w.Code != 400 || typ != MissingAuthenticationTokenException || msg != "Request is missing Authentication Token" {
		t.Errorf("unsigned: %d %s %q", w.Code, typ, msg)
	}
	if spy.read || calls != 0 {
		t.Errorf("unsigned request: body read %v, handler calls %d", spy.read, calls)
	}

	body := []byte("{}")
	signed := func(service string) *http.Request {
		return sdkSigned(t, "POST", "http://h/", body, service, time.Now(), testKey,
			map[string]string{"X-Amz-Target": "Firehose_20150804.ListDeliveryStreams", "Content-Type": ContentTypeJSON11})
	}
	w = httptest.NewRecorder()
	svc.ServeOperation(w, signed("firehose"), "ListDeliveryStreams")
	if w.Code != 200 || calls != 1 {
		t.Fatalf("signed: %d %s (calls %d)", w.Code, w.Body, calls)
	}

	w = httptest.NewRecorder()
	svc.ServeOperation(w, signed("kinesis"), "ListDeliveryStreams")
	if typ, msg := decodeError(t, w); typ != InvalidSignatureException || msg != "Credential should be scoped to correct service: 'firehose'. " {
		t.Errorf("wrong service: %s %q", typ, msg)
	}

	// A body that differs from the one signed.
	r = signed("firehose")
	r.Body = httpBody(`{"x":1}`)
	w = httptest.NewRecorder()
	svc.ServeOperation(w, r, "ListDeliveryStreams")
	if typ, _ := decodeError(t, w); typ != InvalidSignatureException || calls != 1 {
		t.Errorf("changed body: %s, calls %d", typ, calls)
	}
}

func httpBody(s string) *nopCloser { return &nopCloser{bytes.NewReader([]byte(s))} }

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func TestServiceBudget(t *testing.T) {
	b := NewBudget(100, 20*time.Millisecond)
	svc := &Service{TargetPrefix: "T", MaxBody: 1000, Budget: b,
		Ops: map[string]JSONHandler{"Op": func(ctx context.Context, body []byte) (any, error) { return nil, nil }}}
	held, _ := b.Acquire(context.Background(), 80)
	r := httptest.NewRequest("POST", "http://h/", bytes.NewReader(make([]byte, 50)))
	w := httptest.NewRecorder()
	svc.ServeOperation(w, r, "Op")
	if typ, msg := decodeError(t, w); w.Code != 503 || typ != ServiceUnavailableException || msg != "Slow down." {
		t.Errorf("over budget: %d %s %q", w.Code, typ, msg)
	}
	b.Release(held)
	w = httptest.NewRecorder()
	svc.ServeOperation(w, httptest.NewRequest("POST", "http://h/", bytes.NewReader(make([]byte, 50))), "Op")
	if w.Code != 200 || b.InUse() != 0 {
		t.Errorf("within budget: %d, in use after %d", w.Code, b.InUse())
	}
	// Too large by Content-Length: refused without reserving or reading.
	w = httptest.NewRecorder()
	svc.ServeOperation(w, httptest.NewRequest("POST", "http://h/", bytes.NewReader(make([]byte, 2000))), "Op")
	if w.Code != http.StatusRequestEntityTooLarge || b.Peak() > 100 {
		t.Errorf("too large: %d, peak %d", w.Code, b.Peak())
	}
}
