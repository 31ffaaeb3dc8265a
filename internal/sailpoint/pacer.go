package sailpoint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/certops/certops/internal/certs"
)

// pacer keeps the client under ISC's rate limit (RateLimit requests per
// RateWindow per client id and API version; 100 per 10 s by default) and
// holds every caller back after a 429. A request may start when
//
//  1. no pause is in force: after a 429, nobody starts before its
//     Retry-After is over;
//  2. the window has room: fewer than the effective limit (RateLimit, or
//     less after 429s, see below) of our requests are in flight or finished
//     within the last RateWindow;
//  3. its lane may use that room: interactive requests (a person waiting)
//     go first; background ones (certs.IsBackground: the worker, the Slack
//     notifier) wait while an interactive one does, and never take the
//     last fifth of the window, kept for people;
//  4. only when SAIL_RATE_BURST is set below RateLimit: a token bucket
//     (golang.org/x/time/rate, RateLimit per RateWindow, burst RateBurst)
//     has a token, which spreads requests evenly as the client did before.
//
// So an idle window admits RateLimit requests at once with no added wait:
// the window is SailPoint's own rule, and spreading requests evenly inside
// it (the old default, burst 1) only made every call wait up to
// RateWindow/RateLimit (100 ms) for nothing.
//
// Why the window counts requests in flight and finished ones, not starts:
// SailPoint counts requests as they arrive, and arrivals jitter. When
// request i reaches SailPoint late and request i+limit on time, both fall
// into one of SailPoint's windows although they left a window apart. Every
// request that SailPoint could count in the window ending at our next
// request's arrival is one we still see as in flight, or saw finish less
// than a window ago (it arrived before it finished), so our own traffic
// never meets a 429, whatever the network does; it costs about one
// response time per window, and only once the window is full.
//
// A 429 means someone else spends the same client id's budget (another
// replica, another tool, a person with the same credentials), or the
// tenant's limit is lower than RateLimit. Besides the pause, it lowers the
// pace, AIMD-style: the effective limit becomes half of what we had in the
// window when the 429 came (at most once per window, since one burst of
// 429s is one signal; never below a tenth of RateLimit, so that a
// misbehaving neighbour cannot stop us). Once the requests sent at the old
// pace have left the window (a window after the last 429), every window
// that passes without a 429 gives back a tenth of RateLimit, up to
// RateLimit: additive increase, multiplicative decrease, as TCP does, so
// that the pace settles just under what the tenant leaves us. With a
// tenant allowing 20 per 10 s, the default 100 and 20 busy callers, 10 %
// of calls are refused instead of 45 % without the lowering
// (TestPacerAdaptsToATenantWithALowerLimit, simulated).
//
// Hand-written rather than a library: x/time/rate is a token bucket (it
// has no window, no count of requests in flight and no "stop until"), and
// the sliding-window packages we looked at (go.uber.org/ratelimit is a
// leaky bucket; github.com/RussellLuo/slidingwindow and go-chi/httprate
// approximate the window from two fixed ones, which can admit more than
// the limit in a real sliding window) count starts, not requests in
// flight, and have neither priorities nor an injectable clock for waiting.
// The sandbox models SailPoint's side the same way (internal/sandbox,
// ratelimit.go).
type pacer struct {
	clk clock
	log *slog.Logger

	mu    sync.Mutex
	limit int           // RateLimit; 0: no client-side limit (pauses still hold)
	span  time.Duration // RateWindow
	lim   *rate.Limiter // the opt-in even spreading; nil: the window alone

	until    time.Time   // the pause: no request starts before this
	inflight int         // requests holding a slot
	finished []time.Time // when recent requests finished, oldest first

	eff   int       // the effective limit: floor..limit
	floor int       // eff never goes below
	step  int       // eff regained per clean window
	cutAt time.Time // when eff was last lowered
	calm  time.Time // eff grows by step at calm, then every span, while no 429 comes

	queue [2][]*waiter // waiting requests per lane, first come first
	timer stopper      // wakes the queue when time alone can make room
	due   time.Time    // when timer fires
	stats pacerStats
}

// pacerStats counts what the pacer did, for tests.
type pacerStats struct {
	admitted [2]int // slots given, per lane
	waited   [2]int // of those, given after waiting
	cuts     int    // times a 429 lowered the effective limit
}

// lane is a request's priority.
type lane int

const (
	laneInteractive lane = iota // a person is waiting
	laneBackground              // nobody is: certs.Background
)

func laneOf(ctx context.Context) lane {
	if certs.IsBackground(ctx) {
		return laneBackground
	}
	return laneInteractive
}

func (l lane) String() string {
	if l == laneBackground {
		return "background"
	}
	return "interactive"
}

// clock is the pacer's time: the wall clock, or a fake one in tests.
type clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) stopper
}

type stopper interface{ Stop() bool }

type wallClock struct{}

func (wallClock) Now() time.Time                              { return time.Now() }
func (wallClock) AfterFunc(d time.Duration, f func()) stopper { return time.AfterFunc(d, f) }

