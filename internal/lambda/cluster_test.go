package lambda

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	hstate "github.com/hydrant-io/hydrant/internal/state"
)

// TestSharedFunctions runs two services over one shared store, as two
// nodes of a cluster: a function created on one runs on the other from
// its own copy of the package, a change made on one is what the other
// runs next, and a deletion removes it from both.
func TestSharedFunctions(t *testing.T) {
	shared, err := hstate.OpenLocal(t.TempDir(), "functions/*/function.json", "functions/*/code-*.zip")
	if err != nil {
		t.Fatal(err)
	}
	a := openService(t, Options{Dir: filepath.Join(t.TempDir(), "functions"), State: shared})
	b := openService(t, Options{Dir: filepath.Join(t.TempDir(), "functions"), State: shared})
	createFake(t, a, "shared-fn", 9, map[string]string{"MY_VAR": "one"})

	res, fnErr, err := invokeJSON(t, b, "shared-fn", fakeEvent{Op: "echo"})
	if err != nil || fnErr != "" || decodeReply(t, res).Env["MY_VAR"] != "one" {
		t.Fatalf("invoke on the other node right after the create: %v %q %s", err, fnErr, res)
	}
	fnB, rec := b.lookup("shared-fn")
	if _, err := os.Stat(b.store.codePath("shared-fn", rec.CodeFile)); err != nil {
		t.Fatalf("the other node's copy of the package: %v", err)
	}

	// A configuration change on a is what b runs next.
	fnA, _ := a.lookup("shared-fn")
	if _, err := a.updateConfig(fnA, &updateConfigRequest{Environment: &environmentInput{Variables: map[string]string{"MY_VAR": "two", "HYDRANT_FAKE_RUNTIME": "serve"}}}, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, fnErr, err := invokeJSON(t, b, "shared-fn", fakeEvent{Op: "echo"})
		if err == nil && fnErr == "" && decodeReply(t, res).Env["MY_VAR"] == "two" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("b still runs the old configuration: %v %q %s", err, fnErr, res)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = fnB
	// A name taken on one node cannot be taken on the other.
	if err := b.store.save(rec, true); err == nil {
		t.Fatal("a second create of the same function succeeded")
	}

	if err := a.delete(fnA, "shared-fn"); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for b.Has("shared-fn") {
		if time.Now().After(deadline) {
			t.Fatal("the function deleted on a is still on b")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
