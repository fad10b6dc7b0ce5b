package lambda

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"

	"github.com/google/uuid"
	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// APIPrefix is the path under which the Lambda API's function operations
// live; the server routes it to Handler.
const APIPrefix = "/2015-03-31/functions"

// maxCodeRequest is Lambda's limit on CreateFunction and UpdateFunctionCode
// bodies (a 50 MB package, base64-encoded, in JSON).
const maxCodeRequest = 69905067

// MaxRequestBody is the largest request body of any operation Handler
// serves; the server reads no more than this to verify a signature.
const MaxRequestBody = maxCodeRequest

// maxConfigRequest bounds the other operations' bodies.
const maxConfigRequest = 1 << 20

// Handler serves the Lambda API operations hydrant implements, under
// APIPrefix.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	p := APIPrefix
	mux.HandleFunc("POST "+p, s.handleCreate)
	mux.HandleFunc("POST "+p+"/{$}", s.handleCreate)
	mux.HandleFunc("GET "+p, s.handleList)
	mux.HandleFunc("GET "+p+"/{$}", s.handleList)
	mux.HandleFunc("GET "+p+"/{name}", s.handleGet)
	mux.HandleFunc("DELETE "+p+"/{name}", s.handleDelete)
	mux.HandleFunc("GET "+p+"/{name}/configuration", s.handleGetConfig)
	mux.HandleFunc("PUT "+p+"/{name}/configuration", s.handleUpdateConfig)
	mux.HandleFunc("PUT "+p+"/{name}/code", s.handleUpdateCode)
	mux.HandleFunc("POST "+p+"/{name}/invocations", s.handleInvoke)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, &awsproto.Error{Type: "UnknownOperationException", Message: "hydrant does not implement " + r.Method + " " + r.URL.Path + " of the Lambda API", Status: http.StatusNotFound})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving Lambda request", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				s.fail(w, serviceError())
			}
		}()
		mux.ServeHTTP(w, r)
	})
}

// fail writes an API error in Lambda's REST-JSON shape.
func (s *Service) fail(w http.ResponseWriter, e *awsproto.Error) {
	setRequestID(w, "")
	awsproto.WriteRESTJSONError(w, e, s.model)
}

func (s *Service) reply(w http.ResponseWriter, status int, v any) {
	setRequestID(w, "")
	awsproto.WriteRESTJSON(w, status, v)
}

func setRequestID(w http.ResponseWriter, id string) {
	if w.Header().Get("X-Amzn-Requestid") != "" {
		return
	}
	if id == "" {
		id = uuid.NewString()
	}
	w.Header().Set("X-Amzn-Requestid", id)
}

// readBody reads a request body of at most limit bytes.
func readBody(r *http.Request, limit int64, op string) ([]byte, *awsproto.Error) {
	if r.ContentLength > limit {
		return nil, tooLarge(limit, op)
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, &awsproto.Error{Type: InvalidRequestContent, Message: "Could not read request body: " + err.Error(), Status: http.StatusBadRequest}
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(limit, op)
	}
	return b, nil
}

// validate checks a request against the Lambda model. Lambda reports a
// body that is not JSON as InvalidRequestContentException.
func (s *Service) validate(op string, body []byte, bound map[string]string) *awsproto.Error {
	_, e := s.model.ValidateREST(op, body, bound)
	if e == nil {
		return nil
	}
	if e.Type == awsproto.SerializationException {
		return &awsproto.Error{Type: InvalidRequestContent, Message: e.Message, Status: http.StatusBadRequest}
	}
	return e
}

// target validates the FunctionName (and Qualifier) of a request and
// resolves the function.
func (s *Service) target(r *http.Request, op string, withQualifier bool) (*function, *record, *awsproto.Error) {
	name := r.PathValue("name")
	bound := map[string]string{"FunctionName": name}
	if q, ok := r.URL.Query()["Qualifier"]; ok && withQualifier && len(q) > 0 {
		bound["Qualifier"] = q[0]
	}
	if e := s.validate(op, nil, bound); e != nil {
		return nil, nil, e
	}
	ref, ok := parseFunctionName(name)
	if !ok {
		return nil, nil, notFound(name)
	}
	if q := bound["Qualifier"]; q != "" {
		if ref.Qualifier != "" && ref.Qualifier != q {
			return nil, nil, invalidParam("The derived qualifier from the function name does not match the specified qualifier.")
		}
		ref.Qualifier = q
	}
	return s.resolve(ref)
}

func (s *Service) handleCreate(w http.ResponseWriter, r *http.Request) {
	body, e := readBody(r, maxCodeRequest, "CreateFunction")
	if e != nil {
		s.fail(w, e)
		return
	}
	if e := s.validate("CreateFunction", body, nil); e != nil {
		s.fail(w, e)
		return
	}
	var in createRequest
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		s.fail(w, &awsproto.Error{Type: InvalidRequestContent, Message: "Could not parse request body into json: " + err.Error(), Status: http.StatusBadRequest})
		return
	}
	_ = json.Unmarshal(body, &doc)
	if e := s.checkRole(r.Context(), &in.Role); e != nil {
		s.fail(w, e)
		return
	}
	cfg, err := s.create(&in, doc)
	if err != nil {
		s.failErr(w, "CreateFunction", err)
		return
	}
	s.reply(w, http.StatusCreated, cfg)
}

