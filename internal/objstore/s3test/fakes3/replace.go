package main

import (
	"io"
	"maps"

	"github.com/johannesboyne/gofakes3"
)

// replaceMeta fixes one way gofakes3 differs from S3: its backends merge
// the metadata of an overwritten object into the new one
// (gofakes3.MergeMetadata), so a PUT without Content-Encoding over a gzip
// object still reads back as gzip, and a stale x-amz-checksum-* header
// would fail the SDK's response validation. S3 replaces metadata whole.
//
// PutObject marks every header the old object had and the new one lacks
// with an empty value, which survives the merge; HeadObject and GetObject
// drop empty values again.
type replaceMeta struct {
	gofakes3.Backend
}

// PutObject stores the object with exactly meta.
func (b replaceMeta) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if old, err := b.Backend.HeadObject(bucket, key); err == nil {
		old.Contents.Close()
		meta = maps.Clone(meta)
		if meta == nil {
			meta = map[string]string{}
		}
		for k := range old.Metadata {
			if _, ok := meta[k]; !ok {
				meta[k] = ""
			}
		}
	}
	return b.Backend.PutObject(bucket, key, meta, input, size, cond)
}

// HeadObject returns the object's metadata without the removed entries.
func (b replaceMeta) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	return dropEmpty(b.Backend.HeadObject(bucket, key))
}

// GetObject returns the object without the removed metadata entries.
func (b replaceMeta) GetObject(bucket, key string, rnge *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	return dropEmpty(b.Backend.GetObject(bucket, key, rnge))
}

func dropEmpty(obj *gofakes3.Object, err error) (*gofakes3.Object, error) {
	if obj != nil {
		// A copy: the memory backend hands out the map it stores.
		obj.Metadata = maps.Clone(obj.Metadata)
		maps.DeleteFunc(obj.Metadata, func(_, v string) bool { return v == "" })
	}
	return obj, err
}
