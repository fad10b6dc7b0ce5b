package keys

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// MaxEvaluatedLength is the longest evaluated prefix Firehose allows, in
// characters.
const MaxEvaluatedLength = 512

// randomStringLen is the length of one !{firehose:random-string} value.
const randomStringLen = 11

// ErrPrefixTooLong is wrapped by Eval when the evaluated prefix is longer
// than MaxEvaluatedLength.
var ErrPrefixTooLong = errors.New("evaluated prefix longer than 512 characters")

// ErrMissingPartitionKey is wrapped by Eval when a partitionKeyFrom*
// expression has no value for the record; delivery sends such records to the
// error prefix as partitioning-failed.
var ErrMissingPartitionKey = errors.New("missing partition key")

// Env is what one evaluation of a prefix needs.
type Env struct {
	// Time is the instant all !{timestamp:...} expressions print: the
	// approximate arrival time of the oldest record in the object.
	Time time.Time
	// Location is the stream's CustomTimeZone; nil means UTC.
	Location *time.Location
	// ErrorOutputType is the failure kind printed by
	// !{firehose:error-output-type} (e.g. "processing-failed"). It must be
	// set when the template uses it.
	ErrorOutputType string
	// PartitionKey returns the value of a partition key for namespace
	// NSPartitionKeyFromQuery or NSPartitionKeyFromLambda, and whether the
	// record has one. Nil means no keys are available.
	PartitionKey func(namespace, key string) (string, bool)
	// Random is the source of !{firehose:random-string} values; nil means
	// crypto/rand. Tests pass a fixed reader to get fixed keys.
	Random io.Reader
}

// Eval evaluates the prefix for one object. Every timestamp expression
// prints the same instant; every random-string expression draws a fresh
// 11-character value (the first 11 characters of a random UUID, e.g.
// "046b6c7f-0b", like the samples in AWS's documentation). It fails when
// the result is longer than MaxEvaluatedLength (ErrPrefixTooLong), when a
// partition key is missing (ErrMissingPartitionKey), when the error output
// type is needed but empty, or when Random fails.
func (t *Template) Eval(env Env) (string, error) {
	loc := env.Location
	if loc == nil {
		loc = time.UTC
	}
	at := env.Time.In(loc)
	rnd := env.Random
	if rnd == nil {
		rnd = rand.Reader
	}
	var b []byte
	for _, p := range t.parts {
		switch p.ns {
		case "":
			b = append(b, p.lit...)
		case NSTimestamp:
			b = p.layout.appendFormat(b, at)
		case NSFirehose:
			if p.value == FirehoseErrorOutputType {
				if env.ErrorOutputType == "" {
					return "", fmt.Errorf("evaluate %q: no error output type given", t.src)
				}
				b = append(b, env.ErrorOutputType...)
				break
			}
			id, err := uuid.NewRandomFromReader(rnd)
			if err != nil {
				return "", fmt.Errorf("evaluate %q: random string: %w", t.src, err)
			}
			b = append(b, id.String()[:randomStringLen]...)
		default:
			var v string
			ok := false
			if env.PartitionKey != nil {
				v, ok = env.PartitionKey(p.ns, p.value)
			}
			if !ok {
				return "", fmt.Errorf("evaluate %q: %w: !{%s:%s}", t.src, ErrMissingPartitionKey, p.ns, p.value)
			}
			b = append(b, v...)
		}
	}
	if n := utf8.RuneCount(b); n > MaxEvaluatedLength {
		return "", fmt.Errorf("evaluate %q: %w (%d)", t.src, ErrPrefixTooLong, n)
	}
	return string(b), nil
}

// ObjectName returns the part of an S3 key after the evaluated prefix:
// <stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<id><ext>, e.g.
// "tf-lambda-firehose-to-s3-1-2023-12-28-17-28-04-fa9ee534-7fa0-4ac9-a4c3-44da5692e8f6".
// t must already be in the stream's time zone (CustomTimeZone or UTC); id is
// a lower-case UUID chosen by the caller (deterministically, so a redone
// batch overwrites the same key) and ext is the extension including its dot,
// or "".
func ObjectName(stream, versionID string, t time.Time, id, ext string) string {
	var b strings.Builder
	b.Grow(len(stream) + len(versionID) + len(id) + len(ext) + 22)
	b.WriteString(stream)
	b.WriteByte('-')
	b.WriteString(versionID)
	b.WriteByte('-')
	b.WriteString(t.Format("2006-01-02-15-04-05"))
	b.WriteByte('-')
	b.WriteString(id)
	b.WriteString(ext)
	return b.String()
}
