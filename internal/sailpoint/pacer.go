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
// client id and API version) and holds every caller back after a 429. A
// request goes through three gates:
//
//  1. the pause: after a 429, nobody starts before its Retry-After is over;
//  2. the limiter (golang.org/x/time/rate, RateLimit per RateWindow, burst
//     RateBurst), which spreads requests evenly;
//  3. the window: at most RateLimit requests either in flight or finished
//     within the last RateWindow.
//
// The limiter alone is not enough. SailPoint counts requests as they
// arrive, and arrivals jitter: when request i reaches SailPoint late and
// request i+limit on time, both fall into one window although they left a
// window apart, and the 429's Retry-After (whole seconds) stops everyone.
// The window closes that gap for good: every request that SailPoint could
// count in the window ending at our next request's arrival is one we still
// see as in flight, or saw finish less than a window ago (it arrived before
// it finished). So our own traffic never meets a 429, whatever the network
// does; it costs about one response time per window.
//
// The pause and the window are hand-written: x/time/rate has neither a
// "stop until" nor a count of requests in flight.
type pacer struct {
	mu       sync.Mutex
	lim      *rate.Limiter // nil: no client-side limit
	limit    int
	span     time.Duration
	until    time.Time     // the pause: no request starts before this
	inflight int           // requests holding a slot
	finished []time.Time   // when recent requests finished, oldest first
	changed  chan struct{} // closed (and replaced) when a slot is given back
}

// newPacer returns the pacer of one Client. Every goroutine using the
// Client shares it; two Clients with the same credentials would each pace
// to the whole limit, so make one Client per tenant and share it.
func newPacer(cfg Config) *pacer {
	p := &pacer{changed: make(chan struct{})}
	if cfg.RateLimit > 0 {
		p.lim = rate.NewLimiter(rate.Limit(float64(cfg.RateLimit)/cfg.RateWindow.Seconds()), max(cfg.RateBurst, 1))
		p.limit, p.span = cfg.RateLimit, cfg.RateWindow
	}
	return p
}

// errPacedPastDeadline says the next free slot is after the caller's
// deadline, so waiting would only end in the deadline.
var errPacedPastDeadline = errors.New("the client-side rate limit has no free slot before the context's deadline")

// slot is a request's place in the window. Give it back with done.
type slot struct {
	p    *pacer
	held bool
}

// done gives the slot back. sent says whether the request may have reached
// SailPoint: then it counts in the window until a window after now;
// otherwise it frees its place at once.
func (s *slot) done(sent bool) {
	if s == nil || !s.held {
		return
	}
	s.held = false
	p := s.p
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if sent {
		p.finished = append(p.finished, time.Now())
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// wait blocks until a request may start and returns its slot.
func (p *pacer) wait(ctx context.Context) (*slot, error) {
	// 1. The pause.
	if err := p.waitPause(ctx); err != nil {
		return nil, err
	}
	// 2. The limiter.
	p.mu.Lock()
	lim := p.lim
	p.mu.Unlock()
	if lim == nil {
		return &slot{}, ctx.Err()
	}
	if err := lim.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: %w", errPacedPastDeadline, context.DeadlineExceeded)
	}
	// 3. The window (and a pause that began meanwhile).
	for {
		if err := p.waitPause(ctx); err != nil {
			return nil, err
		}
		p.mu.Lock()
		now := time.Now()
		for len(p.finished) > 0 && now.Sub(p.finished[0]) >= p.span {
			p.finished = p.finished[1:]
		}
		if p.limit == 0 || p.inflight+len(p.finished) < p.limit {
			p.inflight++
			p.mu.Unlock()
			return &slot{p: p, held: true}, nil
		}
		// Full: wait for the oldest finish to leave the window, or for a
		// request in flight to finish.
		changed := p.changed
		var timer *time.Timer
		var expire <-chan time.Time
		if len(p.finished) > 0 {
			timer = time.NewTimer(p.span - now.Sub(p.finished[0]))
			expire = timer.C
		}
		p.mu.Unlock()
		var err error
		select {
		case <-expire:
		case <-changed:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if timer != nil {
			timer.Stop()
		}
		if err != nil {
			return nil, err
		}
	}
}

func (p *pacer) waitPause(ctx context.Context) error {
	for {
		d := p.paused()
		if d <= 0 {
			return ctx.Err()
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
