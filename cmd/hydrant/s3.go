package main

import (
	"log/slog"

	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/s3api"
	"github.com/hydrant-io/hydrant/internal/server"
)

// newS3API serves S3 over the local store, the one delivery writes to;
// buckets that --bucket-store or --s3-endpoint send to a remote S3 are
// answered with where they live.
func newS3API(local *objstore.Local, objects objstore.Store, sec *security, srv *server.Server, region, accountID string, log *slog.Logger) *s3api.API {
	remote := func(bucket string) (string, bool) {
		st := objects
		if r, ok := objects.(*objstore.Router); ok {
			st = r.For(bucket)
		}
		if l, ok := st.(*objstore.Local); ok && l == local {
			return "", false
		}
		if s, ok := st.(*objstore.S3); ok {
			return s.Endpoint(), true
		}
		return "another store", true
	}
	return s3api.New(s3api.Options{Store: local, Remote: remote, Verifier: sec.verifier, Budget: srv.Budget(),
		Region: region, AccountID: accountID, Logger: log})
}
