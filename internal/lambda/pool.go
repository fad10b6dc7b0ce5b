package lambda

import (
	"context"
	"errors"
	"sync"
	"time"
)

// errPoolClosed is an acquire on a function that was deleted or a service
// that is closing.
var errPoolClosed = errors.New("function is gone")

// errThrottled is an acquire that found every instance busy for longer
// than the service's queue wait.
var errThrottled = errors.New("all instances busy")

// pool keeps a function's instances: warm ones waiting for an event (most
// recently used first), and at most max running at once. A new snapshot
// (after an update) retires the older instances: idle ones at once, busy
// ones when they come back.
type pool struct {
	svc  *Service
	ring *logRing

	mu      sync.Mutex
	snap    *snapshot
	gen     uint64
	max     int
	idle    []*instance
	all     map[*instance]struct{} // every live instance, idle or busy
	changed chan struct{}          // closed and replaced when capacity frees
	closed  bool
}

func newPool(svc *Service, sn *snapshot, max int, ring *logRing) *pool {
	return &pool{svc: svc, ring: ring, snap: sn, max: max, all: map[*instance]struct{}{}, changed: make(chan struct{})}
}

// acquire returns an instance for one invocation: a warm one if there is
// one, else a new one while fewer than max run, else the first to come
// back, waiting at most wait.
func (p *pool) acquire(ctx context.Context, wait time.Duration) (*instance, error) {
	var timeout <-chan time.Time
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errPoolClosed
		}
		for len(p.idle) > 0 {
			inst := p.idle[len(p.idle)-1]
			p.idle = p.idle[:len(p.idle)-1]
			if inst.alive() && inst.gen == p.gen && !inst.credentialsStale() {
				p.mu.Unlock()
				return inst, nil
			}
			delete(p.all, inst)
			go inst.stop()
		}
		if len(p.all) < p.max {
			sn, gen := p.snap, p.gen
			// Reserve the slot with a placeholder while the process starts
			// outside the lock.
			slot := &instance{}
			p.all[slot] = struct{}{}
			p.mu.Unlock()
			inst, err := p.svc.startInstance(sn, gen, p.ring)
			p.mu.Lock()
			delete(p.all, slot)
			closed := p.closed
			if err == nil && !closed {
				p.all[inst] = struct{}{}
			}
			p.signalLocked()
			p.mu.Unlock()
			if err == nil && closed {
				inst.stop()
				return nil, errPoolClosed
			}
			return inst, err
		}
		ch := p.changed
		p.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-ch:
		case <-timeout:
			return nil, errThrottled
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// release returns an instance after an invocation. A healthy instance of
// the current snapshot goes back to the warm list; any other is stopped.
func (p *pool) release(inst *instance, healthy bool) {
	p.mu.Lock()
	if healthy && !p.closed && inst.gen == p.gen && inst.alive() {
		inst.lastUsed = time.Now()
		p.idle = append(p.idle, inst)
		p.signalLocked()
		p.mu.Unlock()
		return
	}
	delete(p.all, inst)
	p.signalLocked()
	p.mu.Unlock()
	inst.stop()
}

func (p *pool) signalLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// reconfigure switches the pool to a new snapshot.
func (p *pool) reconfigure(sn *snapshot, max int) {
	p.mu.Lock()
	old := p.snap
	p.snap, p.max = sn, max
	p.gen++
	idle := p.idle
	p.idle = nil
	for _, inst := range idle {
		delete(p.all, inst)
	}
	p.signalLocked()
	p.mu.Unlock()
	old.retire()
	for _, inst := range idle {
		go inst.stop()
	}
}

// close stops every instance, busy ones included, and refuses new
// acquires. It waits for the processes to be gone.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	var insts []*instance
	for inst := range p.all {
		if inst.cmd != nil {
			insts = append(insts, inst)
		}
	}
	p.all = map[*instance]struct{}{}
	p.idle = nil
	p.signalLocked()
	sn := p.snap
	p.mu.Unlock()
	sn.retire()
	var wg sync.WaitGroup
	for _, inst := range insts {
		wg.Add(1)
		go func() { defer wg.Done(); inst.stop() }()
	}
	wg.Wait()
}

// reap stops warm instances idle for longer than maxIdle.
func (p *pool) reap(maxIdle time.Duration) {
	p.mu.Lock()
	var old []*instance
	keep := p.idle[:0]
	for _, inst := range p.idle {
		if time.Since(inst.lastUsed) > maxIdle || !inst.alive() {
			old = append(old, inst)
			delete(p.all, inst)
		} else {
			keep = append(keep, inst)
		}
	}
	p.idle = keep
	if len(old) > 0 {
		p.signalLocked()
	}
	p.mu.Unlock()
	for _, inst := range old {
		inst.stop()
	}
}

// stats counts the pool's instances.
func (p *pool) stats() (live, idle int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.all), len(p.idle)
}
