package lambda

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// handleInvoke serves Invoke: RequestResponse (the function's result in the
// body, X-Amz-Function-Error when it failed), Event (202, run in the
// background) and DryRun (204).
func (s *Service) handleInvoke(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	bound := map[string]string{"FunctionName": name}
	if q, ok := r.URL.Query()["Qualifier"]; ok && len(q) > 0 {
		bound["Qualifier"] = q[0]
	}
	for member, header := range map[string]string{"InvocationType": "X-Amz-Invocation-Type", "LogType": "X-Amz-Log-Type", "ClientContext": "X-Amz-Client-Context"} {
		if v := r.Header.Get(header); v != "" {
			bound[member] = v
		}
	}
	if e := s.validate("Invoke", nil, bound); e != nil {
		s.fail(w, e)
		return
	}
	ref, ok := parseFunctionName(name)
	if !ok {
		s.fail(w, notFound(name))
		return
	}
	if q := bound["Qualifier"]; q != "" {
		ref.Qualifier = q
	}
	typ := bound["InvocationType"]
	if typ == "" {
		typ = "RequestResponse"
	}
	limit := int64(MaxRequestPayload)
	if typ == "Event" {
		limit = maxEventPayload
	}
	if r.ContentLength > limit {
		s.fail(w, tooLarge(limit, "InvokeFunction"))
		return
	}
	payload, size, err := readCapped(r.Body, limit)
	if err != nil {
		s.fail(w, &awsproto.Error{Type: InvalidRequestContent, Message: "Could not read request body: " + err.Error(), Status: http.StatusBadRequest})
		return
	}
	if size > limit {
		s.fail(w, tooLarge(limit, "InvokeFunction"))
		return
	}
	if len(bytes.TrimSpace(payload)) > 0 {
		var v any
		if err := json.Unmarshal(payload, &v); err != nil {
			s.fail(w, &awsproto.Error{Type: InvalidRequestContent, Message: "Could not parse request body into json: Could not parse payload into json: " + err.Error(), Status: http.StatusBadRequest})
			return
		}
	}
	switch typ {
	case "DryRun":
		if _, _, e := s.resolve(ref); e != nil {
			s.fail(w, e)
			return
		}
		setRequestID(w, "")
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		if e := s.invokeAsync(ref, payload); e != nil {
			s.fail(w, e)
			return
		}
		setRequestID(w, uuid.NewString())
		w.WriteHeader(http.StatusAccepted)
		return
	}
	_, rec, e := s.resolve(ref)
	if e != nil {
		s.fail(w, e)
		return
	}
	// The server's write timeout is for API calls; a function may run for
	// up to 15 minutes.
	budget := time.Duration(rec.Config.Timeout)*time.Second + s.opts.InitTimeout + s.opts.QueueWait + 30*time.Second
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(budget))
	opts := invokeOpts{tail: bound["LogType"] == "Tail"}
	if cc := bound["ClientContext"]; cc != "" {
		if b, err := base64.StdEncoding.DecodeString(cc); err == nil {
			opts.clientContext = string(b)
		}
	}
	out, err := s.invoke(r.Context(), ref, payload, opts)
	if err != nil {
		if ae, ok := err.(*awsproto.Error); ok {
			s.fail(w, ae)
		}
		return // the client is gone
	}
	h := w.Header()
	setRequestID(w, out.requestID)
	h.Set("X-Amz-Executed-Version", LatestVersion)
	if out.fnErr != "" {
		h.Set("X-Amz-Function-Error", out.fnErr)
	}
	if opts.tail {
		h.Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(out.tail))
	}
	h.Set("Content-Type", awsproto.ContentTypeJSON)
	h.Set("Content-Length", strconv.Itoa(len(out.payload)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.payload)
}
