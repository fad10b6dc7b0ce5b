package awsproto

import "net/http"

// authenticate runs the signature checks that need no body, so that
// unsigned requests, expired signatures and unknown keys are refused
// before a byte of their body is read. It returns nil, nil when the
// service has no Verifier (loopback without credentials).
func (s *JSONService) authenticate(r *http.Request) (*Signed, *Error) {
	if s.Verifier == nil {
		return nil, nil
	}
	return s.Verifier.Check(r, SigningService{Name: s.SigningName})
}

// defaultReservation is what a request of unknown length reserves from the
// budget when the service sets no MaxBody.
const defaultReservation = 16 << 20

// reservation is how many budget bytes a request needs before its body is
// read: its Content-Length, or the most it may send when the length is not
// known (chunked). A body over MaxBody reserves nothing: readBody refuses
// it by its Content-Length without reading it.
func (s *JSONService) reservation(r *http.Request) int64 {
	limit := s.MaxBody
	if limit <= 0 {
		limit = defaultReservation
	}
	switch {
	case r.ContentLength > limit:
		return 0
	case r.ContentLength >= 0:
		return r.ContentLength
	}
	return limit
}
