package awsproto

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

//go:embed models/*.json
var modelFiles embed.FS

// Model is an AWS service model (botocore's service-2.json without its
// documentation), used to validate requests with the same constraints, and
// the same messages, as the real service.
type Model struct {
	Metadata struct {
		APIVersion   string   `json:"apiVersion"`
		TargetPrefix string   `json:"targetPrefix"`
		Protocol     string   `json:"protocol"`
		Protocols    []string `json:"protocols"`
		JSONVersion  string   `json:"jsonVersion"`
		XMLNamespace string   `json:"xmlNamespace"`
		// EndpointPrefix and SigningName name the service in a SigV4
		// credential scope (the signing name, when set, wins).
		EndpointPrefix string `json:"endpointPrefix"`
		SigningName    string `json:"signingName"`
		// AWSQueryCompatible marks a former awsQuery service served over
		// JSON or CBOR: its errors carry x-amzn-query-error.
		AWSQueryCompatible *struct{} `json:"awsQueryCompatible"`
	} `json:"metadata"`
	Operations map[string]Operation `json:"operations"`
	Shapes     map[string]*Shape    `json:"shapes"`
}

// Operation is one API operation of a model.
type Operation struct {
	Name   string     `json:"name"`
	Input  *ShapeRef  `json:"input"`
	Output *ShapeRef  `json:"output"`
	Errors []ShapeRef `json:"errors"`
}

// ShapeRef points at a shape, with member-level traits.
type ShapeRef struct {
	Shape        string `json:"shape"`
	Location     string `json:"location"`
	LocationName string `json:"locationName"`
	// ResultWrapper names the element an awsQuery result is wrapped in.
	ResultWrapper string `json:"resultWrapper"`
	// Flattened lists and maps repeat their members without a wrapper.
	Flattened bool `json:"flattened"`
}

// Shape is one shape of a model with the constraints Coral checks.
type Shape struct {
	Type     string   `json:"type"`
	Required []string `json:"required"`
	Members  Members  `json:"members"`
	Member   *ShapeRef
	Key      *ShapeRef `json:"key"`
	Value    *ShapeRef `json:"value"`
	Min      *float64  `json:"min"`
	Max      *float64  `json:"max"`
	Pattern  string    `json:"pattern"`
	Enum     []string  `json:"enum"`
	// Flattened lists and maps repeat their members without a wrapper
	// element (awsQuery, restXml).
	Flattened bool `json:"flattened"`
	// TimestampFormat overrides a protocol's default timestamp encoding.
	TimestampFormat string `json:"timestampFormat"`
	// Exception marks an error shape; Error carries its awsQuery code and
	// HTTP status.
	Exception bool        `json:"exception"`
	Error     *ErrorTrait `json:"error"`

	pattern *pattern
}

// UnmarshalJSON reads a shape; "member" is decoded separately because the
// structure "members" and list "member" keys would otherwise be confused by
// case-insensitive matching in encoding/json.
func (s *Shape) UnmarshalJSON(b []byte) error {
	type plain Shape
	var aux struct {
		plain
		Member *ShapeRef `json:"member"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&aux); err != nil {
		return err
	}
	*s = Shape(aux.plain)
	s.Member = aux.Member
	return nil
}

// ErrorTrait is an error shape's "error" trait: the code awsQuery clients
// match (IAM's NoSuchEntityException is "NoSuchEntity") and its HTTP status.
type ErrorTrait struct {
	Code           string `json:"code"`
	HTTPStatusCode int    `json:"httpStatusCode"`
	SenderFault    bool   `json:"senderFault"`
}

// Member is a structure member, kept in model order so validation errors come
// out in the order AWS reports them.
type Member struct {
	Name string
	Ref  ShapeRef
}

// Members is an ordered list of structure members.
type Members []Member

// UnmarshalJSON decodes a members object preserving key order.
func (m *Members) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var ref ShapeRef
		if err := dec.Decode(&ref); err != nil {
			return err
		}
		*m = append(*m, Member{Name: t.(string), Ref: ref})
	}
	return nil
}

// LoadModel loads an embedded model by file name stem, e.g.
// "firehose-2015-08-04", and compiles its patterns.
func LoadModel(name string) (*Model, error) {
	b, err := modelFiles.ReadFile("models/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", name, err)
	}
	var m Model
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse model %s: %w", name, err)
	}
	for n, s := range m.Shapes {
		if s.Pattern == "" {
			continue
		}
		p, err := compilePattern(s.Pattern)
		if err != nil {
			return nil, fmt.Errorf("model %s shape %s: %w", name, n, err)
		}
		s.pattern = p
	}
	return &m, nil
}

// pattern is a Java regular expression as the model gives it, matched the way
// Coral does (the whole value must match). Go's RE2 has no lookaround, so a
// leading negative lookahead `(?!X)` is checked as a separate regexp.
type pattern struct {
	source string
	re     *regexp.Regexp
	not    *regexp.Regexp // value must not start with this, when set
}

func compilePattern(src string) (*pattern, error) {
	p := &pattern{source: src}
	body := strings.TrimPrefix(src, "^")
	if strings.HasPrefix(body, "(?!") {
		depth, end := 0, -1
		for i := 0; i < len(body); i++ {
			switch body[i] {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 && end < 0 {
					end = i
				}
			}
			if end >= 0 {
				break
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("pattern %q: unbalanced lookahead", src)
		}
		neg := javaToRE2(body[3:end])
		re, err := regexp.Compile("^(?:" + neg + ")")
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", src, err)
		}
		p.not = re
		body = body[end+1:]
	}
	body = strings.TrimSuffix(javaToRE2(body), "$")
	if strings.Contains(body, "(?<") || strings.Contains(body, "(?!") || strings.Contains(body, "(?=") {
		// Lookarounds deeper in a pattern (only in shapes hydrant does not
		// serve, such as Redshift JDBC URLs) are not checked.
		return p, nil
	}
	re, err := regexp.Compile("^(?:" + body + ")$")
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", src, err)
	}
	p.re = re
	return p, nil
}

// javaToRE2 rewrites the Java regexp features the AWS models use that RE2
// spells differently.
func javaToRE2(s string) string {
	s = strings.ReplaceAll(s, `\p{L}`, `\pL`)
	s = strings.ReplaceAll(s, `\p{Z}`, `\pZ`)
	s = strings.ReplaceAll(s, `\p{N}`, `\pN`)
	// Java matches UTF-16 code units: a surrogate pair range is the range of
	// supplementary code points (Glue's name patterns use it).
	s = strings.ReplaceAll(s, `\uD800\uDC00-\uDBFF\uDFFF`, `\x{10000}-\x{10FFFF}`)
	// \uFFFF escapes become RE2's \x{FFFF}.
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+5 < len(s)+0 && i+1 < len(s) && s[i+1] == 'u' && i+6 <= len(s) {
			b.WriteString(`\x{` + s[i+2:i+6] + `}`)
			i += 5
			continue
		}
		if s[i] == '\\' && i+1 < len(s) {
			b.WriteByte(s[i])
			b.WriteByte(s[i+1])
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (p *pattern) match(v string) bool {
	if p.not != nil && p.not.MatchString(v) {
		return false
	}
	return p.re == nil || p.re.MatchString(v)
}
