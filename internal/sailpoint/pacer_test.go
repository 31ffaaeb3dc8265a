package sailpoint

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPauseHoldsEveryCaller(t *testing.T) {
	p := &pacer{}
	p.pause(time.Hour)
	p.pause(time.Minute) // never shortens a pause
	assert.Greater(t, p.paused(), 59*time.Minute)

	results := make(chan error, 4)
	for range 4 {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			_, err := p.wait(ctx)
			results <- err
		}()
	}
	for range 4 {
		assert.ErrorIs(t, <-results, context.DeadlineExceeded, "nobody starts during a pause")
	}
}

func TestPacerPastDeadline(t *testing.T) {
	p := newPacer(Config{RateLimit: 1, RateWindow: time.Hour})
	_, err := p.wait(context.Background()) // the one token
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = p.wait(ctx)
	assert.ErrorIs(t, err, errPacedPastDeadline)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestBackoff(t *testing.T) {
	for n := 1; n <= 10; n++ {
		d := backoff(n, 100*time.Millisecond, 2*time.Second)
		ceiling := min(100*time.Millisecond<<(n-1), 2*time.Second)
		assert.GreaterOrEqual(t, d, ceiling/2, "retry %d", n)
		assert.LessOrEqual(t, d, ceiling, "retry %d", n)
	}
	assert.Zero(t, backoff(3, time.Second, 0))
}

// TestWindowCountsRequestsInFlight: with the limiter out of the way, the
// window admits RateLimit requests in flight, no more, and a request
// that never left frees its place at once.
func TestWindowCountsRequestsInFlight(t *testing.T) {
	p := newPacer(Config{RateLimit: 3, RateWindow: time.Hour, RateBurst: 100})
	p.lim.SetLimit(1e9) // the window alone is under test
	var slots []*slot
	for range 3 {
		s, err := p.wait(context.Background())
		require.NoError(t, err)
		slots = append(slots, s)
	}
	blocked := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		s, err := p.wait(ctx)
		if err == nil {
			s.done(false)
		}
		return err != nil
	}
	assert.True(t, blocked(), "three in flight: the fourth waits")
	slots[0].done(false) // never reached SailPoint
	assert.False(t, blocked(), "a slot given back unsent is free again")
	again, err := p.wait(context.Background())
	require.NoError(t, err)
	slots[1].done(true) // reached SailPoint: counts for the window
	assert.True(t, blocked(), "a finished request still counts within the window")
	slots[1].done(true) // twice is harmless
	again.done(true)
	slots[2].done(true)
	assert.True(t, blocked())
}
