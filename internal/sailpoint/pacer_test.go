package sailpoint

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/certops/certops/internal/certs"
	"github.com/certops/certops/internal/sandbox"
	"github.com/certops/certops/internal/sandbox/sandboxtest"
)

// The pacer's tests run on fakeClock: time moves only when the test moves
// it (Advance, Step), and synctest.Wait tells when every goroutine woken
// by a move has done what it could. No test waits on the wall clock.

// fakeClock is the pacer's clock in tests. Timers fire in the goroutine
// that moves the clock, each at its own time, earliest first.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	clk  *fakeClock
	at   time.Time
	f    func()
	dead bool // stopped or fired
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) stopper {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clk: c, at: c.now.Add(d), f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	live := !t.dead
	t.dead = true
	return live
}

// pop takes the earliest live timer due no later than by (any, if by is
// zero), marks it fired and moves the clock to its time. Call with c.mu.
func (c *fakeClock) pop(by time.Time) *fakeTimer {
	live := c.timers[:0]
	var first *fakeTimer
	for _, t := range c.timers {
		if t.dead {
			continue
		}
		live = append(live, t)
		if (by.IsZero() || !t.at.After(by)) && (first == nil || t.at.Before(first.at)) {
			first = t
		}
	}
	c.timers = live
	if first != nil {
		first.dead = true
		if first.at.After(c.now) {
			c.now = first.at
		}
	}
	return first
}

// Advance moves the clock by d, firing the timers due on the way.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	for {
		t := c.pop(target)
		if t == nil {
			break
		}
		c.mu.Unlock()
		t.f()
		c.mu.Lock()
	}
	c.now = target
	c.mu.Unlock()
}

// Step moves the clock to the next timer and fires it; false if none is set.
func (c *fakeClock) Step() bool {
	c.mu.Lock()
	t := c.pop(time.Time{})
	c.mu.Unlock()
	if t == nil {
		return false
	}
	t.f()
	return true
}

// waiting is a wait running in its own goroutine.
type waiting struct {
	done chan struct{}
	s    *slot
	err  error
}

// goWait starts p.wait(ctx) and returns once it has either a slot or a
// place in the queue (call it inside a synctest bubble).
func goWait(ctx context.Context, p *pacer) *waiting {
	w := &waiting{done: make(chan struct{})}
	go func() {
		w.s, w.err = p.wait(ctx)
		close(w.done)
	}()
	synctest.Wait()
	return w
}

// admitted reports whether the wait has returned a slot (call after
// synctest.Wait).
func (w *waiting) admitted() bool {
	select {
	case <-w.done:
		return w.err == nil
	default:
		return false
	}
}

var background = certs.Background(context.Background())

func testPacer(clk clock, limit int, span time.Duration) *pacer {
	return newPacerClock(Config{RateLimit: limit, RateWindow: span}, nil, clk)
}

// TestPacerIdleWindowAddsNoWait: an idle window admits the whole limit at
// once, and the next request waits exactly until the oldest leaves the
// window.
func TestPacerIdleWindowAddsNoWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		t0 := clk.Now()
		p := testPacer(clk, 100, 10*time.Second)
		var slots []*slot
		for i := range 100 {
			s, err := p.wait(context.Background()) // returns at once: never queued
			require.NoError(t, err, "request %d", i+1)
			slots = append(slots, s)
		}
		assert.Equal(t, t0, clk.Now())
		assert.Equal(t, [2]int{100, 0}, p.stats.admitted)
		assert.Equal(t, [2]int{0, 0}, p.stats.waited, "nobody waited")

		next := goWait(context.Background(), p)
		assert.False(t, next.admitted(), "101st: 100 in flight")
		clk.Advance(time.Second)
		slots[0].done(true) // the oldest finishes at t0+1s
		clk.Advance(time.Second)
		for _, s := range slots[1:] {
			s.done(true) // the others at t0+2s
		}
		synctest.Wait()
		assert.False(t, next.admitted(), "finished requests count for a window")

		clk.Advance(9*time.Second - time.Nanosecond) // t0+11s-1ns
		synctest.Wait()
		assert.False(t, next.admitted())
		clk.Advance(time.Nanosecond) // t0+11s: the oldest leaves the window
		synctest.Wait()
		assert.True(t, next.admitted(), "admitted as the oldest leaves")
		assert.Equal(t, t0.Add(11*time.Second), clk.Now())

		after := goWait(context.Background(), p)
		assert.False(t, after.admitted(), "the rest leave at t0+12s")
		clk.Advance(time.Second)
		synctest.Wait()
		assert.True(t, after.admitted())
		assert.Equal(t, [2]int{2, 0}, p.stats.waited)
	})
}

