package logs

import (
	"container/list"
	"sync"
)

// blockCache keeps recently decoded blocks, up to a byte budget: a client
// following a stream (aws logs tail --follow) reads the same last blocks
// every few seconds.
type blockCache struct {
	mu    sync.Mutex
	max   int64
	bytes int64
	lru   *list.List // of *cached, most recent first
	byKey map[cacheKey]*list.Element
}

// cacheKey names a block: segments are never reused (a segment removed and
// one created under the same file name are different *segment values).
type cacheKey struct {
	seg *segment
	off int64
}

type cached struct {
	key  cacheKey
	evs  []event
	size int64
}

func newBlockCache(max int64) *blockCache {
	return &blockCache{max: max, lru: list.New(), byKey: map[cacheKey]*list.Element{}}
}

func (c *blockCache) get(k cacheKey) ([]event, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.byKey[k]
	if e == nil {
		return nil, false
	}
	c.lru.MoveToFront(e)
	return e.Value.(*cached).evs, true
}

func (c *blockCache) put(k cacheKey, evs []event, size int64) {
	if size > c.max/4 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byKey[k] != nil {
		return
	}
	c.byKey[k] = c.lru.PushFront(&cached{key: k, evs: evs, size: size})
	c.bytes += size
	for c.bytes > c.max {
		e := c.lru.Back()
		v := e.Value.(*cached)
		c.lru.Remove(e)
		delete(c.byKey, v.key)
		c.bytes -= v.size
	}
}
