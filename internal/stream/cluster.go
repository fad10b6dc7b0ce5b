package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/hydrant-io/hydrant/internal/firehose"
	"github.com/hydrant-io/hydrant/internal/state"
)

// In a cluster (Options.Clustered) every node keeps every stream's entry
// and log handle open, so that it takes Puts for every stream; the entries
// follow the shared State, and the node holding a stream's lease delivers
// it (StartDelivery, StopDelivery: the registry is the lease.Target).

// ErrNotDelivering is wrapped by Flush and Idle on a node that does not
// deliver the stream (another node holds its lease).
var ErrNotDelivering = errors.New("stream is delivered by another node")

// follow starts following State: a watch for changes, then one pass over
// what exists now (so nothing made between Open's list and the watch is
// missed).
func (r *Registry) follow(ctx context.Context) error {
	ch, err := r.state.Watch(ctx, r.prefix)
	if err != nil {
		return fmt.Errorf("follow stream states: %w", err)
	}
	if err := r.reconcile(ctx); err != nil {
		return err
	}
	go func() {
		defer close(r.done)
		for ev := range ch {
			switch {
			case ev.Reset:
				if err := r.reconcile(ctx); err != nil && ctx.Err() == nil {
					r.log.Error("re-read stream states", "err", err)
				}
			case ev.Deleted:
				if name, ok := r.nameOf(ev.Key); ok {
					r.drop(name)
				}
			default:
				r.applyEntry(ev.Entry)
			}
		}
	}()
	return nil
}

// reconcile applies every stream in State and drops those gone from it.
func (r *Registry) reconcile(ctx context.Context) error {
	entries, err := r.state.List(ctx, r.prefix)
	if err != nil {
		return fmt.Errorf("read stream states: %w", err)
	}
	have := map[string]bool{}
	for _, se := range entries {
		if name, ok := r.nameOf(se.Key); ok {
			have[name] = true
			r.applyEntry(se)
		}
	}
	for _, name := range r.Names() {
		if !have[name] {
			r.drop(name)
		}
	}
	return nil
}

// learn reads one stream's state now: a stream created, changed or
// deleted on another node a moment ago, whose event may not have come yet.
func (r *Registry) learn(ctx context.Context, name string) error {
	se, err := r.state.Get(ctx, r.key(name))
	if errors.Is(err, state.ErrNotFound) {
		r.drop(name)
		return fmt.Errorf("stream %s: %w", name, firehose.ErrStreamNotFound)
	}
	if err != nil {
		return fmt.Errorf("read stream %s: %w", name, err)
	}
	r.applyEntry(se)
	return nil
}

// listShared lists the streams in State.
func (r *Registry) listShared(ctx context.Context) ([]firehose.StreamInfo, error) {
	entries, err := r.state.List(ctx, r.prefix)
	if err != nil {
		return nil, fmt.Errorf("read stream states: %w", err)
	}
	var out []firehose.StreamInfo
	for _, se := range entries {
		if _, ok := r.nameOf(se.Key); !ok {
			continue
		}
		var info firehose.StreamInfo
		if err := json.Unmarshal(se.Value, &info); err != nil {
			return nil, fmt.Errorf("parse %s: %w", se.Key, err)
		}
		if info.Status != firehose.StatusDeleting {
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// applyEntry brings a stream's entry to a state read from State: a new
// stream gets an entry and an open log, a changed one its new version
// (handed to its delivery loop if this node delivers it), a DELETING one
// is dropped.
func (r *Registry) applyEntry(se state.Entry) {
	name, ok := r.nameOf(se.Key)
	if !ok {
		return
	}
	var info firehose.StreamInfo
	if err := json.Unmarshal(se.Value, &info); err != nil {
		r.log.Error("unreadable stream state", "key", se.Key, "err", err)
		return
	}
	r.mu.Lock()
	e, ok := r.streams[name]
	if !ok {
		if info.Status == firehose.StatusDeleting {
			r.mu.Unlock()
			return
		}
		e = &entry{info: info, rev: se.Revision, dir: streamDir(r.opts.Dir, name)}
		r.streams[name] = e
		e.mu.Lock()
		r.mu.Unlock()
		defer e.mu.Unlock()
		if info.Status == firehose.StatusActive {
			// Only once ACTIVE: the creating node made the log first.
			r.openLog(e)
		}
		return
	}
	r.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone || se.Revision <= e.rev {
		return
	}
	if info.Status == firehose.StatusDeleting {
		r.forget(e)
		return
	}
	e.info, e.rev = info, se.Revision
	if e.log == nil && info.Status == firehose.StatusActive {
		r.openLog(e)
	}
	r.updateDeliver(e)
}

// openLog opens the stream's log handle for Puts on this node. The caller
// holds e.mu.
func (r *Registry) openLog(e *entry) {
	lg, err := r.logs.Open(context.Background(), e.info.Name, LogKind)
	if err != nil {
		r.log.Error("open log of stream", "stream", e.info.Name, "err", err)
		return
	}
	e.log = lg
}

// drop removes a stream deleted elsewhere from this node.
func (r *Registry) drop(name string) {
	r.mu.RLock()
	e, ok := r.streams[name]
	r.mu.RUnlock()
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.gone {
		r.forget(e)
	}
}

// DeliverableStreams returns the ACTIVE streams whose log is open here.
func (r *Registry) DeliverableStreams() []string {
	r.mu.RLock()
	es := make([]*entry, 0, len(r.streams))
	for _, e := range r.streams {
		es = append(es, e)
	}
	r.mu.RUnlock()
	var out []string
	for _, e := range es {
		e.mu.Lock()
		if !e.gone && e.log != nil && e.info.Status == firehose.StatusActive {
			out = append(out, e.info.Name)
		}
		e.mu.Unlock()
	}
	sort.Strings(out)
	return out
}

// StartDelivery fences the stream's log with the lease's token and starts
// its delivery loop, which first redoes the plan the previous holder left.
func (r *Registry) StartDelivery(ctx context.Context, name string, token uint64) error {
	e, err := r.get(name)
	if err != nil {
		return err
	}
	e.mu.Lock()
	lg := e.log
	switch {
	case e.gone || lg == nil || e.info.Status != firehose.StatusActive:
		e.mu.Unlock()
		return fmt.Errorf("stream %s: %w", name, firehose.ErrStreamNotActive)
	case e.deliver != nil:
		e.mu.Unlock()
		return nil
	}
	e.mu.Unlock()
	// Fencing waits for the log (its leader may be in an election): Puts
	// to the stream go on meanwhile, so it runs without e.mu.
	if err := lg.Fence(ctx, token); err != nil {
		return fmt.Errorf("fence stream %s: %w", name, err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.gone || e.log != lg:
		return fmt.Errorf("stream %s: %w", name, firehose.ErrStreamNotActive)
	case e.deliver != nil:
		return nil
	}
	e.token = token
	if e.parts != nil {
		// Opened while an earlier lease was held here: fence it anew.
		if err := e.parts.Fence(ctx, token); err != nil {
			return fmt.Errorf("fence partition log of stream %s: %w", name, err)
		}
	}
	if err := r.startDeliver(e); err != nil {
		return err
	}
	r.log.Info("delivering stream on this node", "stream", name, "token", token)
	return nil
}

// StopDelivery stops the stream's delivery loop on this node; an object
// being written is abandoned, and its plan redone by the next holder.
func (r *Registry) StopDelivery(name string) {
	e, err := r.get(name)
	if err != nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.deliver != nil {
		e.deliver.Stop()
		e.deliver = nil
		r.log.Info("stopped delivering stream on this node", "stream", name)
	}
}