// newPacer returns the pacer of one Client. Every goroutine using the
// Client shares it; two Clients with the same credentials would each pace
// to the whole limit, so make one Client per tenant and share it.
func newPacer(cfg Config, log *slog.Logger) *pacer {
	return newPacerClock(cfg, log, wallClock{})
}

func newPacerClock(cfg Config, log *slog.Logger, clk clock) *pacer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	p := &pacer{clk: clk, log: log}
	if cfg.RateLimit > 0 && cfg.RateWindow > 0 {
		p.limit, p.span = cfg.RateLimit, cfg.RateWindow
		p.eff = p.limit
		p.floor = max(1, p.limit/10)
		p.step = max(1, p.limit/10)
		if cfg.RateBurst > 0 && cfg.RateBurst < cfg.RateLimit {
			p.lim = rate.NewLimiter(rate.Limit(float64(cfg.RateLimit)/cfg.RateWindow.Seconds()), cfg.RateBurst)
			log.Warn("SAIL_RATE_BURST below SAIL_RATE_LIMIT spreads SailPoint calls evenly: once a burst is spent, each call waits up to SAIL_RATE_WINDOW/SAIL_RATE_LIMIT even when the window has room; unset it (or set 0) to pace by the window alone",
				"burst", cfg.RateBurst, "limit", cfg.RateLimit, "window", cfg.RateWindow)
		}
	}
	return p
}

// errPacedPastDeadline says the next free slot is after the caller's
// deadline, so waiting would only end in the deadline.
var errPacedPastDeadline = errors.New("the client-side rate limit has no free slot before the context's deadline")

// slot is a request's place in the window. Give it back with done.
type slot struct {
	p      *pacer
	held   bool
	lane   lane
	waited time.Duration // from asking to getting it, on the pacer's clock: 0 unless queued
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
	now := p.clk.Now()
	p.inflight--
	if sent {
		p.finished = append(p.finished, now)
	}
	p.dispatch(now)
}

// waiter is a request waiting for a slot.
type waiter struct {
	lane   lane
	ready  chan struct{} // closed once it holds a slot
	given  bool          // it holds a slot (set under p.mu)
	waited time.Duration // from queueing to getting it (set with given)
	since  time.Time     // when it queued
}

