package testkit_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/certops/certops/internal/testkit"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	t0 := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	c := testkit.NewClock(t0)
	assert.Equal(t, t0, c.Now())
	c.Advance(time.Minute)
	assert.Equal(t, t0.Add(time.Minute), c.Now())
	c.Set(t0)
	assert.Equal(t, t0, c.Now())
}

func TestBufferTakesConcurrentWrites(t *testing.T) {
	var b testkit.Buffer
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); fmt.Fprintf(&b, "%d\n", i) }()
	}
	wg.Wait()
	assert.Len(t, b.String(), 20)
	b.Reset()
	assert.Empty(t, b.String())
}
