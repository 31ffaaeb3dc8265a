package slackbot

import (
	"container/list"
	"sync"
	"time"
)

// ttlCache is a size-bounded LRU whose entries also expire after ttl.
// Hand-written because none of the project's modules has one and the need
// is small (identity lookups, delivery de-duplication); about 60 lines are
// cheaper than a new dependency.
type ttlCache[K comparable, V any] struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	now   func() time.Time
	order *list.List // front = most recently used
	items map[K]*list.Element
}

type ttlEntry[K comparable, V any] struct {
	key     K
	value   V
	expires time.Time
}

func newTTLCache[K comparable, V any](max int, ttl time.Duration, now func() time.Time) *ttlCache[K, V] {
	return &ttlCache[K, V]{max: max, ttl: ttl, now: now, order: list.New(), items: map[K]*list.Element{}}
}

// get returns the live value for key.
func (c *ttlCache[K, V]) get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var zero V
	el, ok := c.items[key]
	if !ok {
		return zero, false
	}
	e := el.Value.(*ttlEntry[K, V])
	if !c.now().Before(e.expires) {
		c.order.Remove(el)
		delete(c.items, key)
		return zero, false
	}
	c.order.MoveToFront(el)
	return e.value, true
}

// set stores value under key, evicting the least recently used entry when
// full.
func (c *ttlCache[K, V]) set(key K, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(key, value)
}

// addIfAbsent stores value unless a live entry exists; it reports whether it
// stored.
func (c *ttlCache[K, V]) addIfAbsent(key K, value V) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok && c.now().Before(el.Value.(*ttlEntry[K, V]).expires) {
		return false
	}
	c.setLocked(key, value)
	return true
}

func (c *ttlCache[K, V]) setLocked(key K, value V) {
	exp := c.now().Add(c.ttl)
	if el, ok := c.items[key]; ok {
		e := el.Value.(*ttlEntry[K, V])
		e.value, e.expires = value, exp
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&ttlEntry[K, V]{key: key, value: value, expires: exp})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*ttlEntry[K, V]).key)
	}
}

func (c *ttlCache[K, V]) delete(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.Remove(el)
		delete(c.items, key)
	}
}

func (c *ttlCache[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}
