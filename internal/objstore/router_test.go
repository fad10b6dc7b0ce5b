package objstore_test

import (
	"errors"
	"testing"

	"github.com/hydrant-io/hydrant/internal/objstore"
	"github.com/hydrant-io/hydrant/internal/objstore/storetest"
)

// TestRouterContract runs the contract through a Router whose default is
// one local store while the suite's bucket goes to another.
func TestRouterContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) objstore.Store {
		def, _ := newLocal(t)
		routed, _ := newLocal(t)
		return struct{ objstore.Store }{objstore.NewRouter(def, map[string]objstore.Store{storetest.Bucket: routed})}
	})
}

func TestRouterSendsEachBucketToItsStore(t *testing.T) {
	def, _ := newLocal(t)
	other, _ := newLocal(t)
	r := objstore.NewRouter(def, map[string]objstore.Store{"other-bucket": other})
	ctx := t.Context()
	for _, b := range []string{"default-bucket", "other-bucket"} {
		if err := putString(ctx, r, b, "k", b); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		store     objstore.Store
		has, lack string
	}{{def, "default-bucket", "other-bucket"}, {other, "other-bucket", "default-bucket"}} {
		if got, err := tt.store.List(ctx, tt.has, ""); err != nil || len(got) != 1 {
			t.Errorf("store for %s: List = %v, %v; want the object", tt.has, got, err)
		}
		if _, err := tt.store.List(ctx, tt.lack, ""); !errors.Is(err, objstore.ErrNoSuchBucket) {
			t.Errorf("store for %s holds %s: %v", tt.has, tt.lack, err)
		}
	}
	if r.For("other-bucket") != other || r.For("anything-else") != def {
		t.Error("For returns the wrong store")
	}
}