// wait blocks until a request of ctx's lane may start and returns its slot.
func (p *pacer) wait(ctx context.Context) (*slot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ln := laneOf(ctx)
	p.mu.Lock()
	now := p.clk.Now()
	p.refresh(now)
	if p.ahead(ln) == 0 && p.room(now, ln) {
		p.give(now, ln)
		p.mu.Unlock()
		return p.slot(ln, 0), nil
	}
	if dl, ok := ctx.Deadline(); ok && p.earliest(now).After(dl) {
		p.mu.Unlock()
		return nil, fmt.Errorf("%w: %w", errPacedPastDeadline, context.DeadlineExceeded)
	}
	w := &waiter{lane: ln, ready: make(chan struct{}), since: now}
	p.queue[ln] = append(p.queue[ln], w)
	p.dispatch(now) // in case a timer is late: whoever may go now goes, in order
	p.mu.Unlock()

	select {
	case <-w.ready:
		return p.slot(ln, w.waited), nil
	case <-ctx.Done():
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now = p.clk.Now()
	if w.given {
		// Given a slot as the caller left: it was never used.
		if p.limit > 0 {
			p.inflight--
		}
	} else {
		p.queue[ln] = slices.DeleteFunc(p.queue[ln], func(o *waiter) bool { return o == w })
	}
	p.dispatch(now) // a waiter that left may have held others back
	return nil, ctx.Err()
}

func (p *pacer) slot(ln lane, waited time.Duration) *slot {
	if p.limit == 0 {
		return &slot{lane: ln, waited: waited} // nothing to count
	}
	return &slot{p: p, held: true, lane: ln, waited: waited}
}

// ahead is how many waiting requests go before a new one of lane ln.
func (p *pacer) ahead(ln lane) int {
	n := len(p.queue[laneInteractive])
	if ln == laneBackground {
		n += len(p.queue[laneBackground])
	}
	return n
}

// refresh forgets requests that left the window and lets the effective
// limit grow back for every window that passed without a 429.
func (p *pacer) refresh(now time.Time) {
	drop := 0
	for drop < len(p.finished) && now.Sub(p.finished[drop]) >= p.span {
		drop++
	}
	if drop > 0 {
		p.finished = slices.Delete(p.finished, 0, drop)
	}
	if p.eff < p.limit && !now.Before(p.calm) {
		for p.eff < p.limit && !now.Before(p.calm) {
			p.eff = min(p.limit, p.eff+p.step)
			p.calm = p.calm.Add(p.span)
		}
		if p.eff == p.limit {
			p.log.Info("sailpoint: no 429 for a window, back to the full pace", "limit", p.limit, "window", p.span)
		}
	}
}

// reserve is how much of the window background requests leave to people:
// a fifth, at least one slot, but never the whole window.
func (p *pacer) reserve() int {
	return max(0, min(max(1, p.eff/5), p.eff-1))
}

// room reports whether a request of lane ln may start at now (call after
// refresh). It does not look at the queue.
func (p *pacer) room(now time.Time, ln lane) bool {
	if now.Before(p.until) {
		return false
	}
	if p.limit == 0 {
		return true
	}
	ceiling := p.eff
	if ln == laneBackground {
		ceiling -= p.reserve()
	}
	if p.inflight+len(p.finished) >= ceiling {
		return false
	}
	return p.lim == nil || p.lim.TokensAt(now) >= 1
}

// give hands a slot to a request of lane ln.
func (p *pacer) give(now time.Time, ln lane) {
	p.stats.admitted[ln]++
	if p.limit == 0 {
		return
	}
	p.inflight++
	if p.lim != nil {
		p.lim.AllowN(now, 1)
	}
}

// dispatch gives slots to waiting requests, interactive ones first, while
// the window has room, then sets the timer for the next moment time alone
// can make room.
func (p *pacer) dispatch(now time.Time) {
	p.refresh(now)
	for {
		ln := laneInteractive
		if len(p.queue[ln]) == 0 {
			ln = laneBackground
		}
		// A background request never passes an interactive one: if the
		// first interactive waiter has no room, nobody has.
		if len(p.queue[ln]) == 0 || !p.room(now, ln) {
			break
		}
		w := p.queue[ln][0]
		p.queue[ln] = slices.Delete(p.queue[ln], 0, 1)
		p.give(now, ln)
		p.stats.waited[ln]++
		w.given = true
		w.waited = now.Sub(w.since)
		close(w.ready)
	}
	p.arm(now)
}

// arm sets the timer for the next moment time alone may let a waiting
// request start: the pause's end, the oldest finished request leaving the
// window, the effective limit growing back, the bucket's next token.
// Nothing else makes room without dispatch being called (done, wait's
// cancellation).
func (p *pacer) arm(now time.Time) {
	if len(p.queue[laneInteractive])+len(p.queue[laneBackground]) == 0 {
		p.stopTimer()
		return
	}
	var next time.Time
	switch {
	case now.Before(p.until):
		next = p.until
	case p.limit == 0:
		return // unreachable: with no limit and no pause, dispatch let everyone go
	default:
		soonest := func(t time.Time) {
			if t.After(now) && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
		if len(p.finished) > 0 {
			soonest(p.finished[0].Add(p.span))
		}
		if p.eff < p.limit {
			soonest(p.calm)
		}
		if p.lim != nil {
			if tokens := p.lim.TokensAt(now); tokens < 1 {
				soonest(now.Add(time.Duration(math.Ceil((1 - tokens) / float64(p.lim.Limit()) * float64(time.Second)))))
			}
		}
		if next.IsZero() {
			p.stopTimer() // only requests in flight coming back can make room
			return
		}
	}
	if p.timer != nil && p.due.Equal(next) {
		return
	}
	p.stopTimer()
	p.due = next
	var t stopper
	t = p.clk.AfterFunc(next.Sub(now), func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.timer == t {
			p.timer = nil
		}
		p.dispatch(p.clk.Now())
	})
	p.timer = t
}

func (p *pacer) stopTimer() {
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
}

// earliest is the soonest a new request could start, whatever happens
// meanwhile: after the pause, and once enough finished requests have left
// the window to fit under RateLimit (the effective limit may grow back,
// requests in flight may come back unsent, waiters may give up, so only
// these two are certain).
func (p *pacer) earliest(now time.Time) time.Time {
	t := now
	if p.until.After(t) {
		t = p.until
	}
	if p.limit > 0 {
		if leave := len(p.finished) - (p.limit - 1); leave > 0 {
			if out := p.finished[leave-1].Add(p.span); out.After(t) {
				t = out
			}
		}
	}
	return t
}

// pause is what a 429 calls: it stops every caller until now+d (extending,
// never shortening, a pause in force) and lowers the pace (see pacer).
func (p *pacer) pause(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.clk.Now()
	if until := now.Add(d); d > 0 && until.After(p.until) {
		p.until = until
	}
	if p.limit > 0 {
		p.refresh(now)
		if p.cutAt.IsZero() || now.Sub(p.cutAt) >= p.span {
			used := p.inflight + len(p.finished)
			was := p.eff
			p.eff = max(p.floor, min(p.eff, used)/2)
			p.cutAt = now
			p.stats.cuts++
			p.log.Warn("sailpoint: SailPoint answered 429; lowering the pace until a window passes without one",
				"limit", p.eff, "was", was, "window", p.span)
		}
		// The window the 429 came in holds requests sent at the old pace:
		// the first window that proves the new pace clean is the next one.
		p.calm = now.Add(2 * p.span)
	}
	p.dispatch(now)
}

// paused returns how long the current pause still lasts.
func (p *pacer) paused() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return max(p.until.Sub(p.clk.Now()), 0)
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
