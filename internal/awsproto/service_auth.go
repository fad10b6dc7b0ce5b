package awsproto

import "net/http"

// authenticate runs the signature checks that need no body, so that
// unsigned requests, expired signatures and unknown keys are refused
// before a byte of their body is read. It returns nil, nil when the
// service has no Verifier (loopback without credentials).
func (s *Service) authenticate(r *http.Request) (*Signed, *Error) {
	if s.Verifier == nil {
		return nil, nil
	}
	return s.Verifier.Check(r, SigningService{Name: s.SigningName})
}
