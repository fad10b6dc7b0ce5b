package awsproto

import (
	"bytes"
	"net/http"
)

// s3Codes are the S3 error codes of hydrant's shared error types.
var s3Codes = map[string]string{
	AccessDeniedException:               "AccessDenied",
	ServiceUnavailableException:         "SlowDown",
	InternalFailure:                     "InternalError",
	RequestEntityTooLarge:               "EntityTooLarge",
	MissingAuthenticationTokenException: "AccessDenied",
	IncompleteSignatureException:        "AuthorizationHeaderMalformed",
	InvalidSignatureException:           "SignatureDoesNotMatch",
	UnrecognizedClientException:         "InvalidAccessKeyId",
	ExpiredTokenException:               "ExpiredToken",
	"UnsupportedMediaTypeException":     "InvalidRequest",
}

// WriteXMLError writes e in S3's REST-XML error shape:
// <Error><Code/><Message/><RequestId/></Error>. Types that are hydrant's
// shared ones (AccessDeniedException, ...) get S3's codes; others are sent
// as their own code, so S3 handlers return S3 codes (NoSuchBucket, ...) as
// the Type directly. Fields become elements (BucketName, Key, ...).
func WriteXMLError(w http.ResponseWriter, e *Error) {
	code := e.Type
	if c, ok := s3Codes[code]; ok {
		code = c
	}
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<Error><Code>" + xmlEscape(code) + "</Code><Message>" + xmlEscape(e.Message) + "</Message>")
	for _, k := range sortedKeys(e.Fields) {
		if v, ok := e.Fields[k].(string); ok {
			b.WriteString("<" + k + ">" + xmlEscape(v) + "</" + k + ">")
		}
	}
	b.WriteString("<RequestId>" + xmlEscape(w.Header().Get("x-amz-request-id")) + "</RequestId></Error>")
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(e.status())
	_, _ = w.Write(b.Bytes())
}
