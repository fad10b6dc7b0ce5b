// Package statetest is the contract every state.Store must meet, as one
// suite each implementation's tests run against a fresh, empty store:
//
//	func TestContract(t *testing.T) {
//		statetest.Run(t, func(t *testing.T) state.Store { ... })
//	}
//
// Keys used have one to three segments, so a store that only keeps some
// keys (state.Local) can be opened with the patterns "*", "*/*", "*/*/*".
package statetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hydrant-io/hydrant/internal/state"
)

// Run runs the suite; newStore returns an empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) state.Store) {
	tests := []struct {
		name string
		fn   func(*testing.T, state.Store)
	}{
		{"PutGet", testPutGet},
		{"CompareAndSet", testCompareAndSet},
		{"Delete", testDelete},
		{"List", testList},
		{"Watch", testWatch},
		{"LargeValue", testLargeValue},
		{"Keys", testKeys},
		{"ConcurrentIncrements", testConcurrentIncrements},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

func put(t *testing.T, s state.Store, key, value string, rev uint64) uint64 {
	t.Helper()
	r, err := s.Put(t.Context(), key, []byte(value), rev)
	if err != nil {
		t.Fatalf("Put(%q, rev %d): %v", key, rev, err)
	}
	return r
}

func get(t *testing.T, s state.Store, key string) state.Entry {
	t.Helper()
	e, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return e
}

func testPutGet(t *testing.T, s state.Store) {
	if _, err := s.Get(t.Context(), "a/missing"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Get of a missing key = %v, want ErrNotFound", err)
	}
	r1 := put(t, s, "a/one", "first", 0)
	if r1 == 0 || r1 == state.Any {
		t.Fatalf("Put returned revision %d", r1)
	}
	e := get(t, s, "a/one")
	if e.Key != "a/one" || string(e.Value) != "first" || e.Revision != r1 {
		t.Fatalf("Get = %+v, want first at %d", e, r1)
	}
	r2 := put(t, s, "a/one", "second", r1)
	if r2 <= r1 {
		t.Fatalf("revision went from %d to %d", r1, r2)
	}
	if e := get(t, s, "a/one"); string(e.Value) != "second" || e.Revision != r2 {
		t.Fatalf("Get after update = %+v", e)
	}
	r3 := put(t, s, "a/one", "", state.Any)
	if e := get(t, s, "a/one"); len(e.Value) != 0 || e.Revision != r3 {
		t.Fatalf("Get of an empty value = %+v", e)
	}
}

func testCompareAndSet(t *testing.T, s state.Store) {
	r1 := put(t, s, "k", "v1", 0)
	if _, err := s.Put(t.Context(), "k", []byte("again"), 0); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("creating an existing key = %v, want ErrConflict", err)
	}
	r2 := put(t, s, "k", "v2", r1)
	if _, err := s.Put(t.Context(), "k", []byte("stale"), r1); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("Put at a stale revision = %v, want ErrConflict", err)
	}
	if _, err := s.Put(t.Context(), "other", []byte("x"), r2); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("Put of a missing key at revision %d = %v, want ErrConflict", r2, err)
	}
	if e := get(t, s, "k"); string(e.Value) != "v2" || e.Revision != r2 {
		t.Fatalf("refused Puts changed the key: %+v", e)
	}
	put(t, s, "k", "v3", state.Any)
	if e := get(t, s, "k"); string(e.Value) != "v3" {
		t.Fatalf("Put with Any = %+v", e)
	}
}

func testDelete(t *testing.T, s state.Store) {
	r := put(t, s, "d/x", "v", 0)
	put(t, s, "d/y", "w", 0)
	if err := s.Delete(t.Context(), "d/x", r+1000); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("Delete at a wrong revision = %v, want ErrConflict", err)
	}
	if err := s.Delete(t.Context(), "d/x", r); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(t.Context(), "d/x"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Get after Delete = %v, want ErrNotFound", err)
	}
	if err := s.Delete(t.Context(), "d/x", state.Any); err != nil {
		t.Fatalf("Delete of a missing key with Any: %v", err)
	}
	if err := s.Delete(t.Context(), "d/x", 5); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("Delete of a missing key at revision 5 = %v, want ErrConflict", err)
	}
	// Created again from nothing; its neighbour untouched.
	r2 := put(t, s, "d/x", "again", 0)
	if r2 <= r {
		t.Fatalf("revision after re-creation %d, before deletion %d", r2, r)
	}
	if e := get(t, s, "d/y"); string(e.Value) != "w" {
		t.Fatalf("neighbour changed: %+v", e)
	}
	if err := s.Delete(t.Context(), "d/y", state.Any); err != nil {
		t.Fatal(err)
	}
}

func testList(t *testing.T, s state.Store) {
	for _, k := range []string{"l/b/1", "l/a", "l/b/2", "l/bc", "m/a", "l/c/x"} {
		put(t, s, k, "v:"+k, 0)
	}
	keys := func(prefix string) []string {
		es, err := s.List(t.Context(), prefix)
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		var out []string
		for _, e := range es {
			if string(e.Value) != "v:"+e.Key || e.Revision == 0 {
				t.Fatalf("List entry %+v", e)
			}
			out = append(out, e.Key)
		}
		return out
	}
	for prefix, want := range map[string]string{
		"l/":   "[l/a l/b/1 l/b/2 l/bc l/c/x]",
		"l/b/": "[l/b/1 l/b/2]",
		"l/b":  "[l/b/1 l/b/2 l/bc]",
		"m/":   "[m/a]",
		"n/":   "[]",
		"":     "[l/a l/b/1 l/b/2 l/bc l/c/x m/a]",
	} {
		if got := fmt.Sprint(keys(prefix)); got != want {
			t.Errorf("List(%q) = %s, want %s", prefix, got, want)
		}
	}
	if err := s.Delete(t.Context(), "l/b/1", state.Any); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(keys("l/b/")); got != "[l/b/2]" {
		t.Errorf("List after a delete = %s", got)
	}
}