// TestWindowCountsRequestsInFlight: the window admits RateLimit requests
// in flight, no more; a request that never left frees its place at once; a
// finished one counts for a window.
func TestWindowCountsRequestsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		p := testPacer(clk, 3, time.Hour)
		var slots []*slot
		for range 3 {
			s, err := p.wait(context.Background())
			require.NoError(t, err)
			slots = append(slots, s)
		}
		fourth := goWait(context.Background(), p)
		assert.False(t, fourth.admitted(), "three in flight: the fourth waits")
		slots[0].done(false) // never reached SailPoint
		synctest.Wait()
		require.True(t, fourth.admitted(), "a slot given back unsent is free again")

		slots[1].done(true) // reached SailPoint: counts for the window
		slots[1].done(true) // twice is harmless
		fifth := goWait(context.Background(), p)
		assert.False(t, fifth.admitted(), "a finished request still counts within the window")
		clk.Advance(time.Hour)
		synctest.Wait()
		assert.True(t, fifth.admitted())
	})
}

// TestPacerNeverOverrunsSailPointsWindowUnderJitter simulates SailPoint
// counting arrivals in a sliding window while requests cross a network
// with random delays each way: with the pacer, no window ever holds more
// than the limit. The same traffic paced by counting starts only (the
// finish recorded at the start) overruns it, which shows the simulation
// can see the difference.
func TestPacerNeverOverrunsSailPointsWindowUnderJitter(t *testing.T) {
	const limit, span = 20, time.Second
	for _, tc := range []struct {
		name        string
		countStarts bool
	}{{"window of requests in flight and finished", false}, {"window of starts only", true}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				clk := newFakeClock()
				p := testPacer(clk, limit, span)
				sp := &fakeSailPoint{clk: clk, span: span}
				var wg sync.WaitGroup
				for c := range 30 {
					rng := rand.New(rand.NewPCG(uint64(c), 7))
					ctx := context.Background()
					if c%3 == 0 {
						ctx = certs.Background(ctx)
					}
					wg.Go(func() {
						for range 40 {
							s, err := p.wait(ctx)
							if !assert.NoError(t, err) {
								return
							}
							if tc.countStarts {
								s.done(true) // counts from its start, not its finish
							}
							// Up to 400 ms to SailPoint, 0-50 ms there, up to 400 ms back.
							up := time.Duration(rng.Int64N(int64(400 * time.Millisecond)))
							back := time.Duration(rng.Int64N(int64(450 * time.Millisecond)))
							answered := make(chan struct{})
							clk.AfterFunc(up, func() {
								sp.arrive()
								clk.AfterFunc(back, func() { close(answered) })
							})
							<-answered
							s.done(true)
							sleepFake(clk, time.Duration(rng.Int64N(int64(200*time.Millisecond))))
						}
					})
				}
				for {
					synctest.Wait()
					if !clk.Step() {
						break
					}
				}
				wg.Wait()
				most := sp.mostInAWindow()
				require.Equal(t, 30*40, len(sp.arrivals))
				t.Logf("%d requests in %s of simulated time; at most %d arrived in one %s window (limit %d)",
					len(sp.arrivals), sp.arrivals[len(sp.arrivals)-1].Sub(sp.arrivals[0]).Round(time.Millisecond), most, span, limit)
				if tc.countStarts {
					assert.Greater(t, most, limit, "counting starts lets jitter overrun the window")
				} else {
					assert.LessOrEqual(t, most, limit, "SailPoint would have answered 429")
				}
			})
		})
	}
}

// fakeSailPoint records when requests arrive, on the fake clock.
type fakeSailPoint struct {
	clk      *fakeClock
	span     time.Duration
	limit    int // > 0: answer 429 beyond limit per span, like the sandbox
	mu       sync.Mutex
	arrivals []time.Time // every arrival, in order
	admitted []time.Time // those not answered 429
}

// arrive records a request arriving now; with a limit it returns the
// Retry-After of a 429 (whole seconds, at least 1), or 0.
func (f *fakeSailPoint) arrive() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clk.Now()
	f.arrivals = append(f.arrivals, now)
	if f.limit > 0 && len(f.admitted) >= f.limit {
		oldest := f.admitted[len(f.admitted)-f.limit]
		if wait := f.span - now.Sub(oldest); wait > 0 {
			return max(time.Second, (wait+time.Second-1)/time.Second*time.Second)
		}
	}
	f.admitted = append(f.admitted, now)
	return 0
}

