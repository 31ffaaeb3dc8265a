package sailpoint

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer keeps the client under ISC's rate limit (100 requests per 10 s per
// client id and API version) and holds every caller back after a 429.
//
// The limiter is golang.org/x/time/rate. The pause is hand-written because
// the limiter has no "stop until": after a 429, SailPoint's Retry-After
// applies to the client id, so every goroutine must wait, not only the one
// that saw it.
type pacer struct {
	lim *rate.Limiter // nil: no client-side limit

	mu    sync.Mutex
	until time.Time // no request starts before this
}

// paceSlack widens the window the client paces itself to: by 2%, and by at
// least 50 ms. SailPoint counts requests as they arrive, and arrivals
// jitter: when request i reaches SailPoint late and request i+limit on time,
// both fall into one window although they left a window apart, and the
// 429's Retry-After (whole seconds) stops everyone for far longer than the
// slack costs. 50 ms covers scheduling delays on a busy host; on ISC's 10 s
// window the 2% (200 ms) also covers the network.
func paceSlack(window time.Duration) time.Duration {
	return max(window/50, 50*time.Millisecond)
}

// pacers are shared per (base URL, client id, API version) within the
// process: SailPoint counts per client id and version, so two Clients made
// with the same credentials must share one budget, or each would spend it in
// full and both would meet 429s.
var (
	pacersMu sync.Mutex
	pacers   = map[string]*pacer{}
)

func sharedPacer(cfg Config) *pacer {
	key := cfg.BaseURL + "\x00" + cfg.ClientID + "\x00" + cfg.APIVersion
	limit, burst := rate.Inf, 0
	if cfg.RateLimit > 0 {
		window := cfg.RateWindow + paceSlack(cfg.RateWindow)
		limit = rate.Limit(float64(cfg.RateLimit) / window.Seconds())
		burst = max(cfg.RateBurst, 1)
	}
	pacersMu.Lock()
	defer pacersMu.Unlock()
	p, ok := pacers[key]
	if !ok {
		p = &pacer{}
		pacers[key] = p
	}
	// The newest Config sets the pace: the limit belongs to the tenant, so
	// Clients for the same one should agree anyway.
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case limit == rate.Inf:
		p.lim = nil
	case p.lim == nil:
		p.lim = rate.NewLimiter(limit, burst)
	default:
		p.lim.SetLimit(limit)
		p.lim.SetBurst(burst)
	}
	return p
}

// errPacedPastDeadline says the next free slot is after the caller's
// deadline, so waiting would only end in the deadline.
var errPacedPastDeadline = errors.New("the client-side rate limit has no free slot before the context's deadline")

// wait blocks until a request may start: after any pause, then one token.
func (p *pacer) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		d := time.Until(p.until)
		lim := p.lim
		p.mu.Unlock()
		if d <= 0 {
			if lim == nil {
				return ctx.Err()
			}
			if err := lim.Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("%w: %w", errPacedPastDeadline, context.DeadlineExceeded)
			}
			// A 429 seen while we waited for the token pauses us too.
			p.mu.Lock()
			d = time.Until(p.until)
			p.mu.Unlock()
			if d <= 0 {
				return nil
			}
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// pause stops every caller until now+d (extending, never shortening, a
// pause in force).
func (p *pacer) pause(d time.Duration) {
	if d <= 0 {
		return
	}
	until := time.Now().Add(d)
	p.mu.Lock()
	if until.After(p.until) {
		p.until = until
	}
	p.mu.Unlock()
}

// paused returns how long the current pause still lasts.
func (p *pacer) paused() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(time.Until(p.until), 0)
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// backoff is the wait before retry n (1-based): exponential from base,
// capped, with jitter over its upper half so that callers who failed
// together do not come back together.
func backoff(n int, base, maxWait time.Duration) time.Duration {
	d := base
	for i := 1; i < n && d < maxWait; i++ {
		d *= 2
	}
	d = min(d, maxWait)
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(half+1)
}