func testWatch(t *testing.T, s state.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	put(t, s, "w/before", "old", 0)
	ch, err := s.Watch(ctx, "w/")
	if err != nil {
		t.Fatal(err)
	}
	r1 := put(t, s, "w/a", "1", 0)
	put(t, s, "other/a", "not watched", 0)
	r2 := put(t, s, "w/a", "2", r1)
	if err := s.Delete(t.Context(), "w/a", r2); err != nil {
		t.Fatal(err)
	}
	put(t, s, "w/b", "3", 0)
	type ev struct {
		key, value string
		deleted    bool
	}
	want := []ev{{"w/a", "1", false}, {"w/a", "2", false}, {"w/a", "", true}, {"w/b", "3", false}}
	var prev uint64
	for i, w := range want {
		select {
		case e := <-ch:
			if e.Reset {
				t.Fatalf("event %d is a reset", i)
			}
			got := ev{e.Key, string(e.Value), e.Deleted}
			if got != w {
				t.Fatalf("event %d = %+v, want %+v", i, got, w)
			}
			if e.Revision <= prev {
				t.Fatalf("event %d at revision %d after %d", i, e.Revision, prev)
			}
			prev = e.Revision
			if i == len(want)-1 && e.Revision != get(t, s, e.Key).Revision {
				t.Fatalf("event %d revision %d differs from the key's", i, e.Revision)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no event %d (%+v) within 10 s", i, w)
		}
	}
	cancel()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("Watch channel not closed after its context ended")
		}
	}
}

func testLargeValue(t *testing.T, s state.Store) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 3<<16) // 3 MiB: an object store value, in chunks
	r := put(t, s, "big/code.zip", string(big), 0)
	e := get(t, s, "big/code.zip")
	if !bytes.Equal(e.Value, big) || e.Revision != r {
		t.Fatalf("large value read back: %d bytes at %d, want %d at %d", len(e.Value), e.Revision, len(big), r)
	}
	es, err := s.List(t.Context(), "big/")
	if err != nil || len(es) != 1 || !bytes.Equal(es[0].Value, big) {
		t.Fatalf("List of a large value: %d entries, %v", len(es), err)
	}
	// Replaced by a small one, then deleted.
	r2 := put(t, s, "big/code.zip", "small", r)
	if e := get(t, s, "big/code.zip"); string(e.Value) != "small" || e.Revision != r2 {
		t.Fatalf("after replacing a large value: %q", e.Value[:min(len(e.Value), 10)])
	}
	put(t, s, "big/code.zip", string(big[:1<<20]), r2)
	if err := s.Delete(t.Context(), "big/code.zip", state.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(t.Context(), "big/code.zip"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Get of a deleted large value = %v", err)
	}
}

func testKeys(t *testing.T, s state.Store) {
	good := []string{"streams/ds-../stream.json", "streams/ds-a.b_c-d/stream.json", "x/a=b", "x/A~z+@,%", "functions/f/code-0af.zip"}
	for i, k := range good {
		put(t, s, k, strconv.Itoa(i), 0)
	}
	for i, k := range good {
		if e := get(t, s, k); string(e.Value) != strconv.Itoa(i) {
			t.Fatalf("Get(%q) = %q", k, e.Value)
		}
	}
	es, err := s.List(t.Context(), "streams/")
	if err != nil || len(es) != 2 || es[0].Key != good[0] || es[1].Key != good[1] {
		t.Fatalf("List(streams/) = %+v, %v", es, err)
	}
	for _, k := range []string{"", "a//b", "../x", "a/./b", "a/..", "/a", "a/", "a b", "a\\b", "a/*", "a/>", "a\x00b"} {
		if _, err := s.Put(t.Context(), k, []byte("x"), state.Any); err == nil {
			t.Errorf("Put(%q) succeeded", k)
		}
		if _, err := s.Get(t.Context(), k); err == nil || errors.Is(err, state.ErrNotFound) {
			t.Errorf("Get(%q) = %v, want a key error", k, err)
		}
	}
}

// testConcurrentIncrements runs compare-and-set loops at once: no update
// is lost.
func testConcurrentIncrements(t *testing.T, s state.Store) {
	put(t, s, "counter", "0", 0)
	const workers, each = 4, 15
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				for {
					e, err := s.Get(t.Context(), "counter")
					if err != nil {
						t.Error(err)
						return
					}
					n, _ := strconv.Atoi(string(e.Value))
					_, err = s.Put(t.Context(), "counter", []byte(strconv.Itoa(n+1)), e.Revision)
					if err == nil {
						break
					}
					if !errors.Is(err, state.ErrConflict) {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if e := get(t, s, "counter"); string(e.Value) != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s after %d increments", e.Value, workers*each)
	}
}
