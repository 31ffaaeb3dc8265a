package sailpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/certops/certops/internal/certs"
)

// DefaultIdentityTTL is how long production keeps an identity lookup
// (internal/app's ReadCache).
const DefaultIdentityTTL = 30 * time.Second

// maxCachedReads bounds a ReadCache: past it, expired entries are dropped,
// then any.
const maxCachedReads = 4096

// ReadCache is what a Client does with reads (GETs) beyond sending them.
//
//   - Identical reads in flight are sent once (golang.org/x/sync/singleflight):
//     a read that finds the same read already on its way waits for that
//     answer instead of sending its own. Mutations are never shared.
//   - Identity lookups (GetIdentity, FindIdentityByEmail: getPublicIdentities)
//     are kept for a TTL, DefaultIdentityTTL unless told otherwise. Nothing
//     else is kept: certifications, review items, reviewers, permissions and
//     tasks are read afresh every time (only shared while in flight), so
//     what certops changes is seen at once. certops never changes an
//     identity, so no change of its own drops one; an identity changed in
//     ISC is seen within the TTL.
//   - A read that starts after a mutation (a reassignment, decisions, a
//     sign-off) has returned never joins a read that started before it:
//     the client's own changes are seen by every read that follows them.
//   - Interactive reads never join background ones (certs.Background): a
//     person's read does not wait in the background lane of the pacer.
//
// Every key holds the credential the answer was read with (client id), the
// API version, the operation and the URL (base URL, path, query): clients
// with different credentials never share an entry nor a read in flight,
// so one actor's view never reaches another's through here. Who may see
// what (a reviewer's own certifications) is decided above the client, by
// certs.Service, on what the client returns.
//
// A ReadCache is safe for concurrent use; clients may share one. A client
// without one (Options.Reads nil) sends every read and keeps nothing.
type ReadCache struct {
	ttl   time.Duration
	now   func() time.Time
	group singleflight.Group
	// epoch moves on after every mutation; it is part of the key of a read
	// in flight.
	epoch atomic.Uint64
	// waiting counts callers in share (for tests: export_test.go).
	waiting atomic.Int64

	mu      sync.Mutex
	entries map[string]cachedRead
}

type cachedRead struct {
	reply   reply
	expires time.Time
}

// reply is a successful read, shared by every caller that waited for it:
// never modified once made.
type reply struct {
	header http.Header
	body   []byte // the JSON body as SailPoint sent it
}

// NewReadCache returns a ReadCache that keeps identity lookups for ttl (0
// or less: none kept; identical reads in flight are still sent once), on
// the clock now (time.Now when nil).
func NewReadCache(ttl time.Duration, now func() time.Time) *ReadCache {
	if now == nil {
		now = time.Now
	}
	return &ReadCache{ttl: ttl, now: now, entries: map[string]cachedRead{}}
}

// Forget drops every kept identity lookup.
func (rc *ReadCache) Forget() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	clear(rc.entries)
}

func (rc *ReadCache) lookup(key string) (reply, bool) {
	if rc.ttl <= 0 {
		return reply{}, false
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	e, ok := rc.entries[key]
	if !ok {
		return reply{}, false
	}
	if !rc.now().Before(e.expires) {
		delete(rc.entries, key)
		return reply{}, false
	}
	return e.reply, true
}

func (rc *ReadCache) keep(key string, r reply) {
	if rc.ttl <= 0 {
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	now := rc.now()
	if len(rc.entries) >= maxCachedReads {
		for k, e := range rc.entries {
			if !now.Before(e.expires) {
				delete(rc.entries, k)
			}
		}
		for k := range rc.entries {
			if len(rc.entries) < maxCachedReads {
				break
			}
			delete(rc.entries, k)
		}
	}
	rc.entries[key] = cachedRead{reply: r, expires: now.Add(rc.ttl)}
}

// leaderGone is a shared read's failure because the caller whose context
// ran it stopped waiting: the others read again.
type leaderGone struct{ err error }

func (e *leaderGone) Error() string { return e.err.Error() }
func (e *leaderGone) Unwrap() error { return e.err }

// share runs fetch once for every caller asking for key at the same time.
// fetch runs on the context of the caller that started it; a caller that
// joined returns when its own context ends, and when the one that started
// it gave up, it reads again itself.
func (rc *ReadCache) share(ctx context.Context, key string, fetch func(context.Context) (reply, error)) (reply, error) {
	key = fmt.Sprintf("%s#%d", key, rc.epoch.Load())
	rc.waiting.Add(1)
	defer rc.waiting.Add(-1)
	for {
		ch := rc.group.DoChan(key, func() (any, error) {
			r, err := fetch(ctx)
			if err != nil && ctx.Err() != nil {
				err = &leaderGone{err: err}
			}
			return r, err
		})
		select {
		case <-ctx.Done():
			return reply{}, ctx.Err()
		case res := <-ch:
			var gone *leaderGone
			if errors.As(res.Err, &gone) {
				if ctx.Err() == nil {
					continue // not ours: read again
				}
				return reply{}, gone.err
			}
			r, _ := res.Val.(reply)
			return r, res.Err
		}
	}
}

// mutated records that a mutation returned: reads from now on start
// afresh.
func (rc *ReadCache) mutated() { rc.epoch.Add(1) }

// send makes req (see exchange) and decodes a 2xx JSON body into out (if
// not nil). Reads go through the client's ReadCache, when it has one: an
// identical read in flight is joined, a kept identity lookup is answered
// from memory.
func (c *Client) send(ctx context.Context, req *request, out any) (http.Header, error) {
	if c.reads == nil || req.mutation || req.method != http.MethodGet || out == nil {
		header, err := c.exchange(ctx, req, out)
		if req.mutation && c.reads != nil {
			c.reads.mutated()
		}
		return header, err
	}
	opID := c.opID(req.op)
	// The credential, the flavour, the operation and everything the
	// answer depends on.
	key := c.cfg.ClientID + "\x00" + c.cfg.APIVersion + "\x00" + opID + "\x00" + req.url.String()
	flight := key
	if certs.IsBackground(ctx) {
		flight += "\x00background"
	}
	if req.cached {
		if r, ok := c.reads.lookup(key); ok {
			return r.header, decodeReply(opID, r, out)
		}
	}
	r, err := c.reads.share(ctx, flight, func(ctx context.Context) (reply, error) {
		var body rawBody
		header, err := c.exchange(ctx, req, &body)
		if err != nil {
			return reply{}, err
		}
		r := reply{header: header, body: body.b}
		if req.cached {
			c.reads.keep(key, r)
		}
		return r, nil
	})
	if err != nil {
		var ce *certs.Error
		if !errors.As(err, &ce) && ctx.Err() != nil {
			return nil, canceled(opID, ctx.Err()) // this caller stopped waiting
		}
		return nil, err
	}
	return r.header, decodeReply(opID, r, out)
}

// rawBody keeps a JSON body as it is; decoding into it checks that it is
// JSON.
type rawBody struct{ b []byte }

func (r *rawBody) UnmarshalJSON(b []byte) error {
	r.b = append([]byte(nil), b...)
	return nil
}

// decodeReply decodes a shared answer into the caller's own value, so that
// no two callers share what they were given.
func decodeReply(opID string, r reply, out any) error {
	if len(r.body) == 0 {
		return nil
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		return &certs.Error{Code: certs.EUNAVAILABLE, Message: fmt.Sprintf("SailPoint's answer to %s is not the expected JSON", opID),
			Upstream: &certs.Upstream{Operation: opID, Status: http.StatusOK, Messages: []string{bodySnippet(r.body)}}, Err: err}
	}
	return nil
}
