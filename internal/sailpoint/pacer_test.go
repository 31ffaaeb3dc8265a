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
			results <- p.wait(ctx)
		}()
	}
	for range 4 {
		assert.ErrorIs(t, <-results, context.DeadlineExceeded, "nobody starts during a pause")
	}
}

func TestPacerSharedPerClientID(t *testing.T) {
	cfg := Config{BaseURL: "https://shared.example.com", ClientID: "a", APIVersion: APIv3, RateLimit: 100, RateWindow: 10 * time.Second}
	p1 := sharedPacer(cfg)
	p2 := sharedPacer(cfg)
	assert.Same(t, p1, p2)
	cfg.APIVersion = APIv1
	assert.NotSame(t, p1, sharedPacer(cfg), "SailPoint counts per API version")
	cfg.APIVersion, cfg.ClientID = APIv3, "b"
	assert.NotSame(t, p1, sharedPacer(cfg), "and per client id")
}

func TestPacerPastDeadline(t *testing.T) {
	cfg := Config{BaseURL: "https://deadline.example.com", ClientID: "a", APIVersion: APIv3, RateLimit: 1, RateWindow: time.Hour}
	p := sharedPacer(cfg)
	require.NoError(t, p.wait(context.Background())) // the one token
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := p.wait(ctx)
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
