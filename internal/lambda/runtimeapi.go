package lambda

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Lambda Runtime API (version 2018-06-01) that each instance's process
// talks to on its loopback listener: it long-polls for the next event and
// posts the response or error of each.
const runtimeAPIPrefix = "/2018-06-01/runtime"

// newRuntimeToken is an instance's Runtime API secret: 256 random bits,
// URL-safe, so it can be the first segment of every path the runtime
// requests.
func newRuntimeToken() string {
	return rand.Text() + rand.Text()
}

// runtimeAddress is the AWS_LAMBDA_RUNTIME_API value of an instance
// listening on addr: host:port followed by the secret path segment.
// Runtime clients build their URLs as "http://" + AWS_LAMBDA_RUNTIME_API +
// "/2018-06-01/runtime/...", so every request carries the secret.
func runtimeAddress(addr, token string) string {
	return addr + "/" + token
}

// guard serves a request to next only when its path starts with
// /<token>/, which it strips; anything else (another local process that
// found the port) gets 403 and reaches nothing.
func guard(token string, next http.Handler) http.Handler {
	want := []byte(token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seg, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if !ok || subtle.ConstantTimeCompare([]byte(seg), want) != 1 {
			runtimeReply(w, http.StatusForbidden, map[string]string{"errorMessage": "this Runtime API belongs to another process", "errorType": "AccessDenied"})
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path, u.RawPath = "/"+rest, ""
		r2.URL = &u
		next.ServeHTTP(w, r2)
	})
}

func (inst *instance) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimeAPIPrefix+"/invocation/next", inst.handleNext)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/response", inst.handleResponse)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/invocation/{id}/error", inst.handleError)
	mux.HandleFunc("POST "+runtimeAPIPrefix+"/init/error", inst.handleInitError)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		runtimeReply(w, http.StatusNotFound, map[string]string{"errorMessage": "unknown Runtime API path " + r.URL.Path, "errorType": "InvalidRequest"})
	})
	return guard(inst.token, mux)
}

// handleNext hands the runtime its next event, blocking until there is one.
// The first call marks the end of the runtime's initialization.
func (inst *instance) handleNext(w http.ResponseWriter, r *http.Request) {
	inst.readyOnce.Do(func() {
		inst.initDuration = time.Since(inst.started)
		close(inst.ready)
	})
	var inv *invocation
	select {
	case inv = <-inst.next:
	case <-r.Context().Done():
		return
	case <-inst.stopCh:
		runtimeReply(w, http.StatusGone, map[string]string{"errorMessage": "instance stopped", "errorType": "InstanceStopped"})
		return
	}
	inv.begin(time.Now(), inst.svc.opts.InitTimeout)
	inst.mu.Lock()
	inst.current = inv
	inst.mu.Unlock()
	inst.pipe.begin(inv)
	close(inv.started)

	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", inv.arn)
	h.Set("Lambda-Runtime-Trace-Id", inv.traceID)
	if inv.clientContext != "" {
		h.Set("Lambda-Runtime-Client-Context", inv.clientContext)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(inv.payload)))
	_, _ = w.Write(inv.payload)
}

// take returns the invocation the runtime is answering, if id is it, and
// clears it: an invocation is answered once.
func (inst *instance) take(id string) *invocation {
	inst.mu.Lock()
	defer inst.mu.Unlock()
	inv := inst.current
	if inv == nil || inv.id != id {
		return nil
	}
	inst.current = nil
	return inv
}

func (inst *instance) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv := inst.take(r.PathValue("id"))
	if inv == nil {
		runtimeReply(w, http.StatusBadRequest, map[string]string{"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
		return
	}
	// An answer is usually about the size of its event (a transformation's
	// records come back), somewhat larger (aws-lambda-go adds a metadata
	// object to each record); aws-lambda-go sends it without a length.
	hint := int64(len(inv.payload)) * 3 / 2
	if r.ContentLength >= 0 {
		hint = r.ContentLength
	}
	body, size, err := readCappedHint(r.Body, MaxResponsePayload, hint)
	if err != nil {
		inv.finish(result{payload: errorDoc(fmt.Sprintf("RequestId: %s Error: reading the function's response: %v", inv.id, err), "Runtime.Unknown"), fnErr: "Unhandled", errType: "Runtime.Unknown"})
		runtimeReply(w, http.StatusBadRequest, map[string]string{"errorMessage": err.Error(), "errorType": "InvalidRequest"})
		return
	}
	if size > MaxResponsePayload {
		inv.finish(result{
			payload: errorDoc(fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", size, MaxResponsePayload), "Function.ResponseSizeTooLarge"),
			fnErr:   "Unhandled", errType: "Function.ResponseSizeTooLarge",
		})
		runtimeReply(w, http.StatusRequestEntityTooLarge, map[string]string{"errorMessage": fmt.Sprintf("Exceeded maximum allowed payload size (%d bytes).", MaxResponsePayload), "errorType": "RequestEntityTooLarge"})
		return
	}
	inv.finish(result{payload: body})
	runtimeReply(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

func (inst *instance) handleError(w http.ResponseWriter, r *http.Request) {
	inv := inst.take(r.PathValue("id"))
	if inv == nil {
		runtimeReply(w, http.StatusBadRequest, map[string]string{"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"})
		return
	}
	body, _, _ := readCapped(r.Body, MaxResponsePayload)
	typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	inv.finish(result{payload: errorPayload(body, typ), fnErr: "Unhandled", errType: typ})
	runtimeReply(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

func (inst *instance) handleInitError(w http.ResponseWriter, r *http.Request) {
	body, _, _ := readCapped(r.Body, MaxResponsePayload)
	typ := r.Header.Get("Lambda-Runtime-Function-Error-Type")
	inst.initOnce.Do(func() {
		inst.initErr = errorPayload(body, typ)
		close(inst.initFailed)
	})
	runtimeReply(w, http.StatusAccepted, map[string]string{"status": "OK"})
}

// errorPayload is the document an invoker receives for a runtime's error
// post: the runtime's own JSON when it sent some, else one made of what it
// sent.
func errorPayload(body []byte, typ string) []byte {
	if len(body) > 0 && json.Valid(body) {
		return body
	}
	if typ == "" {
		typ = "Runtime.Unknown"
	}
	msg := string(body)
	if msg == "" {
		msg = "Unknown application error occurred"
	}
	return errorDoc(msg, typ)
}

// errorDoc is a Lambda error document {"errorMessage","errorType"}.
func errorDoc(msg, typ string) []byte {
	m := map[string]string{"errorMessage": msg}
	if typ != "" {
		m["errorType"] = typ
	}
	b, _ := json.Marshal(m)
	return b
}

// readCapped reads up to limit bytes and reports the body's full size,
// draining (a bounded amount of) the rest to measure it.
func readCapped(r io.Reader, limit int64) ([]byte, int64, error) {
	return readCappedHint(r, limit, 0)
}

// readCappedHint is readCapped into a buffer sized for about hint bytes,
// which saves growing it step by step for a large body.
func readCappedHint(r io.Reader, limit, hint int64) ([]byte, int64, error) {
	buf := bytes.NewBuffer(make([]byte, 0, min(max(hint, 0), limit)+bytes.MinRead))
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	b := buf.Bytes()
	if err != nil {
		return nil, int64(len(b)), err
	}
	if int64(len(b)) <= limit {
		return b, int64(len(b)), nil
	}
	rest, _ := io.Copy(io.Discard, io.LimitReader(r, 1<<30))
	return nil, int64(len(b)) + rest, nil
}

func runtimeReply(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
