package slackbot

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTTLCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := newTTLCache[string, int](2, time.Minute, clock)

	c.set("a", 1)
	c.set("b", 2)
	_, _ = c.get("a") // a is now the most recent
	c.set("c", 3)     // evicts b
	_, ok := c.get("b")
	assert.False(t, ok, "least recently used evicted")
	v, ok := c.get("a")
	assert.True(t, ok)
	assert.Equal(t, 1, v)
	assert.Equal(t, 2, c.len(), "size bounded")

	advance(time.Minute)
	_, ok = c.get("a")
	assert.False(t, ok, "expired after its lifetime")

	assert.True(t, c.addIfAbsent("x", 1))
	assert.False(t, c.addIfAbsent("x", 2))
	advance(2 * time.Minute)
	assert.True(t, c.addIfAbsent("x", 3), "an expired entry does not block")
}

func TestPoolDrainsQueuedWorkOnShutdown(t *testing.T) {
	t.Parallel()
	p := newPool(1, 10, time.Minute, nil)
	release := make(chan struct{})
	var ran atomic.Int32
	require.NoError(t, p.submit("block", func(ctx context.Context) { <-release; ran.Add(1) }))
	for range 3 {
		require.NoError(t, p.submit("queued", func(ctx context.Context) { ran.Add(1) }))
	}
	p.start(context.Background())
	close(release)
	require.NoError(t, p.shutdown(context.Background()))
	assert.Equal(t, int32(4), ran.Load(), "queued jobs finish before shutdown returns")
	assert.ErrorIs(t, p.submit("late", func(context.Context) {}), errStopped)
}

func TestPoolRefusesWhenFull(t *testing.T) {
	t.Parallel()
	p := newPool(1, 1, time.Minute, nil)
	require.NoError(t, p.submit("one", func(context.Context) {}))
	assert.ErrorIs(t, p.submit("two", func(context.Context) {}), errBusy)
}

func TestJobsOutliveTheRequestContext(t *testing.T) {
	t.Parallel()
	p := newPool(1, 1, time.Minute, nil)
	ctx, cancel := context.WithCancel(context.Background())
	p.start(context.WithoutCancel(ctx))
	cancel() // the request that queued the job is over
	got := make(chan error, 1)
	require.NoError(t, p.submit("job", func(ctx context.Context) { got <- ctx.Err() }))
	assert.NoError(t, <-got)
	require.NoError(t, p.shutdown(context.Background()))
}
