package s3api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// s3Error is one of S3's error codes with its HTTP status and the message
// S3 sends.
type s3Error struct {
	status int
	msg    string
}

// s3Errors is S3's table of the errors hydrant answers with
// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
var s3Errors = map[string]s3Error{
	"AccessDenied":              {http.StatusForbidden, "Access Denied"},
	"BadDigest":                 {http.StatusBadRequest, "The Content-MD5 you specified did not match what we received."},
	"BucketAlreadyOwnedByYou":   {http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it."},
	"BucketNotEmpty":            {http.StatusConflict, "The bucket you tried to delete is not empty"},
	"EntityTooLarge":            {http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed size"},
	"EntityTooSmall":            {http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size."},
	"ExistingObjectIsDirectory": {http.StatusConflict, "Existing Object is a directory."},
	"IncompleteBody":            {http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header"},
	"InternalError":             {http.StatusInternalServerError, "We encountered an internal error. Please try again."},
	"InvalidArgument":           {http.StatusBadRequest, "Invalid Argument"},
	"InvalidBucketName":         {http.StatusBadRequest, "The specified bucket is not valid."},
	"InvalidDigest":             {http.StatusBadRequest, "The Content-MD5 you specified is not valid."},
	"InvalidPart":               {http.StatusBadRequest, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."},
	"InvalidPartOrder":          {http.StatusBadRequest, "The list of parts was not in ascending order. Parts must be ordered by part number."},
	"InvalidRange":              {http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable"},
	"InvalidRequest":            {http.StatusBadRequest, "Invalid Request"},
	"KeyTooLongError":           {http.StatusBadRequest, "Your key is too long"},
	"MalformedXML":              {http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema"},
	"MetadataTooLarge":          {http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size."},
	"MethodNotAllowed":          {http.StatusMethodNotAllowed, "The specified method is not allowed against this resource."},
	"MissingContentLength":      {http.StatusLengthRequired, "You must provide the Content-Length HTTP header."},
	"NoSuchBucket":              {http.StatusNotFound, "The specified bucket does not exist"},
	"NoSuchKey":                 {http.StatusNotFound, "The specified key does not exist."},
	"NoSuchTagSet":              {http.StatusNotFound, "The TagSet does not exist"},
	"NoSuchUpload":              {http.StatusNotFound, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."},
	"NoSuchVersion":             {http.StatusNotFound, "The specified version does not exist."},
	"NotImplemented":            {http.StatusNotImplemented, "A header you provided implies functionality that is not implemented"},
	"ObjectParentIsFile":        {http.StatusConflict, "Object parent already exists as a file."},
	"PermanentRedirect":         {http.StatusMovedPermanently, "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."},
	"PreconditionFailed":        {http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold"},
	"ServerSideEncryptionConfigurationNotFoundError": {http.StatusNotFound, "The server side encryption configuration was not found"},
	"SignatureDoesNotMatch":                          {http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method."},
	"SlowDown":                                       {http.StatusServiceUnavailable, "Please reduce your request rate."},
	"XAmzContentSHA256Mismatch":                      {http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed."},
}

// apiError is an S3 error as a handler returns it: the code, a message
// (S3's own unless set) and the elements S3 adds (BucketName, Key, ...).
type apiError struct {
	code   string
	msg    string
	fields map[string]any
	// header is set on the response besides the error (x-amz-delete-marker).
	header http.Header
}

func (e *apiError) Error() string { return e.code + ": " + e.message() }

func (e *apiError) message() string {
	if e.msg != "" {
		return e.msg
	}
	return s3Errors[e.code].msg
}

// errS3 builds an S3 error with S3's message; fields come in name, value
// pairs.
func errS3(code string, fields ...string) *apiError {
	return errS3f(code, "", fields...)
}

// errS3f builds an S3 error with a message of hydrant's.
func errS3f(code, msg string, fields ...string) *apiError {
	e := &apiError{code: code, msg: msg}
	for i := 0; i+1 < len(fields); i += 2 {
		if e.fields == nil {
			e.fields = map[string]any{}
		}
		e.fields[fields[i]] = fields[i+1]
	}
	return e
}

// notImplemented names what hydrant's S3 does not do.
func notImplemented(what string) *apiError {
	return errS3f("NotImplemented", what+" is not implemented by hydrant's S3 API (see the README's service list).")
}

// invalidArgument is S3's InvalidArgument naming the argument.
func invalidArgument(name, value, msg string) *apiError {
	return errS3f("InvalidArgument", msg, "ArgumentName", name, "ArgumentValue", value)
}

// writeError answers with an S3 error. Authentication failures from
// awsproto are mapped to S3's codes (SignatureDoesNotMatch and friends),
// with 403 as S3 sends them.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	var pe *awsproto.Error
	switch {
	case errors.As(err, &ae):
	case errors.As(err, &pe):
		e := *pe
		if e.Status >= 400 && e.Status < 500 && e.Type != awsproto.IncompleteSignatureException && e.Type != "UnsupportedMediaTypeException" {
			e.Status = http.StatusForbidden
		}
		if e.Type == awsproto.ServiceUnavailableException {
			e.Status = http.StatusServiceUnavailable
		}
		awsproto.WriteXMLError(w, &e)
		return
	default:
		ae = errS3("InternalError")
	}
	for k, vs := range ae.header {
		w.Header()[k] = vs
	}
	status := s3Errors[ae.code].status
	if status == 0 {
		status = http.StatusBadRequest
	}
	if r.Method == http.MethodHead || status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	awsproto.WriteXMLError(w, &awsproto.Error{Type: ae.code, Message: ae.message(), Status: status, Fields: ae.fields})
}

// storeError maps the local store's errors to S3's.
func storeError(err error, bucket, key string) error {
	var ae *apiError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, objstore.ErrNoSuchBucket):
		return errS3("NoSuchBucket", "BucketName", bucket)
	case errors.Is(err, objstore.ErrIsDeleteMarker) && errors.Is(err, objstore.ErrNotFound):
		return errS3("NoSuchKey", "Key", key)
	case errors.Is(err, objstore.ErrIsDeleteMarker):
		return errS3("MethodNotAllowed", "Method", "GET", "ResourceType", "DeleteMarker")
	case errors.Is(err, objstore.ErrNotFound):
		return errS3("NoSuchKey", "Key", key)
	case errors.Is(err, objstore.ErrNoSuchVersion):
		return errS3f("NoSuchVersion", "", "Key", key)
	case errors.Is(err, objstore.ErrNoSuchUpload):
		return errS3("NoSuchUpload")
	case errors.Is(err, objstore.ErrBucketExists):
		return errS3("BucketAlreadyOwnedByYou", "BucketName", bucket)
	case errors.Is(err, objstore.ErrBucketNotEmpty):
		return errS3("BucketNotEmpty", "BucketName", bucket)
	case errors.Is(err, objstore.ErrPreconditionFailed):
		return errS3("PreconditionFailed", "Condition", "If-Match")
	case errors.Is(err, objstore.ErrMetadataTooLarge):
		return errS3f("MetadataTooLarge", err.Error())
	case errors.Is(err, objstore.ErrInvalidPart):
		return errS3f("InvalidPart", "")
	case errors.Is(err, objstore.ErrKeyConflict):
		return keyConflict(err, key)
	case errors.Is(err, objstore.ErrInvalidKey):
		if bucket != "" && objstore.ValidBucketName(bucket) != nil {
			return errS3f("InvalidBucketName", err.Error(), "BucketName", bucket)
		}
		return invalidKey(err, key)
	}
	return err
}

// keyConflict explains the local layout's one limit: a key cannot be both
// an object and the start of other keys ("a" and "a/b").
func keyConflict(err error, key string) *apiError {
	code := "ObjectParentIsFile"
	if strings.Contains(err.Error(), "other keys start with") {
		code = "ExistingObjectIsDirectory"
	}
	msg := fmt.Sprintf("hydrant keeps each object as the file <bucket>/<key>, so a key cannot be both an object and a folder of other keys: %v (docs/FORMAT.md)", err)
	return errS3f(code, msg, "Key", key)
}

// invalidKey answers keys the local store cannot hold.
func invalidKey(err error, key string) *apiError {
	if len(key) > objstore.MaxKeyLen {
		return errS3("KeyTooLongError", "Key", key)
	}
	return errS3f("InvalidArgument", fmt.Sprintf("%v: hydrant keeps objects as files, so keys must be relative file paths (docs/FORMAT.md)", err),
		"ArgumentName", "key", "ArgumentValue", key)
}
