package awsproto

import (
	"crypto/subtle"
	"time"
)

// Authenticate checks a key pair typed by a person (hydrant's console
// asks for one once, then keeps a session): the access key must be one the
// verifier accepts, the secret its secret, and token its session token
// when it has one; a temporary key must not have expired. The secret and
// token are compared in constant time. On failure the error is the one a
// request signed with the same key would get (UnrecognizedClientException,
// ExpiredTokenException) and says nothing of which part was wrong.
func (v *Verifier) Authenticate(accessKeyID, secret, token string) (*Identity, Credential, *Error) {
	cred, ok := v.lookup(accessKeyID)
	good := ok && subtle.ConstantTimeCompare([]byte(cred.SecretAccessKey), []byte(secret)) == 1 &&
		subtle.ConstantTimeCompare([]byte(cred.SessionToken), []byte(token)) == 1
	if !good {
		return nil, Credential{}, sigErr(UnrecognizedClientException, msgInvalidToken)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	if !cred.Expires.IsZero() && !now.Before(cred.Expires) {
		return nil, Credential{}, sigErr(ExpiredTokenException, msgExpiredToken)
	}
	return &Identity{AccessKeyID: cred.AccessKeyID, Profile: cred.Profile, ARN: cred.ARN, Time: now}, cred, nil
}
