package sandbox

import (
	"time"
)

// ISC's rate limit: RateLimit requests per RateWindow (100 per 10 s) per
// client id and API version (a user token's: per OAuth client and person),
// 429 with Retry-After beyond it.
//
// Hand-written sliding-window log rather than golang.org/x/time/rate: a
// token bucket of 10/s with burst 100 lets a client make 100 requests at
// once and then 10 more every second, i.e. up to 190 in the first 10 s;
// ISC's documented limit is "100 per 10 seconds", which a log of the last
// RateLimit request times models exactly, and which also gives the exact
// Retry-After (when the oldest request leaves the window).

type limitKey struct {
	clientID string
	version  apiVersion
}

// window is a ring of the times of the last n admitted requests.
type window struct {
	times []time.Time
	next  int
	full  bool
}

// allow admits a request at now, or returns how long until one would be
// admitted. Call with s.mu held.
func (w *window) allow(now time.Time, limit int, span time.Duration) (bool, time.Duration) {
	if w.times == nil {
		w.times = make([]time.Time, limit)
	}
	if w.full {
		oldest := w.times[w.next]
		if now.Sub(oldest) < span {
			return false, span - now.Sub(oldest)
		}
	}
	w.times[w.next] = now
	w.next = (w.next + 1) % limit
	if w.next == 0 {
		w.full = true
	}
	return true, 0
}

// rateLimit admits a request of client (call.limitID) on version, or returns the
// Retry-After in whole seconds (at least 1). Call with s.mu held.
func (s *Sandbox) rateLimit(clientID string, v apiVersion, now time.Time) (bool, int) {
	if s.cfg.RateLimit < 0 {
		return true, 0
	}
	k := limitKey{clientID, v}
	w := s.limits[k]
	if w == nil {
		w = &window{}
		s.limits[k] = w
	}
	ok, wait := w.allow(now, s.cfg.RateLimit, s.cfg.RateWindow)
	if ok {
		return true, 0
	}
	secs := int((wait + time.Second - 1) / time.Second)
	return false, max(1, secs)
}