// failErr answers with an API error, or logs an internal one and answers
// ServiceException.
func (s *Service) failErr(w http.ResponseWriter, op string, err error) {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		s.fail(w, ae)
		return
	}
	s.log.Error("lambda operation failed", "op", op, "err", err)
	s.fail(w, serviceError())
}

func (s *Service) handleGet(w http.ResponseWriter, r *http.Request) {
	_, rec, e := s.target(r, "GetFunction", true)
	if e != nil {
		s.fail(w, e)
		return
	}
	s.reply(w, http.StatusOK, getFunctionResponse{
		Configuration: rec.Config,
		Code:          codeLocation{RepositoryType: "S3", Location: codeURL(r, rec.Config.FunctionName)},
		Tags:          rec.Tags,
	})
}

// codeURL is where GetFunction says the package can be downloaded: from
// hydrant itself, on the address the client used.
func codeURL(r *http.Request, name string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/_hydrant/functions/" + name + "/code.zip"
}

func (s *Service) handleGetConfig(w http.ResponseWriter, r *http.Request) {
	_, rec, e := s.target(r, "GetFunctionConfiguration", true)
	if e != nil {
		s.fail(w, e)
		return
	}
	s.reply(w, http.StatusOK, rec.Config)
}

func (s *Service) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	bound := map[string]string{}
	for _, k := range []string{"MasterRegion", "FunctionVersion", "Marker", "MaxItems"} {
		if v, ok := q[k]; ok && len(v) > 0 {
			bound[k] = v[0]
		}
	}
	if e := s.validate("ListFunctions", nil, bound); e != nil {
		s.fail(w, e)
		return
	}
	max := 50
	if v := bound["MaxItems"]; v != "" {
		max, _ = strconv.Atoi(v)
	}
	s.mu.RLock()
	all := make([]FunctionConfiguration, 0, len(s.fns))
	for _, fn := range s.fns {
		all = append(all, fn.rec.Config)
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].FunctionName < all[j].FunctionName })
	// The marker is the name of the first function of the next page.
	start := sort.Search(len(all), func(i int) bool { return all[i].FunctionName >= bound["Marker"] })
	out := listFunctionsResponse{Functions: all[start:]}
	if len(out.Functions) > max {
		out.NextMarker = out.Functions[max].FunctionName
		out.Functions = out.Functions[:max]
	}
	s.reply(w, http.StatusOK, out)
}

func (s *Service) handleDelete(w http.ResponseWriter, r *http.Request) {
	fn, rec, e := s.target(r, "DeleteFunction", true)
	if e != nil {
		s.fail(w, e)
		return
	}
	if err := s.delete(fn, rec.Config.FunctionName); err != nil {
		s.failErr(w, "DeleteFunction", err)
		return
	}
	setRequestID(w, "")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Service) handleUpdateConfig(w http.ResponseWriter, r *http.Request) {
	body, e := readBody(r, maxConfigRequest, "UpdateFunctionConfiguration")
	if e != nil {
		s.fail(w, e)
		return
	}
	if e := s.validate("UpdateFunctionConfiguration", body, map[string]string{"FunctionName": r.PathValue("name")}); e != nil {
		s.fail(w, e)
		return
	}
	fn, _, e := s.target(r, "UpdateFunctionConfiguration", false)
	if e != nil {
		s.fail(w, e)
		return
	}
	var in updateConfigRequest
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		s.fail(w, &awsproto.Error{Type: InvalidRequestContent, Message: "Could not parse request body into json: " + err.Error(), Status: http.StatusBadRequest})
		return
	}
	_ = json.Unmarshal(body, &doc)
	if e := s.checkRole(r.Context(), in.Role); e != nil {
		s.fail(w, e)
		return
	}
	cfg, err := s.updateConfig(fn, &in, doc)
	if err != nil {
		s.failErr(w, "UpdateFunctionConfiguration", err)
		return
	}
	s.reply(w, http.StatusOK, cfg)
}

func (s *Service) handleUpdateCode(w http.ResponseWriter, r *http.Request) {
	body, e := readBody(r, maxCodeRequest, "UpdateFunctionCode")
	if e != nil {
		s.fail(w, e)
		return
	}
	if e := s.validate("UpdateFunctionCode", body, map[string]string{"FunctionName": r.PathValue("name")}); e != nil {
		s.fail(w, e)
		return
	}
	fn, _, e := s.target(r, "UpdateFunctionCode", false)
	if e != nil {
		s.fail(w, e)
		return
	}
	var in updateCodeRequest
	if err := json.Unmarshal(body, &in); err != nil {
		s.fail(w, &awsproto.Error{Type: InvalidRequestContent, Message: "Could not parse request body into json: " + err.Error(), Status: http.StatusBadRequest})
		return
	}
	cfg, err := s.updateCode(fn, &in)
	if err != nil {
		s.failErr(w, "UpdateFunctionCode", err)
		return
	}
	s.reply(w, http.StatusOK, cfg)
}