// mostInAWindow is the largest number of arrivals within one window
// (t-span, t], as SailPoint counts them.
func (f *fakeSailPoint) mostInAWindow() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	most, first := 0, 0
	for i, at := range f.arrivals {
		for at.Sub(f.arrivals[first]) >= f.span {
			first++
		}
		most = max(most, i-first+1)
	}
	return most
}

func sleepFake(clk *fakeClock, d time.Duration) {
	woke := make(chan struct{})
	clk.AfterFunc(d, func() { close(woke) })
	<-woke
}

// TestPacerRetryAfterHoldsEveryone: a 429's pause holds both lanes, even
// with room in the window, until its Retry-After; a shorter pause never
// shortens it.
func TestPacerRetryAfterHoldsEveryone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		p := testPacer(clk, 100, 10*time.Second)
		p.pause(3 * time.Second)
		p.pause(time.Second) // never shortens a pause
		assert.Equal(t, 3*time.Second, p.paused())
		var waits []*waiting
		for i := range 4 {
			ctx := context.Background()
			if i%2 == 1 {
				ctx = background
			}
			waits = append(waits, goWait(ctx, p))
		}
		clk.Advance(3*time.Second - time.Nanosecond)
		synctest.Wait()
		for _, w := range waits {
			assert.False(t, w.admitted(), "nobody starts during a pause")
		}
		clk.Advance(time.Nanosecond)
		synctest.Wait()
		for _, w := range waits {
			assert.True(t, w.admitted(), "everyone starts when it ends")
		}
	})
}

// TestPacerPauseWithoutLimit: with no client-side limit a 429 still holds
// every caller.
func TestPacerPauseWithoutLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		p := testPacer(clk, 0, 0)
		_, err := p.wait(context.Background())
		require.NoError(t, err)
		p.pause(time.Second)
		w := goWait(context.Background(), p)
		assert.False(t, w.admitted())
		clk.Advance(time.Second)
		synctest.Wait()
		assert.True(t, w.admitted())
	})
}

func TestPacerPastDeadline(t *testing.T) {
	clk := newFakeClock()
	clk.now = time.Now() // deadlines are on the wall clock
	p := testPacer(clk, 1, time.Hour)
	s, err := p.wait(context.Background())
	require.NoError(t, err)
	s.done(true) // leaves the window in an hour
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = p.wait(ctx)
	assert.ErrorIs(t, err, errPacedPastDeadline, "fails at once, without waiting for the deadline")
	assert.ErrorIs(t, err, context.DeadlineExceeded)

	p = testPacer(clk, 100, time.Second)
	p.pause(2 * time.Minute)
	_, err = p.wait(ctx)
	assert.ErrorIs(t, err, errPacedPastDeadline, "the pause outlasts the deadline")
}

// TestPacer429sLowerThePace: a 429 halves the pace (once per window, not
// per 429), down to a tenth of the limit; every window without one gives a
// tenth back.
func TestPacer429sLowerThePace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		const span = 10 * time.Second
		p := testPacer(clk, 100, span)
		// burst takes every slot the window has now, without waiting, and
		// finishes them; it returns how many it got.
		burst := func() int {
			n := 0
			for {
				p.mu.Lock()
				now := clk.Now()
				p.refresh(now)
				free := p.room(now, laneInteractive)
				p.mu.Unlock()
				if !free {
					return n
				}
				s, err := p.wait(context.Background())
				require.NoError(t, err)
				s.done(true)
				n++
			}
		}
		require.Equal(t, 100, burst())
		p.pause(time.Second) // 80 of them were refused, say
		p.pause(time.Second)
		p.pause(time.Second)
		assert.Equal(t, 50, p.eff, "one burst of 429s halves the pace once")
		assert.Equal(t, 1, p.stats.cuts)

		clk.Advance(span)
		assert.Equal(t, 50, burst(), "the next window takes half")
		p.pause(time.Second)
		assert.Equal(t, 25, p.eff, "429s in the next window halve it again")
		clk.Advance(span)
		assert.Equal(t, 25, burst())
		p.pause(time.Second)
		assert.Equal(t, 12, p.eff)
		clk.Advance(span)
		assert.Equal(t, 12, burst())
		p.pause(time.Second) // at t0+30s
		assert.Equal(t, 10, p.eff, "never below a tenth of the limit")

		clk.Advance(span)
		assert.Equal(t, 10, burst(), "the window after the 429: the new pace")
		clk.Advance(span - time.Nanosecond)
		assert.Equal(t, 0, burst(), "that window is not over")
		assert.Equal(t, 10, p.eff)
		clk.Advance(time.Nanosecond)
		assert.Equal(t, 20, burst(), "a clean window gives back a tenth")
		clk.Advance(span)
		assert.Equal(t, 30, burst())
		clk.Advance(10 * span)
		assert.Equal(t, 100, burst(), "back to the full pace")
		assert.Equal(t, 4, p.stats.cuts)
	})
}

