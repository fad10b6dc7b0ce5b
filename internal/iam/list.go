package iam

import (
	"encoding/base64"
	"sort"

	"github.com/hydrant-io/hydrant/internal/awsproto"
)

// defaultMaxItems is IAM's page size when MaxItems is not given.
const defaultMaxItems = 100

// page cuts one page of items (sorted by key here) after marker, as IAM's
// Marker/MaxItems/IsTruncated pagination does. The marker is the last key
// of the previous page, encoded.
func page[T any](items []T, key func(T) string, marker *string, maxItems *int) ([]T, string, bool, *awsproto.Error) {
	sort.Slice(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	start := 0
	if marker != nil {
		after, err := base64.RawURLEncoding.DecodeString(*marker)
		if err != nil {
			return nil, "", false, iamErr(errInvalidInput, "Invalid Marker: %s", *marker)
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > string(after) })
	}
	n := defaultMaxItems
	if maxItems != nil {
		n = *maxItems
	}
	end := min(start+n, len(items))
	out := items[start:end]
	if end < len(items) {
		return out, base64.RawURLEncoding.EncodeToString([]byte(key(out[len(out)-1]))), true, nil
	}
	return out, "", false, nil
}

// listResult is the IsTruncated/Marker part of every IAM list answer.
func listResult(res map[string]any, next string, truncated bool) map[string]any {
	res["IsTruncated"] = truncated
	if truncated {
		res["Marker"] = next
	}
	return res
}
