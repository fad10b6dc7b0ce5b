package process

import (
	"context"
	"testing"
)

// TestForget: a stream's pipeline, cached while the stream delivers, is
// dropped by Forget (the registry's Deleted hook, wired to it as hydrant
// serve does; internal/stream tests the hook), while other streams keep
// theirs.
func TestForget(t *testing.T) {
	t.Parallel()
	f := NewFactory(nil, Options{})
	ctx := context.Background()
	for _, name := range []string{"gone", "kept"} {
		st := streamWith(proc("AppendDelimiterToRecord"))
		st.Name = name
		if p, err := f.Pipeline(ctx, st); err != nil || p == nil {
			t.Fatalf("%s: %v %v", name, p, err)
		}
	}
	cachedNames := func() map[string]bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		out := map[string]bool{}
		for n := range f.cache {
			out[n] = true
		}
		return out
	}
	if c := cachedNames(); !c["gone"] || !c["kept"] {
		t.Fatalf("pipelines cached: %v, want both streams", c)
	}
	f.Forget("gone")
	if c := cachedNames(); c["gone"] || !c["kept"] {
		t.Fatalf("pipelines cached after forgetting gone: %v, want kept only", c)
	}
}