// TestPacerAdaptsToATenantWithALowerLimit: a tenant allowing 20 per 10 s,
// 20 busy callers and the default pace of 100 per 10 s, for 5 minutes of
// simulated time. Lowering the pace after 429s keeps most calls from
// being refused; never lowering it (the control) is what the issue
// measured.
func TestPacerAdaptsToATenantWithALowerLimit(t *testing.T) {
	share := map[bool]float64{}
	for _, adapt := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			clk := newFakeClock()
			const span = 10 * time.Second
			p := testPacer(clk, 100, span)
			if !adapt {
				p.floor = p.limit
			}
			sp := &fakeSailPoint{clk: clk, span: span, limit: 20}
			end := clk.Now().Add(5 * time.Minute)
			var wg sync.WaitGroup
			for c := range 20 {
				rng := rand.New(rand.NewPCG(uint64(c), 11))
				wg.Go(func() {
					for clk.Now().Before(end) {
						s, err := p.wait(context.Background())
						if !assert.NoError(t, err) {
							return
						}
						var retryAfter time.Duration
						answered := make(chan struct{})
						clk.AfterFunc(time.Duration(10+rng.IntN(40))*time.Millisecond, func() {
							retryAfter = sp.arrive()
							clk.AfterFunc(time.Duration(10+rng.IntN(40))*time.Millisecond, func() { close(answered) })
						})
						<-answered
						s.done(true)
						if retryAfter > 0 {
							p.pause(retryAfter)
						}
					}
				})
			}
			for {
				synctest.Wait()
				if !clk.Step() {
					break
				}
			}
			wg.Wait()
			refused := len(sp.arrivals) - len(sp.admitted)
			share[adapt] = float64(refused) / float64(len(sp.arrivals))
			t.Logf("adapt=%v: %d calls, %d answered 429 (%.0f %%), %d served in 5 min (the tenant's budget: %d)",
				adapt, len(sp.arrivals), refused, 100*share[adapt], len(sp.admitted), 30*20)
		})
	}
	assert.Less(t, share[true], 0.25, "lowering the pace keeps 429s rare")
	assert.Less(t, share[true], share[false]/2)
}

// TestPacerBackgroundYields: background requests go after waiting
// interactive ones, even those queued later, and never take the last
// fifth of the window.
func TestPacerBackgroundYields(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		p := testPacer(clk, 10, 10*time.Second) // reserve: 2
		var held []*slot
		for range 8 {
			s, err := p.wait(background)
			require.NoError(t, err)
			held = append(held, s)
		}
		bg := goWait(background, p)
		assert.False(t, bg.admitted(), "8 of 10 used: background leaves the rest to people")
		for range 2 {
			s, err := p.wait(context.Background()) // at once, past the waiting background request
			require.NoError(t, err)
			held = append(held, s)
		}
		assert.Equal(t, [2]int{0, 0}, p.stats.waited)

		// Full: a background request queued first, then an interactive one.
		person := goWait(context.Background(), p)
		assert.False(t, person.admitted())
		held[0].done(false)
		synctest.Wait()
		assert.True(t, person.admitted(), "the slot goes to the person, who came later")
		assert.False(t, bg.admitted())
		held[1].done(false)
		synctest.Wait()
		assert.False(t, bg.admitted(), "9 of 10 used: still the reserve")
		held[2].done(false)
		synctest.Wait()
		assert.False(t, bg.admitted(), "8 of 10 used: still the reserve")
		held[3].done(false)
		synctest.Wait()
		assert.True(t, bg.admitted(), "7 of 10 used: background may go")
	})
}

