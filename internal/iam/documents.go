package iam

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// IAM's size quotas for documents, and its messages for them.
const (
	maxTrustPolicy   = 2048  // ACLSizePerRole
	maxManagedPolicy = 6144  // PolicySize (whitespace not counted)
	maxInlineTotal   = 10240 // RolePolicySize: every inline policy of a role together
)

// Documents are checked as far as their structure, never for what they
// grant: hydrant does not evaluate policies.

// checkTrustPolicy validates a role's trust (assume role) policy document.
func checkTrustPolicy(doc string) *awsproto.Error {
	if len(compact(doc)) > maxTrustPolicy {
		return iamErr(errLimitExceeded, "Cannot exceed quota for ACLSizePerRole: %d", maxTrustPolicy)
	}
	st, e := parsePolicy(doc, "This policy contains invalid Json")
	if e != nil {
		return e
	}
	for _, s := range st {
		if _, ok := s["Principal"]; !ok {
			if _, ok := s["NotPrincipal"]; !ok {
				return iamErr(errMalformedPolicy, "Missing required field Principal")
			}
		}
		if _, ok := s["Resource"]; ok {
			return iamErr(errMalformedPolicy, "Has prohibited field Resource")
		}
	}
	return nil
}

// checkPermissionsPolicy validates a managed or inline policy document;
// limit is the size quota that applies (0: none here).
func checkPermissionsPolicy(doc string, limit int) *awsproto.Error {
	if limit > 0 && len(compact(doc)) > limit {
		return iamErr(errLimitExceeded, "Cannot exceed quota for PolicySize: %d", limit)
	}
	st, e := parsePolicy(doc, "Syntax errors in policy.")
	if e != nil {
		return e
	}
	for _, s := range st {
		if _, ok := s["Principal"]; ok {
			return iamErr(errMalformedPolicy, "Policy document should not specify a principal.")
		}
		_, act := s["Action"]
		_, nact := s["NotAction"]
		if !act && !nact {
			return iamErr(errMalformedPolicy, "Policy statement must contain actions.")
		}
		_, res := s["Resource"]
		_, nres := s["NotResource"]
		if !res && !nres {
			return iamErr(errMalformedPolicy, "Policy statement must contain resources.")
		}
	}
	return nil
}

// parsePolicy checks the grammar every policy shares: a JSON object with a
// Statement (one object or a list of them), each with an Effect of Allow
// or Deny. syntaxMsg is IAM's message for a document that is not JSON.
func parsePolicy(doc, syntaxMsg string) ([]map[string]json.RawMessage, *awsproto.Error) {
	var top map[string]json.RawMessage
	d := json.NewDecoder(strings.NewReader(doc))
	if err := d.Decode(&top); err != nil || d.More() || top == nil {
		return nil, iamErr(errMalformedPolicy, "%s", syntaxMsg)
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, iamErr(errMalformedPolicy, "Syntax errors in policy.")
	}
	var list []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil || one == nil {
			return nil, iamErr(errMalformedPolicy, "Syntax errors in policy.")
		}
		list = []map[string]json.RawMessage{one}
	}
	if len(list) == 0 {
		return nil, iamErr(errMalformedPolicy, "Syntax errors in policy.")
	}
	for _, s := range list {
		var effect string
		if err := json.Unmarshal(s["Effect"], &effect); err != nil || (effect != "Allow" && effect != "Deny") {
			return nil, iamErr(errMalformedPolicy, "Syntax errors in policy.")
		}
	}
	return list, nil
}

// compact is doc without insignificant whitespace, as IAM counts a
// document's size.
func compact(doc string) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(doc)); err != nil {
		return []byte(doc)
	}
	return b.Bytes()
}

// encodeDocument is how IAM returns policy documents: URL-encoded (RFC 3986,
// spaces as %20), which the CLI and boto3 decode back to JSON.
func encodeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}
