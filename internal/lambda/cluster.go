package lambda

import (
	"context"
	"errors"
	"path"
	"strings"

	hstate "github.com/hydrant-io/hydrant/internal/state"
)

// In a cluster (Options.State) every node serves every function: the
// records and packages are in the shared store, each node follows it, and
// runs a function from its own copy of the package. A function runs on
// the node that invokes it: for a stream's Lambda processor, the node that
// delivers the stream.

// follow applies changes made on other nodes until the service closes.
func (s *Service) follow(ch <-chan hstate.Event) {
	defer s.wg.Done()
	for ev := range ch {
		rest, ok := strings.CutPrefix(ev.Key, s.store.prefix)
		name, file, found := strings.Cut(rest, "/")
		if !ok || !found || file != recordFile {
			continue
		}
		switch {
		case ev.Reset:
			for _, n := range s.Names() {
				s.learn(n)
			}
		case ev.Deleted:
			s.drop(name)
		default:
			s.applyEntry(ev.Entry)
		}
	}
}

// learn reads one function from the shared store now.
func (s *Service) learn(name string) {
	if !validName.MatchString(name) {
		return
	}
	e, err := s.store.st.Get(s.bg, s.store.key(name, recordFile))
	if err != nil {
		if !errors.Is(err, hstate.ErrNotFound) {
			s.log.Warn("lambda: read a shared function", "function", name, "err", err)
		}
		return
	}
	s.applyEntry(e)
}

// applyEntry brings a function to the record stored for it: a new one is
// added, a changed one gets the new version (its warm instances of the
// old one retire), one whose revision this node has is left alone.
func (s *Service) applyEntry(e hstate.Entry) {
	name, rec, ok, err := s.store.parse(e)
	if !ok {
		return
	}
	if err != nil {
		s.log.Error("lambda: unreadable shared function", "function", name, "err", err)
		return
	}
	s.mu.RLock()
	fn := s.fns[name]
	same := fn != nil && fn.rec.Config.RevisionId == rec.Config.RevisionId
	s.mu.RUnlock()
	if same {
		return
	}
	ctx, cancel := context.WithCancel(s.bg)
	defer cancel()
	if err := s.store.ensure(ctx, name, rec.CodeFile); err != nil {
		s.log.Error("lambda: cannot fetch a shared function's package", "function", name, "err", err)
		return
	}
	rec.Config.FunctionArn = functionARN(s.opts.Region, s.opts.AccountID, name)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	fn = s.fns[name]
	if fn == nil {
		s.fns[name] = s.newFunction(rec)
		s.mu.Unlock()
		return
	}
	if fn.rec.Config.RevisionId == rec.Config.RevisionId {
		s.mu.Unlock()
		return
	}
	old := fn.rec.CodeFile
	fn.rec = rec
	sn := s.snapshotOf(rec)
	s.mu.Unlock()
	fn.pool.reconfigure(sn, s.opts.Concurrency)
	if old != rec.CodeFile {
		s.store.dropLocal(name, path.Base(rec.CodeFile))
	}
}

// drop removes a function deleted on another node.
func (s *Service) drop(name string) {
	s.mu.Lock()
	fn := s.fns[name]
	delete(s.fns, name)
	s.mu.Unlock()
	if fn != nil {
		fn.pool.close()
		s.store.dropLocal(name, "")
	}
}
