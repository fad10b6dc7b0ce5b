package firehose

import (
	"strings"
	"time"

	"github.com/hydrant-io/hydrant/internal/keys"
	"github.com/hydrant-io/hydrant/internal/objstore"
)

// checkBucketARN refuses bucket names that S3 would refuse, which also keeps
// every local bucket inside <data-dir>/buckets.
func checkBucketARN(arn string) error {
	name := bucketName(arn)
	if err := objstore.ValidBucketName(name); err != nil {
		return invalidArg("BucketARN %s does not name a valid S3 bucket: %s", arn, strings.TrimPrefix(err.Error(), objstore.ErrInvalidKey.Error()+": "))
	}
	return nil
}

// checkTags applies the tag rules the model cannot express.
func (s *Service) checkTags(tags []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if seen[t.Key] {
			return invalidArg("Duplicate tag key %s in the request.", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}

// dedupeTags merges add into cur, overwriting values of existing keys.
func dedupeTags(cur, add []Tag) []Tag {
	out := append([]Tag(nil), cur...)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i] = t
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	return out
}

// checkPrefixes applies Firehose's prefix rules, then makes sure that no
// evaluation of the prefixes can produce a key that would leave a local
// bucket (a leading '/', '..' segments, control bytes): such a configuration
// is refused at Create rather than failing at delivery.
func checkPrefixes(prefix, errorPrefix *string, dynamicPartitioning bool) error {
	if err := keys.Validate(prefix, errorPrefix, dynamicPartitioning); err != nil {
		return invalidArg("%s", err.Error())
	}
	data, errs, err := keys.Resolve(prefix, errorPrefix)
	if err != nil {
		return invalidArg("%s", err.Error())
	}
	sample := keys.Env{
		Time:            time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		ErrorOutputType: "processing-failed",
		PartitionKey:    func(ns, k string) (string, bool) { return "value", true },
	}
	for _, t := range []struct {
		name string
		tmpl *keys.Template
	}{{"Prefix", data}, {"ErrorOutputPrefix", errs}} {
		p, err := t.tmpl.Eval(sample)
		if err != nil {
			return invalidArg("%s %q cannot be evaluated: %s", t.name, t.tmpl.String(), err.Error())
		}
		if err := objstore.ValidKey(p + "stream-1-2026-01-02-03-04-05-00000000-0000-0000-0000-000000000000"); err != nil {
			return invalidArg("%s %q would produce object keys that are not allowed: %s", t.name, t.tmpl.String(), strings.TrimPrefix(err.Error(), objstore.ErrInvalidKey.Error()+": "))
		}
	}
	return nil
}
