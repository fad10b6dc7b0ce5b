package process

import (
	"context"
	"testing"
)

// TestForget: a stream's pipeline, cached while the stream delivers, is
// dropped by Forget (the registry calls it when the stream is deleted, as
// TestDeletedHook in internal/stream checks), while other streams keep
// theirs.
func TestForget(t *testing.T) {
	t.Parallel()
	f := NewFactory(nil, Options{})
	ctx := context.Background()
	for _, name := range []string{"gone", "kept"} {
		st := streamWith(proc("AppendDelimiterToRecord"))
		st.Name = name
		if p, err := f.Pipeline(ctx, st); err != nil || p == nil {
			t.Fatalf("pipeline of %s: %v %v", name, p, err)
		}
	}
	cached := func() map[string]bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		out := map[string]bool{}
		for n := range f.cache {
			out[n] = true
		}
		return out
	}
	if c := cached(); !c["gone"] || !c["kept"] {
		t.Fatalf("cached pipelines: %v, want both streams", c)
	}
	f.Forget("gone")
	if c := cached(); c["gone"] || !c["kept"] {
		t.Fatalf("cached after Forget(gone): %v, want kept only", c)
	}
}