// TestPacerCanceledWaiterLeavesTheQueue: a waiter that gives up no longer
// holds back those behind it, and never takes a slot.
func TestPacerCanceledWaiterLeavesTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		p := testPacer(clk, 5, 10*time.Second) // reserve: 1
		var held []*slot
		for range 5 {
			s, err := p.wait(context.Background())
			require.NoError(t, err)
			held = append(held, s)
		}
		ctx, cancel := context.WithCancel(context.Background())
		person := goWait(ctx, p)
		bg := goWait(background, p)
		held[0].done(false)
		held[1].done(false) // 3 of 5 used: the person goes
		synctest.Wait()
		require.True(t, person.admitted())
		assert.False(t, bg.admitted(), "4 of 5 used: the reserve")

		// The window full, another person waits, then gives up: had they
		// stayed, the next free slot would be theirs and the one after it
		// the reserve.
		last, err := p.wait(context.Background())
		require.NoError(t, err)
		again := goWait(ctx, p)
		cancel()
		synctest.Wait()
		assert.ErrorIs(t, again.err, context.Canceled)
		held[2].done(false)
		held[3].done(false) // 3 of 5 used
		synctest.Wait()
		assert.True(t, bg.admitted())
		assert.Equal(t, 4, p.inflight, "the canceled waiter holds nothing")
		last.done(false)
	})
}

// TestPacerBurstSpreadsWhenSet: SAIL_RATE_BURST below the limit also
// spreads requests evenly (the old pace); at or above it, or 0, the
// window alone paces.
func TestPacerBurstSpreadsWhenSet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := newFakeClock()
		var logs bytes.Buffer
		p := newPacerClock(Config{RateLimit: 10, RateWindow: 10 * time.Second, RateBurst: 2}, slog.New(slog.NewTextHandler(&logs, nil)), clk)
		assert.Contains(t, logs.String(), "SAIL_RATE_BURST below SAIL_RATE_LIMIT spreads SailPoint calls evenly", "start-up warns")
		for range 2 {
			_, err := p.wait(context.Background())
			require.NoError(t, err)
		}
		third := goWait(context.Background(), p)
		assert.False(t, third.admitted(), "the burst is spent")
		clk.Advance(time.Second - time.Millisecond)
		synctest.Wait()
		assert.False(t, third.admitted())
		clk.Advance(time.Millisecond)
		synctest.Wait()
		assert.True(t, third.admitted(), "one every window/limit")

		for _, burst := range []int{0, 10, 50} {
			p := newPacerClock(Config{RateLimit: 10, RateWindow: 10 * time.Second, RateBurst: burst}, nil, clk)
			assert.Nil(t, p.lim, "burst %d: the window alone", burst)
		}
	})
}

// TestClientAddsNoWaitInAnIdleWindow: 100 quick calls through the real
// client to the sandbox at its default limit (ISC's: 100 per 10 s) and
// with the client's default pace: SailPoint answers no 429 and no call
// waits for the pacer, so the calls take the tenant's time and no more.
func TestClientAddsNoWaitInAnIdleWindow(t *testing.T) {
	sb, base := sandboxtest.Start(t, sandbox.Config{})
	met := &waitRecorder{}
	c, err := New(Config{BaseURL: base, ClientID: sandbox.AdminClientID, ClientSecret: sandbox.AdminClientSecret,
		APIVersion: APIv3, RateLimit: 100, RateWindow: 10 * time.Second, Timeout: 5 * time.Second, MaxRetries: 3, Concurrency: 8},
		Options{Metrics: met})
	require.NoError(t, err)
	require.NoError(t, c.Ping(context.Background())) // the token, outside the limit
	sb.ResetStats()

	start := time.Now()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 10 {
				_, err := c.ListCertifications(context.Background(), certs.CertificationFilter{Page: certs.PageOptions{Limit: 1}})
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	took := time.Since(start)

	st := sb.Stats()
	assert.Equal(t, 100, st.Calls("listIdentityCertifications"))
	assert.Zero(t, st.Clients[sandbox.AdminClientID].RateLimited, "no 429")
	assert.Equal(t, [2]int{0, 0}, c.pacer.stats.waited, "no call waited for the pacer")
	assert.Equal(t, 100, met.count("interactive"))
	assert.Zero(t, met.total(), "every wait recorded is 0")
	t.Logf("100 calls in %s (the old pace, one every 100 ms, needed 9.9 s)", took.Round(time.Millisecond))
}

// waitRecorder is a Metrics that keeps the pacer's waits.
type waitRecorder struct {
	noMetrics
	mu    sync.Mutex
	waits map[string][]time.Duration
}

func (r *waitRecorder) RateLimiterWait(lane string, waited time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.waits == nil {
		r.waits = map[string][]time.Duration{}
	}
	r.waits[lane] = append(r.waits[lane], waited)
}

func (r *waitRecorder) count(lane string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.waits[lane])
}

func (r *waitRecorder) total() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	var sum time.Duration
	for _, ws := range r.waits {
		for _, w := range ws {
			sum += w
		}
	}
	return sum
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
